/** `cpu` backend glue for the Siddon gradient kernels. */
import type { KernelConfig, KernelFunc, MathBackendCPU, TensorInfo } from '@tensorflow/tfjs';
import { SiddonGradDensity, SiddonGradRays, type SiddonAttrs, type SiddonGradInputs } from '../kernel_names.js';
import { siddonGradDensityImpl, siddonGradRaysImpl } from '../shared/siddon_grad_impl.js';

type Args = { inputs: SiddonGradInputs; backend: MathBackendCPU; attrs: SiddonAttrs };

/** The inputs' arrays and sizes. */
function read(args: Args) {
  const { backend } = args;
  const { density, source, target, dy } = args.inputs as Record<keyof SiddonGradInputs, TensorInfo>;
  const values = (t: TensorInfo) => backend.data.get(t.dataId).values as Float32Array;
  const nRays = target.shape[0];
  return {
    density: values(density),
    shape: density.shape as [number, number, number],
    source: values(source),
    target: values(target),
    dy: values(dy),
    nRays,
    nSources: source.shape[0],
    raysPerSource: nRays / source.shape[0],
  };
}

function siddonGradRaysCpu(args: Args): TensorInfo[] {
  const a = read(args);
  const dSource = new Float32Array(3 * a.nSources);
  const dTarget = new Float32Array(3 * a.nRays);
  siddonGradRaysImpl(a.density, a.shape, a.source, a.target, a.dy, a.nRays, args.attrs.voxelShift, args.attrs, dSource, dTarget, a.raysPerSource);
  return [args.backend.makeTensorInfo([a.nSources, 3], 'float32', dSource), args.backend.makeTensorInfo([a.nRays, 3], 'float32', dTarget)];
}

function siddonGradDensityCpu(args: Args): TensorInfo {
  const a = read(args);
  const dDensity = new Float32Array(a.density.length);
  siddonGradDensityImpl(a.shape, a.source, a.target, a.dy, a.nRays, args.attrs.voxelShift, args.attrs, dDensity, a.raysPerSource);
  return args.backend.makeTensorInfo(a.shape, 'float32', dDensity);
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
