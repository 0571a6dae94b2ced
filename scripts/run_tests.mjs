#!/usr/bin/env node
/**
 * `npm test`: type-check (`tsc -p tsconfig.json`, and the browser demo's `examples/web/tsconfig.json`), build (scripts/build.mjs, so the package-exports
 * test has dist/), then jest on the TypeScript sources as ES modules. Extra arguments go to jest
 * (e.g. `npm test -- test/image`).
 *
 * The LAST line printed is the summary `N passed, N failed` (`, N skipped` appended when jest
 * skipped or todo'd tests), from jest's own JSON counts; a failed type-check, a failed build, a test
 * file that could not run, or a jest run that produced no results each count as one failure.
 * Exits non-zero if any step failed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const jestArgs = process.argv.slice(2);

/** Runs `node <args>` in the repo root with inherited output; returns true on exit status 0. */
function runNode(label, args) {
  console.log(`\n== ${label}`);
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (result.error) console.error(`${label}: ${result.error.message}`);
  const ok = result.status === 0;
  if (!ok) console.error(`${label}: FAILED (exit ${result.status ?? result.signal})`);
  return ok;
}

/** Runs jest with a JSON report in a temp file; returns its counts (null when there is no report). */
function runJest() {
  const dir = mkdtempSync(join(tmpdir(), 'tfdrr-jest-'));
  const report = join(dir, 'results.json');
  try {
    const ok = runNode('jest', [
      '--experimental-vm-modules',
      '--disable-warning=ExperimentalWarning',
      join(root, 'node_modules/jest/bin/jest.js'),
      '--json',
      `--outputFile=${report}`,
      ...jestArgs,
    ]);
    if (!existsSync(report)) return { ok, counts: null };
    return { ok, counts: JSON.parse(readFileSync(report, 'utf8')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let passed = 0;
let failed = 0;
let skipped = 0;
let ok = true;

for (const [label, args] of [
  ['typecheck: tsc -p tsconfig.json', [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json']],
  // the browser demo has its own tsconfig (DOM types, browser shims)
  ['typecheck: tsc -p examples/web/tsconfig.json', [require.resolve('typescript/bin/tsc'), '-p', 'examples/web/tsconfig.json', '--noEmit']],
  ['build: scripts/build.mjs', [join(root, 'scripts/build.mjs')]],
]) {
  if (!runNode(label, args)) {
    failed += 1;
    ok = false;
  }
}

const jest = runJest();
if (!jest.ok) ok = false;
if (jest.counts) {
  const c = jest.counts;
  passed += c.numPassedTests;
  // A test file that fails to load (syntax error, missing import) has no failed tests of its own.
  failed += c.numFailedTests + c.numRuntimeErrorTestSuites;
  skipped += c.numPendingTests + c.numTodoTests;
} else {
  console.error('jest: no JSON report was written');
  failed += 1;
}
if (!jest.ok && failed === 0) failed = 1; // e.g. jest exited non-zero on a coverage threshold or no tests found

if (failed > 0) ok = false;
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exit(ok ? 0 : 1);
