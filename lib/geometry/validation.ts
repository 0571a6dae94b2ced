/**
 * Input checks shared by the pose code: shapes named in errors, and value checks that read a
 * tensor back when the backend allows a synchronous read (backends without one, such as webgpu
 * in Node, skip the value checks).
 */
import * as tf from '@tensorflow/tfjs';

/** `shape [a, b]`, `null` or the JS type, for error messages. */
export function describeValue(t: unknown): string {
  return t instanceof tf.Tensor ? `shape [${t.shape.join(', ')}]` : t === null ? 'null' : typeof t;
}

/**
 * Throws if `t` has been disposed: tf.js would fail later, deep inside an op, with "Cannot read
 * properties of undefined (reading 'backend')".
 */
export function assertNotDisposed(t: tf.Tensor, name: string): void {
  if (t.isDisposed) {
    throw new Error(`${name}: the tensor (shape [${t.shape.join(', ')}]) has been disposed; pass a live tensor (one not disposed, nor made inside a tf.tidy that has ended)`);
  }
}

/** The tensor's values, or null when this backend cannot read synchronously. */
export function readValues(t: tf.Tensor): ArrayLike<number> | null {
  if (!readableSynchronously(t)) return null;
  try {
    return t.dataSync() as ArrayLike<number>;
  } catch {
    return null;
  }
}

/**
 * The tensor's values where reading them costs no GPU round trip (the cpu, wasm and tfjs-node
 * backends hold tensors in CPU memory), else null. For checks of results computed on the device
 * (a pose, an image), which a GPU backend would have to copy back and wait for.
 */
export function readValuesIfCheap(t: tf.Tensor): ArrayLike<number> | null {
  return ['cpu', 'wasm', 'tensorflow'].includes(tf.getBackend()) ? readValues(t) : null;
}

/**
 * False for data that only a GPU read could return where that read cannot be synchronous: webgpu
 * without OffscreenCanvas (Node), whose `dataSync()` prints a performance warning and then throws.
 * Data the webgpu backend still holds on the CPU (tensors made from JS arrays and not yet used by
 * a GPU op) read fine. Every other backend: true.
 */
function readableSynchronously(t: tf.Tensor): boolean {
  if (tf.getBackend() !== 'webgpu' || typeof OffscreenCanvas !== 'undefined') return true;
  const data = (tf.backend() as unknown as { tensorMap?: { get(dataId: object): { values?: unknown } | undefined } }).tensorMap?.get(t.dataId);
  return data === undefined || data.values != null; // undefined: the tensor lives on another backend
}

/** Throws unless every value of `t` is finite (skipped without synchronous reads). */
export function assertFinite(t: tf.Tensor, name: string): void {
  const values = readValues(t);
  if (values === null) return;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new Error(`${name}: expected finite values, found ${values[i]} at flat index ${i}`);
  }
}

/** Throws unless `t` is a tensor of the given rank whose trailing dimensions are `trailing`. */
export function assertShape(t: unknown, name: string, trailing: number[], what: string): asserts t is tf.Tensor {
  const ok = t instanceof tf.Tensor && t.rank === trailing.length + 1 && trailing.every((n, i) => t.shape[i + 1] === n);
  if (!ok) throw new Error(`${name}: ${what} expects shape [B, ${trailing.join(', ')}], got ${describeValue(t)}`);
  assertNotDisposed(t, name);
}
