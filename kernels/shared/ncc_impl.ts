/**
 * Normalized cross correlation of image batches, global and on patches, with its gradient: the
 * typed-array implementation of `MultiscaleNcc` (kernels/kernel_names.ts), shared by the cpu and
 * wasm backends, and the NCC core of `GradientNcc` (gradient_ncc_impl.ts).
 *
 * Each channel slice is centred on its own mean, then every window (the whole slice, or each
 * `p x p` patch at stride 1) gives five sums, `S(a)`, `S(d)`, `S(a²)`, `S(d²)`, `S(ad)`, in double
 * precision, from which (with the window mean `m = S / n`)
 *
 *     NCC = (m(ad) - m(a) m(d)) / sqrt((va + eps) (vd + eps)),   va = max(0, m(a²) - m(a)²),
 *
 * the formula of the tensor-op metric (lib/metrics/normalized_cross_correlation.ts) with its
 * clamp. Patch sums slide: column sums over `p` rows updated a row at a time, then a running sum
 * along the row. A window whose denominator is 0 (eps 0 and a flat window) counts as 0.
 *
 * The gradient with respect to `a` is linear in the window sums' gradients: with
 * `alpha = d NCC / d m(ad)`, `beta = d NCC / d m(a)`, `gamma = d NCC / d m(a²)` per window, pixel
 * `k` gets `(alpha d_k + beta + 2 gamma a_k) / n` from every window that holds it: for patches,
 * the adjoint box sums of the three per-patch maps (again sliding, a row then a column at a time).
 * The centring's own gradient (subtracting the mean of the result) comes last.
 */
import type { FloatArray } from './siddon_impl.js';
import { fround, max, sqrt } from './builtins.js';

/** `[B, C, H, W]`. */
export type ImageShape = readonly [number, number, number, number];

/** Images `[first, end)` of a batch. */
export interface ImageRange {
  first: number;
  end: number;
}

/** The scales of a multiscale NCC (`MultiscaleNccAttrs`: patch side 0 for the whole image). */
export interface NccScales {
  patchSizes: readonly number[];
  patchWeights: readonly number[];
  eps: number;
}

/** Float64 work arrays by name, reused from call to call (grown when a call needs more; one set per thread). */
const work = new Map<string, Float64Array>();

/** A float64 work array `name` of at least `n` elements (contents left from earlier calls). */
export function workArray(name: string, n: number): Float64Array {
  let a = work.get(name);
  if (a === undefined || a.length < n) {
    a = new Float64Array(max(n, 16));
    work.set(name, a);
  }
  return a;
}

/** Centres `x[off, off + n)` in place on its mean (double precision). */
export function centreInPlace(x: Float64Array, off: number, n: number): void {
  let s = 0;
  for (let k = 0; k < n; k++) s += x[off + k];
  const mean = s / n;
  for (let k = 0; k < n; k++) x[off + k] -= mean;
}

/**
 * The NCC of a window and its gradient coefficients from its five sums over `n` pixels (`invN` =
 * 1 / n): writes `[ncc, alpha, beta, gamma]` into `t` (all 0 where the denominator is 0). A
 * variance below 0 (rounding) counts as 0, with no gradient through it (the tensor-op `relu`).
 */
function windowTerms(sa: number, sd: number, saa: number, sdd: number, sad: number, invN: number, eps: number, t: Float64Array): void {
  const ma = sa * invN;
  const md = sd * invN;
  const rawA = saa * invN - ma * ma;
  const rawD = sdd * invN - md * md;
  const ea = (rawA > 0 ? rawA : 0) + eps;
  const ed = (rawD > 0 ? rawD : 0) + eps;
  const denom = sqrt(ea * ed);
  if (!(denom > 0)) {
    t[0] = 0;
    t[1] = 0;
    t[2] = 0;
    t[3] = 0;
    return;
  }
  const alpha = 1 / denom;
  const ncc = (sad * invN - ma * md) * alpha;
  const gamma = rawA > 0 ? (-0.5 * ncc) / ea : 0;
  t[0] = ncc;
  t[1] = alpha;
  t[2] = -md * alpha - 2 * ma * gamma;
  t[3] = gamma;
}

const terms = new Float64Array(4);

/**
 * `weight x` the NCC of the whole `n`-pixel slices `a`, `d` (from `off`), and with `g`, adds
 * `weight x` its gradient with respect to `a` to `g` (same offset).
 */
export function globalNcc(a: Float64Array, d: Float64Array, off: number, n: number, eps: number, weight: number, g: Float64Array | null): number {
  sliceSums(a, d, off, n, sums);
  const invN = 1 / n;
  windowTerms(sums[0], sums[1], sums[2], sums[3], sums[4], invN, eps, terms);
  if (g !== null && terms[1] !== 0) addGlobalGradient(a, d, off, n, weight * invN * terms[1], weight * invN * terms[2], 2 * weight * invN * terms[3], g);
  return weight * terms[0];
}

const sums = new Float64Array(5);

/** `out` = the sums of a, d, a², d², ad over the `n` values from `off`. */
function sliceSums(a: Float64Array, d: Float64Array, off: number, n: number, out: Float64Array): void {
  let sa = 0;
  let sd = 0;
  let saa = 0;
  let sdd = 0;
  let sad = 0;
  for (let k = off, end = off + n; k < end; k++) {
    const x = a[k];
    const y = d[k];
    sa += x;
    sd += y;
    saa += x * x;
    sdd += y * y;
    sad += x * y;
  }
  out[0] = sa;
  out[1] = sd;
  out[2] = saa;
  out[3] = sdd;
  out[4] = sad;
}

/** `g[k] += alpha d_k + beta + gamma2 a_k` over the `n` values from `off`. */
function addGlobalGradient(a: Float64Array, d: Float64Array, off: number, n: number, alpha: number, beta: number, gamma2: number, g: Float64Array): void {
  for (let k = off, end = off + n; k < end; k++) g[k] += alpha * d[k] + beta + gamma2 * a[k];
}

/**
 * `weight x` the mean NCC over the `p x p` patches (stride 1) of the `h x w` slices `a`, `d`
 * (from `off`), and with `g`, adds `weight x` its gradient with respect to `a` to `g`.
 *
 * One pass down the patch rows: the column sums slide a row, the window slides along it. With a
 * gradient, each patch's `(alpha, beta, gamma)` goes at once into sliding sums along the row (for
 * pixel column j, the sum over this row's patches that hold it), kept for the last `p` patch rows
 * (`slots`), and those slide down the columns (`run`: for pixel row i, the sum over patch rows
 * `[i - p + 1, i]`), so pixel row i's gradient is complete as soon as patch row i is done.
 * (Each loop is a function of its own, which the JIT optimizes whole: a loop optimized while it
 * runs, on-stack, would leave the code after it without type feedback, to be deoptimized there
 * at every call.)
 */
export function patchNcc(a: Float64Array, d: Float64Array, off: number, h: number, w: number, p: number, eps: number, weight: number, g: Float64Array | null): number {
  const ho = h - p + 1;
  const wo = w - p + 1;
  const invN = 1 / (p * p);
  const scale = weight / (ho * wo);
  // column sums of the five quantities (a, d, a², d², ad) over rows [i, i + p), interleaved
  const cols = workArray('nccColumns', 5 * w);
  firstColumnSums(a, d, off, w, p, cols);
  if (g === null) {
    let total = 0;
    for (let i = 0; i < ho; i++) {
      if (i > 0) slideColumnSums(a, d, off + (i + p - 1) * w, off + (i - 1) * w, w, cols);
      total += patchRowScores(cols, wo, p, invN, eps);
    }
    return scale * total;
  }
  // this patch row's (alpha, beta, gamma); the row sums of the last p patch rows; their column sums
  const ring = workArray('nccRing', 3 * wo);
  const slots = workArray('nccSlots', 3 * w * p);
  const run = workArray('nccRunning', 3 * w);
  slots.fill(0, 0, 3 * w * p);
  run.fill(0, 0, 3 * w);
  const gScale = scale * invN;
  let total = 0;
  for (let i = 0; i < ho; i++) {
    if (i > 0) slideColumnSums(a, d, off + (i + p - 1) * w, off + (i - 1) * w, w, cols);
    total += patchRowTerms(cols, w, p, invN, eps, ring, slots, 3 * w * (i % p), run);
    addRowGradient(a, d, off + i * w, w, run, gScale, g);
  }
  // pixel rows past the last patch row start: patch row i - p leaves the columns' window
  for (let i = ho; i < h; i++) {
    if (i >= p) subtractSlot(slots, 3 * w * ((i - p) % p), 3 * w, run);
    addRowGradient(a, d, off + i * w, w, run, gScale, g);
  }
  return scale * total;
}

/** `cols[5 j + q]` = the sum of quantity q (a, d, a², d², ad) of column j over the first `p` rows from `off`. */
function firstColumnSums(a: Float64Array, d: Float64Array, off: number, w: number, p: number, cols: Float64Array): void {
  cols.fill(0, 0, 5 * w);
  for (let r = 0; r < p; r++) {
    const row = off + r * w;
    for (let j = 0, o = 0; j < w; j++, o += 5) {
      const x = a[row + j];
      const y = d[row + j];
      cols[o] += x;
      cols[o + 1] += y;
      cols[o + 2] += x * x;
      cols[o + 3] += y * y;
      cols[o + 4] += x * y;
    }
  }
}

/** The column sums one row down: the row from `add` enters, the row from `sub` leaves. */
function slideColumnSums(a: Float64Array, d: Float64Array, add: number, sub: number, w: number, cols: Float64Array): void {
  for (let j = 0, o = 0; j < w; j++, o += 5) {
    const x = a[add + j];
    const y = d[add + j];
    const u = a[sub + j];
    const v = d[sub + j];
    cols[o] += x - u;
    cols[o + 1] += y - v;
    cols[o + 2] += x * x - u * u;
    cols[o + 3] += y * y - v * v;
    cols[o + 4] += x * y - u * v;
  }
}

/** The sum of the NCCs of the `wo` patches of a patch row (its column sums `cols`). */
function patchRowScores(cols: Float64Array, wo: number, p: number, invN: number, eps: number): number {
  let sa = 0;
  let sd = 0;
  let saa = 0;
  let sdd = 0;
  let sad = 0;
  for (let o = 0; o < 5 * p; o += 5) {
    sa += cols[o];
    sd += cols[o + 1];
    saa += cols[o + 2];
    sdd += cols[o + 3];
    sad += cols[o + 4];
  }
  let total = 0;
  for (let j = 0; j < wo; j++) {
    if (j > 0) {
      const o = 5 * (j + p - 1);
      const q = 5 * (j - 1);
      sa += cols[o] - cols[q];
      sd += cols[o + 1] - cols[q + 1];
      saa += cols[o + 2] - cols[q + 2];
      sdd += cols[o + 3] - cols[q + 3];
      sad += cols[o + 4] - cols[q + 4];
    }
    const ma = sa * invN;
    const md = sd * invN;
    const rawA = saa * invN - ma * ma;
    const rawD = sdd * invN - md * md;
    const denom = sqrt(((rawA > 0 ? rawA : 0) + eps) * ((rawD > 0 ? rawD : 0) + eps));
    if (denom > 0) total += (sad * invN - ma * md) / denom;
  }
  return total;
}

/**
 * As `patchRowScores`, and each patch's `(alpha, beta, gamma)` (as `windowTerms`) into the
 * sliding sums along the row (`ring`: the row's terms), stored in `slots` from `slot` (where
 * patch row i - p was, which leaves `run` as this row enters).
 */
function patchRowTerms(cols: Float64Array, w: number, p: number, invN: number, eps: number, ring: Float64Array, slots: Float64Array, slot: number, run: Float64Array): number {
  const wo = w - p + 1;
  let sa = 0;
  let sd = 0;
  let saa = 0;
  let sdd = 0;
  let sad = 0;
  for (let o = 0; o < 5 * p; o += 5) {
    sa += cols[o];
    sd += cols[o + 1];
    saa += cols[o + 2];
    sdd += cols[o + 3];
    sad += cols[o + 4];
  }
  let total = 0;
  let r0 = 0;
  let r1 = 0;
  let r2 = 0;
  for (let j = 0; j < w; j++) {
    const k = 3 * j;
    if (j < wo) {
      if (j > 0) {
        const o = 5 * (j + p - 1);
        const q = 5 * (j - 1);
        sa += cols[o] - cols[q];
        sd += cols[o + 1] - cols[q + 1];
        saa += cols[o + 2] - cols[q + 2];
        sdd += cols[o + 3] - cols[q + 3];
        sad += cols[o + 4] - cols[q + 4];
      }
      const ma = sa * invN;
      const md = sd * invN;
      const rawA = saa * invN - ma * ma;
      const rawD = sdd * invN - md * md;
      const ea = (rawA > 0 ? rawA : 0) + eps;
      const ed = (rawD > 0 ? rawD : 0) + eps;
      const denom = sqrt(ea * ed);
      let alpha = 0;
      let beta = 0;
      let gamma = 0;
      if (denom > 0) {
        alpha = 1 / denom;
        const ncc = (sad * invN - ma * md) * alpha;
        total += ncc;
        gamma = rawA > 0 ? (-0.5 * ncc) / ea : 0;
        beta = -md * alpha - 2 * ma * gamma;
      }
      ring[k] = alpha;
      ring[k + 1] = beta;
      ring[k + 2] = gamma;
      r0 += alpha;
      r1 += beta;
      r2 += gamma;
    }
    // the patch starting p columns back leaves pixel column j's window
    if (j >= p) {
      const q = k - 3 * p;
      r0 -= ring[q];
      r1 -= ring[q + 1];
      r2 -= ring[q + 2];
    }
    const s = slot + k;
    run[k] += r0 - slots[s];
    run[k + 1] += r1 - slots[s + 1];
    run[k + 2] += r2 - slots[s + 2];
    slots[s] = r0;
    slots[s + 1] = r1;
    slots[s + 2] = r2;
  }
  return total;
}

/** `run[k] -= slots[slot + k]` for `k < n`. */
function subtractSlot(slots: Float64Array, slot: number, n: number, run: Float64Array): void {
  for (let k = 0; k < n; k++) run[k] -= slots[slot + k];
}

/**
 * `g[o + j] += scale (A_j d + B_j + 2 G_j a)` for the `w` pixels of the row from `o`, with
 * `(A, B, G)` the sums of alpha, beta, gamma over the patches holding each (`run`, `[w, 3]`).
 */
function addRowGradient(a: Float64Array, d: Float64Array, o: number, w: number, run: Float64Array, scale: number, g: Float64Array): void {
  for (let j = 0, k = 0; j < w; j++, k += 3) g[o + j] += scale * (run[k] * d[o + j] + run[k + 1] + 2 * run[k + 2] * a[o + j]);
}

/**
 * The multiscale NCC of centred `h x w` slices `a`, `d` (from `off`): `sum_k patchWeights[k]
 * weight NCC_k`; with `g`, adds its gradient with respect to `a` (before the centring's).
 */
export function multiscaleSliceNcc(a: Float64Array, d: Float64Array, off: number, h: number, w: number, scales: NccScales, weight: number, g: Float64Array | null): number {
  let total = 0;
  for (let k = 0; k < scales.patchSizes.length; k++) {
    const p = scales.patchSizes[k];
    const wk = weight * scales.patchWeights[k];
    total += p === 0 ? globalNcc(a, d, off, h * w, scales.eps, wk, g) : patchNcc(a, d, off, h, w, p, scales.eps, wk, g);
  }
  return total;
}

/** The gradient through the centring: `g` minus its mean, over `n` values from `off` (in place). */
export function uncentreGradient(g: Float64Array, off: number, n: number): void {
  centreInPlace(g, off, n);
}

/**
 * `MultiscaleNcc` on images `[range.first, range.end)`: `out[b]`, and with `grad`,
 * `grad[b] = d out[b] / d x1[b]` (both float32 or float64 arrays of the whole batch).
 */
export function multiscaleNccImpl(x1: FloatArray, x2: FloatArray, shape: ImageShape, scales: NccScales, out: FloatArray, grad: FloatArray | null, range: ImageRange = { first: 0, end: shape[0] }): void {
  const [, c, h, w] = shape;
  const n = h * w;
  const a = workArray('nccA', n);
  const d = workArray('nccD', n);
  const g = grad === null ? null : workArray('nccG', n);
  for (let b = range.first; b < range.end; b++) {
    let total = 0;
    for (let ch = 0; ch < c; ch++) {
      const off = (b * c + ch) * n;
      centrePair(x1, x2, off, n, a, d);
      if (g !== null) g.fill(0, 0, n);
      total += multiscaleSliceNcc(a, d, 0, h, w, scales, 1 / c, g);
      if (grad !== null && g !== null) writeUncentred(g, n, grad, off);
    }
    out[b] = total;
  }
}

/** `a = x1 - mean(x1)`, `d = x2 - mean(x2)` over the `n` values from `off` (means in double precision). */
function centrePair(x1: FloatArray, x2: FloatArray, off: number, n: number, a: Float64Array, d: Float64Array): void {
  let s1 = 0;
  let s2 = 0;
  for (let k = 0; k < n; k++) {
    s1 += x1[off + k];
    s2 += x2[off + k];
  }
  const m1 = s1 / n;
  const m2 = s2 / n;
  for (let k = 0; k < n; k++) {
    a[k] = x1[off + k] - m1;
    d[k] = x2[off + k] - m2;
  }
}

/** `out[off + k] = g[k] - mean(g)` for `k < n`: the gradient through the centring, written out. */
function writeUncentred(g: Float64Array, n: number, out: FloatArray, off: number): void {
  let s = 0;
  for (let k = 0; k < n; k++) s += g[k];
  const mean = s / n;
  for (let k = 0; k < n; k++) out[off + k] = g[k] - mean;
}

/**
 * `dx[b] = dy[b] gradient[b]` for images `[range.first, range.end)` of `perImage` values each: the
 * backward of a forward that found its gradient (`ImageScaleGradient`), and how the gradient
 * kernels finish (so both give the same float32 values).
 */
export function imageScaleGradientImpl(gradient: FloatArray, dy: FloatArray, perImage: number, dx: FloatArray, range: ImageRange): void {
  for (let b = range.first; b < range.end; b++) {
    const s = dy[b];
    for (let k = b * perImage, end = (b + 1) * perImage; k < end; k++) dx[k] = s * gradient[k];
  }
}

/**
 * `MultiscaleNccGrad` on images `[range.first, range.end)`: `dx1[b] = dy[b] d score[b] / d x1[b]`,
 * the gradient rounded to float32 first, as `ImageScaleGradient` applies it to a forward's.
 */
export function multiscaleNccGradImpl(x1: FloatArray, x2: FloatArray, dy: FloatArray, shape: ImageShape, scales: NccScales, dx1: FloatArray, range: ImageRange = { first: 0, end: shape[0] }): void {
  const scores = workArray('nccScores', shape[0]);
  multiscaleNccImpl(x1, x2, shape, scales, scores, dx1, range);
  roundToFloat32(dx1, range, shape[1] * shape[2] * shape[3]);
  imageScaleGradientImpl(dx1, dy, shape[1] * shape[2] * shape[3], dx1, range);
}

/** Rounds the values of images `range` to float32 in place when `x` holds float64 (a float32 array already is). */
export function roundToFloat32(x: FloatArray, range: ImageRange, perImage: number): void {
  if (x instanceof Float32Array) return;
  for (let k = range.first * perImage; k < range.end * perImage; k++) x[k] = fround(x[k]);
}
