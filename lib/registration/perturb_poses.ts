/**
 * Seeded start poses for registration: copies of one pose whose parameters are shifted by uniform
 * random amounts (DiffDRR's tutorials perturb Euler angles and translations this way).
 */
import * as tf from '@tensorflow/tfjs';
import { SeededRandom } from '../random.js';
import { checkOptionKeys, optionKeys } from '../validation/options.js';

/** Options of {@link perturbPoses}. */
export interface PerturbPosesOptions {
  /** Number of start poses (required, positive integer). */
  count: number;
  /** Each rotation parameter moves by a uniform amount in `[-maxRotation, maxRotation]` (units of the parameters, e.g. radians for Euler angles). Default 0. */
  maxRotation?: number;
  /** Each translation parameter moves by a uniform amount in `[-maxTranslation, maxTranslation]` (mm). Default 0. */
  maxTranslation?: number;
  /** Seed of the generator. Default 0. */
  seed?: number;
}

/** The keys of {@link PerturbPosesOptions}. */
export const PERTURB_POSES_OPTION_KEYS = optionKeys<PerturbPosesOptions>()(['count', 'maxRotation', 'maxTranslation', 'seed']);

/**
 * `count` perturbed copies of one pose given by its parameters (`rotation`: k numbers of any
 * parameterization, `translation`: 3 numbers): `[count, k]` and `[count, 3]` tensors.
 *
 * ```js
 * const starts = perturbPoses([0.1, -0.05, 0.08], [5, 850, -10], { count: 10, maxRotation: Math.PI / 18, maxTranslation: 20, seed: 1 });
 * ```
 */
export function perturbPoses(rotation: readonly number[], translation: readonly number[], options: PerturbPosesOptions): { rotation: tf.Tensor2D; translation: tf.Tensor2D } {
  if (options == null) throw new Error('perturbPoses: expected options with the count of poses');
  checkOptionKeys(options, PERTURB_POSES_OPTION_KEYS, 'perturbPoses');
  const { count } = options;
  if (!Number.isInteger(count) || count < 1) throw new Error(`perturbPoses: count: expected a positive integer, got ${String(count)}`);
  const isFiniteList = (v: unknown, n?: number) => Array.isArray(v) && v.length > 0 && (n === undefined || v.length === n) && v.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (!isFiniteList(rotation)) throw new Error(`perturbPoses: rotation: expected a non-empty array of finite numbers, got ${JSON.stringify(rotation)}`);
  if (!isFiniteList(translation, 3)) throw new Error(`perturbPoses: translation: expected 3 finite numbers, got ${JSON.stringify(translation)}`);
  const maxRotation = options.maxRotation ?? 0;
  const maxTranslation = options.maxTranslation ?? 0;
  for (const [name, v] of [['maxRotation', maxRotation], ['maxTranslation', maxTranslation]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`perturbPoses: ${name}: expected a finite number >= 0, got ${String(v)}`);
  }
  const random = new SeededRandom(options.seed ?? 0);
  const r: number[][] = [];
  const t: number[][] = [];
  for (let i = 0; i < count; i++) {
    r.push(rotation.map((v) => v + (2 * random.next() - 1) * maxRotation));
    t.push(translation.map((v) => v + (2 * random.next() - 1) * maxTranslation));
  }
  return { rotation: tf.tensor2d(r), translation: tf.tensor2d(t) };
}
