/**
 * tf.js's webgpu backend for the tests: Dawn (npm `webgpu`) on lavapipe from Mesa 25, unpacked
 * into /opt/mesa25 by .ci/run. Points Vulkan at that ICD unless the environment already chose one.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import vm from 'node:vm';
import { initNodeWebGPU, takeWebGPUErrors, type WebGPUAdapterSummary } from '../../lib/webgpu/node_webgpu.js';

/** Where .ci/run unpacks lavapipe (Mesa 25) and writes its Vulkan ICD file. */
export const LAVAPIPE_ICD = '/opt/mesa25/lvp_icd.json';

/** The webgpu backend, or why it is unavailable (then the webgpu tests skip, printing it). */
export type WebGPUSetup = { ok: true; info: WebGPUAdapterSummary } | { ok: false; reason: string };

/** Sets up the webgpu backend (tf.js ends on it when ok). */
export async function setUpWebGPU(): Promise<WebGPUSetup> {
  // Jest gives each test file a copy of process.env; the Vulkan loader reads the real environment,
  // which the process object of Node's main context writes through.
  const realProcess = vm.runInThisContext('process') as NodeJS.Process;
  if (realProcess.env.VK_ICD_FILENAMES === undefined && existsSync(LAVAPIPE_ICD)) {
    realProcess.env.VK_ICD_FILENAMES = LAVAPIPE_ICD;
    process.env.VK_ICD_FILENAMES = LAVAPIPE_ICD;
  }
  try {
    const info = await initNodeWebGPU();
    tf.enableProdMode();
    return { ok: true, info };
  } catch (err) {
    const hint = existsSync(LAVAPIPE_ICD) ? '' : ` (no lavapipe at ${LAVAPIPE_ICD}: .ci/run installs it)`;
    return { ok: false, reason: `${(err as Error).message}${hint}` };
  }
}

/** Throws if the WebGPU device reported errors since the last check (await the results first). */
export function expectNoWebGPUErrors(): void {
  const errors = takeWebGPUErrors();
  if (errors.length > 0) throw new Error(`WebGPU reported ${errors.length} error(s): ${errors.join(' | ')}`);
}

/** What a webgpu test file needs: the setup, `describe` (or `describe.skip` without an adapter), a title naming the adapter. */
export interface WebGPUTestFile {
  setup: WebGPUSetup;
  describeWebGPU: jest.Describe;
  title: string;
}

/**
 * Sets up the webgpu backend for a test file (call once, at its top level): prints why the file's
 * webgpu tests skip when no adapter is available, and puts tf.js back on cpu after all its tests.
 */
export async function webgpuTestFile(): Promise<WebGPUTestFile> {
  const setup = await setUpWebGPU();
  if (!setup.ok) console.warn(`test/webgpu skipped: ${setup.reason}`);
  afterAll(async () => {
    await tf.setBackend('cpu');
  });
  return {
    setup,
    describeWebGPU: setup.ok ? describe : describe.skip,
    title: setup.ok ? `${setup.info.vendor} ${setup.info.architecture}: ${setup.info.description}` : `skipped: ${setup.reason}`,
  };
}
