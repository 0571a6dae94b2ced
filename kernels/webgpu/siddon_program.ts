/**
 * WGSL program of the Siddon forward (`TfdrrSiddon` on webgpu): one invocation per ray walks the
 * volume (`siddon_walker_wgsl.ts`) and writes its `[channels]` row of the `[R, channels]` output:
 * per channel the sum, or with reduce 'max' the largest, of `density x alpha length` over the
 * ray's segments (the CPU's `siddonForwardImpl`). Sums are taken in f32 (the CPU kernel sums in
 * double): a relative difference of about 1e-6.
 *
 * Inputs (in order): density `[X, Y, Z]`, sources `[S, 3]`, targets `[R, 3]`, labels `[X, Y, Z]`
 * (or any placeholder with one channel). One invocation per ray, not per output element, so the
 * bounds check is on R (`uniforms.targetsShape.x`), not on tfjs's `uniforms.size`.
 */
import type { SiddonReduce } from '../kernel_names.js';
import { RayProgram } from './ray_program.js';
import { SIDDON_UNIFORMS, siddonWalkerWgsl } from './siddon_walker_wgsl.js';

export class SiddonProgram extends RayProgram {
  readonly variableNames = ['density', 'sources', 'targets', 'labels'];
  readonly uniforms = SIDDON_UNIFORMS;

  constructor(nRays: number, channels: number, reduce: SiddonReduce) {
    super('Siddon', [nRays, channels], nRays, channels, reduce);
  }

  getUserCode(): string {
    const accumulate =
      this.channels === 1 && this.reduce === 'sum'
        ? 'acc[0] += value;'
        : `let c = channelOf(w.voxel);
      if (c >= 0) { ${this.reduce === 'sum' ? 'acc[c] += value;' : 'if (value > acc[c]) { acc[c] = value; }'} }`;
    return `
${siddonWalkerWgsl(this.channels)}

fn main(index : i32) {
  ${this.mainPrologue()}
  var acc : array<f32, CHANNELS>;
  var w : Walker;
  if (walkerStart(&w, raySource(index), rayTarget(index))) {
    loop {
      let value = density[w.voxel] * (w.alpha1 - w.alpha0);
      ${accumulate}
      if (!walkerAdvance(&w)) { break; }
    }
  }
  for (var c = 0; c < CHANNELS; c++) {
    result[index * CHANNELS + c] = acc[c];
  }
}
`;
  }
}
