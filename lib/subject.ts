/** The CT subject a DRR renders: density volume, its affine and the camera reorientation. */
import * as tf from '@tensorflow/tfjs';
import { identity4, invertAffine4, matrix4, type Matrix4 } from './geometry/matrix4.js';
import { reorientationMatrix, type Orientation } from './geometry/orientation.js';
import { checkVoxelSpacing } from './geometry/voxel_spacing.js';

/** What `read()` returns and `new DRR(subject, ...)` takes. */
export interface Subject {
  /**
   * Density in [0, 1] (float32), shape `[X, Y, Z]` in file index order `(i, j, k)`, C order
   * (`k` fastest).
   */
  density: tf.Tensor3D;
  /**
   * Voxel-to-world affine (row-major 4x4, mm): maps index `(i, j, k, 1)` to the world position of
   * that voxel's centre (NIfTI convention), after centring when `centerVolume` was set.
   */
  affine: Matrix4;
  /** The orientation the subject was read with. */
  orientation: Orientation;
  /** The reorientation matrix `Q` of `orientation` (see `geometry/orientation.ts`). */
  reorient: Matrix4;
  /** The labelmap as float32 `[X, Y, Z]`, when one was read. */
  mask?: tf.Tensor3D;
  /**
   * Number of label channels of `mask` (max label + 1), counted where the labels were in JS memory
   * (`read`), so that `maskToChannels` needs no synchronous read of the mask (impossible on webgpu
   * in Node). Unset: the DRR counts them from the mask on first use.
   */
  labelChannels?: number;
  /** Frees the tensors the subject holds. */
  dispose(): void;
}

/** Options of {@link makeSubject}. */
export interface MakeSubjectOptions {
  /** Density `[X, Y, Z]` (float32; taken over, not copied): a tensor, or values with `shape`. */
  density: tf.Tensor3D | Float32Array | number[];
  /** Shape `[X, Y, Z]` when `density` is an array. */
  shape?: [number, number, number];
  /**
   * Voxel-to-world affine (row-major 4x4). Default: the identity (1 mm voxels at integer positions).
   * Its voxel sizes (column norms of the 3x3 part) must lie in 1e-4 mm to 1e4 mm
   * (`VOXEL_SIZE_RANGE_MM`).
   */
  affine?: Matrix4 | number[][];
  /** Camera orientation. Default 'AP'. */
  orientation?: Orientation;
  /** Optional labelmap `[X, Y, Z]`. */
  mask?: tf.Tensor3D;
}

/**
 * A subject from a density already in memory (a synthetic phantom, a volume from another reader),
 * with no HU conversion and no centring: the affine is used as given. It must be finite and
 * invertible, with voxel sizes in 1e-4 mm to 1e4 mm per axis (`VOXEL_SIZE_RANGE_MM`).
 */
export function makeSubject(options: MakeSubjectOptions): Subject {
  const { density: values, shape } = options;
  let density: tf.Tensor3D;
  if (values instanceof tf.Tensor) {
    if (values.rank !== 3) throw new Error(`density: expected a rank-3 tensor [X, Y, Z], got shape [${values.shape.join(', ')}]`);
    density = values.dtype === 'float32' ? values : (tf.cast(values, 'float32') as tf.Tensor3D);
  } else {
    if (!shape || shape.length !== 3 || !shape.every((n) => Number.isInteger(n) && n > 0)) {
      throw new Error(`shape: expected three positive integers [X, Y, Z], got ${JSON.stringify(shape)}`);
    }
    density = tf.tensor3d(values, shape, 'float32');
  }
  if (density.shape.some((n) => n <= 0)) throw new Error(`density: every dimension must be positive, got [${density.shape.join(', ')}]`);
  const affine = options.affine === undefined ? identity4() : matrix4(options.affine);
  invertAffine4(affine, 'affine');
  checkVoxelSpacing(affine, 'affine');
  const orientation = options.orientation === undefined ? 'AP' : options.orientation;
  const mask = options.mask;
  if (mask && mask.shape.some((n, i) => n !== density.shape[i])) {
    throw new Error(`mask: expected the density's shape [${density.shape.join(', ')}], got [${mask.shape.join(', ')}]`);
  }
  return {
    density,
    affine,
    orientation,
    reorient: reorientationMatrix(orientation),
    mask,
    dispose() {
      density.dispose();
      mask?.dispose();
    },
  };
}

/**
 * The number of label channels of a labelmap, max label + 1.
 *
 * @throws if a label is not a non-negative integer (the message names `name`).
 */
export function countLabelChannels(labels: ArrayLike<number>, name = 'subject.mask'): number {
  let maxLabel = 0;
  for (let n = 0; n < labels.length; n++) {
    const label = labels[n];
    if (!(label >= 0 && Number.isInteger(label))) throw new Error(`${name}: labels must be non-negative integers, found ${label}`);
    if (label > maxLabel) maxLabel = label;
  }
  return maxLabel + 1;
}
