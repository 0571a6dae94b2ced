/**
 * DRRLayer on the cpu backend (and wasm at the end): its images are DRR.forward's to the bit
 * (channels last and first, label channels, several parameterizations), its gradients are
 * DRR.forward's pose and volume gradients, a Dense layer before it trains under model.fit and
 * trainOnBatch (sequential and functional), a non-negative trainable density stays >= 0, the volume
 * is held once, dispose frees everything, and bad arguments are refused by name.
 * (Saving and loading: drr_layer_serialization.test.ts; webgpu: test/webgpu/drr_layer_webgpu.test.ts.)
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { DRR, type DRROptions } from '../../lib/drr.js';
import { loadExampleCt } from '../../lib/io/example_ct.js';
import { DRRLayer } from '../../lib/models/drr_layer.js';
import { makeSubject, type Subject } from '../../lib/subject.js';
import { seededRandom, useCpuBackend } from '../helpers/tf_setup.js';

let ct: Subject;
beforeAll(async () => {
  await useCpuBackend();
  ct = await loadExampleCt();
});
afterAll(async () => {
  await useCpuBackend();
  ct.dispose();
});

/** A small non-square detector (rows and columns cannot be swapped unnoticed). */
const detector = { sdd: 1020, height: 24, width: 20, delx: 15 } satisfies DRROptions;
const POSE = { parameterization: 'euler_angles', convention: 'ZXY' } as const;
/** Two poses, `[2, 6]`: Euler angles, then the translation. */
const poses = () => tf.tensor2d([[0.1, -0.2, 0.3, 5, 850, -10], [0, 0.4, -0.1, -20, 800, 15]]);
const rotationOf = (x: tf.Tensor2D, k = 3) => tf.slice(x, [0, 0], [x.shape[0], k]);
const translationOf = (x: tf.Tensor2D, k = 3) => tf.slice(x, [0, k], [x.shape[0], 3]);

/** Element-wise ===, with the first mismatch in the message. */
function expectSameValues(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  const bad = Array.prototype.findIndex.call(actual, (v: number, i: number) => v !== expected[i]);
  if (bad >= 0) throw new Error(`element ${bad}: ${actual[bad]} !== ${expected[bad]}`);
}

/** A seeded image-shaped weight, so that gradients are not those of a plain sum. */
function weights(shape: number[], seed = 3): tf.Tensor {
  const rand = seededRandom(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand(-1, 1)), shape);
}

describe('DRRLayer renders what DRR.forward renders', () => {
  test.each(['channelsLast', 'channelsFirst'] as const)('%s: the same pixels to the bit', (dataFormat) => {
    const layer = new DRRLayer({ subject: ct, ...detector, ...POSE, dataFormat });
    const drr = new DRR(ct, detector);
    const [out, ref] = tf.tidy(() => {
      const x = poses();
      const img = layer.apply(x) as tf.Tensor;
      return [img, drr.forward(rotationOf(x), translationOf(x), POSE)];
    });
    expect(out.shape).toEqual(dataFormat === 'channelsLast' ? [2, 24, 20, 1] : [2, 1, 24, 20]);
    expect(layer.computeOutputShape([null, 6])).toEqual(dataFormat === 'channelsLast' ? [null, 24, 20, 1] : [null, 1, 24, 20]);
    expect(Buffer.from((out.dataSync() as Float32Array).buffer).equals(Buffer.from((ref.dataSync() as Float32Array).buffer))).toBe(true);
    tf.dispose([out, ref]);
    drr.dispose();
    layer.dispose();
  });

  test('label channels: [B, H, W, C] is the transpose of [B, C, H, W]', async () => {
    const small = await loadExampleCt({ small: true, withLabelmap: true });
    const last = new DRRLayer({ subject: small, ...detector, maskToChannels: true });
    const first = new DRRLayer({ subject: small, ...detector, maskToChannels: true, dataFormat: 'channelsFirst' });
    const drr = new DRR(small, detector);
    const [a, b, ref] = tf.tidy(() => {
      const x = poses();
      return [last.apply(x) as tf.Tensor, first.apply(x) as tf.Tensor, drr.forward(rotationOf(x), translationOf(x), { maskToChannels: true })];
    });
    const c = ref.shape[1];
    expect(c).toBeGreaterThan(1);
    expect(a.shape).toEqual([2, 24, 20, c]);
    expectSameValues(b.dataSync(), ref.dataSync());
    expectSameValues(a.dataSync(), tf.tidy(() => tf.transpose(ref, [0, 2, 3, 1]).dataSync()));
    tf.dispose([a, b, ref]);
    [last, first].forEach((l) => l.dispose());
    drr.dispose();
    small.dispose();
  });

  test.each([
    ['quaternion', [[0.9, 0.1, -0.2, 0.3]]],
    ['rotation_6d', [[1, 0.1, 0, -0.1, 1, 0.2]]],
    ['se3_log_map', [[0.1, -0.05, 0.2]]],
    ['euler_angles', [[5, -10, 20]], { degrees: true, convention: 'XYZ' }],
  ] as Array<[string, number[][], object?]>)('%s: input [B, k + 3] as forward(rotation, translation)', (parameterization, rotation, extra = {}) => {
    const options = { parameterization, ...extra } as Parameters<DRR['forward']>[2] & { parameterization: 'euler_angles' };
    const layer = new DRRLayer({ subject: ct, ...detector, ...options, dataFormat: 'channelsFirst' });
    const drr = new DRR(ct, detector);
    const k = rotation[0].length;
    expect(layer.inputWidth).toBe(k + 3);
    const [out, ref] = tf.tidy(() => {
      const r = tf.tensor2d(rotation);
      const t = tf.tensor2d([[5, 850, -10]]);
      return [layer.apply(tf.concat([r, t], 1)) as tf.Tensor, drr.forward(r, t, options)];
    });
    expectSameValues(out.dataSync(), ref.dataSync());
    tf.dispose([out, ref]);
    layer.dispose();
    drr.dispose();
  });
});

describe('DRRLayer gradients are DRR.forward gradients', () => {
  test('d/d input = [d/d rotation, d/d translation] of forward', () => {
    const layer = new DRRLayer({ subject: ct, ...detector, ...POSE });
    const drr = new DRR(ct, detector);
    const w = weights([2, 24, 20, 1]);
    const [dx, dr, dt] = tf.tidy(() => {
      const x = poses();
      const gx = tf.grad((p: tf.Tensor) => tf.sum(tf.mul(layer.apply(p) as tf.Tensor, w)))(x);
      const wFirst = w.reshape([2, 1, 24, 20]);
      const [gr, gt] = tf.grads((r: tf.Tensor, t: tf.Tensor) => tf.sum(tf.mul(drr.forward(r, t, POSE), wFirst)))([rotationOf(x), translationOf(x)]);
      return [gx, gr, gt];
    });
    expect(dx.shape).toEqual([2, 6]);
    expect(Array.from(dr.dataSync()).some((v) => v !== 0)).toBe(true);
    expectSameValues(dx.dataSync(), tf.tidy(() => tf.concat([dr, dt], 1).dataSync()));
    tf.dispose([dx, dr, dt, w]);
    layer.dispose();
    drr.dispose();
  });

  test('d/d a trainable density = the volume gradient of forward', () => {
    const layer = new DRRLayer({ subject: ct, ...detector, ...POSE, trainableDensity: true });
    const drr = new DRR(ct, detector);
    const w = weights([2, 24, 20, 1], 5);
    const x = poses();
    layer.apply(x); // builds the weight
    expect(layer.trainableWeights.map((v) => v.originalName)).toEqual([`${layer.name}/density`]);
    const variable = layer.trainableWeights[0].read() as tf.Variable;
    const { grads, value } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, w)) as tf.Scalar, [variable]);
    const ref = tf.tidy(() => tf.grad((d: tf.Tensor) => tf.sum(tf.mul(drr.forward(rotationOf(x), translationOf(x), { ...POSE, density: d as tf.Tensor3D }), w.reshape([2, 1, 24, 20]))))(ct.density));
    expect(grads[variable.name].shape).toEqual([122, 101, 112]);
    expectSameValues(grads[variable.name].dataSync(), ref.dataSync());
    tf.dispose([value, ref, w, x, ...Object.values(grads)]);
    layer.dispose();
    drr.dispose();
  });
});

/** A pose-to-image model: input [B, 6] -> Dense(6) -> DRRLayer, the Dense starting at `start` (bias) with a zero kernel. */
function poseNet(subject: Subject, start: number[], functional = false): { model: tf.LayersModel; dense: tf.layers.Layer; drrLayer: DRRLayer } {
  const dense = tf.layers.dense({ units: 6, kernelInitializer: 'zeros', biasInitializer: tf.initializers.constant({ value: 0 }) });
  const drrLayer = new DRRLayer({ subject, ...detector, ...POSE });
  let model: tf.LayersModel;
  if (functional) {
    const input = tf.input({ shape: [6] });
    model = tf.model({ inputs: input, outputs: drrLayer.apply(dense.apply(input)) as tf.SymbolicTensor });
  } else {
    model = tf.sequential({ layers: [tf.layers.inputLayer({ inputShape: [6] }), dense, drrLayer] });
  }
  dense.setWeights([tf.zeros([6, 6]), tf.tensor1d(start)]);
  return { model, dense, drrLayer };
}

describe('DRRLayer in models', () => {
  const truth = [0, 0, 0, 0, 850, 0];
  const start = [0.08, -0.06, 0.05, 0, 850, 0];

  test('sequential: model.fit lowers the loss, the Dense layer receives gradients', async () => {
    const { model, dense, drrLayer } = poseNet(ct, start);
    const target = tf.tidy(() => drrLayer.apply(tf.tensor2d([truth])) as tf.Tensor);
    const x = tf.ones([1, 6]);
    model.compile({ optimizer: tf.train.adam(0.004), loss: 'meanSquaredError' });
    const before = dense.getWeights().map((t) => t.arraySync());
    const history = await model.fit(x, target, { epochs: 6, batchSize: 1, verbose: 0 });
    const loss = history.history.loss as number[];
    console.log(`sequential Dense -> DRRLayer, model.fit: loss ${loss.map((l) => l.toExponential(2)).join(' -> ')}`);
    expect(loss[loss.length - 1]).toBeLessThan(0.8 * loss[0]);
    const after = dense.getWeights().map((t) => t.arraySync());
    expect(after[0]).not.toEqual(before[0]); // the kernel moved
    expect(after[1]).not.toEqual(before[1]); // the bias too
    expect(drrLayer.trainableWeights).toHaveLength(0); // the volume is fixed by default
    tf.dispose([target, x]);
    model.dispose();
  });

  test('functional (tf.model): trainOnBatch lowers the loss', async () => {
    const { model, drrLayer } = poseNet(ct, start, true);
    expect(model.outputs[0].shape).toEqual([null, 24, 20, 1]);
    const target = tf.tidy(() => drrLayer.apply(tf.tensor2d([truth, truth])) as tf.Tensor);
    const x = tf.ones([2, 6]);
    model.compile({ optimizer: tf.train.adam(0.004), loss: 'meanSquaredError' });
    const losses: number[] = [];
    for (let i = 0; i < 6; i++) losses.push((await model.trainOnBatch(x, target)) as number);
    expect(losses[losses.length - 1]).toBeLessThan(0.8 * losses[0]);
    tf.dispose([target, x]);
    model.dispose();
  });

  test('a trainable density with densityConstraint nonNeg stays >= 0 under model.fit', async () => {
    const shape: [number, number, number] = [8, 8, 8];
    const subject = makeSubject({ density: Float32Array.from({ length: 512 }, (_, i) => 0.05 + (i % 7) / 70), shape, affine: [[4, 0, 0, -14], [0, 4, 0, -14], [0, 0, 4, -14], [0, 0, 0, 1]] });
    const layer = new DRRLayer({ subject, sdd: 200, height: 8, delx: 8, trainableDensity: true, densityConstraint: 'nonNeg', inputShape: [6] });
    const model = tf.sequential({ layers: [layer] });
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
    const x = tf.tensor2d([[0, 0, 0, 0, 100, 0]]);
    const target = tf.zeros([1, 8, 8, 1]); // pulls the density down, some voxels past 0
    const history = await model.fit(x, target, { epochs: 3, batchSize: 1, verbose: 0 });
    const loss = history.history.loss as number[];
    expect(loss[2]).toBeLessThan(loss[0]);
    // tf.js's fit applies no layer constraint: the last step's update is not projected yet
    const raw = Array.from(layer.getWeights()[0].dataSync());
    expect(Math.min(...raw)).toBeLessThan(0);
    const image = tf.tidy(() => Array.from((model.predict(x) as tf.Tensor).dataSync())); // projects, then renders
    expect(Math.min(...image)).toBeGreaterThanOrEqual(0);
    layer.applyDensityConstraint(); // already projected by predict: a no-op
    const projected = Array.from(layer.getWeights()[0].dataSync());
    const zeros = projected.filter((v) => v === 0).length;
    console.log(`nonNeg density after fit: min ${Math.min(...raw).toFixed(4)} before the projection, ${Math.min(...projected)} after; ${zeros} of 512 voxels at 0`);
    expect(Math.min(...projected)).toBeGreaterThanOrEqual(0);
    expect(zeros).toBeGreaterThan(0); // the constraint was active...
    expect(zeros).toBeLessThan(512); // ...and the density is not all zero
    expect(projected).toEqual(raw.map((v) => (v < 0 ? 0 : v)));
    tf.dispose([x, target]);
    model.dispose();
    subject.dispose();
  });
});

describe('DRRLayer memory', () => {
  test('the volume is held once (the weight shares the subject buffer), and dispose frees the layer', () => {
    const subject = makeSubject({ density: tf.mul(ct.density, 1) as tf.Tensor3D }); // a buffer of its own
    const before = tf.memory();
    const layer = new DRRLayer({ subject, ...detector, inputShape: [6] });
    const model = tf.sequential({ layers: [layer] }); // builds the weight and the DRR
    // tf.memory().numBytes counts every tensor's bytes, aliases included; numDataBuffers the buffers
    expect(layer.getWeights()[0].dataId).toBe(subject.density.dataId);
    expect(tf.memory().numDataBuffers - before.numDataBuffers).toBe(3); // the DRR's pixel centres, nothing else
    subject.dispose(); // the weight keeps the buffer
    const img = tf.tidy(() => model.predict(poses()) as tf.Tensor);
    expect(img.shape).toEqual([2, 24, 20, 1]);
    img.dispose();
    model.dispose();
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors - 1); // less the subject's density
    expect(after.numDataBuffers).toBe(before.numDataBuffers - 1);
  });

  test('a layer built inside tf.tidy keeps working after it', () => {
    const layer = new DRRLayer({ subject: ct, ...detector });
    const a = tf.tidy(() => (layer.apply(poses()) as tf.Tensor).dataSync());
    const b = tf.tidy(() => (layer.apply(poses()) as tf.Tensor).dataSync());
    expectSameValues(b, a);
    layer.dispose();
  });

  test('a layer never built lets go of the subject density on dispose', () => {
    const before = tf.memory().numDataBuffers;
    const subject = makeSubject({ density: tf.mul(ct.density, 1) as tf.Tensor3D }); // a buffer of its own
    const layer = new DRRLayer({ subject, ...detector });
    subject.dispose();
    expect(tf.memory().numDataBuffers).toBe(before + 1); // the layer holds it
    expect(() => layer.dispose()).toThrow(/not been built/); // tf.js's message, after letting go
    expect(tf.memory().numDataBuffers).toBe(before);
  });
});

describe('DRRLayer refuses bad arguments by name', () => {
  test.each([
    [{ hieght: 32 }, /unknown option 'hieght' \(did you mean 'height'\?/],
    [{ parameterization: 'matrix' }, /parameterization: 'matrix' poses are \[B, 4, 4\]/],
    [{ parameterization: 'euler' }, /parameterization: expected one of/],
    [{ convention: 'ZZY' }, /convention: expected 3 letters/],
    [{ dataFormat: 'NHWC' }, /dataFormat: expected 'channelsLast' or 'channelsFirst', got "NHWC"/],
    [{ densityConstraint: 'nonNeg' }, /densityConstraint: constrains a trainable density; set trainableDensity: true/],
    [{ trainableDensity: true, densityConstraint: 'positive' }, /densityConstraint: expected 'nonNeg'/],
    [{ nPoints: 100 }, /nPoints: an option of the trilinear renderer/],
    [{ delx: -1 }, /delx: expected a finite number > 0, got -1/],
    [{ maskToChannels: true }, /maskToChannels: the subject has no labelmap/],
    [{ densityShape: [1, 2, 3] }, /densityShape: read from the subject/],
  ] as Array<[object, RegExp]>)('%j', (bad, message) => {
    expect(() => new DRRLayer({ subject: ct, ...detector, ...bad })).toThrow(message);
  });

  test('no subject and no geometry; renderer options checked when built; wrong input shapes', () => {
    expect(() => new DRRLayer({ ...detector })).toThrow(/expected a subject, or densityShape/);
    const badRenderer = new DRRLayer({ subject: ct, ...detector, voxelShift: 2 });
    expect(() => badRenderer.apply(tf.zeros([1, 6]))).toThrow(/voxelShift: expected a finite number in \[0, 1\], got 2/);
    const layer = new DRRLayer({ subject: ct, ...detector, parameterization: 'quaternion' });
    expect(() => layer.apply(tf.zeros([1, 6]))).toThrow(/expected input \[B, 7\] \(4 'quaternion' rotation parameters, then the translation's 3\), got \[1, 6\]/);
    expect(() => layer.computeOutputShape([null, 7, 1])).toThrow(/expected input \[B, 7\]/);
    expect(() => tf.sequential({ layers: [new DRRLayer({ subject: ct, ...detector, inputShape: [5] })] })).toThrow(/expected input \[B, 6\]/);
  });
});

describe('DRRLayer on the wasm backend', () => {
  afterAll(useCpuBackend);

  test('the image is DRR.forward on wasm; Dense -> DRRLayer trains under model.fit', async () => {
    await tf.setBackend('wasm');
    const subject = await loadExampleCt();
    const layer = new DRRLayer({ subject, ...detector, ...POSE });
    const drr = new DRR(subject, detector);
    const [out, ref] = tf.tidy(() => {
      const x = poses();
      return [layer.apply(x) as tf.Tensor, drr.forward(rotationOf(x), translationOf(x), POSE)];
    });
    expectSameValues(out.dataSync(), ref.dataSync());
    tf.dispose([out, ref]);
    layer.dispose();
    drr.dispose();

    const { model, drrLayer } = poseNet(subject, [0.08, -0.06, 0.05, 0, 850, 0]); // no convolution: wasm lacks Conv2DBackpropFilter
    const target = tf.tidy(() => drrLayer.apply(tf.tensor2d([[0, 0, 0, 0, 850, 0]])) as tf.Tensor);
    const x = tf.ones([1, 6]);
    model.compile({ optimizer: tf.train.adam(0.004), loss: 'meanSquaredError' });
    const loss = (await model.fit(x, target, { epochs: 6, batchSize: 1, verbose: 0 })).history.loss as number[];
    console.log(`wasm: Dense -> DRRLayer, model.fit: loss ${loss.map((l) => l.toExponential(2)).join(' -> ')}`);
    expect(loss[loss.length - 1]).toBeLessThan(0.8 * loss[0]);
    tf.dispose([target, x]);
    model.dispose();
    subject.dispose();
  });
});
