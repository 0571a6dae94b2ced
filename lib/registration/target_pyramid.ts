/**
 * Target images at the detector sizes of a multiscale registration.
 *
 * A coarse detector (`DRR.rescaleDetector(s)`) keeps the physical extent and casts one ray through
 * the centre of each of its larger pixels, so the target is resampled at those centres: bilinear
 * with half-pixel centres (`tf.image.resizeBilinear`), which maps coarse pixel `i` to fine
 * coordinate `(i + 0.5) / s - 0.5`, the same point the coarse ray hits.
 */
import * as tf from '@tensorflow/tfjs';

/** `target` `[B, C, H, W]` resampled to `[B, C, height, width]` (the same tensor when the size already matches). */
export function resampleTarget(target: tf.Tensor4D, height: number, width: number): tf.Tensor4D {
  const [, , h, w] = target.shape;
  if (h === height && w === width) return target.clone();
  return tf.tidy(() => {
    const nhwc = tf.transpose(target, [0, 2, 3, 1]) as tf.Tensor4D;
    const resized = tf.image.resizeBilinear(nhwc, [height, width], false, true);
    return tf.transpose(resized, [0, 3, 1, 2]) as tf.Tensor4D;
  });
}
