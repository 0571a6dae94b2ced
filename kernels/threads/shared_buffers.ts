/**
 * The shared memory a threaded kernel call posts to its workers: copies of volumes, cached while
 * their tensors live, and per-call scratch buffers, reused from call to call.
 */
import type { FloatArray } from '../shared/siddon_impl.js';
import { viewOf, type SharedArrayRef } from './kernel_tasks.js';

/** The element type of `a` in shared memory (float32 unless it is a Float64Array). */
function typeOf(a: FloatArray): SharedArrayRef['type'] {
  return a instanceof Float64Array ? 'float64' : 'float32';
}

const BYTES = { float32: 4, float64: 8 } as const;

interface CachedVolume {
  key: WeakRef<object>;
  ref: SharedArrayRef;
}

const volumeKeys = new WeakMap<object, number>();
let lastVolumeKey = 0;

/**
 * A number naming the values of the tensor data `dataId` (see `SharedVolumeCache` for why a
 * `dataId` names its values), the same for the same `dataId` and never reused in this process: a
 * worker thread, which sees no `dataId`, gets it with a call (`VolumeRays.densityKey`).
 */
export function volumeKeyOf(dataId: object): number {
  let key = volumeKeys.get(dataId);
  if (key === undefined) {
    key = ++lastVolumeKey;
    volumeKeys.set(dataId, key);
  }
  return key;
}

/**
 * Shared copies of volumes (a density, a label mask), keyed by the `dataId` of the tensor that holds
 * them, most recently used last, at most `capacity` of them.
 *
 * Why the `dataId`: tf.js never changes the values behind a `dataId`; a tensor's values are
 * immutable and `Variable.assign` gives the variable the new value's `dataId` (tfjs-core
 * `Variable.assign`: `this.dataId = newValue.dataId`), so a key that matches always means the same
 * values, and a new volume (or an assigned variable) is a miss and is copied afresh. (Writing into
 * the array that `dataSync()` returns on the cpu backend would bypass this; tf.js does not support
 * it either.)
 *
 * Why a small LRU of `WeakRef`s rather than a `WeakMap<dataId, SharedArrayBuffer>`: a WeakMap
 * keeps each copy as long as its `dataId` object is reachable, which a disposed tensor's handle
 * still is (a `DRR` keeps its subject's tensors; an optimizer loop makes a new density every step),
 * so its memory would be bounded only by the garbage collector, and it cannot be counted. Here at
 * most `capacity` copies are held, whatever the callers keep; the `WeakRef` does not keep a
 * `dataId` (nor its tensor) alive, and an entry whose key was collected is dropped on the next
 * lookup. Rendering the same volume again and again is one copy, made once.
 */
export class SharedVolumeCache {
  private readonly entries: CachedVolume[] = [];

  /** @param capacity the most volumes held (two per call at most: density and mask). */
  constructor(readonly capacity = 4) {}

  /** The shared copy of `values`, the contents of the tensor data `key`, copied on a miss. */
  get(key: object, values: FloatArray): SharedArrayRef {
    const type = typeOf(values);
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const entry = this.entries[i];
      const k = entry.key.deref();
      if (k === undefined) {
        this.entries.splice(i, 1);
      } else if (k === key && entry.ref.length === values.length && entry.ref.type === type) {
        this.entries.splice(i, 1);
        this.entries.push(entry);
        return entry.ref;
      }
    }
    const buffer = new SharedArrayBuffer(BYTES[type] * values.length);
    const ref: SharedArrayRef = { buffer, type, offset: 0, length: values.length };
    viewOf(ref).set(values);
    this.entries.push({ key: new WeakRef(key), ref });
    while (this.entries.length > this.capacity) this.entries.shift();
    return ref;
  }

  /** Number of volumes held. */
  get size(): number {
    return this.entries.length;
  }

  /** Drops every copy. */
  clear(): void {
    this.entries.length = 0;
  }
}

/**
 * Named shared buffers reused from call to call (the rays, `dy`, the outputs and the threads'
 * partial sums), each grown when a call needs more and never shrunk: one buffer per name, so their
 * number stays constant however many calls run.
 */
export class SharedScratch {
  private readonly buffers = new Map<string, SharedArrayBuffer>();

  /** A `type` array of `length` elements in buffer `name` (contents undefined: left from earlier calls). */
  array(name: string, type: SharedArrayRef['type'], length: number): SharedArrayRef {
    const bytes = BYTES[type] * length;
    let buffer = this.buffers.get(name);
    if (buffer === undefined || buffer.byteLength < bytes) {
      buffer = new SharedArrayBuffer(Math.max(bytes, 8));
      this.buffers.set(name, buffer);
    }
    return { buffer, type, offset: 0, length };
  }

  /** A copy of `values` in buffer `name`. */
  copy(name: string, values: FloatArray): SharedArrayRef {
    const ref = this.array(name, typeOf(values), values.length);
    viewOf(ref).set(values);
    return ref;
  }

  /** Number of buffers held. */
  get size(): number {
    return this.buffers.size;
  }

  /** Total bytes held. */
  get bytes(): number {
    let n = 0;
    for (const b of this.buffers.values()) n += b.byteLength;
    return n;
  }

  /** Drops every buffer. */
  clear(): void {
    this.buffers.clear();
  }
}
