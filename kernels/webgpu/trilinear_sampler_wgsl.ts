/**
 * Trilinear sampling of one ray in WGSL, shared by the three Trilinear programs: the same samples,
 * interpolation and labels as the CPU's `TrilinearSampler` (`kernels/shared/trilinear_impl.ts`,
 * whose header has the geometry), in f32, one ray per invocation.
 *
 * - The range `(lo, hi)` is read from the `alphaRange` input (a tensor, possibly made on the GPU:
 *   no synchronous read), `step = (hi - lo) / (nPoints - 1)`. A non-finite range gives NaN pixels
 *   where the CPU kernel throws.
 * - Sample k sits at `q_k = o + k e` (one fma per axis), `o = s + voxelShift - 0.5 + lo d`,
 *   `e = step d`, `d = t - s`, and reads the interpolation of the cell `floor(q)`, corners outside
 *   `[0, N - 1]` reading 0 and samples outside `[-1, N)` reading 0 (grid_sample's zero padding),
 *   with its gradient one-sided on cell faces. The corners of the last interior cell are kept in
 *   registers while consecutive samples stay in it (as the CPU's `integrate`).
 * - The samples `[kBegin, kEnd)` that may touch the volume are found by clipping per axis in f32,
 *   widened by two samples (the CPU widens its double-precision clip by one); each sample is still
 *   checked.
 * - Labels (more than one channel): the nearest voxel `floor(s + alpha_k d + voxelShift)`, computed
 *   operation by operation in f32 as the CPU's `labelAt`; label 0 outside the volume; a label that
 *   is not an integer in [0, channels) drops the sample (-1), where the CPU kernel throws.
 * - Reduce 'max' (`collectMax`): per channel the first sample of largest value, and 0 with no
 *   sample (no gradient) when a sample of another label, or one outside the clipped samples, makes
 *   an implicit 0 win (the CPU's `SampleChannels.collect`).
 *
 * The programs that include it bind `density`, `sources`, `targets`, `alphaRange` and `labels`,
 * and declare the uniforms of `TRILINEAR_UNIFORMS` (tfjs generates `uniforms.densityShape`).
 */
import type { TrilinearAttrs } from '../kernel_names.js';
import type { ProgramUniformEntry } from './webgpu_program_util.js';

/** The uniforms of the Trilinear programs (WGSL fields of tfjs's generated `Uniforms` struct). */
export const TRILINEAR_UNIFORMS = 'voxelShift : f32, nPoints : i32,';

/** The values of `TRILINEAR_UNIFORMS` for a call. */
export function trilinearUniformData(attrs: TrilinearAttrs): ProgramUniformEntry[] {
  return [
    { type: 'float32', data: [attrs.voxelShift] },
    { type: 'int32', data: [attrs.nPoints] },
  ];
}

/**
 * WGSL: `struct Ray`, `rayStart(&ray, r) -> bool`, `samplePosition(&ray, k)`,
 * `sampleAt(q) -> vec4(f, df/dx, df/dy, df/dz)`, `sampleWeights(q)` (the 8 corner weights),
 * `labelAt(&ray, k) -> i32`, and `collectMax(&ray, started, &value, &best)`.
 */
export function trilinearSamplerWgsl(channels: number): string {
  return `
const CHANNELS : i32 = ${channels};

struct Ray {
  s : vec3<f32>,    // source
  d : vec3<f32>,    // target - source
  o : vec3<f32>,    // q at sample 0: s + voxelShift - 0.5 + lo d
  e : vec3<f32>,    // q's increment per sample: step d
  lo : f32,
  hi : f32,
  step : f32,
  kBegin : i32,     // samples [kBegin, kEnd) may touch the volume
  kEnd : i32,
}

fn raySource(r : i32) -> vec3<f32> {
  let s = 3 * (r / (uniforms.targetsShape.x / uniforms.sourcesShape.x));
  return vec3<f32>(sources[s], sources[s + 1], sources[s + 2]);
}

fn rayTarget(r : i32) -> vec3<f32> {
  return vec3<f32>(targets[3 * r], targets[3 * r + 1], targets[3 * r + 2]);
}

// Narrows [kBegin, kEnd) to the samples with o + k e in [-1, n) on one axis (widened by two samples).
fn clipAxis(ray : ptr<function, Ray>, o : f32, e : f32, n : f32) {
  if (e == 0.0) {
    if (!(o >= -1.0 && o < n)) { (*ray).kEnd = 0; }
    return;
  }
  let a = (-1.0 - o) / e;
  let b = (n - o) / e;
  let first = ceil(select(b, a, a < b)) - 2.0;
  let last = floor(select(a, b, a < b)) + 2.0;
  if (!(first <= last)) { (*ray).kEnd = 0; return; }   // NaN
  let np = f32(uniforms.nPoints);
  (*ray).kBegin = max((*ray).kBegin, i32(clamp(first, 0.0, np)));
  (*ray).kEnd = min((*ray).kEnd, i32(clamp(last + 1.0, 0.0, np)));
}

// Sets up ray r; false if no sample can touch the volume.
fn rayStart(ray : ptr<function, Ray>, r : i32) -> bool {
  let lo = alphaRange[0];
  let hi = alphaRange[1];
  let s = raySource(r);
  let d = rayTarget(r) - s;
  let step = (hi - lo) / f32(uniforms.nPoints - 1);
  let o = s + vec3<f32>(uniforms.voxelShift - 0.5) + lo * d;
  let e = step * d;
  (*ray).s = s;
  (*ray).d = d;
  (*ray).o = o;
  (*ray).e = e;
  (*ray).lo = lo;
  (*ray).hi = hi;
  (*ray).step = step;
  (*ray).kBegin = 0;
  (*ray).kEnd = uniforms.nPoints;
  let n = vec3<f32>(uniforms.densityShape);
  for (var a = 0; a < 3; a++) {
    clipAxis(ray, o[a], e[a], n[a]);
  }
  return (*ray).kBegin < (*ray).kEnd;
}

fn samplePosition(ray : ptr<function, Ray>, k : i32) -> vec3<f32> {
  return fma(vec3<f32>(f32(k)), (*ray).e, (*ray).o);
}

fn insideBox(q : vec3<f32>) -> bool {
  return all(q >= vec3<f32>(-1.0)) && all(q < vec3<f32>(uniforms.densityShape));
}

// The corners of the cell read last: c0 = (c000, c001, c010, c011), c1 = (c100, c101, c110, c111)
// (index bits x y z); cornerCell: its flat lower corner if interior (then cached), else -1.
var<private> cornerCell : i32 = -1;
var<private> c0 : vec4<f32>;
var<private> c1 : vec4<f32>;

fn voxelOr0(i : i32, inside : bool) -> f32 {
  if (inside) { return density[i]; }
  return 0.0;
}

fn loadCorners(i0 : vec3<i32>) {
  let n = uniforms.densityShape;
  let sx = n.y * n.z;
  let sy = n.z;
  let base = i0.x * sx + i0.y * sy + i0.z;
  let lower = i0 >= vec3<i32>(0);             // per axis: the lower corner lies inside
  let upper = i0 < n - vec3<i32>(1);          // the upper corner
  if (all(lower) && all(upper)) {
    if (base == cornerCell) { return; }
    cornerCell = base;
    c0 = vec4<f32>(density[base], density[base + 1], density[base + sy], density[base + sy + 1]);
    c1 = vec4<f32>(density[base + sx], density[base + sx + 1], density[base + sx + sy], density[base + sx + sy + 1]);
    return;
  }
  cornerCell = -1;
  c0 = vec4<f32>(
    voxelOr0(base, lower.x && lower.y && lower.z),
    voxelOr0(base + 1, lower.x && lower.y && upper.z),
    voxelOr0(base + sy, lower.x && upper.y && lower.z),
    voxelOr0(base + sy + 1, lower.x && upper.y && upper.z));
  c1 = vec4<f32>(
    voxelOr0(base + sx, upper.x && lower.y && lower.z),
    voxelOr0(base + sx + 1, upper.x && lower.y && upper.z),
    voxelOr0(base + sx + sy, upper.x && upper.y && lower.z),
    voxelOr0(base + sx + sy + 1, upper.x && upper.y && upper.z));
}

// (f, df/dx, df/dy, df/dz) at q (the CPU's arithmetic); 0 outside [-1, N) (NaN too).
fn sampleAt(q : vec3<f32>) -> vec4<f32> {
  if (!insideBox(q)) { return vec4<f32>(0.0); }
  let i0 = floor(q);
  loadCorners(vec3<i32>(i0));
  let f = q - i0;
  // (dz00, dz01, dz10, dz11) and (c00, c01, c10, c11)
  let dz = vec4<f32>(c0.y - c0.x, c0.w - c0.z, c1.y - c1.x, c1.w - c1.z);
  let cz = vec4<f32>(c0.x, c0.z, c1.x, c1.z) + f.z * dz;
  let y0 = cz.x + f.y * (cz.y - cz.x);
  let y1 = cz.z + f.y * (cz.w - cz.z);
  let gx = y1 - y0;
  let gy = cz.y - cz.x + f.x * (cz.w - cz.z - (cz.y - cz.x));
  let gz0 = dz.x + f.y * (dz.y - dz.x);
  let gz = gz0 + f.x * (dz.z + f.y * (dz.w - dz.z) - gz0);
  return vec4<f32>(y0 + f.x * gx, gx, gy, gz);
}

// The trilinear weights of the 8 corners of the cell floor(q) (c0 / c1 order), for q inside [-1, N).
struct CornerWeights {
  cell : vec3<i32>,
  w0 : vec4<f32>,
  w1 : vec4<f32>,
}

fn sampleWeights(q : vec3<f32>) -> CornerWeights {
  let i0 = floor(q);
  let f = q - i0;
  let wx0 = 1.0 - f.x;
  let w00 = wx0 * (1.0 - f.y);
  let w01 = wx0 * f.y;
  let w10 = f.x * (1.0 - f.y);
  let w11 = f.x * f.y;
  let z = vec4<f32>(1.0 - f.z, f.z, 1.0 - f.z, f.z);
  return CornerWeights(vec3<i32>(i0), vec4<f32>(w00, w00, w01, w01) * z, vec4<f32>(w10, w10, w11, w11) * z);
}

// The channel of sample k: its nearest voxel's label (0 outside; -1 for an invalid label).
fn labelAt(ray : ptr<function, Ray>, k : i32) -> i32 {
  if (CHANNELS == 1) { return 0; }
  let alpha = (*ray).lo + ((*ray).hi - (*ray).lo) * (f32(k) / f32(uniforms.nPoints - 1));
  let p = floor((*ray).s + alpha * (*ray).d + vec3<f32>(uniforms.voxelShift));
  let n = uniforms.densityShape;
  if (!(all(p >= vec3<f32>(0.0)) && all(p < vec3<f32>(n)))) { return 0; }
  let i = vec3<i32>(p);
  let label = labels[(i.x * n.y + i.y) * n.z + i.z];
  if (label >= 0.0 && label < f32(CHANNELS) && floor(label) == label) { return i32(label); }
  return -1;
}

// Reduce 'max': per channel the largest sample value and the first sample attaining it; value 0
// and sample -1 when an implicit 0 (a sample of another label or outside) wins.
fn collectMax(ray : ptr<function, Ray>, started : bool, value : ptr<function, array<f32, CHANNELS>>, best : ptr<function, array<i32, CHANNELS>>) {
  var count : array<i32, CHANNELS>;
  for (var c = 0; c < CHANNELS; c++) {
    (*value)[c] = -3.0e38;
    (*best)[c] = -1;
  }
  if (started) {
    for (var k = (*ray).kBegin; k < (*ray).kEnd; k++) {
      let v = sampleAt(samplePosition(ray, k)).x;
      let c = labelAt(ray, k);
      if (c < 0) { continue; }
      count[c]++;
      if (v > (*value)[c]) {
        (*value)[c] = v;
        (*best)[c] = k;
      }
    }
  }
  for (var c = 0; c < CHANNELS; c++) {
    if (count[c] < uniforms.nPoints && !((*value)[c] > 0.0)) {
      (*value)[c] = 0.0;
      (*best)[c] = -1;
    }
  }
}
`;
}
