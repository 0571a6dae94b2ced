/**
 * The glue shared by the Siddon and Trilinear kernel functions for tf.js's `webgpu` backend
 * (`siddon_webgpu.ts`, `trilinear_webgpu.ts`): running a program after the checks before a
 * dispatch (an atomic one into a zeroed output), running one of tfjs's own webgpu kernels, and
 * turning the per-ray rows of a ray-gradient program into the kernel's gradients. Like the rest of
 * `kernels/webgpu`, nothing here imports `@tensorflow/tfjs-backend-webgpu`.
 */
import { getKernel, type KernelConfig, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs';
import { assertBindingSizes, throwRecordedWebGPUErrors } from './webgpu_checks.js';
import type { ProgramUniformEntry, WebGPUBackendLike, WebGPUProgramLike } from './webgpu_program_util.js';

/** A kernel's inputs, by name. */
export type Inputs = Record<string, TensorInfo>;

/** The argument of a tfdrr webgpu kernel function. */
export interface RayKernelArgs {
  inputs: Inputs;
  backend: WebGPUBackendLike;
  attrs: NamedAttrMap;
}

/** The registration of a kernel function for the backend name 'webgpu'. */
export function webgpuKernelConfig(kernelName: string, kernelFunc: (args: RayKernelArgs) => TensorInfo | TensorInfo[]): KernelConfig {
  return { kernelName, backendName: 'webgpu', kernelFunc: kernelFunc as unknown as KernelFunc };
}

/** Runs one of tfjs's own webgpu kernels (Fill, Slice, Reshape, Sum) on backend-level tensors. */
export function webgpuKernel(name: string, backend: WebGPUBackendLike, inputs: Inputs, attrs: object): TensorInfo {
  const config = getKernel(name, 'webgpu');
  if (config == null) throw new Error(`tfdrr webgpu kernels: tf.js kernel '${name}' is not registered for the webgpu backend`);
  return config.kernelFunc({ inputs, backend, attrs: attrs as NamedAttrMap }) as TensorInfo;
}

/**
 * Runs `program` for the kernel `kernelName` on the inputs named by `names` (in the program's
 * `variableNames` order) and returns its float32 output. First throws the device errors recorded
 * since the last check, and unless those inputs and the output each fit in one storage buffer
 * (`webgpu_checks.ts`). An `atomic` program (a density gradient, scattered with atomic adds) runs
 * into a zeroed output made by tfjs's `Fill` (as tfjs's ScatterNd).
 */
export function runRayProgram(
  kernelName: string,
  backend: WebGPUBackendLike,
  program: WebGPUProgramLike,
  inputs: Inputs,
  names: readonly string[],
  uniforms: ProgramUniformEntry[],
): TensorInfo {
  throwRecordedWebGPUErrors(kernelName);
  const bound = names.map((name) => inputs[name]);
  assertBindingSizes(backend, kernelName, { ...Object.fromEntries(names.map((name, i) => [name, bound[i]])), output: program.outputShape });
  const zeros = program.atomic ? webgpuKernel('Fill', backend, {}, { shape: program.outputShape, value: 0, dtype: 'float32' }) : undefined;
  return backend.runWebGPUProgram(program, bound, 'float32', uniforms, zeros);
}

/**
 * Where the blocks of a ray-gradient program's output, seen as a matrix, start: `[row, column]` of
 * the `[R, 3]` block of the rays' source contributions, of the `[R, 3]` block of their target
 * gradients and (Trilinear) of the `[R, 2]` block of their contributions to `(dLo, dHi)`.
 */
export interface RayGradientBlocks {
  source: readonly [number, number];
  target: readonly [number, number];
  range?: readonly [number, number];
}

/**
 * `[dSource [S, 3], dTarget [R, 3]]`, and `dRange [2]` when `blocks.range` is set, from the rows
 * of a ray-gradient program (`rows`, a matrix; disposed here). dTarget is the target block;
 * dSource the source block when every ray has its own source (S = R), else the block summed over
 * the R/S consecutive rays of each source; dRange the range block summed over all rays. Blocks are
 * cut with tfjs's `Slice` and summed with its `Sum` (a parallel reduction; kernels called inside a
 * kernel are not taped).
 */
export function rayGradients(backend: WebGPUBackendLike, rows: TensorInfo, nRays: number, nSources: number, blocks: RayGradientBlocks): TensorInfo[] {
  const temporaries: TensorInfo[] = [rows];
  const block = ([row, column]: readonly [number, number], width: number) =>
    webgpuKernel('Slice', backend, { x: rows }, { begin: [row, column], size: [nRays, width] });
  const dTarget = block(blocks.target, 3);
  let dSource = block(blocks.source, 3);
  if (nSources !== nRays) {
    const perRay = webgpuKernel('Reshape', backend, { x: dSource }, { shape: [nSources, nRays / nSources, 3] });
    temporaries.push(dSource, perRay);
    dSource = webgpuKernel('Sum', backend, { x: perRay }, { axis: [1], keepDims: false });
  }
  const gradients = [dSource, dTarget];
  if (blocks.range != null) {
    const rangeRows = block(blocks.range, 2);
    temporaries.push(rangeRows);
    gradients.push(webgpuKernel('Sum', backend, { x: rangeRows }, { axis: [0], keepDims: false }));
  }
  for (const t of temporaries) backend.disposeData(t.dataId);
  return gradients;
}
