/**
 * How a kernel reads its inputs and makes its outputs on a backend whose data lives in JS memory
 * (`cpu`: typed arrays; `wasm`: views of the WebAssembly heap). The kernels' glue is written once
 * against this interface and registered for every such backend, so the typed-array
 * implementations in kernels/shared/ run in place on each.
 *
 * Order matters on `wasm`: making an output, or moving an input there from another backend, may
 * grow the heap, which detaches every view taken before it, and a write into a detached view is
 * silently lost (a gradient of zeros). So the wasm IO moves every input onto the heap when it is
 * made, a kernel makes all its outputs in one `outputs` call, which allocates them all before it
 * takes any view, and reads its inputs' values after that. On wasm the glue's views are checked
 * when it returns, so a kernel that breaks this rule throws instead of returning zeros.
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
  /** The values of a float32 input, in place (do not write). Take them after `outputs`. */
  values(t: TensorInfo): Float32Array;
  /** New float32 outputs of these shapes, all allocated before any of their arrays is taken. Call once per kernel call. */
  outputs(shapes: number[][]): KernelOutput[];
  /**
   * Throws if an array handed out during this call was detached before the glue returned (the
   * wasm heap grew under it: its writes were lost). A no-op where arrays cannot be detached.
   */
  checkAttached(kernelName: string): void;
}

/** A kernel's glue: inputs by name, attrs, and the backend's IO. */
export type GlueFunc = (io: KernelIO, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap) => TensorInfo | TensorInfo[];

/** The backends whose data the glue can read in place. */
export const JS_MEMORY_BACKENDS = ['cpu', 'wasm'] as const;

/** Kernel configs registering `glue` under `kernelName` for the cpu and wasm backends. */
export function jsMemoryKernelConfigs(kernelName: string, glue: GlueFunc): KernelConfig[] {
  const io = {
    cpu: (b: KernelBackend) => cpuIO(b as MathBackendCPU),
    wasm: (b: KernelBackend, inputs: Record<string, TensorInfo>) => wasmIO(b as WasmBackendLike, inputs),
  };
  return JS_MEMORY_BACKENDS.map((backendName) => ({
    kernelName,
    backendName,
    kernelFunc: ((args: { inputs: Record<string, TensorInfo>; backend: KernelBackend; attrs: NamedAttrMap }) => {
      const callIO = io[backendName](args.backend, args.inputs);
      const result = glue(callIO, args.inputs, args.attrs);
      callIO.checkAttached(kernelName);
      return result;
    }) as unknown as KernelFunc,
  }));
}
