/** `cpu` backend glue for the Siddon gradient kernels. */
import type { KernelConfig, KernelFunc, MathBackendCPU, TensorInfo } from '@tensorflow/tfjs';
import { SiddonGradDensity, SiddonGradRays, type SiddonAttrs, type SiddonGradInputs } from '../kernel_names.js';
import { siddonGradDensityImpl, siddonGradRaysImpl } from '../shared/siddon_grad_impl.js';
import { siddonRaysOf } from './siddon_rays.js';

type Args = { inputs: SiddonGradInputs; backend: MathBackendCPU; attrs: SiddonAttrs };

const dyOf = (args: Args) => args.backend.data.get((args.inputs.dy as TensorInfo).dataId).values as Float32Array;

function siddonGradRaysCpu(args: Args): TensorInfo[] {
  const rays = siddonRaysOf(args.backend, args.inputs, args.attrs.channels);
  const nSources = rays.nRays / rays.raysPerSource;
  const dSource = new Float32Array(3 * nSources);
  const dTarget = new Float32Array(3 * rays.nRays);
  siddonGradRaysImpl(rays, args.attrs, dyOf(args), dSource, dTarget);
  return [args.backend.makeTensorInfo([nSources, 3], 'float32', dSource), args.backend.makeTensorInfo([rays.nRays, 3], 'float32', dTarget)];
}

function siddonGradDensityCpu(args: Args): TensorInfo {
  const rays = siddonRaysOf(args.backend, args.inputs, args.attrs.channels);
  const dDensity = new Float32Array(rays.density.length);
  siddonGradDensityImpl(rays, args.attrs, dyOf(args), dDensity);
  return args.backend.makeTensorInfo([...rays.shape], 'float32', dDensity);
}

export const siddonGradRaysCpuConfig: KernelConfig = {
  kernelName: SiddonGradRays,
  backendName: 'cpu',
  kernelFunc: siddonGradRaysCpu as unknown as KernelFunc,
};

export const siddonGradDensityCpuConfig: KernelConfig = {
  kernelName: SiddonGradDensity,
  backendName: 'cpu',
  kernelFunc: siddonGradDensityCpu as unknown as KernelFunc,
};
