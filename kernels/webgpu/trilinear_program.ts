/**
 * WGSL program of the Trilinear forward (`TfdrrTrilinear` on webgpu): one invocation per ray
 * samples it (`trilinear_sampler_wgsl.ts`) and writes its `[channels]` row of the `[R, channels]`
 * output: `step x` the sum, or with reduce 'max' the largest, of the samples of each channel (the
 * CPU's `trilinearForwardImpl`). Sums are taken in f32 (the CPU kernel sums in double): a relative
 * difference of about 1e-6.
 *
 * Inputs (in order): density `[X, Y, Z]`, sources `[S, 3]`, targets `[R, 3]`, range `[2]`, labels
 * `[X, Y, Z]` (or any placeholder with one channel). One invocation per ray, not per output
 * element, so the bounds check is on R (`uniforms.targetsShape.x`), not on tfjs's `uniforms.size`.
 */
import type { SiddonReduce } from '../kernel_names.js';
import { TRILINEAR_UNIFORMS, trilinearSamplerWgsl } from './trilinear_sampler_wgsl.js';
import { WORKGROUP_SIZE, computeFlatDispatch, flatDispatchLayout, type WebGPUProgramLike } from './webgpu_program_util.js';

export class TrilinearProgram implements WebGPUProgramLike {
  readonly variableNames = ['density', 'sources', 'targets', 'alphaRange', 'labels'];
  readonly outputShape: number[];
  shaderKey: string;
  readonly dispatchLayout = flatDispatchLayout();
  readonly dispatch: [number, number, number];
  readonly workgroupSize = WORKGROUP_SIZE;
  readonly uniforms = TRILINEAR_UNIFORMS;
  private readonly channels: number;
  private readonly reduce: SiddonReduce;

  constructor(nRays: number, channels: number, reduce: SiddonReduce) {
    this.outputShape = [nRays, channels];
    this.dispatch = computeFlatDispatch(nRays, this.workgroupSize);
    this.channels = channels;
    this.reduce = reduce;
    this.shaderKey = `tfdrrTrilinear_${reduce}_${channels}`;
  }

  getUserCode(): string {
    let body: string;
    if (this.reduce === 'max') {
      body = `
  var acc : array<f32, CHANNELS>;
  var best : array<i32, CHANNELS>;
  collectMax(&ray, started, &acc, &best);`;
    } else if (this.channels === 1) {
      body = `
  var acc : array<f32, 1>;
  if (started) {
    for (var k = ray.kBegin; k < ray.kEnd; k++) {
      acc[0] += sampleAt(samplePosition(&ray, k)).x;
    }
  }`;
    } else {
      body = `
  var acc : array<f32, CHANNELS>;
  if (started) {
    for (var k = ray.kBegin; k < ray.kEnd; k++) {
      let v = sampleAt(samplePosition(&ray, k)).x;
      let c = labelAt(&ray, k);
      if (c >= 0) { acc[c] += v; }
    }
  }`;
    }
    return `
${trilinearSamplerWgsl(this.channels)}

fn main(index : i32) {
  _ = labels[0];   // bindings must be used: one channel reads no labels
  if (index >= uniforms.targetsShape.x) { return; }
  var ray : Ray;
  let started = rayStart(&ray, index);${body}
  for (var c = 0; c < CHANNELS; c++) {
    result[index * CHANNELS + c] = ray.step * acc[c];
  }
}
`;
  }
}
