/**
 * DRRLayer on tf.js's webgpu backend (Dawn in Node on lavapipe): its image is DRR.forward's on
 * webgpu and the cpu's within 1e-5 x max; its gradient w.r.t. the input is the cpu's within 1e-3;
 * a Dense layer before it trains under model.fit; a model saved on webgpu loads and renders the
 * same image. Every result is awaited (no synchronous GPU read) and checked for device errors.
 *
 * The whole file skips (printing why) where no WebGPU adapter is available.
 */
import * as tf from '@tensorflow/tfjs';
import '../../kernels/register_all_kernels.js';
import { DRR } from '../../lib/drr.js';
import { DRRLayer } from '../../lib/models/drr_layer.js';
import type { Subject } from '../../lib/subject.js';
import { maxRelativeError } from '../helpers/tf_setup.js';
import { exampleCtOnEachBackend, type Backend } from '../helpers/webgpu_compare.js';
import { expectNoWebGPUErrors, webgpuTestFile } from '../helpers/webgpu_setup.js';

const { describeWebGPU, title } = await webgpuTestFile();

const detector = { sdd: 1020, height: 24, width: 20, delx: 15 };
const POSE = { parameterization: 'euler_angles', convention: 'ZXY' } as const;
const poses = () => tf.tensor2d([[0.1, -0.2, 0.3, 5, 850, -10], [0, 0.4, -0.1, -20, 800, 15]]);
const values = async (t: tf.Tensor) => (await t.data()) as Float32Array;

describeWebGPU(`DRRLayer on webgpu (${title})`, () => {
  const subjectOn = exampleCtOnEachBackend();

  /** The layer's image and its gradient w.r.t. the input (a weighted sum) on `backend`. */
  async function imageAndGradient(backend: Backend): Promise<[Float32Array, Float32Array, Float32Array]> {
    const subject: Subject = await subjectOn(backend);
    const layer = new DRRLayer({ subject, ...detector, ...POSE });
    const drr = new DRR(subject, detector);
    const x = poses();
    const w = tf.tidy(() => tf.linspace(-1, 1, 2 * 24 * 20).reshape([2, 24, 20, 1]));
    const img = layer.apply(x) as tf.Tensor;
    const ref = tf.tidy(() => drr.forward(tf.slice(x, [0, 0], [2, 3]), tf.slice(x, [0, 3], [2, 3]), POSE));
    const grad = tf.grad((p: tf.Tensor) => tf.sum(tf.mul(layer.apply(p) as tf.Tensor, w)))(x);
    const out = await Promise.all([img, ref, grad].map(values));
    tf.dispose([x, w, img, ref, grad]);
    layer.dispose();
    drr.dispose();
    if (backend === 'webgpu') {
      expectNoWebGPUErrors();
      expect(maxRelativeError(out[0], out[1])).toBe(0); // the layer renders what DRR.forward renders
    }
    return [out[0], out[2], out[1]];
  }

  test('the image = DRR.forward on webgpu, and the cpu within 1e-5; d/d input = cpu within 1e-3', async () => {
    const [gpuImage, gpuGrad] = await imageAndGradient('webgpu');
    const [cpuImage, cpuGrad] = await imageAndGradient('cpu');
    const image = maxRelativeError(gpuImage, cpuImage);
    const grad = maxRelativeError(gpuGrad, cpuGrad);
    console.log(`DRRLayer webgpu vs cpu: image ${image.toExponential(1)}, d/d input ${grad.toExponential(1)}`);
    expect(cpuGrad.some((v) => v !== 0)).toBe(true);
    expect(image).toBeLessThanOrEqual(1e-5);
    expect(grad).toBeLessThanOrEqual(1e-3);
  });

  test('Dense -> DRRLayer: model.fit lowers the loss; model.save / tf.loadLayersModel render the same image', async () => {
    const subject = await subjectOn('webgpu');
    const dense = tf.layers.dense({ inputShape: [6], units: 6, kernelInitializer: 'zeros' });
    const layer = new DRRLayer({ subject, ...detector, ...POSE });
    const model = tf.sequential({ layers: [dense, layer] });
    dense.setWeights([tf.zeros([6, 6]), tf.tensor1d([0.08, -0.06, 0.05, 0, 850, 0])]);
    const target = tf.tidy(() => layer.apply(tf.tensor2d([[0, 0, 0, 0, 850, 0]])) as tf.Tensor);
    const x = tf.ones([1, 6]);
    model.compile({ optimizer: tf.train.adam(0.004), loss: 'meanSquaredError' });
    const loss = (await model.fit(x, target, { epochs: 6, batchSize: 1, verbose: 0 })).history.loss as number[];
    console.log(`webgpu: Dense -> DRRLayer, model.fit: loss ${loss.map((l) => l.toExponential(2)).join(' -> ')}`);
    expect(loss[loss.length - 1]).toBeLessThan(0.8 * loss[0]);

    let saved: tf.io.ModelArtifacts = {};
    await model.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) })));
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved));
    const [a, b] = [model, loaded].map((m) => m.predict(x) as tf.Tensor);
    const [va, vb] = await Promise.all([a, b].map(values));
    expect(Buffer.from(vb.buffer, vb.byteOffset, vb.byteLength).equals(Buffer.from(va.buffer, va.byteOffset, va.byteLength))).toBe(true);
    tf.dispose([a, b, x, target]);
    [model, loaded].forEach((m) => m.dispose());
    expectNoWebGPUErrors();
  });
});
