/**
 * The fuzz worker, a child process (`node --import tsx`, bounded heap) that the runner forks: for
 * each `{ seed, index }` message it builds that case's bytes, runs `read(bytes)`, renders the
 * subject with Siddon and with Trilinear (16x16, 8 mm pixels, sdd 1020, pose rotation 0 and
 * translation (0, 850, 0) in Euler ZXY, as the README's example), checks every pixel is finite, and
 * answers with the outcome before it takes the next case. The runner owns the clock: a case that
 * never answers is killed there.
 */
import * as tf from '@tensorflow/tfjs';
import '../../kernels/register_all_kernels.js';
import { DRR } from '../../lib/drr.js';
import { read } from '../../lib/io/read.js';
import { recipeBytes, recipeOf } from './nifti_fuzz_cases.js';
import { classifyError, type CaseOutcome } from './nifti_fuzz_outcomes.js';

/** What the runner sends: a case, or (for the runner's own tests) a way to misbehave. */
export interface WorkerRequest {
  seed: number;
  index: number;
  selfTest?: 'hang' | 'crash' | 'alloc';
}

/** What the worker answers. */
export type WorkerReply = { ready: true } | ({ index: number } & CaseOutcome);

const INPUT = '<bytes>';

async function runCase(seed: number, index: number): Promise<CaseOutcome> {
  const bytes = recipeBytes(recipeOf(seed, index));
  let subject;
  try {
    subject = await read(bytes);
  } catch (e) {
    return classifyError(e, INPUT);
  }
  try {
    for (const renderer of ['siddon', 'trilinear'] as const) {
      const drr = new DRR(subject, { sdd: 1020, height: 16, delx: 8, renderer });
      try {
        const img = tf.tidy(() =>
          drr.forward(tf.tensor2d([[0, 0, 0]]), tf.tensor2d([[0, 850, 0]]), { parameterization: 'euler_angles', convention: 'ZXY' }),
        );
        const pixels = await img.data();
        img.dispose();
        const bad = pixels.findIndex((x) => !Number.isFinite(x));
        if (bad >= 0) {
          return { outcome: 'failure', failure: 'non-finite-pixels', message: `${renderer}: pixel ${bad} is ${pixels[bad]} (affine ${Array.from(subject.affine).join(', ')})` };
        }
      } finally {
        drr.dispose();
      }
    }
    return { outcome: 'rendered' };
  } catch (e) {
    const err = e as Error;
    return { outcome: 'failure', failure: 'render-error', message: `${err?.name}: ${err?.message}` };
  } finally {
    subject.dispose();
  }
}

function misbehave(kind: NonNullable<WorkerRequest['selfTest']>): void {
  if (kind === 'crash') process.abort();
  if (kind === 'hang') for (;;);
  const hoard: Float64Array[] = [];
  for (;;) hoard.push(new Float64Array(1 << 24).fill(1)); // 128 MB each, outside the JS heap
}

tf.enableProdMode();
await tf.setBackend('cpu');
await tf.ready();
process.on('message', (request: WorkerRequest) => {
  if (request.selfTest) misbehave(request.selfTest);
  runCase(request.seed, request.index).then(
    (outcome) => process.send!({ index: request.index, ...outcome } satisfies WorkerReply),
    (e: unknown) => process.send!({ index: request.index, outcome: 'failure', failure: 'internal-error', message: `worker: ${String(e)}` } satisfies WorkerReply),
  );
});
process.send!({ ready: true } satisfies WorkerReply);
