/**
 * `npm run fuzz -- --cases N --seed S [--start I] [--workers W] [--timeout MS] [--out FILE]`:
 * runs hostile NIfTI cases (`nifti_fuzz_cases.ts`) through read() and both renderers in watched
 * worker processes, prints the counts by outcome, refusals by field, and every failing case with
 * the command that replays it; writes the summary as JSON to `--out` (default
 * test-output/fuzz/nifti_fuzz_cli.json). Exits 1 when a case failed. `--print` shows case
 * recipes instead of running them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { describeRecipe, recipeOf } from './nifti_fuzz_cases.js';
import { formatSummary, runFuzz } from './nifti_fuzz_runner.js';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '2000' },
    seed: { type: 'string', default: '17' },
    start: { type: 'string', default: '0' },
    workers: { type: 'string', default: '2' },
    timeout: { type: 'string', default: '10000' },
    out: { type: 'string', default: 'test-output/fuzz/nifti_fuzz_cli.json' },
    print: { type: 'boolean', default: false },
  },
});
const int = (name: keyof typeof values) => {
  const n = Number(values[name]);
  if (!Number.isInteger(n)) throw new Error(`--${name}: expected an integer, got ${values[name]}`);
  return n;
};
const [cases, seed, start] = [int('cases'), int('seed'), int('start')];

if (values.print) {
  for (let i = start; i < start + cases; i++) console.log(`${i}: ${describeRecipe(recipeOf(seed, i), 4000)}`);
} else {
  let done = 0;
  const summary = await runFuzz({
    cases,
    seed,
    start,
    workers: int('workers'),
    caseTimeoutMs: int('timeout'),
    onCase: (r) => {
      done += 1;
      if (r.outcome === 'failure') console.log(`case ${r.index}: ${r.failure}: ${r.message}`);
      if (process.stdout.isTTY && done % 100 === 0) process.stdout.write(`\r${done}/${cases}`);
    },
  });
  if (process.stdout.isTTY) process.stdout.write('\r');
  console.log(formatSummary(summary));
  mkdirSync(dirname(values.out!), { recursive: true });
  writeFileSync(values.out!, `${JSON.stringify(summary, null, 2)}\n`);
  process.exitCode = summary.failures.length > 0 ? 1 : 0;
}
