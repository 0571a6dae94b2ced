/**
 * The hot loops of the Siddon kernels' common case (sum, one channel), for a ray the walker has
 * started: its first `walker.fastSteps` steps taken here with the state in locals and no end or
 * bounds check (the walker counted them as surely inside the ray and the volume), the last few
 * through `walker.resume` and `walker.advance`. The steps, their order and their alphas are the
 * walker's (`siddon_walker.ts`); only segment ends are not clamped to `alpha0` in the fast part
 * (the clamp turns a length of -1 ulp at an entry edge into 0).
 *
 * Why not `advance()` all along: with the state in the walker object the JIT keeps it in memory,
 * and the checks cost as much again; the example CT at 200x200 took 7.5 ns per voxel step that way,
 * 3.3 here (one thread). Each kind of work per step has its loop: a branch between two kinds
 * inside one loop cost 11%.
 */
import type { FloatArray } from './siddon_impl.js';
import type { SiddonWalker } from './siddon_walker.js';

/**
 * `sum of density[voxel] x (alpha1 - alpha0)` over the started ray's segments (the forward); sets
 * `walker.segments` (the bench's voxel steps).
 */
export function sumAlongRay(walker: SiddonWalker, density: FloatArray): number {
  const { dax, day, daz, stepZ, fastSteps } = walker;
  const sx = walker.stepX * walker.strideX;
  const sy = walker.stepY * walker.strideY;
  let { ax, ay, az, voxel } = walker;
  let a0 = walker.amin;
  let sum = 0;
  for (let k = 0; k < fastSteps; k++) {
    let a1: number;
    let next: number;
    if (ax <= ay && ax <= az) {
      a1 = ax;
      ax += dax;
      next = voxel + sx;
    } else if (ay <= az) {
      a1 = ay;
      ay += day;
      next = voxel + sy;
    } else {
      a1 = az;
      az += daz;
      next = voxel + stepZ;
    }
    sum += density[voxel] * (a1 - a0);
    a0 = a1;
    voxel = next;
  }
  walker.resume(ax, ay, az, voxel, a0);
  let segments = fastSteps;
  do {
    sum += density[walker.voxel] * (walker.alpha1 - walker.alpha0);
    segments++;
  } while (walker.advance());
  walker.segments = segments;
  return sum;
}

/**
 * Adds `weight x (alpha1 - alpha0)` to `sums[voxel]` over the started ray's segments (the density
 * gradient of a sum): `sumAlongRay`'s steps with a scatter for a sum (two loops: one with a
 * branch between them ran 11% slower).
 */
export function scatterAlongRay(walker: SiddonWalker, weight: number, sums: Float64Array): void {
  const { dax, day, daz, stepZ, fastSteps } = walker;
  const sx = walker.stepX * walker.strideX;
  const sy = walker.stepY * walker.strideY;
  let { ax, ay, az, voxel } = walker;
  let a0 = walker.amin;
  for (let k = 0; k < fastSteps; k++) {
    let a1: number;
    let next: number;
    if (ax <= ay && ax <= az) {
      a1 = ax;
      ax += dax;
      next = voxel + sx;
    } else if (ay <= az) {
      a1 = ay;
      ay += day;
      next = voxel + sy;
    } else {
      a1 = az;
      az += daz;
      next = voxel + stepZ;
    }
    sums[voxel] += weight * (a1 - a0);
    a0 = a1;
    voxel = next;
  }
  walker.resume(ax, ay, az, voxel, a0);
  do {
    sums[walker.voxel] += weight * (walker.alpha1 - walker.alpha0);
  } while (walker.advance());
}

/**
 * The face sums of the started ray's pose gradient (sum, one channel, before the upstream gradient
 * and the division by `d_axis`), written to `jumps`: per axis `a`, `jumps[a] = sum of J` and
 * `jumps[3 + a] = sum of J x alpha` over the faces of axis `a` the ray crosses at `alpha`, where
 * `J = dL/d alpha` is the density before the face minus the density after it (outside the volume:
 * 0), the volume's entry and exit faces included (see `siddon_grad_impl.ts`).
 *
 * @returns the ray's sum, as `sumAlongRay` (the same arithmetic: bit for bit).
 */
export function faceJumpsAlongRay(walker: SiddonWalker, density: FloatArray, jumps: Float64Array): number {
  const { dax, day, daz, stepZ, fastSteps } = walker;
  const sx = walker.stepX * walker.strideX;
  const sy = walker.stepY * walker.strideY;
  let { ax, ay, az, voxel } = walker;
  const first = density[voxel];
  let w = first;
  let sum = 0;
  let jx = 0;
  let jy = 0;
  let jz = 0;
  let mx = 0;
  let my = 0;
  let mz = 0;
  let a0 = walker.amin;
  for (let k = 0; k < fastSteps; k++) {
    if (ax <= ay && ax <= az) {
      sum += w * (ax - a0);
      voxel += sx;
      const next = density[voxel];
      jx += w - next;
      mx += (w - next) * ax;
      w = next;
      a0 = ax;
      ax += dax;
    } else if (ay <= az) {
      sum += w * (ay - a0);
      voxel += sy;
      const next = density[voxel];
      jy += w - next;
      my += (w - next) * ay;
      w = next;
      a0 = ay;
      ay += day;
    } else {
      sum += w * (az - a0);
      voxel += stepZ;
      const next = density[voxel];
      jz += w - next;
      mz += (w - next) * az;
      w = next;
      a0 = az;
      az += daz;
    }
  }
  jumps[0] = jx;
  jumps[1] = jy;
  jumps[2] = jz;
  jumps[3] = mx;
  jumps[4] = my;
  jumps[5] = mz;
  walker.resume(ax, ay, az, voxel, a0);
  for (;;) {
    sum += w * (walker.alpha1 - walker.alpha0);
    const axis = walker.crossAxis;
    const alpha = walker.alpha1;
    if (!walker.advance()) break;
    const next = density[walker.voxel];
    jumps[axis] += w - next;
    jumps[3 + axis] += (w - next) * alpha;
    w = next;
  }
  // the entry face (J = 0 - first density) and the exit face (J = last density - 0)
  if (walker.entryAxis >= 0) {
    jumps[walker.entryAxis] -= first;
    jumps[3 + walker.entryAxis] -= first * walker.amin;
  }
  if (walker.exitAxis >= 0) {
    jumps[walker.exitAxis] += w;
    jumps[3 + walker.exitAxis] += w * walker.amax;
  }
  return sum;
}
