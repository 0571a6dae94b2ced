/**
 * The incremental Siddon traversal (Jacobs et al. 1998; Amanatides & Woo 1987), shared by the
 * forward and backward kernels: a ray is walked voxel by voxel from its entry to its exit, with no
 * sort and no allocation per ray. Pure typed-array code for every CPU-side backend.
 *
 * Geometry (one convention, written here): in index coordinates shifted by `voxelShift`
 * (`u = p + voxelShift`), voxel `(i, j, k)` is the half-open box `[i, i+1) x [j, j+1) x [k, k+1)`
 * and the volume is `[0, X) x [0, Y) x [0, Z)`, with C-order flat index `(i Y + j) Z + k`. The ray is
 * `u(alpha) = u_s + alpha (u_t - u_s)` for `alpha` in [alphaMin, alphaMax] (infinite bounds allowed:
 * the whole line); parts outside the volume contribute nothing.
 *
 * Use: `if (walker.start(...)) do { ...walker.voxel, walker.alpha0, walker.alpha1... } while (walker.advance());`
 * The plain sums (the kernels' common case) take the first `fastSteps` steps themselves, with
 * the state in locals and no checks, then `resume` the walker: `siddon_sum_loops.ts`.
 */
import { INFINITY, abs, floor } from './builtins.js';

/** Shape of a C-order volume `[X, Y, Z]` (k fastest). */
export type VolumeShape = readonly [number, number, number];

/** Which part of the rays is integrated (see `SiddonAttrs` in kernels/kernel_names.ts). */
export interface AlphaRange {
  alphaMin: number;
  alphaMax: number;
}

/** Walks rays through one volume; holds the state of the current ray and segment. */
export class SiddonWalker {
  private readonly nx: number;
  private readonly ny: number;
  private readonly nz: number;
  readonly strideX: number;
  readonly strideY: number;
  private readonly voxelShift: number;
  private readonly alphaMin: number;
  private readonly alphaMax: number;

  /** Direction of the current ray, `target - source` (index units). */
  dx = 0;
  dy = 0;
  dz = 0;
  /** Alpha where the ray enters and leaves the volume (within [alphaMin, alphaMax]). */
  amin = 0;
  amax = 0;
  /** Axis (0, 1, 2) whose box face the ray enters / leaves through, or -1 where alphaMin / alphaMax cut it. */
  entryAxis = -1;
  exitAxis = -1;
  /** The current segment: flat voxel index and its alpha interval [alpha0, alpha1]. */
  voxel = 0;
  alpha0 = 0;
  alpha1 = 0;
  /** Axis of the voxel face crossed at `alpha1` to reach the next segment, or -1 on the last segment. */
  crossAxis = -1;

  /** The current voxel's index per axis (for `advance`'s bounds check). */
  private ix = 0;
  private iy = 0;
  private iz = 0;
  /**
   * The traversal state the loops of `siddon_sum_loops.ts` read after `start` (and keep in
   * locals): the alpha of the next face ahead per axis (Infinity for an axis the ray is parallel
   * to), the alpha between faces, and the index step (+-1); with `voxel` and the strides.
   */
  ax = 0;
  ay = 0;
  az = 0;
  dax = 0;
  day = 0;
  daz = 0;
  stepX = 1;
  stepY = 1;
  stepZ = 1;
  /**
   * Face crossings that surely come before the ray's end and inside the volume: the crossings
   * counted from the exit point's voxel, less 3 (near the exit the incremental alphas and the
   * exit point may disagree by rounding, on at most one face per axis). A loop may take this many
   * steps with no end or bounds check, then hand the state back with `resume` and go on with
   * `advance`: the same steps as the walker's own.
   */
  fastSteps = 0;
  /** Segments of the last ray summed by `sumAlongRay`. */
  segments = 0;

  constructor(shape: VolumeShape, voxelShift: number, range: AlphaRange) {
    [this.nx, this.ny, this.nz] = shape;
    this.strideX = shape[1] * shape[2];
    this.strideY = shape[2];
    this.voxelShift = voxelShift;
    this.alphaMin = range.alphaMin;
    this.alphaMax = range.alphaMax;
  }

  /**
   * Sets up the ray from `s` to `t` (index coordinates) at its first segment.
   * @returns false if the ray misses the volume (or has zero length with an infinite range).
   */
  start(sx: number, sy: number, sz: number, tx: number, ty: number, tz: number): boolean {
    const { nx, ny, nz } = this;
    const ux = sx + this.voxelShift;
    const uy = sy + this.voxelShift;
    const uz = sz + this.voxelShift;
    const dx = tx - sx;
    const dy = ty - sy;
    const dz = tz - sz;
    this.dx = dx;
    this.dy = dy;
    this.dz = dz;

    // Slab method: clip [alphaMin, alphaMax] to the box, remembering which face bounds each end.
    let amin = this.alphaMin;
    let amax = this.alphaMax;
    let entryAxis = -1;
    let exitAxis = -1;
    if (dx !== 0) {
      const a0 = -ux / dx;
      const a1 = (nx - ux) / dx;
      const lo = a0 < a1 ? a0 : a1;
      const hi = a0 < a1 ? a1 : a0;
      if (lo > amin) { amin = lo; entryAxis = 0; }
      if (hi < amax) { amax = hi; exitAxis = 0; }
    } else if (!(ux >= 0 && ux < nx)) return false;
    if (dy !== 0) {
      const a0 = -uy / dy;
      const a1 = (ny - uy) / dy;
      const lo = a0 < a1 ? a0 : a1;
      const hi = a0 < a1 ? a1 : a0;
      if (lo > amin) { amin = lo; entryAxis = 1; }
      if (hi < amax) { amax = hi; exitAxis = 1; }
    } else if (!(uy >= 0 && uy < ny)) return false;
    if (dz !== 0) {
      const a0 = -uz / dz;
      const a1 = (nz - uz) / dz;
      const lo = a0 < a1 ? a0 : a1;
      const hi = a0 < a1 ? a1 : a0;
      if (lo > amin) { amin = lo; entryAxis = 2; }
      if (hi < amax) { amax = hi; exitAxis = 2; }
    } else if (!(uz >= 0 && uz < nz)) return false;
    // (Infinite bounds survive only for a zero-length ray, source = target: it integrates nothing.)
    if (!(amin < amax) || amin === -INFINITY || amax === INFINITY) return false;
    this.amin = amin;
    this.amax = amax;
    this.entryAxis = entryAxis;
    this.exitAxis = exitAxis;

    // First voxel: where the ray enters (clamped: the entry point lies on a face up to rounding).
    let ix = floor(ux + amin * dx);
    let iy = floor(uy + amin * dy);
    let iz = floor(uz + amin * dz);
    ix = ix < 0 ? 0 : ix >= nx ? nx - 1 : ix;
    iy = iy < 0 ? 0 : iy >= ny ? ny - 1 : iy;
    iz = iz < 0 ? 0 : iz >= nz ? nz - 1 : iz;
    this.ix = ix;
    this.iy = iy;
    this.iz = iz;
    this.voxel = ix * this.strideX + iy * this.strideY + iz;

    // Alpha of the next voxel face crossed on each axis, and the alpha step between faces.
    this.stepX = dx > 0 ? 1 : -1;
    this.stepY = dy > 0 ? 1 : -1;
    this.stepZ = dz > 0 ? 1 : -1;
    this.ax = dx > 0 ? (ix + 1 - ux) / dx : dx < 0 ? (ix - ux) / dx : INFINITY;
    this.ay = dy > 0 ? (iy + 1 - uy) / dy : dy < 0 ? (iy - uy) / dy : INFINITY;
    this.az = dz > 0 ? (iz + 1 - uz) / dz : dz < 0 ? (iz - uz) / dz : INFINITY;
    this.dax = dx !== 0 ? abs(1 / dx) : 0;
    this.day = dy !== 0 ? abs(1 / dy) : 0;
    this.daz = dz !== 0 ? abs(1 / dz) : 0;
    // Voxel of the exit point, for fastSteps.
    const ex = floor(ux + amax * dx);
    const ey = floor(uy + amax * dy);
    const ez = floor(uz + amax * dz);
    const crossings =
      abs((ex < 0 ? 0 : ex >= nx ? nx - 1 : ex) - ix) + abs((ey < 0 ? 0 : ey >= ny ? ny - 1 : ey) - iy) + abs((ez < 0 ? 0 : ez >= nz ? nz - 1 : ez) - iz);
    this.fastSteps = crossings > 3 ? crossings - 3 : 0;
    this.alpha0 = amin;
    this.endSegment();
    return true;
  }

  /**
   * Continues the walk from a state a loop advanced by itself (at most `fastSteps` steps): the
   * next face alpha per axis, the voxel, and the start of its segment.
   */
  resume(ax: number, ay: number, az: number, voxel: number, alpha0: number): void {
    this.ax = ax;
    this.ay = ay;
    this.az = az;
    this.voxel = voxel;
    this.ix = floor(voxel / this.strideX);
    this.iy = floor((voxel - this.ix * this.strideX) / this.strideY);
    this.iz = voxel - this.ix * this.strideX - this.iy * this.strideY;
    this.alpha0 = alpha0;
    this.endSegment();
  }

  /** Moves to the next segment. @returns false when the ray has left the volume. */
  advance(): boolean {
    const axis = this.crossAxis;
    if (axis < 0) return false;
    this.alpha0 = this.alpha1;
    if (axis === 0) {
      this.ix += this.stepX;
      if (this.ix < 0 || this.ix >= this.nx) return false;
      this.voxel += this.stepX * this.strideX;
      this.ax += this.dax;
    } else if (axis === 1) {
      this.iy += this.stepY;
      if (this.iy < 0 || this.iy >= this.ny) return false;
      this.voxel += this.stepY * this.strideY;
      this.ay += this.day;
    } else {
      this.iz += this.stepZ;
      if (this.iz < 0 || this.iz >= this.nz) return false;
      this.voxel += this.stepZ;
      this.az += this.daz;
    }
    this.endSegment();
    return true;
  }

  /** Finds where the current segment ends: the nearest face ahead, or the ray's end. */
  private endSegment(): void {
    const { ax, ay, az } = this;
    let next: number;
    let axis: number;
    if (ax <= ay && ax <= az) {
      next = ax;
      axis = 0;
    } else if (ay <= az) {
      next = ay;
      axis = 1;
    } else {
      next = az;
      axis = 2;
    }
    if (next >= this.amax) {
      this.alpha1 = this.amax;
      this.crossAxis = -1;
    } else {
      this.alpha1 = next > this.alpha0 ? next : this.alpha0;
      this.crossAxis = axis;
    }
  }
}
