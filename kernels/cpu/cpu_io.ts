/** `cpu` backend: tensors hold typed arrays; outputs are arrays handed to the backend by reference. */
import type { MathBackendCPU } from '@tensorflow/tfjs';
import type { KernelIO } from '../glue/kernel_io.js';

export function cpuIO(backend: MathBackendCPU): KernelIO {
  return {
    values: (t) => backend.data.get(t.dataId).values as Float32Array,
    outputs: (shapes) =>
      shapes.map((shape) => {
        const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
        return { info: backend.makeTensorInfo(shape, 'float32', values), values };
      }),
    checkAttached: () => {},
  };
}
