/** `cpu` backend glue for the Trilinear kernel: reads the backend's arrays, runs the shared impl. */
import type { KernelConfig, KernelFunc, MathBackendCPU, TensorInfo } from '@tensorflow/tfjs';
import { Trilinear, type TrilinearAttrs, type TrilinearInputs } from '../kernel_names.js';
import { trilinearForwardImpl, type TrilinearRays, type TrilinearSampling } from '../shared/trilinear_impl.js';
import { valuesOf, volumeRaysOf } from './volume_rays.js';

/**
 * The `TrilinearRays` and `TrilinearSampling` of a call's inputs on the `cpu` backend (shared by
 * the forward and gradient kernels).
 *
 * @throws Error if the range holds a non-finite value.
 */
export function trilinearCallOf(
  backend: MathBackendCPU,
  inputs: { density?: TensorInfo; source?: TensorInfo; target?: TensorInfo; range?: TensorInfo },
  attrs: TrilinearAttrs,
): { rays: TrilinearRays; sampling: TrilinearSampling } {
  const [lo, hi] = valuesOf(backend, inputs.range as TensorInfo);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new Error(`trilinear: range: expected finite (lo, hi), got (${lo}, ${hi})`);
  return { rays: volumeRaysOf(backend, inputs), sampling: { voxelShift: attrs.voxelShift, nPoints: attrs.nPoints, lo, hi } };
}

function trilinearCpu(args: { inputs: TrilinearInputs; backend: MathBackendCPU; attrs: TrilinearAttrs }): TensorInfo {
  const { rays, sampling } = trilinearCallOf(args.backend, args.inputs, args.attrs);
  const out = new Float32Array(rays.nRays);
  trilinearForwardImpl(rays, sampling, out);
  return args.backend.makeTensorInfo([rays.nRays], 'float32', out);
}

/** The `Trilinear` kernel on the `cpu` backend. */
export const trilinearCpuConfig: KernelConfig = {
  kernelName: Trilinear,
  backendName: 'cpu',
  kernelFunc: trilinearCpu as unknown as KernelFunc,
};
