/**
 * The incremental Siddon traversal in WGSL, shared by the three Siddon programs: the same walk as
 * `kernels/shared/siddon_walker.ts` (read its header for the geometry), in f32, one ray per
 * invocation.
 *
 * Same as the CPU walker: the slab clipping of [alphaMin, alphaMax] axis by axis (strict
 * comparisons, so ties keep the earlier axis), the entry/exit axes, the clamped entry voxel
 * `floor(u + amin d)`, the choice of the next face (x before y before z on ties), segments never
 * running backwards (`alpha1 = max(next, alpha0)`), and the last segment ending at `amax`.
 * One difference, for f32: the alpha of the next face on an axis is computed directly,
 * `(plane - u_a) / d_a`, where the CPU adds `1 / |d_a|` per step (exact enough in double,
 * an error growing with the step count in f32).
 *
 * The programs that include it bind `density` and `labels` and declare the uniforms of
 * `SIDDON_UNIFORMS` (tfjs generates `uniforms.densityShape`). Infinite alpha bounds arrive clamped
 * to +-f32 max (`siddonUniformData`); a range still beyond +-3e38 after clipping (a zero-length ray)
 * misses, as the CPU's infinite one.
 */
import type { SiddonAttrs } from '../kernel_names.js';
import type { ProgramUniformEntry } from './webgpu_program_util.js';

/** The uniforms of the Siddon programs (WGSL fields of tfjs's generated `Uniforms` struct). */
export const SIDDON_UNIFORMS = 'voxelShift : f32, alphaMin : f32, alphaMax : f32,';

const F32_MAX = 3.4028234663852886e38;

/** The values of `SIDDON_UNIFORMS` for a call. */
export function siddonUniformData(attrs: SiddonAttrs): ProgramUniformEntry[] {
  const clamp = (a: number) => Math.min(F32_MAX, Math.max(-F32_MAX, a));
  return [
    { type: 'float32', data: [attrs.voxelShift] },
    { type: 'float32', data: [clamp(attrs.alphaMin)] },
    { type: 'float32', data: [clamp(attrs.alphaMax)] },
  ];
}

/**
 * WGSL: `struct Walker`, `walkerStart(&w, source, target) -> bool`, `walkerAdvance(&w) -> bool`,
 * and `channelOf(voxel) -> i32` (the voxel's label, or -1 for a label that is not an integer in
 * [0, channels): such segments are skipped, where the CPU kernel throws; with one channel, 0
 * without reading the labels).
 */
export function siddonWalkerWgsl(channels: number): string {
  return `
const BIG_ALPHA : f32 = 3.0e38;
const CHANNELS : i32 = ${channels};

struct Walker {
  u : vec3<f32>,          // source + voxelShift
  d : vec3<f32>,          // target - source
  amin : f32,             // where the ray enters / leaves the volume
  amax : f32,
  entryAxis : i32,        // axis of the face entered / left through, -1 at an alpha bound
  exitAxis : i32,
  voxel : i32,            // the current segment: flat voxel index, alpha interval
  alpha0 : f32,
  alpha1 : f32,
  crossAxis : i32,        // axis of the face crossed at alpha1, -1 on the last segment
  cell : vec3<i32>,
  nextAlpha : vec3<f32>,  // alpha of the next face ahead on each axis
  stepDir : vec3<i32>,
}

fn channelOf(voxel : i32) -> i32 {
  if (CHANNELS == 1) { return 0; }
  let label = labels[voxel];
  if (label >= 0.0 && label < f32(CHANNELS) && floor(label) == label) { return i32(label); }
  return -1;
}

fn faceAlpha(w : ptr<function, Walker>, a : i32) -> f32 {
  let d = (*w).d[a];
  if (d == 0.0) { return BIG_ALPHA; }
  let plane = f32((*w).cell[a] + select(0, 1, d > 0.0));
  return (plane - (*w).u[a]) / d;
}

fn walkerEndSegment(w : ptr<function, Walker>) {
  let na = (*w).nextAlpha;
  var next = na.z;
  var axis = 2;
  if (na.x <= na.y && na.x <= na.z) {
    next = na.x;
    axis = 0;
  } else if (na.y <= na.z) {
    next = na.y;
    axis = 1;
  }
  if (next >= (*w).amax) {
    (*w).alpha1 = (*w).amax;
    (*w).crossAxis = -1;
  } else {
    (*w).alpha1 = select((*w).alpha0, next, next > (*w).alpha0);
    (*w).crossAxis = axis;
  }
}

fn walkerStart(w : ptr<function, Walker>, s : vec3<f32>, t : vec3<f32>) -> bool {
  let n = uniforms.densityShape;
  let u = s + vec3<f32>(uniforms.voxelShift);
  let d = t - s;
  (*w).u = u;
  (*w).d = d;
  var amin = uniforms.alphaMin;
  var amax = uniforms.alphaMax;
  var entryAxis = -1;
  var exitAxis = -1;
  for (var a = 0; a < 3; a++) {
    let na = f32(n[a]);
    if (d[a] != 0.0) {
      let a0 = -u[a] / d[a];
      let a1 = (na - u[a]) / d[a];
      let lo = select(a1, a0, a0 < a1);
      let hi = select(a0, a1, a0 < a1);
      if (lo > amin) { amin = lo; entryAxis = a; }
      if (hi < amax) { amax = hi; exitAxis = a; }
    } else if (!(u[a] >= 0.0 && u[a] < na)) {
      return false;
    }
  }
  if (!(amin < amax) || amin <= -BIG_ALPHA || amax >= BIG_ALPHA) { return false; }
  (*w).amin = amin;
  (*w).amax = amax;
  (*w).entryAxis = entryAxis;
  (*w).exitAxis = exitAxis;
  let cell = vec3<i32>(clamp(floor(u + amin * d), vec3<f32>(0.0), vec3<f32>(n - vec3<i32>(1))));
  (*w).cell = cell;
  (*w).voxel = (cell.x * n.y + cell.y) * n.z + cell.z;
  (*w).stepDir = select(vec3<i32>(-1), vec3<i32>(1), d > vec3<f32>(0.0));
  (*w).nextAlpha = vec3<f32>(faceAlpha(w, 0), faceAlpha(w, 1), faceAlpha(w, 2));
  (*w).alpha0 = amin;
  walkerEndSegment(w);
  return true;
}

fn walkerAdvance(w : ptr<function, Walker>) -> bool {
  let a = (*w).crossAxis;
  if (a < 0) { return false; }
  (*w).alpha0 = (*w).alpha1;
  let n = uniforms.densityShape;
  let c = (*w).cell[a] + (*w).stepDir[a];
  if (c < 0 || c >= n[a]) { return false; }
  (*w).cell[a] = c;
  let strides = vec3<i32>(n.y * n.z, n.z, 1);
  (*w).voxel += (*w).stepDir[a] * strides[a];
  (*w).nextAlpha[a] = faceAlpha(w, a);
  walkerEndSegment(w);
  return true;
}

fn raySource(r : i32) -> vec3<f32> {
  let s = 3 * (r / (uniforms.targetsShape.x / uniforms.sourcesShape.x));
  return vec3<f32>(sources[s], sources[s + 1], sources[s + 2]);
}

fn rayTarget(r : i32) -> vec3<f32> {
  return vec3<f32>(targets[3 * r], targets[3 * r + 1], targets[3 * r + 2]);
}
`;
}

/**
 * WGSL (after `siddonWalkerWgsl`): per channel, the first segment of largest `density x length`
 * of a started ray, with the faces that bound it (the CPU's `MaxSegments.collect`), for the
 * gradients of reduce 'max'.
 */
export const MAX_SEGMENTS_WGSL = `
struct MaxSegment {
  value : f32,
  rho : f32,
  length : f32,
  voxel : i32,
  startAxis : i32,
  startAlpha : f32,
  endAxis : i32,
  endAlpha : f32,
}

fn collectMaxSegments(w : ptr<function, Walker>, best : ptr<function, array<MaxSegment, CHANNELS>>) {
  var startAxis = (*w).entryAxis;
  var startAlpha = (*w).amin;
  loop {
    let rho = density[(*w).voxel];
    let length = (*w).alpha1 - (*w).alpha0;
    let c = channelOf((*w).voxel);
    if (c >= 0 && rho * length > (*best)[c].value) {
      let last = (*w).crossAxis < 0;
      (*best)[c].value = rho * length;
      (*best)[c].rho = rho;
      (*best)[c].length = length;
      (*best)[c].voxel = (*w).voxel;
      (*best)[c].startAxis = startAxis;
      (*best)[c].startAlpha = startAlpha;
      (*best)[c].endAxis = select((*w).crossAxis, (*w).exitAxis, last);
      (*best)[c].endAlpha = select((*w).alpha1, (*w).amax, last);
    }
    startAxis = (*w).crossAxis;
    startAlpha = (*w).alpha1;
    if (!walkerAdvance(w)) { break; }
  }
}
`;
