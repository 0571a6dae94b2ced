#!/usr/bin/env node
/**
 * Builds the browser demo (examples/web) into examples/web/dist/:
 *  1. esbuild: examples/web/main.ts bundled to dist/main.js (ES module, platform browser) with
 *     tf.js, its webgpu and wasm backends, tfdrr's kernels, the DRR and the NIfTI reader;
 *  2. the wasm backend's .wasm files copied next to the bundle (the page points `setWasmPaths` at
 *     the bundle's own folder).
 * The library reaches two Node built-ins from lib/io/nifti_file.ts (`node:fs/promises` for paths,
 * `node:zlib` for gzip); they are aliased to the browser stand-ins in examples/web/shims/. Any other
 * `node:` import fails the build (the demo must not pull lib/index.ts, example_ct or package_root).
 * Usage: node scripts/build_demo.mjs [--minify]. Exits non-zero on failure.
 */
import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const outdir = join(root, 'examples/web/dist');

/** The Node built-ins the bundle may meet, and their browser stand-ins. */
const SHIMS = {
  'node:fs/promises': join(root, 'examples/web/shims/node_fs_promises.ts'),
  'node:zlib': join(root, 'examples/web/shims/node_zlib.ts'),
};

/** esbuild plugin: node: imports to the shims above, or a build error naming the importer. */
const nodeBuiltinShims = {
  name: 'node-builtin-shims',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) => {
      const shim = SHIMS[args.path];
      if (shim) return { path: shim };
      return { errors: [{ text: `${args.path} imported by ${relative(root, args.importer)} has no browser stand-in (see SHIMS in scripts/build_demo.mjs)` }] };
    });
  },
};

export async function buildDemo({ minify = false, quiet = false } = {}) {
  const start = performance.now();
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ['examples/web/main.ts'],
    outfile: join(outdir, 'main.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify,
    sourcemap: true,
    plugins: [nodeBuiltinShims],
    logLevel: quiet ? 'error' : 'warning',
    metafile: true,
  });
  if (result.warnings.length > 0 && !quiet) console.warn(`build_demo: ${result.warnings.length} esbuild warning(s), see above`);

  const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  const wasmFiles = readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'));
  for (const f of wasmFiles) copyFileSync(join(wasmDir, f), join(outdir, f));

  const bytes = statSync(join(outdir, 'main.js')).size;
  const seconds = (performance.now() - start) / 1000;
  if (!quiet) {
    console.log(`build_demo: examples/web/dist/main.js ${(bytes / 1e6).toFixed(2)} MB, ${wasmFiles.length} .wasm files, ${seconds.toFixed(1)} s`);
  }
  return { outdir, bytes, seconds, wasmFiles };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    await buildDemo({ minify: process.argv.includes('--minify') });
  } catch (err) {
    console.error(`build_demo: FAILED${err?.message ? `: ${err.message}` : ''}`);
    process.exit(1);
  }
}
