/** Reads the arrays of a Siddon kernel call from the `cpu` backend (shared by forward and gradients). */
import type { MathBackendCPU, TensorInfo } from '@tensorflow/tfjs';
import type { SiddonRays } from '../shared/siddon_impl.js';
import { valuesOf, volumeRaysOf } from './volume_rays.js';

/** The `SiddonRays` view of a call's inputs; the mask is read only with more than one channel. */
export function siddonRaysOf(backend: MathBackendCPU, inputs: { density?: TensorInfo; source?: TensorInfo; target?: TensorInfo; mask?: TensorInfo }, channels: number): SiddonRays {
  return { ...volumeRaysOf(backend, inputs), mask: channels > 1 ? valuesOf(backend, inputs.mask as TensorInfo) : null };
}
