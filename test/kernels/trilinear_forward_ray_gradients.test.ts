/**
 * The Trilinear forward with `rayGradients` (each ray's gradient with respect to its endpoints and
 * the range, found in the forward pass), scaled by `TrilinearScaleRayGradients`'s implementation,
 * gives the ray gradients of the backward pass (`trilinearGradRaysImpl`: a second pass over the
 * samples) within 1e-12 relative in double precision, and its values equal the plain forward's
 * bit for bit: on random rays with a source per ray and a source per pose, dense (the cell walk)
 * and sparse (samples one by one). Through the op, a gradient taken while the tape records uses
 * it, and equals the one of the second pass; it does so only while the tape records, for one
 * channel and 'sum', and within `RAY_GRADIENTS_MAX_BYTES`.
 */
import * as tf from '@tensorflow/tfjs';
import { scaleRayGradientsImpl } from '../../kernels/shared/scale_ray_gradients.js';
import { trilinearGradRaysImpl } from '../../kernels/shared/trilinear_grad_impl.js';
import { trilinearForwardImpl, type TrilinearRays, type VolumeShape } from '../../kernels/shared/trilinear_impl.js';
import { RAY_GRADIENT_WIDTH } from '../../kernels/shared/trilinear_ray_gradient.js';
import { TrilinearScaleRayGradients } from '../../kernels/kernel_names.js';
import { RAY_GRADIENTS_MAX_BYTES, wantsRayGradients } from '../../lib/ops/forward_ray_gradients.js';
import { trilinear } from '../../lib/ops/trilinear.js';
import { maxRelativeError, useCpuBackend } from '../helpers/tf_setup.js';
import { randomRayCase } from '../helpers/random_rays.js';

beforeAll(useCpuBackend);

const shape: VolumeShape = [8, 9, 7];

describe.each([
  ['a source per ray', 200, 200],
  ['a source per 50 rays', 200, 4],
])('forward ray gradients = backward pass (%s)', (_, nRays, nSources) => {
  test.each([20, 400])('%d points', (nPoints) => {
    const c = randomRayCase(5 + nPoints, shape, nRays, nSources);
    const rays: TrilinearRays = {
      density: Float64Array.from(c.volume),
      shape,
      source: Float64Array.from(c.source),
      target: Float64Array.from(c.target),
      nRays,
      raysPerSource: nRays / nSources,
    };
    const sampling = { voxelShift: 0.5, nPoints, lo: -0.1, hi: 1.15 };
    const dy = Float64Array.from(c.weights);

    const plain = new Float64Array(nRays);
    trilinearForwardImpl(rays, sampling, plain);
    const values = new Float64Array(nRays);
    const rows = new Float64Array(RAY_GRADIENT_WIDTH * nRays);
    trilinearForwardImpl(rays, { ...sampling, rayGradients: true }, values, undefined, rows);
    expect(Array.from(values)).toEqual(Array.from(plain));

    const scaled = { dSource: new Float64Array(3 * nSources), dTarget: new Float64Array(3 * nRays), dRange: new Float64Array(2) };
    scaleRayGradientsImpl(rows, RAY_GRADIENT_WIDTH, dy, nRays / nSources, scaled.dSource, scaled.dTarget, scaled.dRange);
    const pass = { dSource: new Float64Array(3 * nSources), dTarget: new Float64Array(3 * nRays), dRange: new Float64Array(2) };
    trilinearGradRaysImpl(rays, sampling, dy, pass);
    for (const name of ['dSource', 'dTarget', 'dRange'] as const) {
      const err = maxRelativeError(scaled[name], pass[name]);
      if (!(err <= 1e-12)) throw new Error(`${name}: max error / max = ${err}`);
      expect(pass[name].some((v) => v !== 0)).toBe(true);
    }
  });
});

test('the op: gradients while the tape records come from the forward, and equal the second pass', async () => {
  const nRays = 120;
  const c = randomRayCase(3, shape, nRays, 3);
  const density = tf.tensor3d(c.volume, [...shape]);
  const [source, target, range] = [tf.tensor2d(c.source, [3, 3]), tf.tensor2d(c.target, [nRays, 3]), tf.tensor1d([-0.1, 1.15])];
  const weights = tf.tensor2d(c.weights, [nRays, 1]);
  const attrs = { voxelShift: 0.5, nPoints: 300, reduce: 'sum' as const, channels: 1 };
  const loss = (s: tf.Tensor, t: tf.Tensor, r: tf.Tensor) => tf.sum(tf.mul(trilinear(density, s as tf.Tensor2D, t as tf.Tensor2D, r as tf.Tensor1D, attrs), weights));
  const info = await tf.profile(() => tf.grads(loss)([source, target, range]));
  const ours = info.kernels.filter((k) => k.name.startsWith('TfdrrTrilinear'));
  // the forward with its second output, then only the scaling
  expect(ours.map((k) => [k.name, k.outputShapes])).toEqual([
    ['TfdrrTrilinear', [[nRays, 1], [nRays, 8]]],
    ['TfdrrTrilinearScaleRayGradients', [[3, 3], [nRays, 3], [2]]],
  ]);
  const viaForward = (info.result as tf.Tensor[]).map((g) => g.dataSync());
  // the backward's own pass over the samples (what webgpu and label channels use)
  const inputs = { density, source, target, range, mask: tf.zeros([1, 1, 1]), dy: weights };
  const pass = tf.engine().runKernel('TfdrrTrilinearGradRays', inputs, attrs) as tf.Tensor[];
  pass.forEach((g, i) => {
    const err = maxRelativeError(viaForward[i], g.dataSync());
    if (!(err <= 1e-5)) throw new Error(`input ${i}: max error / max = ${err}`);
  });
  tf.dispose([density, source, target, range, weights, inputs.mask, ...pass, ...(info.result as tf.Tensor[])]);
});

test('forward ray gradients only while a tape records, for one channel and "sum", within RAY_GRADIENTS_MAX_BYTES', () => {
  const sum = { channels: 1, reduce: 'sum' };
  const within = RAY_GRADIENTS_MAX_BYTES / (4 * RAY_GRADIENT_WIDTH);
  const asked = (attrs: { channels: number; reduce: string }, nRays: number) => wantsRayGradients(attrs, nRays, RAY_GRADIENT_WIDTH, TrilinearScaleRayGradients);
  const whileRecording: boolean[] = [];
  const g = tf.grad((x: tf.Tensor) => {
    whileRecording.push(asked(sum, within), asked(sum, within + 1), asked({ channels: 2, reduce: 'sum' }, 10), asked({ channels: 1, reduce: 'max' }, 10));
    return x.sum();
  })(tf.ones([2]));
  expect(whileRecording).toEqual([true, false, false, false]);
  expect(asked(sum, 10)).toBe(false);
  g.dispose();
});
