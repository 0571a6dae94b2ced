#!/usr/bin/env node
/**
 * Builds the package:
 *  1. `tsc -p tsconfig.build.json`: ES modules + .d.ts under dist/esm (dist/esm/lib, dist/esm/kernels);
 *  2. esbuild: lib/index.ts bundled to dist/cjs/index.cjs for `require('tfdrr')` (every `@tensorflow/*`
 *     package stays external so the caller's single tfjs instance is shared; the rest, including the
 *     ESM-only nifti-reader-js and fast-png, is bundled), with `import.meta.url` shimmed;
 *  3. esbuild: the kernel worker kernels/threads/worker.ts bundled to the self-contained ES module
 *     dist/worker/tfdrr_kernel_worker.mjs (the fused kernels' worker threads run it; it may import
 *     Node built-ins only);
 *  4. chmod +x on the CLI entry point dist/esm/lib/cli/main.js.
 * Usage: node scripts/build.mjs. Exits non-zero on the first failure.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** Runs one build step, printing `build: <name> ... ok (<seconds> s)`; exits the process on failure. */
async function step(name, fn) {
  const start = performance.now();
  process.stdout.write(`build: ${name} ...\n`);
  try {
    await fn();
  } catch (err) {
    console.error(`build: ${name} FAILED${err?.message ? `: ${err.message}` : ''}`);
    process.exit(1);
  }
  console.log(`build: ${name} ok (${((performance.now() - start) / 1000).toFixed(1)} s)`);
}

function tsc() {
  const tscBin = require.resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tscBin, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`tsc exited with ${result.status ?? result.signal}`);
}

async function bundleCjs() {
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ['lib/index.ts'],
    outfile: 'dist/cjs/index.cjs',
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: ['@tensorflow/*'],
    define: { 'import.meta.url': '__tfdrrImportMetaUrl' },
    inject: ['scripts/cjs_import_meta_url.mjs'],
    sourcemap: true,
    logLevel: 'warning',
  });
  // Warnings here are real problems (e.g. an `import.meta` left empty in CommonJS): fail on them.
  if (result.warnings.length > 0) throw new Error(`${result.warnings.length} esbuild warning(s), see above`);
}

async function bundleWorker() {
  const outfile = 'dist/worker/tfdrr_kernel_worker.mjs';
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ['kernels/threads/worker.ts'],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
  });
  if (result.warnings.length > 0) throw new Error(`${result.warnings.length} esbuild warning(s), see above`);
  // Self-contained: a worker thread resolves nothing from the caller's node_modules.
  const imports = result.metafile.outputs[outfile]?.imports ?? [];
  const foreign = imports.filter((i) => !i.path.startsWith('node:')).map((i) => i.path);
  if (foreign.length > 0) throw new Error(`${outfile} imports ${foreign.join(', ')} (only node: built-ins allowed)`);
}

function chmodCli() {
  const cli = join(root, 'dist/esm/lib/cli/main.js');
  if (!existsSync(cli)) throw new Error(`${cli} was not emitted`);
  chmodSync(cli, 0o755);
}

await step('clean dist/', () => rmSync(join(root, 'dist'), { recursive: true, force: true }));
await step('tsc -p tsconfig.build.json -> dist/esm', tsc);
await step('esbuild lib/index.ts -> dist/cjs/index.cjs', bundleCjs);
await step('esbuild kernels/threads/worker.ts -> dist/worker/tfdrr_kernel_worker.mjs', bundleWorker);
await step('chmod +x dist/esm/lib/cli/main.js', chmodCli);
