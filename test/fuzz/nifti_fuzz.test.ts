/**
 * Fuzz suite for issue #17 ("no input may make tfdrr lie, hang or crash"): seeded hostile NIfTI
 * inputs (mutated NIfTI-1 / NIfTI-2 headers, extension chains, truncations, gzip damage, random
 * bytes; `nifti_fuzz_cases.ts`) go through `read(bytes)` and, when read accepts them, both
 * renderers, in worker processes with a time and memory watchdog (`nifti_fuzz_runner.ts`). Every
 * case must render finite pixels or be refused by an Error that names the input. The counts go to
 * test-output/fuzz/nifti_fuzz.json. More cases locally: `npm run fuzz -- --cases 20000 --seed 5`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatSummary, runFuzz } from './nifti_fuzz_runner.js';

const OUT = fileURLToPath(new URL('../../test-output/fuzz/', import.meta.url));

/** The CI run: this seed, this many cases. */
const CI_SEED = 17;
const CI_CASES = 2000;

describe('NIfTI fuzz', () => {
  test(`${CI_CASES} seeded hostile inputs: each renders finite pixels or is refused naming the input`, async () => {
    const summary = await runFuzz({ cases: CI_CASES, seed: CI_SEED, workers: 2 });
    mkdirSync(OUT, { recursive: true });
    writeFileSync(`${OUT}nifti_fuzz.json`, `${JSON.stringify(summary, null, 2)}\n`);
    console.log(formatSummary(summary));
    expect(summary.failures).toEqual([]);
    expect(summary.counts.rendered).toBeGreaterThan(CI_CASES / 10); // the generator still reaches the renderers
    expect(summary.counts.refused).toBeGreaterThan(CI_CASES / 2);
  }, 600000);

  test('the watchdog records a hang, a crash and a memory blow-up, and carries on with a fresh worker', async () => {
    const summary = await runFuzz({
      cases: 5,
      seed: CI_SEED,
      caseTimeoutMs: 3000,
      maxRssMb: 320, // a worker holds ~180 MB after loading tf.js
      selfTest: { 1: 'hang', 2: 'crash', 3: 'alloc' },
    });
    expect(summary.failures.map((f) => [f.index, f.failure])).toEqual([
      [1, 'hang'],
      [2, 'crash'],
      [3, 'memory'],
    ]);
    expect(summary.failures[0].replay).toBe(`npm run fuzz -- --seed ${CI_SEED} --start 1 --cases 1`);
    expect(summary.counts.hang + summary.counts.crash + summary.counts.memory).toBe(3);
    expect((summary.counts.rendered ?? 0) + (summary.counts.refused ?? 0)).toBe(2); // cases 0 and 4 ran normally
    expect(summary.workersStarted).toBe(4);
  }, 120000);
});
