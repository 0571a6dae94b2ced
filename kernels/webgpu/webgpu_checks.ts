/**
 * Checks around tfdrr's WebGPU kernels for failures WebGPU does not throw:
 *
 * - Errors the device reports asynchronously (`uncapturederror`: validation, out of memory). Dawn
 *   only logs them and the op returns garbage. `initNodeWebGPU` records them here; every tfdrr
 *   WebGPU kernel throws the ones recorded since the last check before it runs, and
 *   `takeWebGPUErrors()` hands them to the caller (tests check it after each awaited result).
 * - Tensors larger than one storage-buffer binding (`maxStorageBufferBindingSize`, 128 MiB on
 *   lavapipe): tfjs binds each tensor whole, and an oversized binding fails silently. The kernels
 *   check their tensors before dispatch and throw a clear error instead. (Splitting a large volume
 *   over several bindings is future work.)
 */
import type { TensorInfo } from '@tensorflow/tfjs';
import type { WebGPUBackendLike } from './webgpu_program_util.js';

const recorded: string[] = [];

/** Records an error the WebGPU device reported (called by the device's `uncapturederror` listener). */
export function recordWebGPUError(message: string): void {
  recorded.push(message);
}

/**
 * The WebGPU errors recorded since the last call (then cleared). Errors arrive asynchronously:
 * await a result (`await t.data()`) before asking about the kernels that made it.
 */
export function takeWebGPUErrors(): string[] {
  return recorded.splice(0, recorded.length);
}

/** Throws (and clears) the WebGPU errors recorded so far, naming the kernel about to run. */
export function throwRecordedWebGPUErrors(kernelName: string): void {
  if (recorded.length === 0) return;
  const errors = takeWebGPUErrors();
  throw new Error(
    `${kernelName}: the WebGPU device reported ${errors.length} error(s) since the last check, so earlier results may be wrong: ${errors.join(' | ')}`,
  );
}

let bindingLimitOverride: number | null = null;

/** Test hook: check bindings against `bytes` instead of the device's limit (null restores it). */
export function setWebGPUBindingLimitForTesting(bytes: number | null): void {
  bindingLimitOverride = bytes;
}

/** Bytes of a float32 tensor of `shape`. */
function byteSize(shape: readonly number[]): number {
  return 4 * shape.reduce((a, b) => a * b, 1);
}

/**
 * Throws unless every tensor (by name; an output by its shape) fits in one storage-buffer binding
 * of the backend's device.
 */
export function assertBindingSizes(backend: WebGPUBackendLike, kernelName: string, tensors: Record<string, TensorInfo | readonly number[]>): void {
  const limit = bindingLimitOverride ?? backend.device.limits.maxStorageBufferBindingSize;
  for (const [name, t] of Object.entries(tensors)) {
    const shape = 'shape' in t ? t.shape : (t as readonly number[]);
    const bytes = byteSize(shape);
    if (bytes > limit) {
      throw new Error(
        `${kernelName}: the ${name} tensor [${shape.join(', ')}] takes ${bytes} bytes, more than the WebGPU device can bind as one storage buffer ` +
          `(maxStorageBufferBindingSize = ${limit} bytes); use a smaller volume or fewer rays per call (e.g. DRR patchSize), or the cpu/wasm backend`,
      );
    }
  }
}
