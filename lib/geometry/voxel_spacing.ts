/**
 * The voxel sizes tfdrr accepts, in one place.
 *
 * A voxel's size along index axis `i`, `j` or `k` is the norm of that column of the affine's 3x3
 * part (the world distance between neighbouring voxel centres along that axis). Every size must
 * lie in {@link VOXEL_SIZE_RANGE_MM}, 1e-4 mm (0.1 um) to 1e4 mm (10 m): far beyond any clinical
 * CT, micro-CT or synthetic phantom. Inside it the renderers scale as they should: a volume and
 * camera scaled by 1e-4 or 1e4 give that factor times the 1 mm image, within 2e-7 (Siddon) and
 * 3e-6 (Trilinear) relative for the README's pose, and within 7e-5 for a rotated one, as for
 * ordinary factors such as 3 (float32 rays; test/io/voxel_spacing.test.ts). Outside it they fail
 * silently (issue #17): around 1e-37 mm, an affine still invertible in float64, the images are NaN
 * (and Trilinear's range NaN); from about 1e10 mm Siddon's images are all zero while Trilinear's
 * are not.
 *
 * `readNifti` / `read` (the file's affine), `makeSubject` (the affine given) and the `DRR`
 * constructor (`subject.affine`, for subjects made by hand) check it. The affine must also be
 * invertible (`invertAffine4`: `|det| > 1e-12 max|a_ij|^3`), which refuses, as "singular", very
 * anisotropic voxels: for a diagonal affine, those whose two smaller sizes multiply to 1e-12 times
 * the square of the largest or less (e.g. 1e-4 x 1 x 1e4 mm).
 */
import type { Matrix4 } from './matrix4.js';

/** Accepted voxel size per index axis, in mm: `[min, max]`, both inclusive. */
export const VOXEL_SIZE_RANGE_MM: readonly [number, number] = [1e-4, 1e4];

/** The voxel sizes along `i`, `j`, `k`: the column norms of the 3x3 part of a row-major 4x4. */
export function voxelSpacing(affine: ArrayLike<number>): [number, number, number] {
  const column = (c: number) => Math.hypot(affine[c], affine[4 + c], affine[8 + c]);
  return [column(0), column(1), column(2)];
}

/**
 * Relative slack at the range's ends, so that a size written as float32 (NIfTI-1 stores
 * `fround(1e-4)` = 9.99999975e-5) or rotated in float32 is not refused for its last bits.
 */
const SLACK = 2 ** -20;

/**
 * Throws unless every voxel size of `affine` lies in {@link VOXEL_SIZE_RANGE_MM} (give or take
 * float32 rounding).
 *
 * @param affine Voxel-to-world, row-major 4x4 (mm).
 * @param name What the affine is, for the message (e.g. `'subject.affine'`).
 */
export function checkVoxelSpacing(affine: Matrix4 | ArrayLike<number>, name: string): void {
  const [lo, hi] = VOXEL_SIZE_RANGE_MM;
  voxelSpacing(affine).forEach((size, c) => {
    if (!(size >= lo * (1 - SLACK) && size <= hi * (1 + SLACK))) {
      throw new Error(
        `${name}: voxel size along ${'ijk'[c]} is ${size} mm (the norm of column ${c} of the 3x3 part); expected ${lo} mm to ${hi} mm per axis`,
      );
    }
  });
}
