/**
 * How far registered poses are from the truth, in the units registration results are reported in:
 * the rotation angle (degrees), the distance between translation parameters (mm), and DiffDRR's
 * double geodesic (mm), from {@link doubleGeodesicSE3}.
 */
import * as tf from '@tensorflow/tfjs';
import { doubleGeodesicSE3 } from '../geometry/distances.js';
import type { PoseLike } from '../geometry/rigid_transform.js';

/** Errors of each pose of a batch. */
export interface PoseErrors {
  /** Angle of `R_estimate^T R_truth`, degrees. */
  rotationDegrees: number[];
  /** `|t_estimate - t_truth|` of the translation parameters `convert` takes (`R^T` times the pose's translation), mm. */
  translationMm: number[];
  /** DiffDRR's double geodesic `sqrt((sdd/2 · angle)² + translation²)`, mm. */
  doubleGeodesicMm: number[];
}

/**
 * Errors of `estimate` `[B, 4, 4]` against `truth` (`[B, 4, 4]` or one pose for all), read back
 * asynchronously (works on every backend).
 *
 * @param sdd the source-to-detector distance (mm) that scales the double geodesic's rotation term.
 */
export async function poseErrors(estimate: PoseLike, truth: PoseLike, sdd: number): Promise<PoseErrors> {
  const d = doubleGeodesicSE3(estimate, truth, sdd);
  try {
    const [rotation, translation, double] = await Promise.all([d.rotation.data(), d.translation.data(), d.double.data()]);
    return {
      rotationDegrees: Array.from(rotation, (mm) => ((mm / (sdd / 2)) * 180) / Math.PI),
      translationMm: Array.from(translation),
      doubleGeodesicMm: Array.from(double),
    };
  } finally {
    tf.dispose([d.rotation, d.translation, d.double]);
  }
}
