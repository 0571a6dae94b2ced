/**
 * Picks the tf.js backend for the page: WebGPU if the browser gives an adapter, else wasm (SIMD),
 * else cpu, and says why when it falls back. `?backend=wasm` (or `cpu`, `webgpu`) in the page URL
 * starts the search at that backend.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu'; // registers 'webgpu' when navigator.gpu exists
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { recordWebGPUError } from '../../kernels/webgpu/webgpu_checks.js';

export type BackendName = 'webgpu' | 'wasm' | 'cpu';
export const BACKENDS: readonly BackendName[] = ['webgpu', 'wasm', 'cpu'];

/** The backend the page runs on, and what happened to the ones tried before it. */
export interface BackendChoice {
  name: BackendName;
  /** e.g. 'google swiftshader' for WebGPU; '' when unknown. */
  adapter: string;
  /** One line per backend that was tried and failed, e.g. "webgpu: no adapter (navigator.gpu.requestAdapter() returned null)". */
  fallbacks: string[];
}

interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; description?: string };
}
interface GpuLike {
  requestAdapter(options?: object): Promise<GpuAdapterLike | null>;
}

/** Why WebGPU cannot be used here, or null when an adapter exists. */
async function webgpuUnavailable(): Promise<string | null> {
  const gpu = (navigator as unknown as { gpu?: GpuLike }).gpu;
  if (!gpu) return 'this browser has no navigator.gpu (WebGPU disabled or unsupported; Chromium needs a secure context such as localhost)';
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return 'navigator.gpu.requestAdapter() returned null (no usable adapter; headless Chromium needs --enable-unsafe-webgpu)';
  } catch (err) {
    return `requestAdapter failed: ${(err as Error).message}`;
  }
  if (tf.findBackendFactory('webgpu') == null) return 'the tf.js webgpu backend did not register';
  return null;
}

async function adapterName(): Promise<string> {
  const gpu = (navigator as unknown as { gpu?: GpuLike }).gpu;
  const info = (await gpu?.requestAdapter())?.info;
  return info ? [info.vendor, info.architecture || info.description].filter(Boolean).join(' ') : '';
}

/** Watches the webgpu device for the errors WebGPU reports without throwing; tfdrr's kernels throw them on their next call. */
function watchWebGPUDevice(): void {
  const device = (tf.backend() as unknown as { device?: EventTarget & { lost?: Promise<{ message?: string }> } }).device;
  device?.addEventListener('uncapturederror', (event) => {
    recordWebGPUError((event as unknown as { error?: { message?: string } }).error?.message ?? String(event));
  });
}

async function trySetBackend(name: BackendName): Promise<string | null> {
  if (name === 'webgpu') {
    const why = await webgpuUnavailable();
    if (why) return why;
  }
  try {
    if (!(await tf.setBackend(name)) || tf.getBackend() !== name) return `tf.setBackend('${name}') failed (see the console)`;
    await tf.ready();
  } catch (err) {
    return (err as Error).message;
  }
  return null;
}

/**
 * Sets tf.js's backend: the first of `BACKENDS` (from `preferred` on) that initialises.
 *
 * @throws Error if not even cpu works.
 */
export async function chooseBackend(preferred: BackendName = 'webgpu'): Promise<BackendChoice> {
  // The .wasm files sit next to the bundle (scripts/build_demo.mjs copies them there).
  setWasmPaths(new URL('./', import.meta.url).href);
  const fallbacks: string[] = [];
  for (const name of BACKENDS.slice(BACKENDS.indexOf(preferred))) {
    const why = await trySetBackend(name);
    if (why === null) {
      if (name === 'webgpu') watchWebGPUDevice();
      return { name, adapter: name === 'webgpu' ? await adapterName() : '', fallbacks };
    }
    fallbacks.push(`${name}: ${why}`);
  }
  throw new Error(`no tf.js backend initialised: ${fallbacks.join('; ')}`);
}

/** The `?backend=` of the page URL, if it names a backend. */
export function backendFromUrl(search: string = location.search): BackendName | undefined {
  const value = new URLSearchParams(search).get('backend');
  return value !== null && (BACKENDS as readonly string[]).includes(value) ? (value as BackendName) : undefined;
}
