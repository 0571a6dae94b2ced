/** Puts tf.js on the cpu backend, quietly, with tfdrr's kernels registered. */
import * as tf from '@tensorflow/tfjs';
import '../../kernels/register_all_kernels.js';
import { SeededRandom } from '../../lib/random.js';

export async function useCpuBackend(): Promise<void> {
  tf.enableProdMode();
  await tf.setBackend('cpu');
  await tf.ready();
}

/** max |a - b| over max |b|. */
export function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? err : err / scale;
}

/** A seeded uniform generator on [lo, hi) (lib/random.ts), so random cases are reproducible. */
export function seededRandom(seed: number): (lo?: number, hi?: number) => number {
  const generator = new SeededRandom(seed);
  return (lo = 0, hi = 1) => lo + (hi - lo) * generator.next();
}
