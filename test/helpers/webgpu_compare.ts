/**
 * What the webgpu kernel tests share: a kernel's value and gradients computed on cpu and on webgpu
 * and compared, the example CT read once per backend, a pose gradient through DRR.forward, and
 * the tensor and GPU buffer counts that must stay flat over repeated renders. Every webgpu result
 * is read with `await t.data()` and followed by a check for device errors.
 */
import * as tf from '@tensorflow/tfjs';
import { DRR, type DRROptions, type ForwardOptions } from '../../lib/drr.js';
import { loadExampleCt } from '../../lib/io/example_ct.js';
import type { Subject } from '../../lib/subject.js';
import type { randomRayCase } from './random_rays.js';
import { maxRelativeError } from './tf_setup.js';
import { expectNoWebGPUErrors } from './webgpu_setup.js';

export type Backend = 'cpu' | 'webgpu';
export type RayCase = ReturnType<typeof randomRayCase>;

/** A kernel call, built on the current backend: `f(...inputs)`, weights for its gradient, other tensors it holds. */
export interface KernelCall {
  /** The differentiated inputs. */
  inputs: tf.Tensor[];
  f: (...xs: tf.Tensor[]) => tf.Tensor;
  /** w of the loss sum(w * f), the shape of f's value. */
  weights: tf.Tensor;
  /** Tensors `f` closes over (e.g. a label mask), disposed with the rest. */
  others?: tf.Tensor[];
}

/** The value of `f` and the gradients of sum(w * f) with respect to each input, on `backend`. */
export async function valueAndGrads(backend: Backend, make: () => KernelCall): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const { inputs, f, weights, others = [] } = make();
  const value = f(...inputs);
  const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), weights)))(inputs);
  const out = await Promise.all([value, ...grads].map(async (t) => (await t.data()) as Float32Array));
  tf.dispose([value, ...grads, ...inputs, weights, ...others]);
  if (backend === 'webgpu') expectNoWebGPUErrors();
  return out;
}

/**
 * max |webgpu - cpu| / max |cpu| of the value, then of the gradient for each input in order; every
 * cpu result must have a non-zero value (else the comparison would prove nothing).
 */
export async function webgpuVsCpu(make: () => KernelCall): Promise<number[]> {
  const cpu = await valueAndGrads('cpu', make);
  const gpu = await valueAndGrads('webgpu', make);
  cpu.forEach((v) => expect(v.some((x) => x !== 0)).toBe(true));
  return cpu.map((v, i) => maxRelativeError(gpu[i], v));
}

/** Weights `[nRays, channels]` for a ray case's loss: the case's per-ray weights, shifted a little per entry. */
export function rayWeights(c: RayCase, channels: number): tf.Tensor2D {
  const nRays = c.target.length / 3;
  return tf.tensor2d(Float32Array.from({ length: nRays * channels }, (_, i) => c.weights[i % nRays] + i / 1000), [nRays, channels]);
}

/** Labels 0 .. channels - 1 from a ray case's volume values (in [0, 1)). */
export const labelsOf = (c: RayCase, channels: number): Float32Array => Float32Array.from(c.volume, (v) => Math.floor(v * channels));

/**
 * The example CT read on each backend (once per backend, not moved between them); call inside a
 * describe: the subjects are disposed after its tests. Leaves tf.js on the requested backend.
 */
export function exampleCtOnEachBackend(): (backend: Backend) => Promise<Subject> {
  const subjects = new Map<Backend, Subject>();
  afterAll(async () => {
    for (const [backend, subject] of subjects) {
      await tf.setBackend(backend);
      subject.dispose();
    }
    subjects.clear();
  });
  return async (backend) => {
    await tf.setBackend(backend);
    if (!subjects.has(backend)) subjects.set(backend, await loadExampleCt());
    return subjects.get(backend)!;
  };
}

/**
 * d/d (rotation, translation) of a pose loss through DRR.forward, on the subject's backend: the
 * mean squared difference between the image at rotation [0.1, -0.05, 0.2], translation
 * [5, 850, -10] and a fixed image at rotation 0, translation [0, 850, 0].
 */
export async function poseGradient(subject: Subject, drrOptions: DRROptions, forwardOptions: ForwardOptions): Promise<Float32Array[]> {
  const drr = new DRR(subject, drrOptions);
  const [rotation, translation] = [tf.tensor2d([[0.1, -0.05, 0.2]]), tf.tensor2d([[5, 850, -10]])];
  const target = tf.tidy(() => drr.forward(tf.tensor2d([[0, 0, 0]]), tf.tensor2d([[0, 850, 0]]), forwardOptions));
  const loss = (r: tf.Tensor, t: tf.Tensor) => tf.mean(tf.square(tf.sub(drr.forward(r, t, forwardOptions), target)));
  const grads = tf.grads(loss)([rotation, translation]);
  const out = await Promise.all(grads.map(async (g) => (await g.data()) as Float32Array));
  tf.dispose([...grads, rotation, translation, target]);
  drr.dispose();
  return out;
}

/**
 * max |webgpu - cpu| / max |cpu| of {@link poseGradient}'s d rotation and d translation, with the
 * example CT read on each backend; every cpu gradient must be non-zero.
 */
export async function poseGradientVsCpu(subjectOn: (backend: Backend) => Promise<Subject>, drrOptions: DRROptions, forwardOptions: ForwardOptions): Promise<number[]> {
  const cpu = await poseGradient(await subjectOn('cpu'), drrOptions, forwardOptions);
  const gpu = await poseGradient(await subjectOn('webgpu'), drrOptions, forwardOptions);
  expectNoWebGPUErrors();
  cpu.forEach((g) => expect(g.some((v) => v !== 0)).toBe(true));
  return cpu.map((g, i) => maxRelativeError(gpu[i], g));
}

/** Renders `drr` at rotation [0.01 i, 0, 0], translation [0, 850, 0], reads the image (awaited) and disposes it. */
export const renderAndRead = (drr: DRR, forwardOptions: ForwardOptions) => async (i: number): Promise<void> => {
  const img = tf.tidy(() => drr.forward(tf.tensor2d([[0.01 * i, 0, 0]]), tf.tensor2d([[0, 850, 0]]), forwardOptions));
  await img.data();
  img.dispose();
};

/** What must not grow over repeated renders on webgpu: live tensors and the backend's GPU buffers. */
export interface WebGPUMemory {
  numTensors: number;
  /** Buffers held by tensors (and in flight). */
  usedBuffers: number;
  /** Released buffers the backend keeps for reuse. */
  freeBuffers: number;
  /** Bytes of the used buffers (tf.memory().numBytesInGPU). */
  numBytesInGPU: number;
  /** Bytes of all buffers the backend created and has not destroyed (tf.memory().numBytesAllocatedInGPU). */
  numBytesAllocatedInGPU: number;
}

/** tf.memory() and the buffer counts of tf.js's WebGPUBackend (`bufferManager`); tf.js must be on webgpu. */
export function webgpuMemory(): WebGPUMemory {
  if (tf.getBackend() !== 'webgpu') throw new Error(`webgpuMemory: tf.js is on '${tf.getBackend()}', not webgpu`);
  type BufferManager = { getNumUsedBuffers(): number; getNumFreeBuffers(): number };
  const { bufferManager } = tf.backend() as unknown as { bufferManager: BufferManager };
  const memory = tf.memory() as tf.MemoryInfo & { numBytesInGPU: number; numBytesAllocatedInGPU: number };
  return {
    numTensors: memory.numTensors,
    usedBuffers: bufferManager.getNumUsedBuffers(),
    freeBuffers: bufferManager.getNumFreeBuffers(),
    numBytesInGPU: memory.numBytesInGPU,
    numBytesAllocatedInGPU: memory.numBytesAllocatedInGPU,
  };
}

/**
 * Renders once to warm up (pipelines, the subject's upload, the buffer pool), then `n` more times:
 * the live tensors, the used and free GPU buffers and their bytes must be what they were after the
 * warm-up. `render(i)` must read its image (awaited) and dispose it.
 */
export async function expectFlatWebGPUMemory(n: number, render: (i: number) => Promise<void>): Promise<WebGPUMemory> {
  await render(0);
  const before = webgpuMemory();
  for (let i = 1; i <= n; i++) await render(i);
  const after = webgpuMemory();
  expect(after).toEqual(before);
  expectNoWebGPUErrors();
  return before;
}
