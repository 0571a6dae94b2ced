/** Assembling batched 4x4 rigid transforms from their rotation and translation parts. */
import * as tf from '@tensorflow/tfjs';

/** Poses `[[R, t], [0, 0, 0, 1]]` `[B, 4, 4]` from rotations `[B, 3, 3]` and translations `[B, 3]`. */
export function makePose(rotation: tf.Tensor3D, translation: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => {
    const b = rotation.shape[0];
    const top = tf.concat([rotation, translation.reshape([b, 3, 1])], 2);
    return tf.concat([top, tf.tile(tf.tensor3d([[[0, 0, 0, 1]]]), [b, 1, 1])], 1) as tf.Tensor3D;
  });
}
