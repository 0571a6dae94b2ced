/**
 * WGSL program of the Siddon ray gradient (`TfdrrSiddonGradRays` on webgpu): one invocation per ray
 * walks the ray again and sums, per axis, `dL/d alpha x d alpha / d endpoint` over the faces it
 * crosses (the CPU's `siddonGradRaysImpl`; its header has the formulas): with reduce 'sum' every
 * face, the volume's entry and exit faces included, with the jump of the dy-weighted density
 * there; with 'max' the two faces bounding each channel's maximal segment.
 *
 * Output `[2, R, 3]`: row `[0, r]` is ray r's contribution to the gradient of its source, row
 * `[1, r]` the gradient of its target. The kernel function sums the source rows of the rays that
 * share a source (S < R) with tfjs's own kernels.
 *
 * Inputs (in order): density, sources `[S, 3]`, targets `[R, 3]`, labels, dy `[R, channels]`.
 */
import type { SiddonReduce } from '../kernel_names.js';
import { RayProgram } from './ray_program.js';
import { MAX_SEGMENTS_WGSL, SIDDON_UNIFORMS, siddonWalkerWgsl } from './siddon_walker_wgsl.js';

export class SiddonGradRaysProgram extends RayProgram {
  readonly variableNames = ['density', 'sources', 'targets', 'labels', 'dy'];
  readonly uniforms = SIDDON_UNIFORMS;

  constructor(nRays: number, channels: number, reduce: SiddonReduce) {
    super('SiddonGradRays', [2, nRays, 3], nRays, channels, reduce);
  }

  getUserCode(): string {
    const walk =
      this.reduce === 'max'
        ? `
    var best : array<MaxSegment, CHANNELS>;
    collectMaxSegments(&w, &best);
    for (var c = 0; c < CHANNELS; c++) {
      if (!(best[c].value > 0.0)) { continue; }
      let g = dy[r * CHANNELS + c] * best[c].rho;
      crossFace(best[c].endAxis, best[c].endAlpha, g);
      crossFace(best[c].startAxis, best[c].startAlpha, -g);
    }`
        : `
    var wgt = weight(r, w.voxel);
    crossFace(w.entryAxis, w.amin, -wgt);
    loop {
      let axis = w.crossAxis;
      let alpha = w.alpha1;
      if (!walkerAdvance(&w)) { break; }
      let next = weight(r, w.voxel);
      crossFace(axis, alpha, wgt - next);
      wgt = next;
    }
    crossFace(w.exitAxis, w.amax, wgt);`;
    return `
${siddonWalkerWgsl(this.channels)}
${this.reduce === 'max' ? MAX_SEGMENTS_WGSL : ''}

var<private> gs : vec3<f32>;
var<private> gt : vec3<f32>;

// The face of axis \`axis\` crossed at \`alpha\`, where dL/d alpha = \`jump\` (axis -1: a fixed end).
// The division by d[axis] is left to the end of the ray.
fn crossFace(axis : i32, alpha : f32, jump : f32) {
  if (axis < 0) { return; }
  gs[axis] += jump * (alpha - 1.0);
  gt[axis] -= jump * alpha;
}

// The dy-weighted density of a voxel for ray r (0 for a label outside [0, channels)).
fn weight(r : i32, voxel : i32) -> f32 {
  let c = channelOf(voxel);
  if (c < 0) { return 0.0; }
  return dy[r * CHANNELS + c] * density[voxel];
}

fn main(index : i32) {
  ${this.mainPrologue()}
  let nRays = uniforms.targetsShape.x;
  let r = index;
  gs = vec3<f32>(0.0);
  gt = vec3<f32>(0.0);
  var w : Walker;
  if (walkerStart(&w, raySource(r), rayTarget(r))) {${walk}
  }
  // d alpha / d s_a = (alpha - 1) / d_a, d alpha / d t_a = -alpha / d_a; an axis with d_a = 0 has
  // no crossing, so its sums are 0
  let d = select(w.d, vec3<f32>(1.0), w.d == vec3<f32>(0.0));
  let dSource = select(gs / d, vec3<f32>(0.0), gs == vec3<f32>(0.0));
  let dTarget = select(gt / d, vec3<f32>(0.0), gt == vec3<f32>(0.0));
  for (var a = 0; a < 3; a++) {
    result[3 * r + a] = dSource[a];
    result[3 * (nRays + r) + a] = dTarget[a];
  }
}
`;
  }
}
