/**
 * Reproducible random rigid transforms, for tests and for sampling registration start poses.
 *
 * Rotations: a uniformly random axis and an angle `a` in `[0, maxAngle]` drawn with density
 * proportional to `1 - cos a` (the Haar measure of SO(3) restricted to angles <= maxAngle; with
 * the default `maxAngle = pi` the rotations are uniform on SO(3)). Translations: each component
 * uniform in `[-maxTranslation_i, maxTranslation_i]` (mm).
 */
import * as tf from '@tensorflow/tfjs';
import { so3Exp } from './axis_angle.js';
import { makePose } from './pose.js';
import { RigidTransform } from './rigid_transform.js';
import { SeededRandom } from '../random.js';
import { checkOptionKeys, optionKeys } from '../validation/options.js';

/** Options of {@link randomRigidTransform}. */
export interface RandomRigidTransformOptions {
  /** Number of transforms. Default 1. */
  batchSize?: number;
  /** Seed of the generator (same seed, same transforms). Default 0. */
  seed?: number;
  /** Largest rotation angle (radians), in `[0, pi]`. Default `pi` (uniform rotations). */
  maxAngle?: number;
  /** Half-range of each translation component (mm), one number or one per axis. Default 100. */
  maxTranslation?: number | [number, number, number];
}

/** The keys of {@link RandomRigidTransformOptions}. */
export const RANDOM_RIGID_TRANSFORM_OPTION_KEYS = optionKeys<RandomRigidTransformOptions>()(['batchSize', 'seed', 'maxAngle', 'maxTranslation']);

/** The angle whose CDF `(a - sin a) / (m - sin m)` on `[0, m]` equals `u` (bisection). */
function haarAngle(u: number, m: number): number {
  const target = u * (m - Math.sin(m));
  let lo = 0;
  let hi = m;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (mid - Math.sin(mid) < target) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * `batchSize` random rigid transforms `[[R, t], [0, 1]]` (ranges above).
 *
 * ```js
 * const poses = tfdrr.randomRigidTransform({ batchSize: 8, seed: 1, maxAngle: 0.2, maxTranslation: [20, 50, 20] });
 * ```
 */
export function randomRigidTransform(options: RandomRigidTransformOptions = {}): RigidTransform {
  checkOptionKeys(options, RANDOM_RIGID_TRANSFORM_OPTION_KEYS, 'randomRigidTransform');
  const batchSize = options.batchSize ?? 1;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize: expected a positive integer, got ${String(options.batchSize)}`);
  const maxAngle = options.maxAngle ?? Math.PI;
  if (typeof maxAngle !== 'number' || !(maxAngle >= 0 && maxAngle <= Math.PI)) throw new Error(`maxAngle: expected a number in [0, pi], got ${String(options.maxAngle)}`);
  const range = options.maxTranslation ?? 100;
  const ranges = typeof range === 'number' ? [range, range, range] : range;
  if (!Array.isArray(ranges) || ranges.length !== 3 || !ranges.every((r) => typeof r === 'number' && Number.isFinite(r) && r >= 0)) {
    throw new Error(`maxTranslation: expected a finite number >= 0 or three of them, got ${JSON.stringify(options.maxTranslation)}`);
  }
  const generator = new SeededRandom(options.seed ?? 0);
  const random = () => generator.next();
  const w: number[][] = [];
  const t: number[][] = [];
  for (let b = 0; b < batchSize; b++) {
    const z = 2 * random() - 1;
    const phi = 2 * Math.PI * random();
    const rho = Math.sqrt(Math.max(0, 1 - z * z));
    const angle = maxAngle === 0 ? 0 : haarAngle(random(), maxAngle);
    w.push([rho * Math.cos(phi) * angle, rho * Math.sin(phi) * angle, z * angle]);
    t.push(ranges.map((r) => r * (2 * random() - 1)));
  }
  return new RigidTransform(tf.tidy(() => makePose(so3Exp(tf.tensor2d(w, [batchSize, 3])), tf.tensor2d(t, [batchSize, 3]))));
}
