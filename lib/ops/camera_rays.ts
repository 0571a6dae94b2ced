/** The camera rays op: validates its inputs and runs the `CameraRays` kernel of the active backend. */
import * as tf from '@tensorflow/tfjs';
import { CameraRays, type CameraRaysInputs } from '../../kernels/kernel_names.js';
import { assertTensor } from './siddon.js';

/** Whether the active backend has the `CameraRays` kernel (cpu and wasm). */
export function hasCameraRays(backendName: string = tf.getBackend()): boolean {
  return tf.getKernel(CameraRays, backendName) != null;
}

/**
 * Ray targets in index coordinates and ray lengths in mm of B cameras, in one pass over the pixels
 * (differentiable with respect to `camToIndex` and `linear`).
 *
 * @param camToIndex float32 `[B, 3, 4]`: the top rows of each camera's camera-to-index transform.
 * @param linear float32 `[B, 3, 3]`: each camera's camera-to-world rotation part (mm per camera unit).
 * @param points float32 `[P, 3]`: the camera-frame pixel centres.
 * @returns `target` `[B, P, 3]` (`camToIndex (t, 1)`) and `rayLength` `[B, P]` (`|linear t|`).
 */
export function cameraRays(camToIndex: tf.Tensor3D, linear: tf.Tensor3D, points: tf.Tensor2D): { target: tf.Tensor3D; rayLength: tf.Tensor2D } {
  assertTensor(camToIndex, 'camToIndex', 3, 4);
  assertTensor(linear, 'linear', 3, 3);
  assertTensor(points, 'points', 2, 3);
  const b = camToIndex.shape[0];
  if (camToIndex.shape[1] !== 3 || linear.shape[0] !== b || linear.shape[1] !== 3) {
    throw new Error(`camToIndex, linear: expected shapes [B, 3, 4] and [B, 3, 3], got [${camToIndex.shape.join(', ')}] and [${linear.shape.join(', ')}]`);
  }
  const inputs: CameraRaysInputs = { camToIndex, linear, points };
  const [target, rayLength] = tf.engine().runKernel(CameraRays, inputs as unknown as tf.NamedTensorMap) as tf.Tensor[];
  return { target: target as tf.Tensor3D, rayLength: rayLength as tf.Tensor2D };
}
