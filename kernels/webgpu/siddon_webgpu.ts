/**
 * The Siddon kernels (forward and both gradients) for tf.js's `webgpu` backend, as WGSL programs
 * run by the backend's `runWebGPUProgram`. Registered statically for the backend name 'webgpu'
 * (tf.js keeps kernels of a backend that is not registered until one is): nothing here imports
 * `@tensorflow/tfjs-backend-webgpu`, which stays an optional peer dependency. The registered
 * gradient (`kernels/gradients/siddon_grad.ts`) calls these gradient kernels by name, so
 * `tf.grad` through `siddon` works on webgpu unchanged.
 *
 * Before dispatch each kernel throws the device errors recorded since the last check and checks
 * that every tensor it binds fits in one storage buffer (`webgpu_checks.ts`).
 */
import { getKernel, type KernelConfig, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs';
import { Siddon, SiddonGradDensity, SiddonGradRays, type SiddonAttrs } from '../kernel_names.js';
import { SiddonGradDensityProgram } from './siddon_grad_density_program.js';
import { SiddonGradRaysProgram } from './siddon_grad_rays_program.js';
import { SiddonProgram } from './siddon_program.js';
import { siddonUniformData } from './siddon_walker_wgsl.js';
import { assertBindingSizes, throwRecordedWebGPUErrors } from './webgpu_checks.js';
import type { WebGPUBackendLike } from './webgpu_program_util.js';

type Inputs = Record<string, TensorInfo>;

/** Runs one of tfjs's own webgpu kernels (Fill, Slice, Reshape, Sum) on backend-level tensors. */
function webgpuKernel(name: string, backend: WebGPUBackendLike, inputs: Inputs, attrs: object): TensorInfo {
  const config = getKernel(name, 'webgpu');
  if (config == null) throw new Error(`tfdrr webgpu kernels: tf.js kernel '${name}' is not registered for the webgpu backend`);
  return config.kernelFunc({ inputs, backend, attrs: attrs as NamedAttrMap }) as TensorInfo;
}

/** The checks before a dispatch; returns the program's inputs in binding order (`variableNames`). */
function prepare(kernelName: string, backend: WebGPUBackendLike, inputs: Inputs, withDy: boolean, output: readonly number[]): TensorInfo[] {
  throwRecordedWebGPUErrors(kernelName);
  const { density, source, target, mask, dy } = inputs;
  assertBindingSizes(backend, kernelName, { density, source, target, mask, ...(withDy ? { dy } : {}), output });
  return withDy ? [density, source, target, mask, dy] : [density, source, target, mask];
}

function siddonForward({ inputs, backend, attrs }: { inputs: Inputs; backend: WebGPUBackendLike; attrs: NamedAttrMap }): TensorInfo {
  const a = attrs as unknown as SiddonAttrs;
  const nRays = inputs.target.shape[0];
  const program = new SiddonProgram(nRays, a.channels, a.reduce);
  const bound = prepare(Siddon, backend, inputs, false, program.outputShape);
  return backend.runWebGPUProgram(program, bound, 'float32', siddonUniformData(a));
}

/**
 * `[dSource [S, 3], dTarget [R, 3]]`: the program writes each ray's source contribution and target
 * gradient (`[2, R, 3]`); the source rows are summed over the R/S rays of each source by tfjs's
 * `Sum` kernel (a parallel reduction; kernels called inside a kernel are not taped).
 */
function siddonGradRays({ inputs, backend, attrs }: { inputs: Inputs; backend: WebGPUBackendLike; attrs: NamedAttrMap }): TensorInfo[] {
  const a = attrs as unknown as SiddonAttrs;
  const [nRays, nSources] = [inputs.target.shape[0], inputs.source.shape[0]];
  const program = new SiddonGradRaysProgram(nRays, a.channels, a.reduce);
  const bound = prepare(SiddonGradRays, backend, inputs, true, program.outputShape);
  const both = backend.runWebGPUProgram(program, bound, 'float32', siddonUniformData(a));
  const temporaries: TensorInfo[] = [both];
  const half = (i: number, shape: number[]) => {
    const part = webgpuKernel('Slice', backend, { x: both }, { begin: [i, 0, 0], size: [1, nRays, 3] });
    temporaries.push(part);
    return webgpuKernel('Reshape', backend, { x: part }, { shape });
  };
  const dTarget = half(1, [nRays, 3]);
  let dSource: TensorInfo;
  if (nSources === nRays) {
    dSource = half(0, [nRays, 3]);
  } else {
    const perRay = half(0, [nSources, nRays / nSources, 3]);
    temporaries.push(perRay);
    dSource = webgpuKernel('Sum', backend, { x: perRay }, { axis: [1], keepDims: false });
  }
  for (const t of temporaries) backend.disposeData(t.dataId);
  return [dSource, dTarget];
}

/** `dDensity [X, Y, Z]`, scattered with atomic adds into a zeroed output. */
function siddonGradDensity({ inputs, backend, attrs }: { inputs: Inputs; backend: WebGPUBackendLike; attrs: NamedAttrMap }): TensorInfo {
  const a = attrs as unknown as SiddonAttrs;
  const program = new SiddonGradDensityProgram(inputs.density.shape, inputs.target.shape[0], a.channels, a.reduce);
  const bound = prepare(SiddonGradDensity, backend, inputs, true, program.outputShape);
  const zeros = webgpuKernel('Fill', backend, {}, { shape: program.outputShape, value: 0, dtype: 'float32' });
  return backend.runWebGPUProgram(program, bound, 'float32', siddonUniformData(a), zeros);
}

const config = (kernelName: string, kernelFunc: unknown): KernelConfig => ({ kernelName, backendName: 'webgpu', kernelFunc: kernelFunc as KernelFunc });

export const siddonWebGPUKernelConfigs: KernelConfig[] = [
  config(Siddon, siddonForward),
  config(SiddonGradRays, siddonGradRays),
  config(SiddonGradDensity, siddonGradDensity),
];
