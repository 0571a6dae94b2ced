/**
 * WGSL program of the Trilinear density gradient (`TfdrrTrilinearGradDensity` on webgpu): one
 * invocation per ray samples it again and adds `dy x step x` the trilinear weights of each sample
 * to the (up to) 8 voxels it reads (with label channels `dy[r, label_k]`; with reduce 'max' only
 * each channel's maximal sample), as the CPU's `trilinearGradDensityImpl`.
 *
 * Rays read the same voxels, so the adds are atomic: WGSL has no float atomics, and tfjs binds the
 * output of an `atomic` program as `array<atomic<i32>>`; each add is a compare-exchange loop on the
 * f32 bits (as tfjs's own scatter). As the CPU's `scatter`, the weights of consecutive samples in
 * one interior cell are summed in registers and added when the ray leaves the cell (far fewer
 * atomics). The output must arrive zeroed (`runRayProgram` passes a `Fill` output to
 * `runWebGPUProgram`, as tfjs's ScatterNd). The order of the adds varies between runs: the sums are
 * f32 and not bit-reproducible (the CPU kernel sums in double).
 *
 * Inputs (in order): density, sources `[S, 3]`, targets `[R, 3]`, range `[2]`, labels,
 * dy `[R, channels]`. Output: `[X, Y, Z]`; one invocation per ray.
 */
import type { SiddonReduce } from '../kernel_names.js';
import { RayProgram } from './ray_program.js';
import { TRILINEAR_UNIFORMS, trilinearSamplerWgsl } from './trilinear_sampler_wgsl.js';
import { ATOMIC_ADD_FLOAT_WGSL } from './webgpu_program_util.js';

export class TrilinearGradDensityProgram extends RayProgram {
  readonly variableNames = ['density', 'sources', 'targets', 'alphaRange', 'labels', 'dy'];
  readonly uniforms = TRILINEAR_UNIFORMS;
  readonly atomic = true;

  constructor(volumeShape: readonly number[], nRays: number, channels: number, reduce: SiddonReduce) {
    super('TrilinearGradDensity', [...volumeShape], nRays, channels, reduce);
  }

  getUserCode(): string {
    let body: string;
    if (this.reduce === 'max') {
      body = `
  var value : array<f32, CHANNELS>;
  var best : array<i32, CHANNELS>;
  collectMax(&ray, started, &value, &best);
  for (var c = 0; c < CHANNELS; c++) {
    let w = dy[r * CHANNELS + c] * ray.step;
    if (best[c] >= 0 && w != 0.0) { scatterSample(samplePosition(&ray, best[c]), w, false); }
  }`;
    } else if (this.channels === 1) {
      body = `
  let w = dy[r] * ray.step;
  if (w != 0.0 && started) {
    for (var k = ray.kBegin; k < ray.kEnd; k++) {
      scatterSample(samplePosition(&ray, k), w, true);
    }
    flushPending();
  }`;
    } else {
      body = `
  if (started) {
    for (var k = ray.kBegin; k < ray.kEnd; k++) {
      let c = labelAt(&ray, k);
      if (c < 0) { continue; }
      let w = dy[r * CHANNELS + c] * ray.step;
      if (w != 0.0) { scatterSample(samplePosition(&ray, k), w, true); }
    }
    flushPending();
  }`;
    }
    return `
${trilinearSamplerWgsl(this.channels)}
${ATOMIC_ADD_FLOAT_WGSL}
// The interior cell whose weight sums are pending (flat lower corner, -1: none), in c0 / c1 order.
var<private> pendingCell : i32 = -1;
var<private> pending0 : vec4<f32>;
var<private> pending1 : vec4<f32>;

fn flushPending() {
  let cell = pendingCell;
  if (cell < 0) { return; }
  let n = uniforms.densityShape;
  let sx = n.y * n.z;
  let sy = n.z;
  atomicAddFloat(cell, pending0.x);
  atomicAddFloat(cell + 1, pending0.y);
  atomicAddFloat(cell + sy, pending0.z);
  atomicAddFloat(cell + sy + 1, pending0.w);
  atomicAddFloat(cell + sx, pending1.x);
  atomicAddFloat(cell + sx + 1, pending1.y);
  atomicAddFloat(cell + sx + sy, pending1.z);
  atomicAddFloat(cell + sx + sy + 1, pending1.w);
  pendingCell = -1;
  pending0 = vec4<f32>(0.0);
  pending1 = vec4<f32>(0.0);
}

fn addIf(i : i32, v : f32, inside : bool) {
  if (inside) { atomicAddFloat(i, v); }
}

// Adds w x the trilinear weights of the sample at q to its corners inside the volume (nothing
// outside [-1, N)); with \`pend\`, the weights of an interior cell wait in the pending sums.
fn scatterSample(q : vec3<f32>, w : f32, pend : bool) {
  if (!insideBox(q)) { return; }
  let cw = sampleWeights(q);
  let n = uniforms.densityShape;
  let sx = n.y * n.z;
  let sy = n.z;
  let i0 = cw.cell;
  let base = i0.x * sx + i0.y * sy + i0.z;
  let lower = i0 >= vec3<i32>(0);
  let upper = i0 < n - vec3<i32>(1);
  let w0 = w * cw.w0;
  let w1 = w * cw.w1;
  if (pend && all(lower) && all(upper)) {
    if (base != pendingCell) {
      flushPending();
      pendingCell = base;
    }
    pending0 += w0;
    pending1 += w1;
    return;
  }
  addIf(base, w0.x, lower.x && lower.y && lower.z);
  addIf(base + 1, w0.y, lower.x && lower.y && upper.z);
  addIf(base + sy, w0.z, lower.x && upper.y && lower.z);
  addIf(base + sy + 1, w0.w, lower.x && upper.y && upper.z);
  addIf(base + sx, w1.x, upper.x && lower.y && lower.z);
  addIf(base + sx + 1, w1.y, upper.x && lower.y && upper.z);
  addIf(base + sx + sy, w1.z, upper.x && upper.y && lower.z);
  addIf(base + sx + sy + 1, w1.w, upper.x && upper.y && upper.z);
}

fn main(index : i32) {
  ${this.mainPrologue()}
  let r = index;
  var ray : Ray;
  let started = rayStart(&ray, r);${body}
}
`;
  }
}
