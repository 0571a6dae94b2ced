/**
 * One ray's Trilinear value differentiated with respect to its endpoints and the range, from its
 * sample sums: the formulas of `trilinear_grad_impl.ts`'s file comment, shared by the backward
 * pass (`TrilinearGradRays`) and by the forward that finds the ray gradients while a tape records
 * (`TrilinearAttrs.rayGradients`).
 */

/** Where `TrilinearSampler.integrate` writes its per-ray sums (indices into a `Float64Array(7)`). */
export const RaySum = {
  /** `F = sum_k f(p_k)`. */
  Value: 0,
  /** `A = sum_k grad f(p_k)` (3 entries, x y z), with the gradient only. */
  Gradient: 1,
  /** `B = sum_k u_k grad f(p_k)`, `u_k = k / (n - 1)` (3 entries), with the gradient only. */
  WeightedGradient: 4,
} as const;

/** Entries of a ray gradient row: d value / d source (3), / d target (3), / d lo, / d hi. */
export const RAY_GRADIENT_WIDTH = 8;

/** What the per-ray formulas need of a call: the range and the number of samples. */
export interface RayGradientSampling {
  lo: number;
  hi: number;
  nPoints: number;
}

/**
 * Writes `g x` the gradient of the ray's value `step * F` (sums `sums`, `RaySum` layout; direction
 * `d = target - source`) into `out[o .. o + 8)`: d / d source (3), d / d target (3), d / d lo,
 * d / d hi.
 */
export function rayGradientOf(sums: Float64Array, sampling: RayGradientSampling, g: number, dx: number, dy: number, dz: number, out: Float32Array | Float64Array, o: number): void {
  const { lo, hi, nPoints } = sampling;
  const invN1 = 1 / (nPoints - 1);
  // the sampler's alphaStep, to the bit
  const gs = g * ((hi - lo) / (nPoints - 1));
  const f = sums[RaySum.Value];
  const ax = sums[RaySum.Gradient];
  const ay = sums[RaySum.Gradient + 1];
  const az = sums[RaySum.Gradient + 2];
  const bx = sums[RaySum.WeightedGradient];
  const by = sums[RaySum.WeightedGradient + 1];
  const bz = sums[RaySum.WeightedGradient + 2];
  const tx = gs * (lo * ax + (hi - lo) * bx);
  const ty = gs * (lo * ay + (hi - lo) * by);
  const tz = gs * (lo * az + (hi - lo) * bz);
  out[o] = gs * ax - tx;
  out[o + 1] = gs * ay - ty;
  out[o + 2] = gs * az - tz;
  out[o + 3] = tx;
  out[o + 4] = ty;
  out[o + 5] = tz;
  out[o + 6] = -g * f * invN1 + gs * ((ax - bx) * dx + (ay - by) * dy + (az - bz) * dz);
  out[o + 7] = g * f * invN1 + gs * (bx * dx + by * dy + bz * dz);
}
