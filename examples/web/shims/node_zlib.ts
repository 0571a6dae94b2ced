/**
 * Browser stand-in for `node:zlib`, aliased by scripts/build_demo.mjs: `gunzipSync` and
 * `createGunzip` from fflate (the decompressor nifti-reader-js already depends on, so it adds
 * nothing new to the bundle). load_volume.ts gunzips with the browser's DecompressionStream first;
 * this covers any other caller (readNifti's bounded gunzip: a header probe through
 * `createGunzip`, then `gunzipSync`, whose `maxOutputLength` fflate does not enforce).
 */
import { Gunzip, gunzipSync as fflateGunzipSync } from 'fflate';

export function gunzipSync(bytes: Uint8Array, _options?: { maxOutputLength?: number }): Uint8Array {
  return fflateGunzipSync(bytes);
}

type Listener = (value?: unknown) => void;

/** The part of a Node Gunzip stream readNifti uses: `on('data' | 'end' | 'error')`, `end(bytes)`, `destroy()`. */
export function createGunzip() {
  const listeners: Record<string, Listener[]> = {};
  const emit = (event: string, value?: unknown) => listeners[event]?.forEach((f) => f(value));
  let destroyed = false;
  const inflater = new Gunzip((chunk) => {
    if (!destroyed) emit('data', chunk);
  });
  const CHUNK = 1 << 14;
  return {
    on(event: string, listener: Listener) {
      (listeners[event] ??= []).push(listener);
      return this;
    },
    destroy() {
      destroyed = true;
    },
    end(bytes: Uint8Array) {
      queueMicrotask(() => {
        try {
          for (let at = 0; at < bytes.length && !destroyed; at += CHUNK) inflater.push(bytes.subarray(at, at + CHUNK), at + CHUNK >= bytes.length);
          if (!destroyed) emit('end');
        } catch (e) {
          if (!destroyed) emit('error', e);
        }
      });
    },
  };
}
