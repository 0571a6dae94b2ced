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
import { checkParameterization, checkRotation, rotationToMatrix, type Parameterization } from './parameterizations.js';
import { se3Exp } from './se3.js';
import { assertFinite, describeValue } from './validation.js';

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

/**
 * Builds the pose `[B, 4, 4]` from a rotation and a translation.
 *
 * ```js
 * const pose = tfdrr.convert(tf.tensor2d([[0, 0, 0]]), tf.tensor2d([[0, 850, 0]]), { parameterization: 'euler_angles', convention: 'ZXY' });
 * ```
 *
 * @param rotation `[B, k]` rotation parameters (`k` per parameterization, see
 *   `parameterizations.ts`; `rotation_9d` also `[B, 3, 3]`), or `[B, 4, 4]` poses for 'matrix'.
 * @param translation `[B, 3]` (ignored, may be null, for 'matrix').
 * @throws on an unknown parameterization or Euler convention, a wrong shape, non-finite values,
 *   or a singular rotation (zero quaternion, parallel 6D vectors, singular 9D/10D input).
 */
export function convert(rotation: tf.Tensor, translation: tf.Tensor | null, options: ConvertOptions = {}): tf.Tensor3D {
  const parameterization = checkParameterization(options.parameterization ?? 'euler_angles');
  checkRotation(rotation, parameterization, options);
  if (parameterization === 'matrix') return tf.cast(rotation, 'float32') as tf.Tensor3D;
  if (!(translation instanceof tf.Tensor) || translation.rank !== 2 || translation.shape[1] !== 3 || translation.shape[0] !== rotation.shape[0]) {
    throw new Error(`translation: expected shape [${rotation.shape[0]}, 3] (one per rotation), got ${describeValue(translation)}`);
  }
  assertFinite(translation, 'translation');
  return tf.tidy(() => {
    const t = tf.cast(translation, 'float32') as tf.Tensor2D;
    if (parameterization === 'se3_log_map') return se3Exp(tf.concat([t, tf.cast(rotation, 'float32')], 1) as tf.Tensor2D);
    const r = rotationToMatrix(rotation, parameterization, options);
    return makePose(r, tf.matMul(r, t.reshape([-1, 3, 1])).reshape([-1, 3]) as tf.Tensor2D);
  });
}
