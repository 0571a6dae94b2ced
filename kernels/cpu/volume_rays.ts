/** Reads the arrays of a ray kernel call from the `cpu` backend (every ray kernel's glue uses it). */
import type { MathBackendCPU, TensorInfo } from '@tensorflow/tfjs';
import type { VolumeRays } from '../shared/volume_rays.js';

/** The backend's values of a tensor, in place. */
export function valuesOf(backend: MathBackendCPU, t: TensorInfo): Float32Array {
  return backend.data.get(t.dataId).values as Float32Array;
}

/** The `VolumeRays` view of a call's `density`, `source` `[S, 3]` and `target` `[R, 3]`. */
export function volumeRaysOf(backend: MathBackendCPU, inputs: { density?: TensorInfo; source?: TensorInfo; target?: TensorInfo }): VolumeRays {
  const { density, source, target } = inputs as Record<'density' | 'source' | 'target', TensorInfo>;
  return {
    density: valuesOf(backend, density),
    shape: density.shape as [number, number, number],
    source: valuesOf(backend, source),
    target: valuesOf(backend, target),
    nRays: target.shape[0],
    raysPerSource: target.shape[0] / source.shape[0],
  };
}
