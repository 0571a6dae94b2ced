/** Pose errors of a registration's current poses against the truth, for the registration tests. */
import type * as tf from '@tensorflow/tfjs';
import { poseErrors, type PoseErrors } from '../../lib/registration/pose_errors.js';
import type { Registration } from '../../lib/registration/registration.js';

/** Errors of `reg`'s current poses against `truth` (sdd 1020 mm, as every registration test); disposes the poses. */
export async function errorsOf(reg: Registration, truth: tf.Tensor3D): Promise<PoseErrors> {
  const pose = reg.pose();
  try {
    return await poseErrors(pose, truth, 1020);
  } finally {
    pose.dispose();
  }
}
