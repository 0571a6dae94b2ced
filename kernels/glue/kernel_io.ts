/**
 * How a kernel reads its inputs and makes its outputs on a backend whose data lives in JS memory
 * (`cpu`: typed arrays; `wasm`: views of the WebAssembly heap). The kernels' glue is written once
 * against this interface and registered for every such backend, so the typed-array
 * implementations in kernels/shared/ run in place on each.
 *
 * Order matters on `wasm`: making an output may grow the heap, which detaches earlier views, so
 * glue makes all its outputs before it reads any input's values.
 */
import type { KernelBackend, KernelConfig, KernelFunc, MathBackendCPU, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { cpuIO } from '../cpu/cpu_io.js';
import { wasmIO, type WasmBackendLike } from '../wasm/wasm_io.js';

/** A float32 output: the tensor to return and the array to fill (every element must be written). */
export interface KernelOutput {
  info: TensorInfo;
  values: Float32Array;
}

/** Reads inputs and makes outputs on one backend. */
export interface KernelIO {
  /** The values of a float32 input, in place (do not write). */
  values(t: TensorInfo): Float32Array;
  /** A new float32 output of `shape`. */
  output(shape: number[]): KernelOutput;
}

/** A kernel's glue: inputs by name, attrs, and the backend's IO. */
export type GlueFunc = (io: KernelIO, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap) => TensorInfo | TensorInfo[];

/** The backends whose data the glue can read in place. */
export const JS_MEMORY_BACKENDS = ['cpu', 'wasm'] as const;

/** Kernel configs registering `glue` under `kernelName` for the cpu and wasm backends. */
export function jsMemoryKernelConfigs(kernelName: string, glue: GlueFunc): KernelConfig[] {
  const io = { cpu: (b: KernelBackend) => cpuIO(b as MathBackendCPU), wasm: (b: KernelBackend) => wasmIO(b as WasmBackendLike) };
  return JS_MEMORY_BACKENDS.map((backendName) => ({
    kernelName,
    backendName,
    kernelFunc: ((args: { inputs: Record<string, TensorInfo>; backend: KernelBackend; attrs: NamedAttrMap }) =>
      glue(io[backendName](args.backend), args.inputs, args.attrs)) as unknown as KernelFunc,
  }));
}
