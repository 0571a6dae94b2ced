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
import { SIDDON_UNIFORMS, siddonWalkerWgsl } from './siddon_walker_wgsl.js';
import { WORKGROUP_SIZE, computeFlatDispatch, flatDispatchLayout, type WebGPUProgramLike } from './webgpu_program_util.js';

export class SiddonProgram implements WebGPUProgramLike {
  readonly variableNames = ['density', 'sources', 'targets', 'labels'];
  readonly outputShape: number[];
  shaderKey: string;
  readonly dispatchLayout = flatDispatchLayout();
  readonly dispatch: [number, number, number];
  readonly workgroupSize = WORKGROUP_SIZE;
  readonly uniforms = SIDDON_UNIFORMS;
  private readonly channels: number;
  private readonly reduce: SiddonReduce;

  constructor(nRays: number, channels: number, reduce: SiddonReduce) {
    this.outputShape = [nRays, channels];
    this.dispatch = computeFlatDispatch(nRays, this.workgroupSize);
    this.channels = channels;
    this.reduce = reduce;
    this.shaderKey = `tfdrrSiddon_${reduce}_${channels}`;
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
  _ = labels[0];   // bindings must be used: one channel reads no labels
  if (index >= uniforms.targetsShape.x) { return; }
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
