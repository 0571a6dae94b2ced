/**
 * Images for the fused metric tests (`[B, C, H, W]`, flat row-major): seeded uniform noise, and
 * DRR-like images (a bright ellipse on an offset, a bone stripe, a slow ripple, a little noise),
 * each image of a batch shifted a little.
 */
import * as tf from '@tensorflow/tfjs';
import type { Shape4 } from './metrics_float64.js';
import { seededRandom } from './tf_setup.js';

/** `size` seeded uniform values in `[lo, hi)`. */
export function noise(seed: number, size: number, lo = 0, hi = 1): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: size }, () => random(lo, hi));
}

/** Seeded uniform images of `shape`. */
export function noiseImages(seed: number, shape: Shape4, lo = 0, hi = 1): number[] {
  return noise(seed, shape.reduce((a, b) => a * b, 1), lo, hi);
}

/**
 * DRR-like images: on an offset of 40, an ellipse of +30, a vertical bone stripe of +15, a ripple
 * of 0.5, noise of 1e-3; image `b`, channel `c` shifted by `shift + b + c` columns.
 */
export function drrLikeImages(seed: number, shape: Shape4, shift = 0): number[] {
  const [B, C, H, W] = shape;
  const random = seededRandom(seed);
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      const s = shift + b + c;
      for (let i = 0; i < H; i++) {
        for (let j = 0; j < W; j++) {
          const body = (i - H / 2) ** 2 / (0.18 * H * H) + (j - W / 2 - s) ** 2 / (0.15 * W * W) < 1 ? 30 : 0;
          const bone = Math.abs(j - W / 2 - s) < 3 && i > H / 6 ? 15 : 0;
          out.push(40 + body + bone + 0.5 * Math.sin(i / 3) + 1e-3 * random(0, 1));
        }
      }
    }
  }
  return out;
}

/** `values` as a `[B, C, H, W]` tensor. */
export function imageTensor(values: number[], shape: Shape4): tf.Tensor4D {
  return tf.tensor4d(values, shape);
}

/** The values of `t` as numbers (then disposed). */
export function valuesOf(t: tf.Tensor): number[] {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
}

/** Whether every value is finite. */
export function allFinite(values: ArrayLike<number>): boolean {
  return Array.from(values).every(Number.isFinite);
}
