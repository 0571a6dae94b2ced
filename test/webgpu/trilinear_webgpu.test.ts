/**
 * The Trilinear kernels on tf.js's webgpu backend (WGSL, Dawn in Node on lavapipe) against the cpu
 * kernels: forward (several nPoints, sum, max, label channels, sources shared by many rays) within
 * 1e-5 x max, ray gradients (source, target, range) within 1e-4 x max, density gradient within
 * 1e-5 x max; a pose gradient through DRR.forward within 1e-3; tensors and GPU buffers flat over
 * 100 renders; a clear error for a tensor too large for one binding. Every result is awaited and
 * checked for device errors. (The DiffDRR reference cases on webgpu: reference_webgpu.test.ts.)
 *
 * The whole file skips (printing why) where no WebGPU adapter is available.
 */
import * as tf from '@tensorflow/tfjs';
import '../../kernels/register_all_kernels.js';
import { setWebGPUBindingLimitForTesting } from '../../kernels/webgpu/webgpu_checks.js';
import { DRR } from '../../lib/drr.js';
import { trilinear, type TrilinearOptions } from '../../lib/ops/trilinear.js';
import { randomRayCase } from '../helpers/random_rays.js';
import { exampleCtOnEachBackend, expectFlatWebGPUMemory, labelsOf, poseGradientVsCpu, rayWeights, renderAndRead, webgpuVsCpu, type KernelCall, type RayCase } from '../helpers/webgpu_compare.js';
import { expectNoWebGPUErrors, webgpuTestFile } from '../helpers/webgpu_setup.js';

const { describeWebGPU, title } = await webgpuTestFile();

type CaseOptions = Omit<TrilinearOptions, 'mask'> & { labels?: Float32Array; range?: [number, number] };

/** `trilinear` of a ray case: inputs (density, source, target, range), the label mask made from `labels`. */
const trilinearCall = (c: RayCase, shape: [number, number, number], nSources: number, { labels, range = [0, 1], ...options }: CaseOptions) => (): KernelCall => {
  const mask = labels ? tf.tensor3d(labels, shape) : undefined;
  return {
    inputs: [tf.tensor3d(c.volume, shape), tf.tensor2d(c.source, [nSources, 3]), tf.tensor2d(c.target, [c.target.length / 3, 3]), tf.tensor1d(range)],
    f: (d, s, t, r) => trilinear(d as tf.Tensor3D, s as tf.Tensor2D, t as tf.Tensor2D, r as tf.Tensor1D, { ...options, mask }),
    weights: rayWeights(c, options.channels ?? 1),
    others: mask ? [mask] : [],
  };
};

/** Relative errors (max |webgpu - cpu| / max |cpu|) of value, d density, d source, d target, d range. */
async function compare(c: RayCase, shape: [number, number, number], nSources: number, options: CaseOptions) {
  const [value, density, source, target, range] = await webgpuVsCpu(trilinearCall(c, shape, nSources, options));
  return { value, density, source, target, range };
}

describeWebGPU(`Trilinear kernels on webgpu (${title})`, () => {
  const shape: [number, number, number] = [9, 7, 8];

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

describeWebGPU('DRR.forward with the trilinear renderer on webgpu (example CT, read on each backend)', () => {
  const subjectOn = exampleCtOnEachBackend();
  const drrOptions = { sdd: 1020, height: 24, delx: 16, renderer: 'trilinear' as const };
  const convention = { parameterization: 'euler_angles' as const, convention: 'ZXY', nPoints: 300 };

  test('tf.grads of a pose loss through DRR.forward = cpu within 1e-3', async () => {
    const errors = await poseGradientVsCpu(subjectOn, drrOptions, convention);
    console.log(`webgpu vs cpu, trilinear pose gradient through DRR.forward: rotation ${errors[0].toExponential(2)}, translation ${errors[1].toExponential(2)}`);
    errors.forEach((e) => expect(e).toBeLessThanOrEqual(1e-3));
  });

  test('100 renders (24 x 24, 300 points per ray) leave tf.memory().numTensors and the webgpu buffers flat after a warm-up render', async () => {
    const drr = new DRR(await subjectOn('webgpu'), drrOptions);
    const counts = await expectFlatWebGPUMemory(100, renderAndRead(drr, convention));
    console.log(`webgpu, 100 Trilinear renders: flat at ${JSON.stringify(counts)}`);
    drr.dispose();
  });
});
