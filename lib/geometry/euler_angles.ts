/**
 * Euler angles -> rotation matrices, batched and differentiable.
 *
 * Convention "ABC" with angles `(a0, a1, a2)` means `R = R_A(a0) R_B(a1) R_C(a2)` (intrinsic
 * rotations, DiffDRR/PyTorch3D `euler_angles_to_matrix`), e.g. "ZXY" is `Rz(a0) Rx(a1) Ry(a2)`.
 * Any 3 letters over X/Y/Z whose middle letter differs from both ends are accepted: the six
 * Tait-Bryan ("XYZ", "ZYX", ...) and the six proper Euler ("ZXZ", ...) conventions. Elementary
 * rotations act on column vectors:
 * `Rx(a) = [[1,0,0],[0,c,-s],[0,s,c]]`, `Ry(a) = [[c,0,s],[0,1,0],[-s,0,c]]`,
 * `Rz(a) = [[c,-s,0],[s,c,0],[0,0,1]]`.
 */
import * as tf from '@tensorflow/tfjs';
import { safeAtan2, sqrtPositive } from '../linalg/small_matrix.js';
import { withoutGradient } from '../linalg/without_gradient.js';

/** A rotation axis. */
export type Axis = 'X' | 'Y' | 'Z';

/** Checks an Euler convention string and returns its three axes. */
export function parseEulerConvention(convention: unknown): [Axis, Axis, Axis] {
  if (typeof convention !== 'string' || !/^[XYZ]{3}$/.test(convention) || convention[1] === convention[0] || convention[1] === convention[2]) {
    throw new Error(
      `convention: expected 3 letters over X, Y, Z whose middle letter differs from both ends (e.g. 'ZXY', 'XYZ', 'ZXZ'), got ${JSON.stringify(convention)}`,
    );
  }
  return convention.split('') as [Axis, Axis, Axis];
}

/** Elementary rotations about `axis` by angles `[B]`, as `[B, 3, 3]`. */
export function axisRotation(axis: Axis, angle: tf.Tensor1D): tf.Tensor3D {
  return tf.tidy(() => {
    const c = tf.cos(angle);
    const s = tf.sin(angle);
    const one = tf.onesLike(angle);
    const zero = tf.zerosLike(angle);
    const ns = tf.neg(s);
    const entries =
      axis === 'X'
        ? [one, zero, zero, zero, c, ns, zero, s, c]
        : axis === 'Y'
          ? [c, zero, s, zero, one, zero, ns, zero, c]
          : [c, ns, zero, s, c, zero, zero, zero, one];
    return tf.stack(entries, 1).reshape([-1, 3, 3]) as tf.Tensor3D;
  });
}

/**
 * Rotation matrices `[B, 3, 3]` from Euler angles `[B, 3]`.
 *
 * @param angles `[B, 3]` angles, radians unless `degrees`.
 * @param convention three axis letters, e.g. 'ZXY'.
 * @param degrees whether `angles` are in degrees (default false).
 */
export function eulerAnglesToMatrix(angles: tf.Tensor2D, convention: string, degrees = false): tf.Tensor3D {
  const axes = parseEulerConvention(convention);
  return tf.tidy(() => {
    const radians = degrees ? tf.mul(angles, Math.PI / 180) : angles;
    const [a0, a1, a2] = tf.unstack(radians, 1) as tf.Tensor1D[];
    return tf.matMul(tf.matMul(axisRotation(axes[0], a0), axisRotation(axes[1], a1)), axisRotation(axes[2], a2)) as tf.Tensor3D;
  });
}

/** Below this `cos(a1)` (Tait-Bryan) or `sin(a1)` (proper Euler) the angles are gimbal-locked. */
const GIMBAL_LOCK = 1e-7;

/** The entry (r, c) of `[B, 3, 3]` matrices flattened to `[B, 9]`, as `[B]`. */
function entry(flat: tf.Tensor2D, r: number, c: number): tf.Tensor1D {
  return tf.slice(flat, [0, 3 * r + c], [-1, 1]).reshape([-1]) as tf.Tensor1D;
}

/** `sqrt(a² + b²)` with a zero (not NaN) gradient at 0. */
function hypot(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return sqrtPositive(tf.add(tf.square(a), tf.square(b)));
}

/**
 * Euler angles `[B, 3]` of rotation matrices `[B, 3, 3]`, the inverse of
 * {@link eulerAnglesToMatrix}, in canonical ranges: `a0, a2` in `(-pi, pi]`, `a1` in
 * `[-pi/2, pi/2]` (Tait-Bryan) or `[0, pi]` (proper Euler). At gimbal lock (`cos a1` resp.
 * `sin a1` below 1e-7, float32 noise) `a2 = 0` and `a0` carries the whole remaining rotation.
 *
 * With axes `A, B, C` of indices `i, j, k` and `e = +1` when `j = i + 1 (mod 3)`, else -1:
 * Tait-Bryan: `a1 = atan2(e R[i][k], hypot(R[i][i], R[i][j]))`, `a2 = atan2(-e R[i][j], R[i][i])`;
 * proper (`k = i`, `l` the third axis): `a1 = atan2(hypot(R[i][j], R[i][l]), R[i][i])`,
 * `a2 = atan2(R[i][j], e R[i][l])`. Then `a0` is read from `M = R R_C(a2)^T R_B(a1)^T = R_A(a0)`,
 * which keeps `R_A(a0) R_B(a1) R_C(a2) = R` accurate at and near gimbal lock.
 *
 * @param matrix `[B, 3, 3]` rotation matrices.
 * @param convention three axis letters, e.g. 'ZXY'.
 * @param degrees return degrees instead of radians (default false).
 */
export function matrixToEulerAngles(matrix: tf.Tensor3D, convention: string, degrees = false): tf.Tensor2D {
  const axes = parseEulerConvention(convention);
  if (!(matrix instanceof tf.Tensor) || matrix.rank !== 3 || matrix.shape[1] !== 3 || matrix.shape[2] !== 3) {
    throw new Error(`matrix: expected rotation matrices of shape [B, 3, 3], got ${matrix instanceof tf.Tensor ? `shape [${matrix.shape.join(', ')}]` : typeof matrix}`);
  }
  const index = { X: 0, Y: 1, Z: 2 };
  const [i, j, k] = axes.map((a) => index[a]);
  const e = j === (i + 1) % 3 ? 1 : -1;
  return tf.tidy(() => {
    const m = tf.cast(matrix, 'float32') as tf.Tensor3D;
    const flat = m.reshape([-1, 9]) as tf.Tensor2D;
    const r = (row: number, col: number) => entry(flat, row, col);
    let a1: tf.Tensor;
    let a2: tf.Tensor;
    if (i !== k) {
      const c1 = hypot(r(i, i), r(i, j));
      a1 = tf.atan2(tf.mul(e, r(i, k)), c1);
      a2 = tf.where(withoutGradient((v) => tf.greater(v, GIMBAL_LOCK), c1), safeAtan2(tf.mul(-e, r(i, j)), r(i, i)), tf.zerosLike(c1));
    } else {
      const l = 3 - i - j;
      const s1 = hypot(r(i, j), r(i, l));
      a1 = tf.atan2(s1, r(i, i));
      a2 = tf.where(withoutGradient((v) => tf.greater(v, GIMBAL_LOCK), s1), safeAtan2(r(i, j), tf.mul(e, r(i, l))), tf.zerosLike(s1));
    }
    const rest = tf.matMul(tf.matMul(m, axisRotation(axes[2], a2 as tf.Tensor1D), false, true), axisRotation(axes[1], a1 as tf.Tensor1D), false, true);
    const restFlat = rest.reshape([-1, 9]) as tf.Tensor2D;
    const p = (i + 1) % 3;
    const q = (i + 2) % 3;
    const a0 = safeAtan2(entry(restFlat, q, p), entry(restFlat, p, p));
    const angles = tf.stack([a0, a1, a2], 1);
    return (degrees ? tf.mul(angles, 180 / Math.PI) : angles) as tf.Tensor2D;
  });
}
