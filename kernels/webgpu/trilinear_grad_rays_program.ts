/**
 * WGSL program of the Trilinear ray gradient (`TfdrrTrilinearGradRays` on webgpu): one invocation
 * per ray samples it again and sums `F = sum_k w_k f(p_k)`, `A = sum_k w_k grad f(p_k)` and
 * `B = sum_k w_k u_k grad f(p_k)` (`u_k = k / (n - 1)`), then applies the formulas of the CPU's
 * `trilinearGradRaysImpl` (its header derives them):
 *
 *     dI/dt = step (lo A + (hi - lo) B)            dI/ds = step A - dI/dt
 *     dI/dlo = -F / (n - 1) + step (A - B) . d      dI/dhi = F / (n - 1) + step B . d
 *
 * With one channel and reduce 'sum' the samples are summed unweighted and the sums scaled by
 * `dy[r]`; with label channels each sample carries `dy[r, label_k]`; with reduce 'max' only each
 * channel's maximal sample counts (none when an implicit 0 wins), weighted by `dy[r, c]`.
 *
 * Output `[R, 8]`: per ray its source contribution (3), its target gradient (3) and its
 * contribution to `(dLo, dHi)` (2). The kernel function sums the source rows of the rays that share
 * a source (S < R) and the range rows of all rays with tfjs's own kernels.
 *
 * Inputs (in order): density, sources `[S, 3]`, targets `[R, 3]`, range `[2]`, labels,
 * dy `[R, channels]`.
 */
import type { SiddonReduce } from '../kernel_names.js';
import { RayProgram } from './ray_program.js';
import { TRILINEAR_UNIFORMS, trilinearSamplerWgsl } from './trilinear_sampler_wgsl.js';

/** Columns of the `[R, 8]` output: source contribution, target gradient, range contribution. */
export const GRAD_RAYS_COLUMNS = { source: 0, target: 3, range: 6, count: 8 } as const;

export class TrilinearGradRaysProgram extends RayProgram {
  readonly variableNames = ['density', 'sources', 'targets', 'alphaRange', 'labels', 'dy'];
  readonly uniforms = TRILINEAR_UNIFORMS;

  constructor(nRays: number, channels: number, reduce: SiddonReduce) {
    super('TrilinearGradRays', [nRays, GRAD_RAYS_COLUMNS.count], nRays, channels, reduce);
  }

  getUserCode(): string {
    let body: string;
    if (this.reduce === 'max') {
      body = `
  var value : array<f32, CHANNELS>;
  var best : array<i32, CHANNELS>;
  collectMax(&ray, started, &value, &best);
  for (var c = 0; c < CHANNELS; c++) {
    let w = dy[r * CHANNELS + c];
    if (best[c] >= 0 && w != 0.0) { addSample(&ray, best[c], w); }
  }`;
    } else if (this.channels === 1) {
      body = `
  g = dy[r];
  if (g != 0.0 && started) {
    for (var k = ray.kBegin; k < ray.kEnd; k++) {
      addSample(&ray, k, 1.0);
    }
  }`;
    } else {
      body = `
  if (started) {
    for (var k = ray.kBegin; k < ray.kEnd; k++) {
      let c = labelAt(&ray, k);
      if (c < 0) { continue; }
      let w = dy[r * CHANNELS + c];
      if (w != 0.0) { addSample(&ray, k, w); }
    }
  }`;
    }
    return `
${trilinearSamplerWgsl(this.channels)}

// The ray's sums F, A, B (see the file comment).
var<private> sumF : f32;
var<private> sumA : vec3<f32>;
var<private> sumB : vec3<f32>;

fn addSample(ray : ptr<function, Ray>, k : i32, w : f32) {
  let v = sampleAt(samplePosition(ray, k));
  let u = f32(k) / f32(uniforms.nPoints - 1);
  sumF += w * v.x;
  sumA += w * v.yzw;
  sumB += (w * u) * v.yzw;
}

fn main(index : i32) {
  ${this.mainPrologue()}
  let r = index;
  sumF = 0.0;
  sumA = vec3<f32>(0.0);
  sumB = vec3<f32>(0.0);
  var g = 1.0;     // the weight of sums not yet weighted by dy
  var ray : Ray;
  let started = rayStart(&ray, r);${body}
  let lo = ray.lo;
  let span = ray.hi - ray.lo;
  let gs = g * ray.step;
  let fScaled = g * sumF / f32(uniforms.nPoints - 1);
  let dTarget = gs * (lo * sumA + span * sumB);
  let dSource = gs * sumA - dTarget;
  let dLo = -fScaled + gs * dot(sumA - sumB, ray.d);
  let dHi = fScaled + gs * dot(sumB, ray.d);
  let o = ${GRAD_RAYS_COLUMNS.count} * r;
  for (var a = 0; a < 3; a++) {
    result[o + ${GRAD_RAYS_COLUMNS.source} + a] = dSource[a];
    result[o + ${GRAD_RAYS_COLUMNS.target} + a] = dTarget[a];
  }
  result[o + ${GRAD_RAYS_COLUMNS.range}] = dLo;
  result[o + ${GRAD_RAYS_COLUMNS.range} + 1] = dHi;
}
`;
  }
}
