/**
 * The parts of `@tensorflow/tfjs-backend-webgpu` that tfdrr's WGSL kernels use, written as local
 * types, two small helpers and one WGSL snippet, so that nothing loaded by `lib/index.ts` imports
 * that package (an optional peer dependency): the kernels reach the backend only through the
 * `backend` argument of their kernel functions, which exists only once the user has set the webgpu
 * backend up.
 *
 * Dispatch: tfjs's `webgpu_util.flatDispatchLayout` / `computeDispatch` are re-implemented here
 * (one line each, for a one-dimensional layout) rather than imported lazily: a lazy import would
 * make the kernel functions async or need module state set up before the first call. tfjs's
 * `runWebGPUProgram` still reshapes a dispatch wider than `maxComputeWorkgroupsPerDimension` into
 * 2D/3D, and its generated `getGlobalIndex()` undoes that, so one invocation per ray holds for any R.
 */
import type { DataType, KernelBackend, TensorInfo } from '@tensorflow/tfjs';

/** The fields of tfjs-backend-webgpu's `WebGPUProgram` that tfdrr's programs set. */
export interface WebGPUProgramLike {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[]; y?: number[]; z?: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  /** Declares `uniforms.size`, the output's element count. */
  size?: boolean;
  /** Output bound as `array<atomic<i32>>` (no `setOutputAtIndex`); the caller supplies a zeroed output. */
  atomic?: boolean;
  /** WGSL fields appended to the generated `Uniforms` struct, e.g. `'voxelShift : f32,'`. */
  uniforms?: string;
  getUserCode(): string;
}

/** One uniform of a program call, in the order of the program's `uniforms` declaration. */
export interface ProgramUniformEntry {
  type: 'float32' | 'int32' | 'uint32';
  data: number[];
}

/** The methods of tfjs-backend-webgpu's `WebGPUBackend` used here (that package need not be installed). */
export interface WebGPUBackendLike extends KernelBackend {
  device: { limits: { maxStorageBufferBindingSize: number } };
  runWebGPUProgram(program: WebGPUProgramLike, inputs: TensorInfo[], outputDtype: DataType, uniforms?: ProgramUniformEntry[], output?: TensorInfo): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** Invocations per workgroup (tfjs's default; WebGPU guarantees 256, SwiftShader allows no more). */
export const WORKGROUP_SIZE: [number, number, number] = [64, 1, 1];

/** tfjs's `flatDispatchLayout` for a one-dimensional launch: all invocations along x. */
export function flatDispatchLayout(): { x: number[] } {
  return { x: [0] };
}

/** tfjs's `computeDispatch` for a flat launch of `n` invocations: workgroups along x. */
export function computeFlatDispatch(n: number, workgroupSize: [number, number, number] = WORKGROUP_SIZE): [number, number, number] {
  return [Math.max(1, Math.ceil(n / workgroupSize[0])), 1, 1];
}

/**
 * WGSL: `atomicAddFloat(i, v)`, `result[i] += v` for an `atomic` program (tfjs binds its output as
 * `array<atomic<i32>>`; WGSL has no float atomics): a compare-exchange loop on the f32 bits, as
 * tfjs's `atomicAddSnippet`. Adding 0 is skipped.
 */
export const ATOMIC_ADD_FLOAT_WGSL = `
// result[i] += v on the f32 bits of an atomic<i32>: compare-exchange until no other add intervened.
fn atomicAddFloat(i : i32, v : f32) {
  if (v == 0.0) { return; }
  var old = atomicLoad(&result[i]);
  loop {
    let res = atomicCompareExchangeWeak(&result[i], old, bitcast<i32>(bitcast<f32>(old) + v));
    if (res.exchanged) { break; }
    old = res.old_value;
  }
}
`;
