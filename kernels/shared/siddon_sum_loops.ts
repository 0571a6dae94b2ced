/**
 * The hot loops of the Siddon kernels' common case (sum, one channel): the steps of
 * `SiddonWalker.advance` with the traversal state in locals, for a ray the walker has started.
 *
 * Both loops take the same step (the nearest face ahead; stop at `amax` or when the index leaves
 * the volume; move one voxel), each with its own work per step inlined: held in the walker object
 * and shared through `advance()`, the same traversal ran at 7.5 ns per voxel step instead of 3.9
 * (example CT, 200x200, one thread), because the JIT then keeps the state in memory. (The face
 * sums need the axis of each step, so they keep a loop of their own; a loop-invariant branch
 * inside `walkSegments` costs nothing measurable.) Segment ends are the walker's alphas
 * (`alpha1` without its clamp to `alpha0`, which only turns a length of -1 ulp at an entry edge
 * into 0).
 */
import type { FloatArray } from './siddon_impl.js';
import type { SiddonWalker } from './siddon_walker.js';

/**
 * Walks the started ray's segments: without `sums`, returns `sum of density[voxel] x (alpha1 -
 * alpha0)` (the forward); with `sums`, adds `weight x (alpha1 - alpha0)` to `sums[voxel]` (the
 * density gradient of a sum) and returns 0. Sets `walker.segments` (the bench's voxel steps).
 */
export function walkSegments(walker: SiddonWalker, density: FloatArray, weight: number, sums: Float64Array | null): number {
  const { nx, ny, nz, amax, dax, day, daz, stepX, stepY, stepZ } = walker;
  const sx = stepX * walker.strideX;
  const sy = stepY * walker.strideY;
  let { ix, iy, iz, ax, ay, az, voxel } = walker;
  let a0 = walker.amin;
  let end = amax;
  let sum = 0;
  let segments = 1;
  for (;;) {
    let a1: number;
    let next: number;
    if (ax <= ay && ax <= az) {
      a1 = ax;
      if (a1 >= amax) break;
      ix += stepX;
      if (ix >>> 0 >= nx) { end = a1; break; }
      ax += dax;
      next = voxel + sx;
    } else if (ay <= az) {
      a1 = ay;
      if (a1 >= amax) break;
      iy += stepY;
      if (iy >>> 0 >= ny) { end = a1; break; }
      ay += day;
      next = voxel + sy;
    } else {
      a1 = az;
      if (a1 >= amax) break;
      iz += stepZ;
      if (iz >>> 0 >= nz) { end = a1; break; }
      az += daz;
      next = voxel + stepZ;
    }
    if (sums === null) sum += density[voxel] * (a1 - a0);
    else sums[voxel] += weight * (a1 - a0);
    a0 = a1;
    voxel = next;
    segments++;
  }
  walker.segments = segments;
  if (sums === null) return sum + density[voxel] * (end - a0);
  sums[voxel] += weight * (end - a0);
  return 0;
}

/**
 * The face sums of the started ray's pose gradient (sum, one channel, before the upstream gradient
 * and the division by `d_axis`): per axis `a`, `jumps[a] = sum of J` and `jumps[3 + a] = sum of
 * J x alpha` over the faces of axis `a` the ray crosses at `alpha`, where `J = dL/d alpha` is the
 * density before the face minus the density after it (outside the volume: 0), the volume's entry
 * and exit faces included (see `siddon_grad_impl.ts`).
 */
export function faceJumpsAlongRay(walker: SiddonWalker, density: FloatArray, jumps: Float64Array): void {
  const { nx, ny, nz, amax, dax, day, daz, stepX, stepY, stepZ } = walker;
  const sx = stepX * walker.strideX;
  const sy = stepY * walker.strideY;
  let { ix, iy, iz, ax, ay, az, voxel } = walker;
  let w = density[voxel];
  let jx = 0;
  let jy = 0;
  let jz = 0;
  let mx = 0;
  let my = 0;
  let mz = 0;
  for (;;) {
    if (ax <= ay && ax <= az) {
      if (ax >= amax) break;
      ix += stepX;
      if (ix >>> 0 >= nx) break;
      voxel += sx;
      const next = density[voxel];
      const jump = w - next;
      jx += jump;
      mx += jump * ax;
      w = next;
      ax += dax;
    } else if (ay <= az) {
      if (ay >= amax) break;
      iy += stepY;
      if (iy >>> 0 >= ny) break;
      voxel += sy;
      const next = density[voxel];
      const jump = w - next;
      jy += jump;
      my += jump * ay;
      w = next;
      ay += day;
    } else {
      if (az >= amax) break;
      iz += stepZ;
      if (iz >>> 0 >= nz) break;
      voxel += stepZ;
      const next = density[voxel];
      const jump = w - next;
      jz += jump;
      mz += jump * az;
      w = next;
      az += daz;
    }
  }
  jumps[0] = jx;
  jumps[1] = jy;
  jumps[2] = jz;
  jumps[3] = mx;
  jumps[4] = my;
  jumps[5] = mz;
  // the entry face (J = 0 - first density) and the exit face (J = last density - 0)
  const first = density[walker.voxel];
  if (walker.entryAxis >= 0) {
    jumps[walker.entryAxis] -= first;
    jumps[3 + walker.entryAxis] -= first * walker.amin;
  }
  if (walker.exitAxis >= 0) {
    jumps[walker.exitAxis] += w;
    jumps[3 + walker.exitAxis] += w * amax;
  }
}
