/**
 * fileSystem(path): model.save / tf.loadLayersModel through the local file system with no native
 * package. The files are tf.js's standard layout (model.json + weights.bin, as tfjs-node's file://
 * handler writes); a model loads from its folder, its model.json path or a file:// URL, with sharded
 * weights files too; a model's predictions and training config survive the trip; bad files are
 * refused naming the file.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { fileSystem, readConcatenated } from '../../lib/io/file_system_handler.js';
import { tempFolder } from '../helpers/temp_folder.js';

const temp = tempFolder('tfdrr-file-system-');

/** A small compiled Dense model with seeded weights. */
function denseModel(): tf.Sequential {
  const model = tf.sequential({
    layers: [tf.layers.dense({ inputShape: [3], units: 4, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }), tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) })],
  });
  model.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
  return model;
}

const input = () => tf.tensor2d([[0.1, -0.2, 0.3], [1, 2, 3]]);

async function predictBits(model: tf.LayersModel): Promise<Buffer> {
  const out = tf.tidy(() => model.predict(input()) as tf.Tensor);
  const values = (await out.data()) as Float32Array;
  out.dispose();
  return Buffer.from(values.buffer);
}

test('save writes model.json and weights.bin in tf.js standard layout; load gives the same model', async () => {
  const model = denseModel();
  const dir = temp.path('dense');
  const result = await model.save(fileSystem(dir));
  expect(result.modelArtifactsInfo.weightDataBytes).toBe((3 * 4 + 4 + 4 * 2 + 2) * 4);
  const json = JSON.parse(await readFile(`${dir}/model.json`, 'utf8'));
  expect(Object.keys(json).sort()).toEqual(['convertedBy', 'format', 'generatedBy', 'modelTopology', 'weightsManifest']);
  expect(json.format).toBe('layers-model');
  expect(json.weightsManifest).toHaveLength(1);
  expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
  expect(json.weightsManifest[0].weights.map((w: { name: string }) => w.name)).toEqual(model.weights.map((w) => w.originalName));
  expect((await stat(`${dir}/weights.bin`)).size).toBe(result.modelArtifactsInfo.weightDataBytes);
  for (const from of [dir, `${dir}/model.json`, `file://${dir}`]) {
    const loaded = await tf.loadLayersModel(fileSystem(from));
    expect(await predictBits(loaded)).toEqual(await predictBits(model));
    expect(loaded.getConfig()).toEqual(model.getConfig());
    loaded.dispose();
  }
  model.dispose();
});

test('saves over an earlier model in the same folder, and makes missing parent folders', async () => {
  const dir = temp.path('nested/deeper/model');
  const a = denseModel();
  await a.save(fileSystem(dir));
  const b = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2, kernelInitializer: 'ones' })] });
  await b.save(fileSystem(dir));
  const loaded = await tf.loadLayersModel(fileSystem(dir));
  expect(await predictBits(loaded)).toEqual(await predictBits(b));
  [a, b, loaded].forEach((m) => m.dispose());
});

test('weight data given as several buffers is written in order; a sharded manifest loads', async () => {
  const model = denseModel();
  let artifacts: tf.io.ModelArtifacts = {};
  await model.save(tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) })));
  const all = new Uint8Array(artifacts.weightData as ArrayBuffer);
  const buffers = [all.slice(0, 20).buffer, all.slice(20).buffer]; // split inside the first weight
  const dir = temp.path('buffers');
  await fileSystem(dir).save({ ...artifacts, weightData: buffers });
  const loaded = await tf.loadLayersModel(fileSystem(dir));
  expect(await predictBits(loaded)).toEqual(await predictBits(model));
  // shards: weights.bin split into two files listed in one group, the second longer than the first
  const bytes = await readFile(`${dir}/weights.bin`);
  await writeFile(`${dir}/shard1.bin`, bytes.subarray(0, 30));
  await writeFile(`${dir}/shard2.bin`, bytes.subarray(30));
  const json = JSON.parse(await readFile(`${dir}/model.json`, 'utf8'));
  json.weightsManifest[0].paths = ['shard1.bin', 'shard2.bin'];
  await writeFile(`${dir}/model.json`, JSON.stringify(json));
  const sharded = await tf.loadLayersModel(fileSystem(dir));
  expect(await predictBits(sharded)).toEqual(await predictBits(model));
  [model, loaded, sharded].forEach((m) => m.dispose());
});

test('weights files are read into pieces of one size whatever the files sizes (as tf.js CompositeArrayBuffer needs)', async () => {
  const sizes = [5, 17, 0, 9];
  const files = await Promise.all(sizes.map((n, i) => temp.file(`piece${i}.bin`, Uint8Array.from({ length: n }, (_, j) => (i * 50 + j) % 256))));
  const expected = Buffer.concat(await Promise.all(files.map((f) => readFile(f))));
  const pieces = await readConcatenated(files.map((path, i) => ({ path, size: sizes[i] })), 7);
  expect(pieces.map((p) => p.byteLength)).toEqual([7, 7, 7, 7, 3]);
  expect(Buffer.concat(pieces.map((p) => Buffer.from(p)))).toEqual(expected);
  const composite = new tf.io.CompositeArrayBuffer(pieces);
  expect(Buffer.from(composite.slice(6, 24))).toEqual(expected.subarray(6, 24));
});

describe('bad files are refused, naming the file', () => {
  let dir = '';
  beforeAll(async () => {
    dir = temp.path('bad');
    const model = denseModel();
    await model.save(fileSystem(dir));
    model.dispose();
  });

  /** A copy of the saved model in folder `name`, model.json edited by `edit`, weights.bin by `bytes`. */
  async function variant(name: string, edit: (json: tf.io.ModelJSON) => unknown, bytes?: (b: Buffer) => Buffer | null): Promise<string> {
    const to = temp.path(name);
    await mkdir(to, { recursive: true });
    const json = JSON.parse(await readFile(`${dir}/model.json`, 'utf8'));
    const edited = edit(json) ?? json;
    await writeFile(`${to}/model.json`, typeof edited === 'string' ? edited : JSON.stringify(edited));
    const weights = bytes ? bytes(await readFile(`${dir}/weights.bin`)) : await readFile(`${dir}/weights.bin`);
    if (weights !== null) await writeFile(`${to}/weights.bin`, weights);
    return to;
  }

  test('no folder, or no model.json in it', async () => {
    const missing = temp.path('nothing-here');
    await expect(tf.loadLayersModel(fileSystem(missing))).rejects.toThrow(`fileSystem(${missing}).load: no model.json at ${missing}/model.json`);
    const empty = temp.path('empty');
    await mkdir(empty);
    await expect(tf.loadLayersModel(fileSystem(`${empty}/model.json`))).rejects.toThrow(`no model.json at ${empty}/model.json`);
    await expect(tf.loadLayersModel(fileSystem(empty))).rejects.toThrow(`no model.json at ${empty}/model.json`);
  });

  test('model.json that is not JSON, or has no modelTopology', async () => {
    const corrupt = await variant('corrupt-json', () => '{"modelTopology": {"class_name": "Seq');
    await expect(tf.loadLayersModel(fileSystem(corrupt))).rejects.toThrow(new RegExp(`${corrupt}/model.json is not valid JSON \\(.*\\); it is corrupt or not a model.json`));
    const noTopology = await variant('no-topology', (j) => ({ ...j, modelTopology: undefined }));
    await expect(tf.loadLayersModel(fileSystem(noTopology))).rejects.toThrow(`${noTopology}/model.json has no modelTopology object`);
  });

  test('a missing, truncated or too long weights file', async () => {
    const noWeights = await variant('no-weights', () => undefined, () => null);
    await expect(tf.loadLayersModel(fileSystem(noWeights))).rejects.toThrow(`weights file ${noWeights}/weights.bin (listed in ${noWeights}/model.json) does not exist`);
    const truncated = await variant('truncated', () => undefined, (b) => b.subarray(0, b.length - 4));
    await expect(tf.loadLayersModel(fileSystem(truncated))).rejects.toThrow(
      new RegExp(`weights file ${truncated}/weights.bin holds 100 bytes, but ${truncated}/model.json lists weights of 104 bytes \\(dense_Dense\\d+/kernel \\[3, 4\\] float32, .*\\): the file is truncated, corrupt or another model's`),
    );
    const long = await variant('long', () => undefined, (b) => Buffer.concat([b, Buffer.alloc(8)]));
    await expect(tf.loadLayersModel(fileSystem(long))).rejects.toThrow(/holds 112 bytes, but .* lists weights of 104 bytes/);
  });

  test('a bad manifest: not an array, an entry with no shape or an unknown dtype, a weight listed twice', async () => {
    const notArray = await variant('manifest-object', (j) => ({ ...j, weightsManifest: { paths: ['weights.bin'] } }));
    await expect(tf.loadLayersModel(fileSystem(notArray))).rejects.toThrow(/weightsManifest must be an array of \{ paths, weights \} groups/);
    const noShape = await variant('no-shape', (j) => void delete (j.weightsManifest[0].weights[0] as Partial<tf.io.WeightsManifestEntry>).shape);
    await expect(tf.loadLayersModel(fileSystem(noShape))).rejects.toThrow(/weightsManifest\[0\]: expected a weight entry \{ name, shape: non-negative integers, dtype \}/);
    const float64 = await variant('float64', (j) => void ((j.weightsManifest[0].weights[0] as { dtype: string }).dtype = 'float64'));
    await expect(tf.loadLayersModel(fileSystem(float64))).rejects.toThrow(/weight 'dense_Dense\d+\/kernel' has dtype "float64"; expected float32, int32, bool, complex64 or string/);
    const twice = await variant('twice', (j) => void (j.weightsManifest[0].weights[1].name = j.weightsManifest[0].weights[0].name));
    await expect(tf.loadLayersModel(fileSystem(twice))).rejects.toThrow(/weight 'dense_Dense\d+\/kernel' is listed twice/);
  });

  test('a weight name the model does not have (tf.loadLayersModel)', async () => {
    const renamed = await variant('renamed', (j) => void (j.weightsManifest[0].weights[0].name += 'x'));
    await expect(tf.loadLayersModel(fileSystem(renamed))).rejects.toThrow(/Provided weight data has no target variable: dense_Dense\d+\/kernelx/);
  });

  test('saving onto a file', async () => {
    const file = temp.path('a-file');
    await writeFile(file, 'x');
    const model = denseModel();
    await expect(model.save(fileSystem(file))).rejects.toThrow(`fileSystem(${file}).save: the path exists and is not a folder`);
    model.dispose();
    await rm(file);
  });
});
