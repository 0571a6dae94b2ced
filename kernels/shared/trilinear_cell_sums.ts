/**
 * The trilinear kernels' samples summed cell by cell in closed form, not sample by sample: a ray walks the cells of the trilinear grid (cell `(i, j, k)` spans `q` in
 * `[i, i + 1) x [j, j + 1) x [k, k + 1)`, its corners the voxels `i..i+1` x `j..j+1` x `k..k+1`),
 * and the samples of the ray that fall in one cell are summed at once.
 *
 * Why it is exact: inside a cell the interpolation `f` is trilinear (each coordinate to the first
 * power), and the `m` samples of a ray in the cell sit at `c + t e` (local coordinates), with `c`
 * their centre, `e` the step per sample and `t = j - (m - 1) / 2`, `j = 0..m-1`, symmetric about 0:
 * `sum t = sum t^3 = 0` and `sum t^2 = T2 = m (m^2 - 1) / 12`. Expanding `f(c + t e)` in `t`, with
 * second derivatives at `c` (`f_xx = f_yy = f_zz = 0`, `f_xyz` a constant):
 *
 *     sum f       = m f(c) + T2 (f_xy ex ey + f_xz ex ez + f_yz ey ez)
 *     sum f_x     = m f_x(c) + T2 f_xyz ey ez             (y, z alike)
 *     sum t f_x   = T2 (f_xy ey + f_xz ez)                (y: f_xy ex + f_yz ez; z: f_xz ex + f_yz ey)
 *     sum w_abc   = m X Y Z + T2 (X sb sc ey ez + Y sa sc ex ez + Z sa sb ex ey)
 *
 * where `w_abc` is corner `abc`'s trilinear weight, `X`, `Y`, `Z` its per-axis weights at `c`
 * (`1 - c_x` or `c_x`, ...) and `sa = +1` for the upper corner along x, `-1` for the lower (b, c
 * alike). The sample index of a sample is `kmid + t`, `kmid` the centre's, so
 * `sum k f_x = kmid sum f_x + sum t f_x`. A cell costs about as much as two samples did, and the
 * example CT at 500 points puts four or five samples in a cell.
 *
 * Which cell a sample is summed in: the walk (a 3D DDA in sample-index units, `kappa` where the ray
 * crosses a plane) gives samples `k < kappa` of the next crossing to the current cell. A sample
 * lying on a face within rounding may go to the neighbour cell; its value is the same (the
 * interpolation is continuous) and only its one-sided position gradient can differ, as it does
 * between any two float evaluations of `floor(q)` there.
 *
 * Bounds: a cell that lies between two of the ray's interior samples (`CellWalk.kInteriorBegin`)
 * has its eight corners inside, and reads them unchecked (the common case); the others (cells at
 * the faces, and outside ones that a sample widened for rounding lands in) are found from their
 * local coordinates and read through `CellWalk.loadPadded`, zero outside (grid_sample's zero
 * padding), or scatter through `CellWalk.scatterPadded`. A cell without samples is skipped: it
 * adds nothing, and reading it could (0 times a non-finite voxel is NaN).
 *
 * The two loops (`cellSums`, `cellScatter`) each take the walk's steps themselves, with its state
 * in locals: in the `CellWalk` object V8 kept it in memory (as `siddon_sum_loops.ts` found).
 *
 * A walk costs a step per cell crossed, so it pays off only where samples are denser than cells:
 * `TrilinearSampler` takes it for rays with `|ex| + |ey| + |ez| <= CELL_WALK_MAX_STEP` and sums the
 * samples one by one otherwise.
 *
 * The forward's dense rays mostly go through `kernels/simd/trilinear_cells.c` instead, the same walk
 * and formulas four rays at a time in WebAssembly SIMD (about twice as fast as this loop, which keeps
 * the backward passes, float64 volumes and engines without WebAssembly SIMD).
 */

import { abs, ceil, floor, min, round } from './builtins.js';
import type { PaddedCells } from './padded_cell.js';
import type { VolumeShape } from './siddon_walker.js';

/**
 * Stands for "no crossing" (an axis the ray runs parallel to): far beyond any sample index, and
 * finite. With Infinity in the walk V8's code for the loops ran 2.5x slower.
 */
const NO_CROSSING = 2 ** 52;

/**
 * The loops carry sample indices plus one half: integer-valued, V8 took them for small integers
 * and the loops ran 20% slower (int32 arithmetic with overflow checks, conversions to double).
 */
const HALF = 0.5;

/**
 * The largest `|ex| + |ey| + |ez|` (cells crossed per sample, at most) for which a ray is summed by
 * the cell walk: above it there are fewer samples than cells and a sample costs less than a cell.
 * Measured on the example CT at 200x200 (one thread): the walk took 77-82 ms at any number of
 * points, the samples one by one 62 ms at 100 points (`|ex| + |ey| + |ez|` about 1.0), 82 ms at
 * 150 (0.68), 100 ms at 200 (0.51) and 191 ms at 500 (0.2).
 */
export const CELL_WALK_MAX_STEP = 0.7;

/** The walk through the cells of one ray's samples, set up by `start` and read by the loops below. */
export class CellWalk {
  /** Flat index of the current cell's lower corner (meaningful only for cells inside). */
  base = 0;
  /** The ray: `q_k = o + k e`. */
  ox = 0;
  oy = 0;
  oz = 0;
  /**
   * Cells that lie between samples `kInteriorBegin` and `kInteriorEnd - 1` (exclusive) read their
   * corners unchecked: `TrilinearSampler.kInteriorBegin` (samples one sample inside the interior
   * cells, so that rounding of the walk cannot take such a cell outside). The others are read
   * with zero padding.
   */
  kInteriorBegin = 0;
  kInteriorEnd = 0;
  /** Local coordinates (within the current cell) of sample 0, per axis. */
  px = 0;
  py = 0;
  pz = 0;
  /** Sample index (continuous) of the next plane crossing per axis, and its increment per crossing. */
  nx = 0;
  ny = 0;
  nz = 0;
  ix = 0;
  iy = 0;
  iz = 0;
  /** Per axis, the flat index step per crossing and the direction (-1 or +1). */
  stepX = 0;
  stepY = 0;
  stepZ = 0;
  signX = 0;
  signY = 0;
  signZ = 0;
  /** Plane crossings from the first sample's cell to the last one's. */
  crossings = 0;
  /** Cells `[0, last)` per axis have all corners inside: `last = size - 1`. */
  readonly lastX: number;
  readonly lastY: number;
  readonly lastZ: number;
  /** Flat index strides of x and y. */
  readonly strideX: number;
  readonly strideY: number;
  /**
   * `loadPadded`'s output, and `cellScatter`'s weights for `scatterPadded`: corners 000 001 010
   * 011 100 101 110 111 (x y z bits).
   */
  readonly corners = new Float64Array(8);
  /** `locate`'s result: the cell's integer coordinates. */
  private ci = 0;
  private cj = 0;
  private ck = 0;
  private readonly cells: PaddedCells;
  private readonly density: Float32Array | Float64Array;

  /** `cells`: the zero-padded reads and writes of volumes of `shape` (shared with the caller's own). */
  constructor(density: Float32Array | Float64Array, shape: VolumeShape, cells: PaddedCells) {
    this.density = density;
    this.lastX = shape[0] - 1;
    this.lastY = shape[1] - 1;
    this.lastZ = shape[2] - 1;
    this.strideX = shape[1] * shape[2];
    this.strideY = shape[2];
    this.cells = cells;
  }

  /**
   * Sets up the walk over samples `[kb, ke)` (`ke > kb`, finite `o` and `e`) of the ray
   * `q_k = o + k e`, with the interior samples `[kib, kie)` (see `kInteriorBegin`).
   */
  start(ox: number, oy: number, oz: number, ex: number, ey: number, ez: number, kb: number, ke: number, kib: number, kie: number): void {
    const kl = ke - 1;
    const i = floor(ox + kb * ex);
    const j = floor(oy + kb * ey);
    const k = floor(oz + kb * ez);
    this.crossings = abs(floor(ox + kl * ex) - i) + abs(floor(oy + kl * ey) - j) + abs(floor(oz + kl * ez) - k);
    this.ox = ox;
    this.oy = oy;
    this.oz = oz;
    this.kInteriorBegin = kib;
    this.kInteriorEnd = kie;
    this.base = i * this.strideX + j * this.strideY + k;
    this.px = ox - i;
    this.py = oy - j;
    this.pz = oz - k;
    this.nx = CellWalk.firstCrossing(ox, ex, i);
    this.ny = CellWalk.firstCrossing(oy, ey, j);
    this.nz = CellWalk.firstCrossing(oz, ez, k);
    this.ix = min(1 / abs(ex), NO_CROSSING);
    this.iy = min(1 / abs(ey), NO_CROSSING);
    this.iz = min(1 / abs(ez), NO_CROSSING);
    this.signX = ex > 0 ? 1 : -1;
    this.signY = ey > 0 ? 1 : -1;
    this.signZ = ez > 0 ? 1 : -1;
    this.stepX = this.signX * this.strideX;
    this.stepY = this.signY * this.strideY;
    this.stepZ = this.signZ;
  }

  /** The sample index at which `o + k e` leaves cell `cell` (at most `NO_CROSSING`). */
  private static firstCrossing(o: number, e: number, cell: number): number {
    return min(e > 0 ? (cell + 1 - o) / e : e < 0 ? (cell - o) / e : NO_CROSSING, NO_CROSSING);
  }

  /**
   * The corners of the cell whose local coordinates of sample 0 are `(ux, uy, uz)` (the loops'
   * `px`, `py`, `pz` there: `o - cell`) into `corners`, 0 outside the volume.
   * @returns false (and nothing read) if no corner is inside.
   */
  loadPadded(ux: number, uy: number, uz: number): boolean {
    if (!this.locate(ux, uy, uz)) return false;
    this.cells.read(this.density, this.ci, this.cj, this.ck, this.corners);
    return true;
  }

  /** Adds the weights `w` (corner order of `corners`) of the cell `loadPadded` names to `out`, corners inside only. */
  scatterPadded(out: Float64Array, ux: number, uy: number, uz: number, w: Float64Array): void {
    if (this.locate(ux, uy, uz)) this.cells.add(out, this.ci, this.cj, this.ck, w);
  }

  /**
   * Finds the cell (`ci`, `cj`, `ck`) from its local coordinates of sample 0 (`o - cell`, exact
   * but for the rounding of whole steps: hence the rounding here).
   * @returns false if no corner of the cell is inside the volume.
   */
  private locate(ux: number, uy: number, uz: number): boolean {
    const i = round(this.ox - ux);
    const j = round(this.oy - uy);
    const k = round(this.oz - uz);
    this.ci = i;
    this.cj = j;
    this.ck = k;
    return i >= -1 && i <= this.lastX && j >= -1 && j <= this.lastY && k >= -1 && k <= this.lastZ;
  }
}

/**
 * `sum_k f(q_k)` over samples `[kb, ke)` of the ray `walk` was started on, added to `acc[0]` (the
 * forward), and with `withGradient` `sum_k grad f(q_k)` and `sum_k k grad f(q_k)` added to
 * `acc[1..3]` and `acc[4..6]` (the backward's `A` and `(n - 1) B`). The value comes out the same
 * to the bit either way. (One loop for both: a copy without the gradient ran no faster.)
 */
export function cellSums(walk: CellWalk, d: Float32Array | Float64Array, ex: number, ey: number, ez: number, kb: number, ke: number, acc: Float64Array, withGradient: boolean): void {
  const { ix, iy, iz, stepX, stepY, stepZ, signX, signY, signZ, crossings, kInteriorBegin: kib, kInteriorEnd: kie, strideX: sx, strideY: sy } = walk;
  let { base, px, py, pz, nx, ny, nz } = walk;
  const exy = ex * ey;
  const exz = ex * ez;
  const eyz = ey * ez;
  // sample indices carried plus 0.5 (see HALF)
  let k = kb + HALF;
  const keh = ke + HALF;
  const kibh = kib + HALF;
  const kieh = kie + HALF;
  let f = 0;
  let ax = 0;
  let ay = 0;
  let az = 0;
  let bx = 0;
  let by = 0;
  let bz = 0;
  for (let s = 0; s <= crossings; s++) {
    // the cell, then the walk to the next one
    const cell = base;
    const ux = px;
    const uy = py;
    const uz = pz;
    let kn: number;
    if (nx <= ny && nx <= nz) {
      kn = nx;
      nx += ix;
      base += stepX;
      px -= signX;
    } else if (ny <= nz) {
      kn = ny;
      ny += iy;
      base += stepY;
      py -= signY;
    } else {
      kn = nz;
      nz += iz;
      base += stepZ;
      pz -= signZ;
    }
    const kEnd = s === crossings ? keh : min(ceil(kn) + HALF, keh);
    const m = kEnd - k;
    const kmid = 0.5 * (k + kEnd) - 1;
    const inside = k > kibh && kEnd < kieh;
    k = kEnd;
    if (m === 0) continue;
    let c000: number;
    let c001: number;
    let c010: number;
    let c011: number;
    let c100: number;
    let c101: number;
    let c110: number;
    let c111: number;
    if (inside) {
      c000 = d[cell];
      c001 = d[cell + 1];
      c010 = d[cell + sy];
      c011 = d[cell + sy + 1];
      c100 = d[cell + sx];
      c101 = d[cell + sx + 1];
      c110 = d[cell + sx + sy];
      c111 = d[cell + sx + sy + 1];
    } else {
      if (!walk.loadPadded(ux, uy, uz)) continue;
      const c = walk.corners;
      c000 = c[0];
      c001 = c[1];
      c010 = c[2];
      c011 = c[3];
      c100 = c[4];
      c101 = c[5];
      c110 = c[6];
      c111 = c[7];
    }
    const cx = ux + kmid * ex;
    const cy = uy + kmid * ey;
    const cz = uz + kmid * ez;
    const dz00 = c001 - c000;
    const dz01 = c011 - c010;
    const dz10 = c101 - c100;
    const dz11 = c111 - c110;
    const a00 = c000 + cz * dz00;
    const a01 = c010 + cz * dz01;
    const a10 = c100 + cz * dz10;
    const a11 = c110 + cz * dz11;
    const ay0 = a01 - a00;
    const ay1 = a11 - a10;
    const b0 = a00 + cy * ay0;
    const b1 = a10 + cy * ay1;
    const h0 = dz00 + cy * (dz01 - dz00);
    const h1 = dz10 + cy * (dz11 - dz10);
    const gy0 = dz01 - dz00;
    const fxyz = dz11 - dz10 - gy0;
    const fxy = ay1 - ay0;
    const fxz = h1 - h0;
    const fyz = gy0 + cx * fxyz;
    const t2 = m * (m * m - 1) * (1 / 12);
    f += m * (b0 + cx * (b1 - b0)) + t2 * (fxy * exy + fxz * exz + fyz * eyz);
    if (withGradient) {
      // the cell's sums of the gradient, and of the gradient times the sample index
      const t3 = t2 * fxyz;
      const gx = m * (b1 - b0) + t3 * eyz;
      const gy = m * (ay0 + cx * fxy) + t3 * exz;
      const gz = m * (h0 + cx * fxz) + t3 * exy;
      ax += gx;
      ay += gy;
      az += gz;
      bx += kmid * gx + t2 * (fxy * ey + fxz * ez);
      by += kmid * gy + t2 * (fxy * ex + fyz * ez);
      bz += kmid * gz + t2 * (fxz * ex + fyz * ey);
    }
  }
  acc[0] += f;
  if (!withGradient) return;
  acc[1] += ax;
  acc[2] += ay;
  acc[3] += az;
  acc[4] += bx;
  acc[5] += by;
  acc[6] += bz;
}

/**
 * Adds `w` times the trilinear weights of samples `[kb, ke)` of the ray `walk` was started on to
 * `out` (a volume), one cell at a time (the density gradient).
 */
export function cellScatter(walk: CellWalk, out: Float64Array, w: number, ex: number, ey: number, ez: number, kb: number, ke: number): void {
  const { ix, iy, iz, stepX, stepY, stepZ, signX, signY, signZ, crossings, kInteriorBegin: kib, kInteriorEnd: kie, strideX: sx, strideY: sy } = walk;
  let { base, px, py, pz, nx, ny, nz } = walk;
  const exy = ex * ey;
  const exz = ex * ez;
  const eyz = ey * ez;
  // sample indices carried plus 0.5 (see HALF)
  let k = kb + HALF;
  const keh = ke + HALF;
  const kibh = kib + HALF;
  const kieh = kie + HALF;
  const weights = walk.corners;
  for (let s = 0; s <= crossings; s++) {
    // the cell, then the walk to the next one
    const cell = base;
    const ux = px;
    const uy = py;
    const uz = pz;
    let kn: number;
    if (nx <= ny && nx <= nz) {
      kn = nx;
      nx += ix;
      base += stepX;
      px -= signX;
    } else if (ny <= nz) {
      kn = ny;
      ny += iy;
      base += stepY;
      py -= signY;
    } else {
      kn = nz;
      nz += iz;
      base += stepZ;
      pz -= signZ;
    }
    const kEnd = s === crossings ? keh : min(ceil(kn) + HALF, keh);
    const m = kEnd - k;
    const kmid = 0.5 * (k + kEnd) - 1;
    const inside = k > kibh && kEnd < kieh;
    k = kEnd;
    if (m === 0) continue;
    const x1 = ux + kmid * ex;
    const y1 = uy + kmid * ey;
    const z1 = uz + kmid * ez;
    const x0 = 1 - x1;
    const y0 = 1 - y1;
    const z0 = 1 - z1;
    const mw = m * w;
    const t2w = m * (m * m - 1) * (1 / 12) * w;
    // corner abc: z_c u_ab -+ v_ab (the file comment's sum of w_abc)
    const txy = t2w * exy;
    const tx = t2w * eyz;
    const ty = t2w * exz;
    const u00 = mw * x0 * y0 + txy;
    const u01 = mw * x0 * y1 - txy;
    const u10 = mw * x1 * y0 - txy;
    const u11 = mw * x1 * y1 + txy;
    const v00 = -(x0 * tx + y0 * ty);
    const v01 = x0 * tx - y1 * ty;
    const v10 = y0 * ty - x1 * tx;
    const v11 = x1 * tx + y1 * ty;
    if (inside) {
      out[cell] += z0 * u00 - v00;
      out[cell + 1] += z1 * u00 + v00;
      out[cell + sy] += z0 * u01 - v01;
      out[cell + sy + 1] += z1 * u01 + v01;
      out[cell + sx] += z0 * u10 - v10;
      out[cell + sx + 1] += z1 * u10 + v10;
      out[cell + sx + sy] += z0 * u11 - v11;
      out[cell + sx + sy + 1] += z1 * u11 + v11;
    } else {
      weights[0] = z0 * u00 - v00;
      weights[1] = z1 * u00 + v00;
      weights[2] = z0 * u01 - v01;
      weights[3] = z1 * u01 + v01;
      weights[4] = z0 * u10 - v10;
      weights[5] = z1 * u10 + v10;
      weights[6] = z0 * u11 - v11;
      weights[7] = z1 * u11 + v11;
      walk.scatterPadded(out, ux, uy, uz, weights);
    }
  }
}
