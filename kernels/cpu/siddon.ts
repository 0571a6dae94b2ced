/** `cpu` backend glue for the Siddon kernel: reads the backend's arrays, runs the shared impl. */
import type { KernelConfig, KernelFunc, MathBackendCPU, TensorInfo } from '@tensorflow/tfjs';
import { Siddon, type SiddonAttrs, type SiddonInputs } from '../kernel_names.js';
import { siddonForwardImpl } from '../shared/siddon_impl.js';

function siddonCpu(args: { inputs: SiddonInputs; backend: MathBackendCPU; attrs: SiddonAttrs }): TensorInfo {
  const { backend, attrs } = args;
  const { density, source, target } = args.inputs as Record<keyof SiddonInputs, TensorInfo>;
  const shape = density.shape as [number, number, number];
  const nRays = target.shape[0];
  const out = new Float32Array(nRays);
  siddonForwardImpl(
    backend.data.get(density.dataId).values as Float32Array,
    shape,
    backend.data.get(source.dataId).values as Float32Array,
    backend.data.get(target.dataId).values as Float32Array,
    nRays,
    attrs.voxelShift,
    attrs,
    out,
    nRays / source.shape[0],
  );
  return backend.makeTensorInfo([nRays], 'float32', out);
}

export const siddonCpuConfig: KernelConfig = {
  kernelName: Siddon,
  backendName: 'cpu',
  kernelFunc: siddonCpu as unknown as KernelFunc,
};
