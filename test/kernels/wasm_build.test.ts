/**
 * The committed WebAssembly modules (kernels/simd/*_wasm.ts) are what their C sources build to
 * with the clang .ci/run installs (`scripts/build_wasm.mjs --check`), and the module runs the
 * kernel it exports. Skipped, saying so, where no clang is installed.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const script = join(root, 'scripts/build_wasm.mjs');
const clang = ['clang-14', 'clang'].find((name) => spawnSync(name, ['--version']).status === 0);

(clang ? test : test.skip)(`committed WebAssembly modules = a build of their sources${clang ? '' : ' (skipped: no clang; apt-get install clang-14 lld-14)'}`, () => {
  const result = spawnSync(process.execPath, [script, '--check'], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`build_wasm --check exited ${result.status}:\n${result.stdout}${result.stderr}`);
  expect(result.stdout).toMatch(/simd_kernels_wasm\.ts up to date/);
});
