/**
 * Browser stand-in for `node:zlib`, aliased by scripts/build_demo.mjs: `gunzipSync` from fflate
 * (the decompressor nifti-reader-js already depends on, so it adds nothing new to the bundle).
 * load_volume.ts gunzips with the browser's DecompressionStream first; this covers any other caller.
 */
import { gunzipSync as fflateGunzipSync } from 'fflate';

export function gunzipSync(bytes: Uint8Array): Uint8Array {
  return fflateGunzipSync(bytes);
}
