/**
 * The fused NCC kernel (`MultiscaleNcc`: global, patches, multiscale) against its oracles: the
 * tensor-op metrics (`implementation: 'reference'`) to 1e-5 in value and 1e-4 in gradient, and the
 * float64 loops of test/helpers/metrics_float64.ts (values; gradients by central differences), on
 * random and DRR-like images, batches and channels, patch sizes that divide the image and that do
 * not, and constant images (a defined value, no NaN); the gradient found in the forward pass
 * equals the gradient kernel's to the bit; the wasm backend equals cpu to the bit; a registration
 * step runs it (kernel calls counted).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { ImageScaleGradient, MultiscaleNcc, MultiscaleNccGrad } from '../../kernels/kernel_names.js';
import { DRR } from '../../lib/drr.js';
import { loadExampleCt } from '../../lib/io/example_ct.js';
import {
  multiscaleNormalizedCrossCorrelation2d, multiscaleNormalizedCrossCorrelation2dReference, type MultiscaleNormalizedCrossCorrelationOptions,
} from '../../lib/metrics/multiscale_normalized_cross_correlation.js';
import { normalizedCrossCorrelation2d, normalizedCrossCorrelation2dReference } from '../../lib/metrics/normalized_cross_correlation.js';
import { hasFusedKernel, multiscaleNcc } from '../../lib/ops/image_metrics.js';
import { perturbPoses } from '../../lib/registration/perturb_poses.js';
import { Registration } from '../../lib/registration/registration.js';
import { multiscaleNccLoss } from '../../lib/registration/registration_loss.js';
import { finiteDifferenceGradient, nccReference, type Shape4 } from '../helpers/metrics_float64.js';
import { allFinite, drrLikeImages, imageTensor, noiseImages, valuesOf } from '../helpers/metric_images.js';
import { maxRelativeError, useCpuBackend } from '../helpers/tf_setup.js';

beforeAll(useCpuBackend);
afterAll(useCpuBackend);

type Scales = Required<Pick<MultiscaleNormalizedCrossCorrelationOptions, 'patchSizes' | 'patchWeights'>>;

/** The float64 loop's multiscale score per image. */
function multiscaleFloat64(x1: number[], x2: number[], shape: Shape4, { patchSizes, patchWeights }: Scales, eps = 1e-5): number[] {
  const out = new Array<number>(shape[0]).fill(0);
  patchSizes.forEach((p, k) => nccReference(x1, x2, shape, p, eps).forEach((v, b) => (out[b] += patchWeights[k] * v)));
  return out;
}

/** Scores and gradients (of `sum_b w_b score_b`, both images) of `metric` on the active backend. */
function scoresAndGradients(metric: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, x1: number[], x2: number[], shape: Shape4): number[][] {
  const a = imageTensor(x1, shape), b = imageTensor(x2, shape);
  const w = tf.tensor1d(Array.from({ length: shape[0] }, (_, k) => 0.7 - 0.3 * k));
  const value = valuesOf(metric(a, b));
  const [g1, g2] = tf.grads((u: tf.Tensor, v: tf.Tensor) => tf.sum(tf.mul(metric(u, v), w)))([a, b]);
  const out = [value, valuesOf(g1), valuesOf(g2)];
  tf.dispose([a, b, w]);
  return out;
}

const fused = (scales: Scales, eps?: number) => (a: tf.Tensor, b: tf.Tensor) => multiscaleNormalizedCrossCorrelation2d(a, b, { ...scales, eps, implementation: 'fused' });
const reference = (scales: Scales, eps?: number) => (a: tf.Tensor, b: tf.Tensor) => multiscaleNormalizedCrossCorrelation2dReference(a, b, { ...scales, eps });

describe('fused NCC against the tensor-op metric and the float64 loop', () => {
  const cases: Array<[string, Shape4, Scales, 'noise' | 'drr']> = [
    ['global, B = 3, C = 2', [3, 2, 9, 11], { patchSizes: [null], patchWeights: [1] }, 'noise'],
    ['3 px patches dividing 12 x 12', [2, 1, 12, 12], { patchSizes: [3], patchWeights: [1] }, 'noise'],
    ['5 px patches not dividing 12 x 13, C = 2', [2, 2, 12, 13], { patchSizes: [5], patchWeights: [1] }, 'noise'],
    ['patches of the whole image side (one patch row)', [1, 1, 7, 10], { patchSizes: [7], patchWeights: [1] }, 'noise'],
    ['1 px patches (every patch flat)', [2, 1, 5, 6], { patchSizes: [1], patchWeights: [1] }, 'noise'],
    ['multiscale, weights of both signs', [2, 1, 14, 15], { patchSizes: [null, 3, 7, 13], patchWeights: [0.5, 0.3, -0.2, 0.4] }, 'noise'],
    ["DRR-like 48 x 40, the registration's global + 13 px", [2, 1, 48, 40], { patchSizes: [null, 13], patchWeights: [0.5, 0.5] }, 'drr'],
  ];

  test.each(cases)('%s: values to 1e-5 (oracle) and 1e-6 (float64); gradients to 1e-4 (oracle, central differences)', (_, shape, scales, kind) => {
    const x1 = kind === 'noise' ? noiseImages(1, shape) : drrLikeImages(1, shape);
    const x2 = kind === 'noise' ? noiseImages(2, shape).map((v, k) => 0.6 * x1[k] + v) : drrLikeImages(2, shape, 2);
    const [value, g1, g2] = scoresAndGradients(fused(scales), x1, x2, shape);
    const [refValue, refG1, refG2] = scoresAndGradients(reference(scales), x1, x2, shape);
    expect(value.length).toBe(shape[0]);
    expect(maxRelativeError(value, refValue)).toBeLessThan(1e-5);
    expect(maxRelativeError(value, multiscaleFloat64(x1, x2, shape, scales))).toBeLessThan(1e-6);
    expect(maxRelativeError(g1, refG1)).toBeLessThan(1e-4);
    expect(maxRelativeError(g2, refG2)).toBeLessThan(1e-4);
    if (shape.reduce((a, b) => a * b, 1) <= 400) {
      // central differences of the float64 loop (small cases: one evaluation per pixel)
      const w = Array.from({ length: shape[0] }, (_, k) => 0.7 - 0.3 * k);
      const f = (u: number[], v: number[]) => multiscaleFloat64(u, v, shape, scales).reduce((s, m, b) => s + w[b] * m, 0);
      expect(maxRelativeError(g1, finiteDifferenceGradient((u) => f(u, x2), x1))).toBeLessThan(1e-4);
      expect(maxRelativeError(g2, finiteDifferenceGradient((v) => f(x1, v), x2))).toBeLessThan(1e-4);
    }
  });

  test('normalizedCrossCorrelation2d runs the kernel by default on cpu, and equals its reference', async () => {
    const shape: Shape4 = [2, 1, 10, 10];
    const a = imageTensor(noiseImages(3, shape), shape), b = imageTensor(noiseImages(4, shape), shape);
    for (const patchSize of [null, 4]) {
      const auto = normalizedCrossCorrelation2d(a, b, { patchSize });
      const ref = normalizedCrossCorrelation2dReference(a, b, { patchSize });
      expect(maxRelativeError(valuesOf(auto), valuesOf(ref))).toBeLessThan(1e-5);
    }
    const kernels = async (f: () => tf.Tensor) => {
      const p = await tf.profile(f);
      (p.result as tf.Tensor).dispose();
      return p.kernels.map((k) => k.name);
    };
    expect(await kernels(() => normalizedCrossCorrelation2d(a, b, { patchSize: 4 }))).toEqual([MultiscaleNcc]);
    const ref = await kernels(() => normalizedCrossCorrelation2d(a, b, { patchSize: 4, implementation: 'reference' }));
    expect(ref).not.toContain(MultiscaleNcc);
    expect(ref.length).toBeGreaterThan(20);
    tf.dispose([a, b]);
  });

  test('a batch of 10 DRR-like images scores each image as it scores alone', () => {
    const shape: Shape4 = [10, 1, 32, 30];
    const x1 = drrLikeImages(5, shape), x2 = drrLikeImages(6, shape, 1);
    const scales = { patchSizes: [null, 13], patchWeights: [0.5, 0.5] };
    const batch = valuesOf(multiscaleNcc(imageTensor(x1, shape), imageTensor(x2, shape), { patchSizes: [0, 13], patchWeights: [0.5, 0.5], eps: 1e-5 }));
    const n = 32 * 30;
    const alone = Array.from({ length: 10 }, (_, b) =>
      valuesOf(multiscaleNormalizedCrossCorrelation2d(imageTensor(x1.slice(b * n, (b + 1) * n), [1, 1, 32, 30]), imageTensor(x2.slice(b * n, (b + 1) * n), [1, 1, 32, 30]), scales))[0],
    );
    expect(batch).toEqual(alone);
  });
});

describe('constant images (zero variance)', () => {
  const shape: Shape4 = [2, 1, 8, 9];
  const flat = (v: number) => new Array<number>(72 * 2).fill(v);
  const scales = { patchSizes: [null, 3], patchWeights: [0.5, 0.5] };

  test('eps > 0: the tensor ops\' value (0) and gradient, finite', () => {
    const x2 = noiseImages(7, shape);
    for (const [u, v] of [[flat(3), x2], [x2, flat(3)], [flat(3), flat(-2)]]) {
      const [value, g1, g2] = scoresAndGradients(fused(scales), u, v, shape);
      const [refValue, refG1, refG2] = scoresAndGradients(reference(scales), u, v, shape);
      expect(value).toEqual([0, 0]);
      expect(refValue).toEqual([0, 0]);
      for (const g of [g1, g2]) expect(allFinite(g)).toBe(true);
      expect(maxRelativeError(g1, refG1)).toBeLessThan(1e-4);
      expect(maxRelativeError(g2, refG2)).toBeLessThan(1e-4);
    }
  });

  test('eps = 0: 0 with a zero gradient where the tensor ops give NaN (0 / 0)', () => {
    const [value, g1, g2] = scoresAndGradients(fused(scales, 0), flat(3), noiseImages(8, shape), shape);
    expect(value).toEqual([0, 0]);
    for (const g of [g1, g2]) expect(g.every((v) => v === 0)).toBe(true);
    const [refValue] = scoresAndGradients(reference(scales, 0), flat(3), noiseImages(8, shape), shape);
    expect(refValue.every(Number.isNaN)).toBe(true);
    // a flat patch in an image that is not flat: that patch counts 0, the others as usual
    const partly = noiseImages(9, shape).map((v, k) => (k % 9 < 4 && Math.floor(k / 9) % 8 < 4 ? 1 : v));
    const [partial] = scoresAndGradients(fused({ patchSizes: [3], patchWeights: [1] }, 0), partly, noiseImages(10, shape), shape);
    expect(allFinite(partial)).toBe(true);
  });
});

describe('the gradient found in the forward pass', () => {
  test('equals the gradient kernel (the images swapped) to the bit, and the backward records one kernel', async () => {
    const shape: Shape4 = [3, 1, 20, 17];
    const a = imageTensor(drrLikeImages(11, shape), shape), b = imageTensor(drrLikeImages(12, shape, 3), shape);
    const w = tf.tensor1d([0.5, -1, 2]);
    const f = (u: tf.Tensor, v: tf.Tensor) => tf.sum(tf.mul(multiscaleNormalizedCrossCorrelation2d(u, v, { patchSizes: [null, 13], patchWeights: [0.5, 0.5] }), w));
    // d/da of f(a, b): from the forward (ImageScaleGradient); d/da of f(b, a): the gradient kernel on (a, b)
    const [fromForward] = tf.grads((u: tf.Tensor) => f(u, b))([a]);
    const [, fromKernel] = tf.grads((u: tf.Tensor, v: tf.Tensor) => f(u, v))([b, a]);
    expect(valuesOf(fromForward)).toEqual(valuesOf(fromKernel));
    const profile = await tf.profile(() => tf.grad((u: tf.Tensor) => f(u, b))(a));
    const names = profile.kernels.map((k) => k.name);
    expect(names.filter((n) => n === MultiscaleNcc).length).toBe(1);
    expect(names).toContain(ImageScaleGradient);
    expect(names).not.toContain(MultiscaleNccGrad);
    expect(names).not.toContain('Conv2D');
    tf.dispose([a, b, w, profile.result as tf.Tensor]);
  });

  test('numTensors stays flat through forward and gradients', () => {
    const shape: Shape4 = [2, 1, 10, 10];
    const a = imageTensor(noiseImages(13, shape), shape), b = imageTensor(noiseImages(14, shape), shape);
    const before = tf.memory().numTensors;
    multiscaleNormalizedCrossCorrelation2d(a, b, { patchSizes: [null, 3], patchWeights: [1, 1] }).dispose();
    tf.dispose(tf.grads((u: tf.Tensor, v: tf.Tensor) => tf.sum(normalizedCrossCorrelation2d(u, v, { patchSize: 3 })))([a, b]));
    tf.grad((u: tf.Tensor) => tf.sum(normalizedCrossCorrelation2d(u, b)))(a).dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b]);
  });

  test('the op refuses bad attributes by name; backends without the kernel run the tensor ops', () => {
    expect(hasFusedKernel(MultiscaleNcc, 'cpu') && hasFusedKernel(MultiscaleNcc, 'wasm') && hasFusedKernel(MultiscaleNcc, 'webgpu')).toBe(true);
    expect(hasFusedKernel(MultiscaleNcc, 'webgl')).toBe(false);
    const a = tf.zeros([1, 1, 4, 4]);
    expect(() => multiscaleNcc(a, a, { patchSizes: [5], patchWeights: [1], eps: 1e-5 })).toThrow(/patchSizes\[0\]/);
    expect(() => multiscaleNcc(a, a, { patchSizes: [0], patchWeights: [1, 2], eps: 1e-5 })).toThrow(/patchWeights/);
    expect(() => multiscaleNcc(a, a, { patchSizes: [0], patchWeights: [1], eps: -1 })).toThrow(/eps/);
    expect(() => normalizedCrossCorrelation2d(a, a, { implementation: 'fast' as 'fused' })).toThrow(/implementation/);
    a.dispose();
  });
});

describe('wasm backend', () => {
  test.each([
    ['global + 13 px, DRR-like', [2, 1, 30, 28] as Shape4, { patchSizes: [null, 13], patchWeights: [0.5, 0.5] }],
    ['patches, C = 2', [2, 2, 9, 10] as Shape4, { patchSizes: [4], patchWeights: [1] }],
  ])('%s: values and gradients equal cpu to the bit', async (_, shape, scales) => {
    const x1 = drrLikeImages(15, shape), x2 = drrLikeImages(16, shape, 2);
    await useCpuBackend();
    const cpu = scoresAndGradients(fused(scales), x1, x2, shape);
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const wasm = scoresAndGradients(fused(scales), x1, x2, shape);
    expect(tf.memory().numTensors).toBe(before);
    await useCpuBackend();
    wasm.forEach((v, i) => expect(v).toEqual(cpu[i]));
  });
});

describe('registration', () => {
  test('a registration step runs the fused loss: one metric kernel and its scaling, no convolution; the tensor-op loss gives the same step', async () => {
    const ct = await loadExampleCt();
    const drr = new DRR(ct, { sdd: 1020, height: 24, delx: 16 });
    const euler = { parameterization: 'euler_angles' as const, convention: 'ZXY' };
    const target = drr.forward(tf.tensor2d([[0.1, -0.05, 0.08]]), tf.tensor2d([[5, 850, -10]]), euler);
    const start = () => ({ ...perturbPoses([0.1, -0.05, 0.08], [5, 850, -10], { count: 2, maxRotation: 0.05, maxTranslation: 10, seed: 1 }), ...euler });
    const kernelsOfStep = async (loss: ReturnType<typeof multiscaleNccLoss>) => {
      const reg = new Registration(drr, target, { ...start(), loss });
      const names: string[] = [];
      let losses: number[] = [];
      const profile = await tf.profile(async () => {
        losses = (await reg.step()).loss;
      });
      names.push(...profile.kernels.map((k) => k.name));
      const rotation = Array.from(await reg.rotation.data());
      reg.dispose();
      return { names, losses, rotation };
    };
    const scales = { patchSizes: [null, 13], patchWeights: [0.5, 0.5] };
    const fusedStep = await kernelsOfStep(multiscaleNccLoss({ ...scales, implementation: 'auto' }));
    const referenceStep = await kernelsOfStep(multiscaleNccLoss({ ...scales, implementation: 'reference' }));
    expect(fusedStep.names.filter((n) => n === MultiscaleNcc).length).toBe(1);
    expect(fusedStep.names).toContain(ImageScaleGradient);
    expect(fusedStep.names).not.toContain('Conv2D');
    expect(referenceStep.names).toContain('Conv2D');
    expect(fusedStep.names.length).toBeLessThan(referenceStep.names.length);
    expect(maxRelativeError(fusedStep.losses, referenceStep.losses)).toBeLessThan(1e-5);
    expect(maxRelativeError(fusedStep.rotation, referenceStep.rotation)).toBeLessThan(1e-4);
    // the default loss of a Registration is the fused one
    const reg = new Registration(drr, target, start());
    const profile = await tf.profile(async () => {
      await reg.step();
    });
    expect(profile.kernels.map((k) => k.name)).toContain(MultiscaleNcc);
    reg.dispose();
    tf.dispose(target);
    drr.dispose();
    ct.dispose();
  });
});
