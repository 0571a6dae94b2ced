/**
 * Puts tf.js on its `webgpu` backend, in Node (Dawn from the npm package `webgpu`) or in a browser,
 * and watches the device for the errors WebGPU reports without throwing.
 *
 * ```js
 * // Node without a GPU: a software Vulkan driver, e.g. lavapipe from Mesa >= 25:
 * //   VK_ICD_FILENAMES=/opt/mesa25/lvp_icd.json node render.mjs
 * const info = await tfdrr.initNodeWebGPU();   // tf.getBackend() === 'webgpu' from here on
 * const img = drr.forward(rotation, translation);
 * const values = await img.data();             // reads must be async on webgpu (dataSync throws in Node)
 * ```
 *
 * Both `webgpu` and `@tensorflow/tfjs-backend-webgpu` are optional peer dependencies, imported
 * here on demand only.
 */
import * as tf from '@tensorflow/tfjs';
import { recordWebGPUError, takeWebGPUErrors } from '../../kernels/webgpu/webgpu_checks.js';
import { checkOptionKeys, optionKeys } from '../validation/options.js';

export { takeWebGPUErrors };

/** Options of {@link initNodeWebGPU}. */
export interface NodeWebGPUOptions {
  /** Dawn options for `create()` of the `webgpu` package (Node only), e.g. `['backend=opengles']`. */
  dawnOptions?: string[];
  /** Adapter feature level (Node only): 'compatibility' for Dawn's OpenGL ES backend. Default: WebGPU's default, 'core'. */
  featureLevel?: 'core' | 'compatibility';
}

/** The keys of {@link NodeWebGPUOptions}. */
export const NODE_WEBGPU_OPTION_KEYS = optionKeys<NodeWebGPUOptions>()(['dawnOptions', 'featureLevel']);

/** What {@link initNodeWebGPU} found. */
export interface WebGPUAdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** Largest tensor (bytes) a WebGPU kernel can bind; tfdrr's kernels throw above it. */
  maxStorageBufferBindingSize: number;
  maxComputeInvocationsPerWorkgroup: number;
}

/** The WebGPU objects used here, typed loosely (no dependency on @webgpu/types). */
interface GpuLike {
  requestAdapter(options?: Record<string, unknown>): Promise<AdapterLike | null>;
}
interface AdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string };
  features: { has(name: string): boolean };
  limits: Record<string, number>;
  requestDevice(descriptor?: Record<string, unknown>): Promise<DeviceLike>;
}
interface DeviceLike {
  limits: Record<string, number>;
  addEventListener?(type: 'uncapturederror', listener: (event: { error?: { message?: string } }) => void): void;
  onuncapturederror?: ((event: { error?: { message?: string } }) => void) | null;
  lost?: Promise<{ reason?: string; message?: string }>;
}
interface WebGPUPackage {
  create(options: string[]): GpuLike;
  globals: object;
}
interface TfjsWebGPUPackage {
  WebGPUBackend: new (device: DeviceLike, adapterInfo?: unknown) => tf.KernelBackend;
}

/** The package names, in variables: bundlers must not try to bundle these optional peers. */
const WEBGPU_PACKAGE = 'webgpu';
const TFJS_WEBGPU_PACKAGE = '@tensorflow/tfjs-backend-webgpu';

const watchedDevices = new WeakSet<object>();

type NavigatorHolder = { navigator?: { gpu?: GpuLike } };

/** `navigator.gpu`, set up from Dawn (the `webgpu` package) where the platform has none. */
async function navigatorGpu(options: NodeWebGPUOptions): Promise<GpuLike> {
  const holder = globalThis as unknown as NavigatorHolder;
  if (holder.navigator?.gpu) return holder.navigator.gpu;
  let dawn: WebGPUPackage;
  try {
    dawn = (await import(WEBGPU_PACKAGE)) as WebGPUPackage;
  } catch (err) {
    throw new Error(
      `initNodeWebGPU: this platform has no navigator.gpu and the npm package '${WEBGPU_PACKAGE}' (Dawn for Node) could not be loaded ` +
        `(install it: npm install ${WEBGPU_PACKAGE}): ${(err as Error).message}`,
    );
  }
  Object.assign(globalThis, dawn.globals); // GPUBufferUsage, GPUMapMode, ...: tfjs-backend-webgpu uses them
  const gpu = dawn.create(options.dawnOptions ?? []);
  if (options.featureLevel) {
    const requestAdapter = gpu.requestAdapter.bind(gpu);
    gpu.requestAdapter = (o = {}) => requestAdapter({ ...o, featureLevel: options.featureLevel }); // tfjs never passes one
  }
  if (holder.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: {}, writable: true, configurable: true }); // Node 20 has none
  }
  (holder.navigator as { gpu?: GpuLike }).gpu = gpu; // before tfjs-backend-webgpu is imported: it registers only if navigator.gpu exists
  return gpu;
}

/** Registers tfjs's webgpu backend factory when its module was imported before navigator.gpu existed. */
function registerWebGPUBackend(module: TfjsWebGPUPackage, gpu: GpuLike): void {
  tf.registerBackend(
    'webgpu',
    async () => {
      const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
      if (!adapter) throw new Error('no WebGPU adapter');
      const limits = adapter.limits;
      const requiredLimits = Object.fromEntries(
        ['maxComputeWorkgroupStorageSize', 'maxComputeWorkgroupsPerDimension', 'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupSizeX', 'maxComputeInvocationsPerWorkgroup'].map((k) => [k, limits[k]]),
      );
      const requiredFeatures = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
      const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
      return new module.WebGPUBackend(device, adapter.info);
    },
    3, // tfjs-backend-webgpu's own priority
  );
}

/** Records the device's uncaptured errors (validation, out of memory) for the kernels and `takeWebGPUErrors`. */
function watchDevice(device: DeviceLike): void {
  if (watchedDevices.has(device)) return;
  watchedDevices.add(device);
  const listener = (event: { error?: { message?: string } }) => recordWebGPUError(event.error?.message ?? String(event));
  if (typeof device.addEventListener === 'function') device.addEventListener('uncapturederror', listener);
  else device.onuncapturederror = listener;
  void device.lost?.then((info) => {
    if (info.reason !== 'destroyed') recordWebGPUError(`WebGPU device lost: ${info.message ?? info.reason ?? 'unknown reason'}`);
  });
}

/**
 * Sets tf.js's backend to `webgpu` and returns what the adapter is. In Node, `navigator.gpu` comes
 * from the `webgpu` package (Dawn), which needs a Vulkan driver; without a GPU, lavapipe from
 * Mesa >= 25 through `VK_ICD_FILENAMES` (Debian 12's Mesa 22 lavapipe is rejected by Dawn).
 *
 * The device's uncaptured errors are recorded from here on: tfdrr's WebGPU kernels throw the ones
 * recorded before they run, and {@link takeWebGPUErrors} returns (and clears) them.
 *
 * @throws Error naming the missing package, or explaining a missing adapter, or if tf.js did not
 *   end up on the webgpu backend.
 */
export async function initNodeWebGPU(options: NodeWebGPUOptions = {}): Promise<WebGPUAdapterSummary> {
  checkOptionKeys(options, NODE_WEBGPU_OPTION_KEYS, 'initNodeWebGPU');
  const gpu = await navigatorGpu(options);
  const adapter = await gpu.requestAdapter();
  if (!adapter) {
    const icd = typeof process !== 'undefined' ? process.env?.VK_ICD_FILENAMES : undefined;
    throw new Error(
      'initNodeWebGPU: navigator.gpu.requestAdapter() returned null: no usable WebGPU adapter. In Node without a GPU, install a ' +
        "software Vulkan driver, lavapipe from Mesa >= 25 (Debian 12's Mesa 22 lavapipe is rejected by Dawn; see .ci/run for an " +
        `unpacked install in /opt/mesa25), and point VK_ICD_FILENAMES at its ICD json (VK_ICD_FILENAMES is ${icd ? `'${icd}'` : 'unset'}); ` +
        'also check that libvulkan.so.1 (the Vulkan loader, Debian package libvulkan1) is installed.',
    );
  }
  let module: TfjsWebGPUPackage;
  try {
    module = (await import(TFJS_WEBGPU_PACKAGE)) as TfjsWebGPUPackage;
  } catch (err) {
    throw new Error(`initNodeWebGPU: the npm package '${TFJS_WEBGPU_PACKAGE}' could not be loaded (install it: npm install ${TFJS_WEBGPU_PACKAGE}): ${(err as Error).message}`);
  }
  if (tf.findBackendFactory('webgpu') == null) registerWebGPUBackend(module, gpu);
  const ok = await tf.setBackend('webgpu');
  if (!ok || tf.getBackend() !== 'webgpu') {
    throw new Error(`initNodeWebGPU: tf.setBackend('webgpu') failed (tf.js is on '${tf.getBackend()}'); see the warning tf.js printed above`);
  }
  const device = (tf.backend() as unknown as { device: DeviceLike }).device;
  watchDevice(device);
  const info = adapter.info ?? {};
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
    maxComputeInvocationsPerWorkgroup: device.limits.maxComputeInvocationsPerWorkgroup,
  };
}
