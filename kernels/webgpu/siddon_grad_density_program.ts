/**
 * WGSL program of the Siddon density gradient (`TfdrrSiddonGradDensity` on webgpu): one invocation
 * per ray walks the ray again and adds `dy x alpha length` to each voxel it crosses (with reduce
 * 'max', only to the voxel of each channel's maximal segment), as the CPU's
 * `siddonGradDensityImpl`.
 *
 * Rays cross the same voxels, so the adds are atomic: WGSL has no float atomics, and tfjs binds the
 * output of an `atomic` program as `array<atomic<i32>>`; each add is a compare-exchange loop on the
 * f32 bits (as tfjs's own scatter). The output must arrive zeroed (`runRayProgram` passes a
 * `Fill` output to `runWebGPUProgram`, as tfjs's ScatterNd). The order of the adds varies between
 * runs: the sums are f32 and not bit-reproducible (the CPU kernel sums in double).
 *
 * Inputs (in order): density, sources `[S, 3]`, targets `[R, 3]`, labels, dy `[R, channels]`.
 * Output: `[X, Y, Z]`; one invocation per ray.
 */
import type { SiddonReduce } from '../kernel_names.js';
import { RayProgram } from './ray_program.js';
import { MAX_SEGMENTS_WGSL, SIDDON_UNIFORMS, siddonWalkerWgsl } from './siddon_walker_wgsl.js';
import { ATOMIC_ADD_FLOAT_WGSL } from './webgpu_program_util.js';

export class SiddonGradDensityProgram extends RayProgram {
  readonly variableNames = ['density', 'sources', 'targets', 'labels', 'dy'];
  readonly uniforms = SIDDON_UNIFORMS;
  readonly atomic = true;

  constructor(volumeShape: readonly number[], nRays: number, channels: number, reduce: SiddonReduce) {
    super('SiddonGradDensity', [...volumeShape], nRays, channels, reduce);
  }

  getUserCode(): string {
    const walk =
      this.reduce === 'max'
        ? `
    var best : array<MaxSegment, CHANNELS>;
    collectMaxSegments(&w, &best);
    for (var c = 0; c < CHANNELS; c++) {
      if (best[c].value > 0.0) { atomicAddFloat(best[c].voxel, dy[r * CHANNELS + c] * best[c].length); }
    }`
        : `
    loop {
      let c = channelOf(w.voxel);
      if (c >= 0) { atomicAddFloat(w.voxel, dy[r * CHANNELS + c] * (w.alpha1 - w.alpha0)); }
      if (!walkerAdvance(&w)) { break; }
    }`;
    return `
${siddonWalkerWgsl(this.channels)}
${this.reduce === 'max' ? MAX_SEGMENTS_WGSL : ''}
${ATOMIC_ADD_FLOAT_WGSL}
fn main(index : i32) {
  ${this.mainPrologue()}
  let r = index;
  var w : Walker;
  if (walkerStart(&w, raySource(r), rayTarget(r))) {${walk}
  }
}
`;
  }
}
