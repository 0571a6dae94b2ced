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
import { RayProgram } from './ray_program.js';
import { TRILINEAR_UNIFORMS, trilinearSamplerWgsl } from './trilinear_sampler_wgsl.js';

export class TrilinearProgram extends RayProgram {
  readonly variableNames = ['density', 'sources', 'targets', 'alphaRange', 'labels'];
  readonly uniforms = TRILINEAR_UNIFORMS;

  constructor(nRays: number, channels: number, reduce: SiddonReduce) {
    super('Trilinear', [nRays, channels], nRays, channels, reduce);
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
  ${this.mainPrologue()}
  var ray : Ray;
  let started = rayStart(&ray, index);${body}
  for (var c = 0; c < CHANNELS; c++) {
    result[index * CHANNELS + c] = ray.step * acc[c];
  }
}
`;
  }
}
