/**
 * Saving and loading models that hold a DRRLayer: the config is JSON and builds the same layer
 * (every option, including the strings tf.js re-cases); model.save / tf.loadLayersModel round-trip
 * through memory (tf.io.withSaveHandler / tf.io.fromMemory) and through files (fileSystem), and the
 * loaded model renders the same images to the bit (Siddon and Trilinear, label channels with the
 * mask weight, a trained non-negative density); a weights file of another volume, a corrupt one or
 * one with an unknown weight is refused with a clear error.
 */
import * as tf from '@tensorflow/tfjs';
import { readFile, writeFile } from 'node:fs/promises';
import '../../kernels/register_all_kernels.js';
import { fileSystem } from '../../lib/io/file_system_handler.js';
import { loadExampleCt } from '../../lib/io/example_ct.js';
import { DRRLayer } from '../../lib/models/drr_layer.js';
import type { DRRLayerArgs } from '../../lib/models/drr_layer_config.js';
import { makeSubject, type Subject } from '../../lib/subject.js';
import { tempFolder } from '../helpers/temp_folder.js';

const temp = tempFolder('tfdrr-drr-layer-');

let ct: Subject;
let small: Subject;
beforeAll(async () => {
  ct = await loadExampleCt({ orientation: 'PA' });
  small = await loadExampleCt({ small: true, withLabelmap: true });
});
afterAll(() => {
  ct.dispose();
  small.dispose();
});

/** Every tf.js model.save artifact of `model`, kept in memory. */
async function saveToMemory(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts = {};
  await model.save(tf.io.withSaveHandler(async (artifacts) => ((saved = artifacts), { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) })));
  return saved;
}

/** The bytes of a float array (its own bytes only, not the whole buffer it may view). */
const bytesOf = (a: ArrayLike<number>) => Buffer.from(new Uint8Array(Float32Array.from(a).buffer));

/** The model's images for `x`, as bytes. */
function imageBytes(model: tf.LayersModel, x: tf.Tensor): Buffer {
  const out = tf.tidy(() => model.predict(x) as tf.Tensor);
  const bytes = bytesOf(out.dataSync());
  out.dispose();
  return bytes;
}

/** Rotation parameters of two poses for a parameterization (non-degenerate). */
function rotations(parameterization: string | undefined): number[][] {
  return parameterization === 'rotation_6d' ? [[1, 0.1, 0, -0.1, 1, 0.2], [0.9, 0, 0.1, 0, 1, 0]] : [[0.1, -0.2, 0.3], [0, 0.4, -0.1]];
}

/** Two poses `[2, k + 3]` for `args`. */
function posesFor(args: DRRLayerArgs): tf.Tensor2D {
  const t = args.subject?.orientation === 'PA' ? [[5, -850, -10], [-20, -800, 15]] : [[5, 850, -10], [-20, 800, 15]];
  return tf.tensor2d(rotations(args.parameterization).map((r, i) => [...r, ...t[i]]));
}

/**
 * Input [B, 6] -> Dense(k + 3) -> DRRLayer(args): a pose-to-image model whose Dense layer (small
 * seeded kernel) puts out about the first pose of {@link posesFor}.
 */
function poseNet(args: DRRLayerArgs): tf.Sequential {
  const layer = new DRRLayer(args);
  const dense = tf.layers.dense({ inputShape: [6], units: layer.inputWidth, kernelInitializer: tf.initializers.randomUniform({ minval: -0.01, maxval: 0.01, seed: 1 }) });
  const model = tf.sequential({ layers: [dense, layer] });
  const first = tf.tidy(() => posesFor(args).slice([0, 0], [1, layer.inputWidth]).reshape([layer.inputWidth]));
  dense.setWeights([dense.getWeights()[0], first]);
  first.dispose();
  return model;
}

const x = () => tf.tensor2d([[1, 0, 0, 0, 0, 0], [0, 1, 1, 0, 0, 1]]);

// Options away from every default, the strings among them re-cased by tf.js on the way
const cases: Array<[string, () => DRRLayerArgs]> = [
  ['siddon: rotation_6d, PA, channelsFirst, x0/y0, no x reversal, voxelShift 0, alpha [0, 1], max', () => ({
    subject: ct, sdd: 1020, height: 20, width: 18, delx: 16, dely: 17, x0: 3, y0: -2, reverseXAxis: false, voxelShift: 0, alphaMin: 0, alphaMax: 1, reducefn: 'max',
    parameterization: 'rotation_6d', dataFormat: 'channelsFirst', name: 'renderer',
  })],
  ['trilinear: euler XZY in degrees, nPoints, alphamin/alphamax, patches', () => ({
    subject: ct, sdd: 1020, height: 16, delx: 20, renderer: 'trilinear', nPoints: 40, alphamin: 0.2, alphamax: 0.9, patchSize: 5,
    parameterization: 'euler_angles', convention: 'XZY', degrees: true,
  })],
  ['label channels: the mask is a second weight', () => ({ subject: small, sdd: 1020, height: 16, delx: 20, maskToChannels: true })],
];

describe('DRRLayer config', () => {
  test.each(cases)('%s: getConfig is JSON and rebuilds the same layer', (_, args) => {
    const a = args();
    const layer = new DRRLayer(a);
    const config = layer.getConfig();
    expect(JSON.parse(JSON.stringify(config))).toEqual(config);
    expect(config).not.toHaveProperty('subject');
    const again = new DRRLayer(config as unknown as DRRLayerArgs);
    expect(again.getConfig()).toEqual(config);
    // weights handed over with setWeights: the same images
    const input = posesFor(a);
    const first = tf.tidy(() => bytesOf((layer.apply(input) as tf.Tensor).dataSync()));
    again.apply(input); // builds
    again.setWeights(layer.getWeights());
    const second = tf.tidy(() => bytesOf((again.apply(input) as tf.Tensor).dataSync()));
    expect(second.equals(first)).toBe(true);
    tf.dispose(input);
    [layer, again].forEach((l) => l.dispose());
  });

  test('any tf.js constraint goes into the config and back (maxNorm)', async () => {
    const constraint = tf.constraints.maxNorm({ maxValue: 1000, axis: 0 });
    const model = tf.sequential({ layers: [new DRRLayer({ subject: small, sdd: 1020, height: 16, delx: 20, trainableDensity: true, densityConstraint: constraint, inputShape: [6] })] });
    const config = model.layers[0].getConfig();
    expect(config.densityConstraint).toEqual({ className: 'MaxNorm', config: constraint.getConfig() });
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(await saveToMemory(model)));
    expect(loaded.layers[0].getConfig()).toEqual(config);
    [model, loaded].forEach((m) => m.dispose());
  });

  test('the config holds the geometry; the weights the volume (and the mask)', () => {
    const layer = new DRRLayer({ subject: small, sdd: 1020, height: 16, delx: 20, maskToChannels: true, inputShape: [6] });
    const model = tf.sequential({ layers: [layer] });
    const config = layer.getConfig();
    expect(config.densityShape).toEqual(small.density.shape);
    expect(config.affine).toEqual(Array.from(small.affine));
    expect(config.reorient).toEqual(Array.from(small.reorient));
    expect(config.orientation).toBe('AP');
    expect(config.labelChannels).toBe(small.labelChannels);
    expect(layer.weights.map((w) => w.originalName)).toEqual([`${layer.name}/density`, `${layer.name}/mask`]);
    expect(layer.trainableWeights).toHaveLength(0);
    model.dispose();
  });
});

describe('model.save / tf.loadLayersModel', () => {
  test.each(cases)('%s: through memory, the same images to the bit', async (_, args) => {
    const model = poseNet(args());
    const artifacts = await saveToMemory(model);
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    const input = x();
    expect(loaded.layers[1]).toBeInstanceOf(DRRLayer);
    expect(loaded.layers[1].getConfig()).toEqual(model.layers[1].getConfig());
    expect(imageBytes(loaded, input).equals(imageBytes(model, input))).toBe(true);
    input.dispose();
    [model, loaded].forEach((m) => m.dispose());
  });

  test('a functional model (tf.model) through files (fileSystem): the same images; the weights file is the volume', async () => {
    const args = { subject: ct, sdd: 1020, height: 24, delx: 16 };
    const input = tf.input({ shape: [6] });
    const dense = tf.layers.dense({ units: 6, kernelInitializer: tf.initializers.randomUniform({ minval: -0.01, maxval: 0.01, seed: 2 }) });
    const model = tf.model({ inputs: input, outputs: new DRRLayer(args).apply(dense.apply(input)) as tf.SymbolicTensor });
    dense.setWeights([dense.getWeights()[0], tf.tidy(() => posesFor(args).slice([0, 0], [1, 6]).reshape([6]))]);
    const dir = temp.path('pose-net');
    await model.save(fileSystem(dir));
    const json = JSON.parse(await readFile(`${dir}/model.json`, 'utf8'));
    const weights = json.weightsManifest[0].weights as tf.io.WeightsManifestEntry[];
    expect(weights.map((w) => w.shape)).toEqual([[6, 6], [6], ct.density.shape]);
    expect(weights.map((w) => w.dtype)).toEqual(['float32', 'float32', 'float32']);
    const loaded = await tf.loadLayersModel(fileSystem(`${dir}/model.json`));
    expect(loaded.layers.map((l) => l.getClassName())).toEqual(['InputLayer', 'Dense', 'DRRLayer']);
    const poses = x();
    expect(imageBytes(loaded, poses).equals(imageBytes(model, poses))).toBe(true);
    poses.dispose();
    [model, loaded].forEach((m) => m.dispose());
  });

  test('a trained non-negative density round-trips with its constraint, and trains on after loading', async () => {
    const subject = makeSubject({ density: Float32Array.from({ length: 512 }, (_, i) => 0.05 + (i % 7) / 70), shape: [8, 8, 8], affine: [[4, 0, 0, -14], [0, 4, 0, -14], [0, 0, 4, -14], [0, 0, 0, 1]] });
    const layer = new DRRLayer({ subject, sdd: 200, height: 8, delx: 8, trainableDensity: true, densityConstraint: 'nonNeg', inputShape: [6] });
    const model = tf.sequential({ layers: [layer] });
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
    const input = tf.tensor2d([[0, 0, 0, 0, 100, 0]]);
    const target = tf.zeros([1, 8, 8, 1]);
    await model.fit(input, target, { epochs: 3, verbose: 0 });
    layer.applyDensityConstraint(); // the last step's update, projected before saving
    const dir = temp.path('reconstruction');
    await model.save(fileSystem(dir));
    const loaded = await tf.loadLayersModel(fileSystem(dir));
    const loadedLayer = loaded.layers[0] as DRRLayer;
    expect(loadedLayer.getConfig().densityConstraint).toEqual({ className: 'NonNeg', config: {} });
    expect(loadedLayer.trainableWeights).toHaveLength(1);
    expect(Array.from(loadedLayer.getWeights()[0].dataSync())).toEqual(Array.from(layer.getWeights()[0].dataSync()));
    expect(imageBytes(loaded, input).equals(imageBytes(model, input))).toBe(true);
    loaded.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
    const more = (await loaded.fit(input, target, { epochs: 2, verbose: 0 })).history.loss as number[];
    expect(more[1]).toBeLessThan(more[0]);
    tf.dispose([input, target]);
    [model, loaded].forEach((m) => m.dispose());
    subject.dispose();
  });
});

describe('bad weights are refused clearly', () => {
  let artifacts: tf.io.ModelArtifacts;
  let dir = '';
  beforeAll(async () => {
    const model = poseNet({ subject: small, sdd: 1020, height: 16, delx: 20 });
    artifacts = await saveToMemory(model);
    dir = temp.path('bad');
    await model.save(fileSystem(dir));
    model.dispose();
  });

  test('a weights file of another volume (same bytes, other shape)', async () => {
    const specs = artifacts.weightSpecs!.map((s) => (s.name.endsWith('/density') ? { ...s, shape: [...s.shape].reverse() } : s));
    await expect(tf.loadLayersModel(tf.io.fromMemory({ ...artifacts, weightSpecs: specs }))).rejects.toThrow(
      /DRRLayer '.*': weight '.*\/density' has the shape \[122, 101, 30\] of the config's densityShape; got a value of shape \[30, 101, 122\]/,
    );
  });

  test('an unknown weight name', async () => {
    const specs = artifacts.weightSpecs!.map((s) => (s.name.endsWith('/density') ? { ...s, name: `${s.name}_old` } : s));
    await expect(tf.loadLayersModel(tf.io.fromMemory({ ...artifacts, weightSpecs: specs }))).rejects.toThrow(/Provided weight data has no target variable: .*\/density_old/);
  });

  test('a truncated weights file', async () => {
    const bytes = await readFile(`${dir}/weights.bin`);
    await writeFile(`${dir}/weights.bin`, bytes.subarray(0, bytes.length - 1000));
    await expect(tf.loadLayersModel(fileSystem(dir))).rejects.toThrow(/weights file .*weights.bin holds \d+ bytes, but .*model.json lists weights of \d+ bytes \(.*\/density \[122, 101, 30\] float32\): the file is truncated, corrupt or another model's/);
  });
});
