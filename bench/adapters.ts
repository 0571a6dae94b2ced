/**
 * `npm run bench -- --adapters`: the WebGPU adapters `navigator.gpu` offers (in Node, Dawn from the
 * `webgpu` package on the Vulkan drivers the loader finds), one line each. WebGPU has no call that
 * enumerates adapters, so this asks for one per preference (high-performance, low-power, fallback)
 * and prints the distinct answers.
 */

/** The adapter fields printed (loosely typed: no dependency on @webgpu/types). */
interface AdapterLike {
  info?: Record<string, unknown>;
  features: { has(name: string): boolean };
  limits: Record<string, number>;
}
interface GpuLike {
  requestAdapter(options?: Record<string, unknown>): Promise<AdapterLike | null>;
}

const REQUESTS: Array<[string, Record<string, unknown>]> = [
  ['high-performance', { powerPreference: 'high-performance' }],
  ['low-power', { powerPreference: 'low-power' }],
  ['fallback', { forceFallbackAdapter: true }],
];

const INFO_KEYS = ['vendor', 'architecture', 'device', 'description', 'isFallbackAdapter', 'subgroupMinSize', 'subgroupMaxSize'];
const LIMIT_KEYS = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupStorageSize'];
const FEATURES = ['shader-f16', 'timestamp-query', 'subgroups', 'float32-filterable'];

/** A software (CPU) Vulkan driver's name, as Dawn reports it. */
export const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader/i;

/** One line per distinct adapter of `gpu`, or none. */
export async function listAdapters(gpu: GpuLike): Promise<string[]> {
  const seen = new Map<string, string[]>();
  for (const [name, options] of REQUESTS) {
    let adapter: AdapterLike | null;
    try {
      adapter = await gpu.requestAdapter(options);
    } catch {
      adapter = null;
    }
    if (adapter === null) continue;
    const info = adapter.info ?? {};
    const fields = INFO_KEYS.filter((k) => info[k] !== undefined && info[k] !== '').map((k) => `${k} ${JSON.stringify(info[k])}`);
    const limits = LIMIT_KEYS.map((k) => `${k} ${adapter.limits[k]}`);
    const features = FEATURES.filter((f) => adapter.features.has(f));
    const line = `${fields.join(', ')}; ${limits.join(', ')}; features: ${features.join(' ') || 'none of ' + FEATURES.join(' ')}`;
    seen.set(line, [...(seen.get(line) ?? []), name]);
  }
  return [...seen].map(([line, names]) => `[${names.join(', ')}] ${line}${SOFTWARE_ADAPTER.test(line) ? '  (a software driver on the CPU, not a GPU)' : ''}`);
}
