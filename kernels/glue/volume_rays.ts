/** The `VolumeRays` view of a ray kernel call's `density`, `source` `[S, 3]` and `target` `[R, 3]`. */
import type { TensorInfo } from '@tensorflow/tfjs';
import type { VolumeRays } from '../shared/volume_rays.js';
import type { KernelIO } from './kernel_io.js';

/** Number of rays and sources of a call, from the shapes alone (before any output is made). */
export function rayCounts(inputs: Record<string, TensorInfo>): { nRays: number; nSources: number } {
  return { nRays: inputs.target.shape[0], nSources: inputs.source.shape[0] };
}

/** The call's arrays (read after the outputs are made: see kernel_io.ts). */
export function volumeRaysOf(io: KernelIO, inputs: Record<string, TensorInfo>): VolumeRays {
  const { density, source, target } = inputs;
  return {
    density: io.values(density),
    shape: density.shape as [number, number, number],
    source: io.values(source),
    target: io.values(target),
    nRays: target.shape[0],
    raysPerSource: target.shape[0] / source.shape[0],
  };
}
