/**
 * The Trilinear kernels (forward and both gradients) for tf.js's `webgpu` backend, as WGSL programs
 * run by the backend's `runWebGPUProgram`. Registered statically for the backend name 'webgpu'
 * (tf.js keeps kernels of a backend that is not registered until one is): nothing here imports
 * `@tensorflow/tfjs-backend-webgpu`, which stays an optional peer dependency. The registered
 * gradient (`kernels/gradients/trilinear_grad.ts`) calls these gradient kernels by name, so
 * `tf.grad` through `trilinear` (and DRR's 'trilinear' renderer) works on webgpu unchanged.
 *
 * The range `(lo, hi)` stays a tensor read by the shaders (no synchronous read; a non-finite range
 * gives NaN where the CPU kernel throws). Before dispatch each kernel throws the device errors
 * recorded since the last check and checks that every tensor it binds fits in one storage buffer
 * (`webgpu_checks.ts`).
 */
import { getKernel, type KernelConfig, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs';
import { Trilinear, TrilinearGradDensity, TrilinearGradRays, type TrilinearAttrs } from '../kernel_names.js';
import { TrilinearGradDensityProgram } from './trilinear_grad_density_program.js';
import { GRAD_RAYS_COLUMNS, TrilinearGradRaysProgram } from './trilinear_grad_rays_program.js';
import { TrilinearProgram } from './trilinear_program.js';
import { trilinearUniformData } from './trilinear_sampler_wgsl.js';
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
  const { density, source, target, range, mask, dy } = inputs;
  assertBindingSizes(backend, kernelName, { density, source, target, range, mask, ...(withDy ? { dy } : {}), output });
  return withDy ? [density, source, target, range, mask, dy] : [density, source, target, range, mask];
}

function trilinearForward({ inputs, backend, attrs }: { inputs: Inputs; backend: WebGPUBackendLike; attrs: NamedAttrMap }): TensorInfo {
  const a = attrs as unknown as TrilinearAttrs;
  const program = new TrilinearProgram(inputs.target.shape[0], a.channels, a.reduce);
  const bound = prepare(Trilinear, backend, inputs, false, program.outputShape);
  return backend.runWebGPUProgram(program, bound, 'float32', trilinearUniformData(a));
}

/**
 * `[dSource [S, 3], dTarget [R, 3], dRange [2]]`: the program writes one `[8]` row per ray (source
 * contribution, target gradient, range contribution); the source rows are summed over the R/S rays
 * of each source and the range rows over all rays by tfjs's `Sum` kernel (a parallel reduction;
 * kernels called inside a kernel are not taped).
 */
function trilinearGradRays({ inputs, backend, attrs }: { inputs: Inputs; backend: WebGPUBackendLike; attrs: NamedAttrMap }): TensorInfo[] {
  const a = attrs as unknown as TrilinearAttrs;
  const [nRays, nSources] = [inputs.target.shape[0], inputs.source.shape[0]];
  const program = new TrilinearGradRaysProgram(nRays, a.channels, a.reduce);
  const bound = prepare(TrilinearGradRays, backend, inputs, true, program.outputShape);
  const rows = backend.runWebGPUProgram(program, bound, 'float32', trilinearUniformData(a));
  const temporaries: TensorInfo[] = [rows];
  const columns = (first: number, count: number) => webgpuKernel('Slice', backend, { x: rows }, { begin: [0, first], size: [nRays, count] });
  const dTarget = columns(GRAD_RAYS_COLUMNS.target, 3);
  let dSource = columns(GRAD_RAYS_COLUMNS.source, 3);
  if (nSources !== nRays) {
    const perRay = webgpuKernel('Reshape', backend, { x: dSource }, { shape: [nSources, nRays / nSources, 3] });
    temporaries.push(dSource, perRay);
    dSource = webgpuKernel('Sum', backend, { x: perRay }, { axis: [1], keepDims: false });
  }
  const rangeRows = columns(GRAD_RAYS_COLUMNS.range, 2);
  temporaries.push(rangeRows);
  const dRange = webgpuKernel('Sum', backend, { x: rangeRows }, { axis: [0], keepDims: false });
  for (const t of temporaries) backend.disposeData(t.dataId);
  return [dSource, dTarget, dRange];
}

/** `dDensity [X, Y, Z]`, scattered with atomic adds into a zeroed output. */
function trilinearGradDensity({ inputs, backend, attrs }: { inputs: Inputs; backend: WebGPUBackendLike; attrs: NamedAttrMap }): TensorInfo {
  const a = attrs as unknown as TrilinearAttrs;
  const program = new TrilinearGradDensityProgram(inputs.density.shape, inputs.target.shape[0], a.channels, a.reduce);
  const bound = prepare(TrilinearGradDensity, backend, inputs, true, program.outputShape);
  const zeros = webgpuKernel('Fill', backend, {}, { shape: program.outputShape, value: 0, dtype: 'float32' });
  return backend.runWebGPUProgram(program, bound, 'float32', trilinearUniformData(a), zeros);
}

const config = (kernelName: string, kernelFunc: unknown): KernelConfig => ({ kernelName, backendName: 'webgpu', kernelFunc: kernelFunc as KernelFunc });

export const trilinearWebGPUKernelConfigs: KernelConfig[] = [
  config(Trilinear, trilinearForward),
  config(TrilinearGradRays, trilinearGradRays),
  config(TrilinearGradDensity, trilinearGradDensity),
];
