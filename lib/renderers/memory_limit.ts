/**
 * The memory a DRR may use, and its estimates of what a detector and a render take, so that a
 * detector or a batch too large for the machine is refused up front, with the numbers, rather
 * than failing deep inside tf.js (`RangeError: Invalid typed array length`) or running the process
 * out of memory.
 *
 * The limit (see {@link memoryLimit}): half of the machine's memory in Node (`os.totalmem()`, or
 * the container's limit `process.constrainedMemory()` when smaller); {@link BROWSER_MEMORY_LIMIT}
 * where Node's `os` module is missing (a browser); at most {@link WASM_MEMORY_LIMIT} on the wasm
 * backend, whose tensors share one 32-bit WebAssembly heap. {@link setMemoryLimit} replaces it.
 *
 * The estimates are peak bytes measured with `tf.profile` on the cpu backend (the example CT and a
 * 64³ volume, 256² to 2048² detectors), rounded up; the process's resident memory grew by less
 * (60-70 bytes per detector pixel, 115-165 per ray).
 */
import * as tf from '@tensorflow/tfjs';
import { nodeBuiltin } from '../../kernels/threads/node_builtins.js';

/** Bytes per detector pixel that building a DRR's detector takes (camera-frame pixel centres, their homogeneous form and outer products; 352 measured). */
export const BYTES_PER_DETECTOR_PIXEL = 400;
/** Bytes per ray of a render with the fused kernels: the ray ends, lengths, image and the gradient rows a tape keeps (176 Siddon, 210 Trilinear measured). */
export const BYTES_PER_RAY = 256;
/** Bytes per ray and image channel beyond the first (`maskToChannels`). */
export const BYTES_PER_RAY_CHANNEL = 16;
/** Tensor-op reference renderers (`implementation: 'reference'`, or a backend without fused kernels), per ray and per plane crossed (Siddon: X + Y + Z + 3 planes; 253 measured). */
export const REFERENCE_BYTES_PER_PLANE = 320;
/** Tensor-op reference Trilinear renderer, per ray and per sample (`nPoints`; 1016 measured). */
export const REFERENCE_BYTES_PER_SAMPLE = 1280;
/** The limit where Node's `os` module is missing (a browser): 2 GiB. */
export const BROWSER_MEMORY_LIMIT = 2 * 2 ** 30;
/** The most the wasm backend's tensors can take: its heap is 32-bit, 4 GiB. */
export const WASM_MEMORY_LIMIT = 4 * 2 ** 30;
/** The most elements one tensor may have: typed arrays are indexed with 32-bit integers in browsers and in parts of tf.js. */
export const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;

let override: number | null = null;

/**
 * Replaces the memory limit of {@link memoryLimit} with `bytes` (a positive number; Infinity
 * turns the checks off), or restores the default with null.
 */
export function setMemoryLimit(bytes: number | null): void {
  if (bytes !== null && !(typeof bytes === 'number' && bytes > 0)) throw new Error(`setMemoryLimit: bytes: expected a number > 0 or null, got ${String(bytes)}`);
  override = bytes;
}

/** The bytes a DRR may use, and where the number comes from (for messages). */
export function memoryLimit(): { bytes: number; source: string } {
  if (override !== null) return { bytes: override, source: 'set by setMemoryLimit' };
  const os = nodeBuiltin('node:os');
  let limit: { bytes: number; source: string };
  if (os === null) {
    limit = { bytes: BROWSER_MEMORY_LIMIT, source: "the fixed limit where Node's os module is missing" };
  } else {
    const total = os.totalmem();
    const constrained = (globalThis as { process?: { constrainedMemory?: () => number | undefined } }).process?.constrainedMemory?.();
    limit = constrained !== undefined && constrained > 0 && constrained < total
      ? { bytes: constrained / 2, source: `half of this process's ${formatBytes(constrained)}, process.constrainedMemory()` }
      : { bytes: total / 2, source: `half of this machine's ${formatBytes(total)}, os.totalmem()` };
  }
  if (tf.getBackend() === 'wasm' && limit.bytes > WASM_MEMORY_LIMIT) limit = { bytes: WASM_MEMORY_LIMIT, source: "the wasm backend's 32-bit heap" };
  return limit;
}

/** `1.5 GiB`, `512.0 MiB`, ... */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let i = 0;
  while (bytes >= 1024 && i < units.length - 1) {
    bytes /= 1024;
    i++;
  }
  return i === 0 ? `${bytes} bytes` : `${bytes.toFixed(1)} ${units[i]}`;
}

/**
 * Throws unless `bytes` fits the memory limit and `elements` fits {@link MAX_TENSOR_ELEMENTS}:
 * `"${where}: ${what} needs about ${bytes} (${how}), over the memory limit of ...; ${advice}"`.
 */
export function checkMemory(where: string, what: string, need: { bytes: number; how: string; elements: number }, advice: string): void {
  const limit = memoryLimit();
  if (need.bytes > limit.bytes) {
    throw new Error(`${where}: ${what} needs about ${formatBytes(need.bytes)} (${need.how}), over the memory limit of ${formatBytes(limit.bytes)} (${limit.source}); ${advice}, or raise the limit with setMemoryLimit(bytes)`);
  }
  if (need.elements > MAX_TENSOR_ELEMENTS) {
    throw new Error(`${where}: ${what} needs a tensor of ${need.elements} elements, over the ${MAX_TENSOR_ELEMENTS} one tensor may hold (2^31 - 1); ${advice}`);
  }
}
