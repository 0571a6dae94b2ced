/** `wasm` backend: tensors live in the WebAssembly heap; arrays are views of it. */
import type { DataType, KernelBackend, TensorInfo } from '@tensorflow/tfjs';
import type { KernelIO } from '../glue/kernel_io.js';

/** The methods of tfjs-backend-wasm's `BackendWasm` used here (that package need not be installed). */
export interface WasmBackendLike extends KernelBackend {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

export function wasmIO(backend: WasmBackendLike): KernelIO {
  return {
    values: (t) => backend.typedArrayFromHeap(t),
    output: (shape) => {
      const info = backend.makeOutput(shape, 'float32');
      return { info, values: backend.typedArrayFromHeap(info) };
    },
  };
}
