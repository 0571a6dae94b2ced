/**
 * Siddon's method by incremental traversal (Jacobs et al. 1998; Amanatides & Woo 1987): each ray
 * is walked voxel by voxel from its entry to its exit, with no sort and no allocation per ray.
 * Pure typed-array code shared by every CPU-side backend; sums in double precision.
 *
 * Geometry (one convention, written here): in index coordinates shifted by `voxelShift`
 * (`u = p + voxelShift`), voxel `(i, j, k)` is the half-open box `[i, i+1) x [j, j+1) x [k, k+1)`
 * and the volume is `[0, X) x [0, Y) x [0, Z)`. The ray is `u(alpha) = u_s + alpha (u_t - u_s)`
 * for `alpha` in [alphaMin, alphaMax] (infinite bounds allowed: the whole line); parts outside the
 * volume contribute nothing.
 */

/** Which part of the rays is integrated (see `SiddonAttrs`). */
export interface AlphaRange {
  alphaMin: number;
  alphaMax: number;
}

/** Shape of a C-order volume `[X, Y, Z]` (k fastest). */
export type VolumeShape = readonly [number, number, number];

/**
 * Writes `out[r] = sum over voxels of density * (alpha length inside the voxel)` for rays
 * `r = 0 .. nRays-1` from `source[3s .. 3s+2]`, `s = floor(r / raysPerSource)`, to
 * `target[3r .. 3r+2]`.
 *
 * @returns the number of voxel steps taken (segments visited), for the bench.
 */
export function siddonForwardImpl(
  density: Float32Array | Float64Array,
  shape: VolumeShape,
  source: Float32Array | Float64Array,
  target: Float32Array | Float64Array,
  nRays: number,
  voxelShift: number,
  range: AlphaRange,
  out: Float32Array | Float64Array,
  raysPerSource = 1,
): number {
  const nx = shape[0];
  const ny = shape[1];
  const nz = shape[2];
  const strideX = ny * nz;
  const strideY = nz;
  let steps = 0;
  for (let r = 0; r < nRays; r++) {
    const o = 3 * r;
    const so = 3 * Math.floor(r / raysPerSource);
    const ux = source[so] + voxelShift;
    const uy = source[so + 1] + voxelShift;
    const uz = source[so + 2] + voxelShift;
    const dx = target[o] - source[so];
    const dy = target[o + 1] - source[so + 1];
    const dz = target[o + 2] - source[so + 2];

    // Clip alpha in [alphaMin, alphaMax] to the volume box (slab method); a ray parallel to an
    // axis must lie inside that slab.
    let amin = range.alphaMin;
    let amax = range.alphaMax;
    if (dx !== 0) {
      const a0 = -ux / dx;
      const a1 = (nx - ux) / dx;
      amin = Math.max(amin, Math.min(a0, a1));
      amax = Math.min(amax, Math.max(a0, a1));
    } else if (!(ux >= 0 && ux < nx)) amax = -1;
    if (dy !== 0) {
      const a0 = -uy / dy;
      const a1 = (ny - uy) / dy;
      amin = Math.max(amin, Math.min(a0, a1));
      amax = Math.min(amax, Math.max(a0, a1));
    } else if (!(uy >= 0 && uy < ny)) amax = -1;
    if (dz !== 0) {
      const a0 = -uz / dz;
      const a1 = (nz - uz) / dz;
      amin = Math.max(amin, Math.min(a0, a1));
      amax = Math.min(amax, Math.max(a0, a1));
    } else if (!(uz >= 0 && uz < nz)) amax = -1;
    // (Infinite bounds survive only for a zero-length ray, source = target: it integrates nothing.)
    if (!(amin < amax) || amin === -Infinity || amax === Infinity) {
      out[r] = 0;
      continue;
    }

    // First voxel: where the ray enters (clamped: the entry point lies on a face up to rounding).
    let ix = Math.floor(ux + amin * dx);
    let iy = Math.floor(uy + amin * dy);
    let iz = Math.floor(uz + amin * dz);
    ix = ix < 0 ? 0 : ix >= nx ? nx - 1 : ix;
    iy = iy < 0 ? 0 : iy >= ny ? ny - 1 : iy;
    iz = iz < 0 ? 0 : iz >= nz ? nz - 1 : iz;

    // Alpha of the next plane crossed on each axis, and the alpha step between planes.
    const stepX = dx > 0 ? 1 : -1;
    const stepY = dy > 0 ? 1 : -1;
    const stepZ = dz > 0 ? 1 : -1;
    let ax = dx > 0 ? (ix + 1 - ux) / dx : dx < 0 ? (ix - ux) / dx : Infinity;
    let ay = dy > 0 ? (iy + 1 - uy) / dy : dy < 0 ? (iy - uy) / dy : Infinity;
    let az = dz > 0 ? (iz + 1 - uz) / dz : dz < 0 ? (iz - uz) / dz : Infinity;
    const dax = dx !== 0 ? Math.abs(1 / dx) : 0;
    const day = dy !== 0 ? Math.abs(1 / dy) : 0;
    const daz = dz !== 0 ? Math.abs(1 / dz) : 0;

    let index = ix * strideX + iy * strideY + iz;
    let acur = amin;
    let sum = 0;
    for (;;) {
      steps++;
      if (ax <= ay && ax <= az) {
        if (ax >= amax) {
          sum += density[index] * (amax - acur);
          break;
        }
        if (ax > acur) sum += density[index] * (ax - acur);
        acur = ax > acur ? ax : acur;
        ix += stepX;
        if (ix < 0 || ix >= nx) break;
        index += stepX * strideX;
        ax += dax;
      } else if (ay <= az) {
        if (ay >= amax) {
          sum += density[index] * (amax - acur);
          break;
        }
        if (ay > acur) sum += density[index] * (ay - acur);
        acur = ay > acur ? ay : acur;
        iy += stepY;
        if (iy < 0 || iy >= ny) break;
        index += stepY * strideY;
        ay += day;
      } else {
        if (az >= amax) {
          sum += density[index] * (amax - acur);
          break;
        }
        if (az > acur) sum += density[index] * (az - acur);
        acur = az > acur ? az : acur;
        iz += stepZ;
        if (iz < 0 || iz >= nz) break;
        index += stepZ;
        az += daz;
      }
    }
    out[r] = sum;
  }
  return steps;
}
