/** `cpu` backend glue for the Trilinear gradient kernels. */
import type { KernelConfig, KernelFunc, MathBackendCPU, TensorInfo } from '@tensorflow/tfjs';
import { TrilinearGradDensity, TrilinearGradRays, type TrilinearAttrs, type TrilinearGradInputs } from '../kernel_names.js';
import { trilinearGradDensityImpl, trilinearGradRaysImpl } from '../shared/trilinear_grad_impl.js';
import { trilinearCallOf } from './trilinear.js';

type Args = { inputs: TrilinearGradInputs; backend: MathBackendCPU; attrs: TrilinearAttrs };

/** The upstream gradient `dy` `[R]`. */
function dyOf(args: Args): Float32Array {
  return args.backend.data.get((args.inputs.dy as TensorInfo).dataId).values as Float32Array;
}

function trilinearGradRaysCpu(args: Args): TensorInfo[] {
  const { rays, sampling } = trilinearCallOf(args.backend, args.inputs, args.attrs);
  const nSources = rays.nRays / rays.raysPerSource;
  const out = { dSource: new Float32Array(3 * nSources), dTarget: new Float32Array(3 * rays.nRays), dRange: new Float32Array(2) };
  trilinearGradRaysImpl(rays, sampling, dyOf(args), out);
  return [
    args.backend.makeTensorInfo([nSources, 3], 'float32', out.dSource),
    args.backend.makeTensorInfo([rays.nRays, 3], 'float32', out.dTarget),
    args.backend.makeTensorInfo([2], 'float32', out.dRange),
  ];
}

function trilinearGradDensityCpu(args: Args): TensorInfo {
  const { rays, sampling } = trilinearCallOf(args.backend, args.inputs, args.attrs);
  const dDensity = new Float32Array(rays.density.length);
  trilinearGradDensityImpl(rays, sampling, dyOf(args), dDensity);
  return args.backend.makeTensorInfo([...rays.shape], 'float32', dDensity);
}

/** The `TrilinearGradRays` kernel on the `cpu` backend. */
export const trilinearGradRaysCpuConfig: KernelConfig = {
  kernelName: TrilinearGradRays,
  backendName: 'cpu',
  kernelFunc: trilinearGradRaysCpu as unknown as KernelFunc,
};

/** The `TrilinearGradDensity` kernel on the `cpu` backend. */
export const trilinearGradDensityCpuConfig: KernelConfig = {
  kernelName: TrilinearGradDensity,
  backendName: 'cpu',
  kernelFunc: trilinearGradDensityCpu as unknown as KernelFunc,
};
