/** `cpu` backend glue for the Siddon kernel: reads the backend's arrays, runs the shared impl. */
import type { KernelConfig, KernelFunc, MathBackendCPU, TensorInfo } from '@tensorflow/tfjs';
import { Siddon, type SiddonAttrs, type SiddonInputs } from '../kernel_names.js';
import { siddonForwardImpl } from '../shared/siddon_impl.js';
import { siddonRaysOf } from './siddon_rays.js';

function siddonCpu(args: { inputs: SiddonInputs; backend: MathBackendCPU; attrs: SiddonAttrs }): TensorInfo {
  const rays = siddonRaysOf(args.backend, args.inputs, args.attrs.channels);
  const out = new Float32Array(rays.nRays * args.attrs.channels);
  siddonForwardImpl(rays, args.attrs, out);
  return args.backend.makeTensorInfo([rays.nRays, args.attrs.channels], 'float32', out);
}

export const siddonCpuConfig: KernelConfig = {
  kernelName: Siddon,
  backendName: 'cpu',
  kernelFunc: siddonCpu as unknown as KernelFunc,
};
