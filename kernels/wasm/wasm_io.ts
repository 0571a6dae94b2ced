/**
 * `wasm` backend: tensors live in the WebAssembly heap; arrays are views of it. Growing the heap
 * detaches every earlier view, and two things grow it: making an output, and the first use of an
 * input made on another backend (tf.js moves its data onto the heap then, and tfjs-backend-wasm's
 * `typedArrayFromHeap` takes the heap's buffer before that move, so its view of a moved input is
 * already detached). So every input is moved onto the heap when the IO is made, the outputs are
 * all made before any view is taken, and the views handed out in a call are checked when its glue
 * returns.
 */
import type { DataType, KernelBackend, TensorInfo } from '@tensorflow/tfjs';
import type { KernelIO } from '../glue/kernel_io.js';

/** The methods of tfjs-backend-wasm's `BackendWasm` used here (that package need not be installed). */
export interface WasmBackendLike extends KernelBackend {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  /** tf.js's `DataStorage` of the backend: `get` first moves a tensor's data here from the backend that holds it. */
  dataIdMap: { get(dataId: object): unknown };
}

/** The IO of one kernel call on `inputs`. */
export function wasmIO(backend: WasmBackendLike, inputs: Record<string, TensorInfo>): KernelIO {
  for (const t of Object.values(inputs)) if (t != null) backend.dataIdMap.get(t.dataId);
  /** The views handed out in this call with their lengths (a detached view reads as length 0). */
  const views: Array<{ view: Float32Array; length: number }> = [];
  const view = (t: TensorInfo): Float32Array => {
    const values = backend.typedArrayFromHeap(t);
    views.push({ view: values, length: values.length });
    return values;
  };
  return {
    values: view,
    outputs: (shapes) => {
      const infos = shapes.map((shape) => backend.makeOutput(shape, 'float32'));
      return infos.map((info) => ({ info, values: view(info) }));
    },
    checkAttached: (kernelName) => {
      for (const { view: v, length } of views) {
        if (v.length !== length) {
          throw new Error(`${kernelName} on wasm: the WebAssembly heap grew while the kernel held a view of it, so its results were lost (a tfdrr bug: please report it)`);
        }
      }
    },
  };
}
