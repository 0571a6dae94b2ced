/**
 * Where the kernel worker script is: `dist/worker/tfdrr_kernel_worker.mjs` in the tfdrr package,
 * a self-contained ES module bundled by scripts/build.mjs from `kernels/threads/worker.ts`.
 *
 * It is found from this module's own URL (kernels/ does not import lib/, so not via
 * lib/io/package_root.ts): walking up from here to the package root (the first directory holding
 * a package.json) and looking for the script in each directory on the way. That covers the source
 * tree (`kernels/threads/`), the ES build (`dist/esm/kernels/threads/`) and the CommonJS bundle
 * (`dist/cjs/index.cjs`, where the build shims `import.meta.url` to the bundle's own URL, see
 * scripts/cjs_import_meta_url.mjs).
 *
 * Caveat when running from the TypeScript sources (jest, tsx): the worker runs the kernels as they
 * were at the last build.
 */
import { nodeBuiltin } from './node_builtins.js';

/** The worker script, relative to the package root. */
export const WORKER_SCRIPT = 'dist/worker/tfdrr_kernel_worker.mjs';

let cached: URL | null | undefined;

/**
 * The file URL of the worker script, or null when it cannot be found (no build, no file system, a
 * non-file module URL, e.g. a browser bundle).
 */
export function workerScriptUrl(): URL | null {
  if (cached !== undefined) return cached;
  return (cached = findWorkerScript());
}

function findWorkerScript(): URL | null {
  const fs = nodeBuiltin('node:fs');
  let here: URL;
  try {
    here = new URL(import.meta.url);
  } catch {
    return null;
  }
  if (fs === null || here.protocol !== 'file:') return null;
  for (let dir = new URL('.', here); ; ) {
    const candidate = new URL(WORKER_SCRIPT, dir);
    if (fs.existsSync(candidate)) return candidate;
    if (fs.existsSync(new URL('package.json', dir))) return null; // the package root: stop here
    const parent = new URL('..', dir);
    if (parent.href === dir.href) return null;
    dir = parent;
  }
}

/** Forgets the cached location (tests that build or remove the script). */
export function resetWorkerScriptUrl(): void {
  cached = undefined;
}
