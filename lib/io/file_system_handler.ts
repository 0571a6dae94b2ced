/**
 * `fileSystem(path)`: a `tf.io.IOHandler` that saves a model to a folder and loads it back, in
 * Node, with no native package (`@tensorflow/tfjs` has no `file://` handler without tfjs-node).
 *
 * The layout is tf.js's standard one, the files tfjs-node's `file://` handler writes and reads, so
 * either loads what the other saved:
 *
 *     <dir>/model.json   { modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: [...] }],
 *                          format, generatedBy, convertedBy, trainingConfig?, userDefinedMetadata?, ... }
 *     <dir>/weights.bin  every weight's bytes, concatenated in manifest order (little-endian)
 *
 * Loading checks the files before tf.js decodes them, and names the file in every error: a missing
 * or unparsable model.json, a manifest entry that is not a weight (name, shape, dtype), a weight
 * named twice, a missing weights file, and a weights file whose length is not what the manifest's
 * shapes and dtypes need (truncated, or another model's). A weight name the model does not have is
 * refused by `tf.loadLayersModel` itself ("Provided weight data has no target variable: ...").
 */
import * as tf from '@tensorflow/tfjs';
import { mkdir, open, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

/** The topology and manifest file, in the folder. */
export const MODEL_JSON_FILENAME = 'model.json';
/** The weights file, in the folder. */
export const WEIGHTS_BINARY_FILENAME = 'weights.bin';

/** Bytes per element of each weight dtype (strings have no fixed size); of a quantized weight, its quantization dtype's. */
const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

/** The weights are read into ArrayBuffers of this size (Node reads at most 2 GiB at once; see `readConcatenated`). */
const READ_CHUNK_BYTES = 2 ** 30;

/** `path` without a leading `file://`, made absolute. */
function localPath(path: string): string {
  if (typeof path !== 'string' || path.length === 0) throw new Error(`fileSystem: expected a folder path, got ${JSON.stringify(path)}`);
  return resolve(path.startsWith('file://') ? path.slice('file://'.length) : path);
}

/** `stat(path)`, or null when nothing is there. */
async function statOrNull(path: string): Promise<Awaited<ReturnType<typeof stat>> | null> {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** The weight buffers of `data` (none, one, or several in order). */
function buffersOf(data: tf.io.WeightData | undefined): ArrayBuffer[] {
  return data === undefined ? [] : Array.isArray(data) ? data : [data];
}

/** Writes `buffers` one after the other to `path` (no concatenated copy). */
async function writeBuffers(path: string, buffers: ArrayBuffer[]): Promise<void> {
  const file = await open(path, 'w');
  try {
    for (const b of buffers) await file.write(new Uint8Array(b));
  } finally {
    await file.close();
  }
}

/**
 * The bytes of `files`, concatenated, as ArrayBuffers of `chunkBytes` (default
 * {@link READ_CHUNK_BYTES}; the last one shorter): tf.js's `CompositeArrayBuffer` finds a byte's buffer by dividing by the first buffer's
 * length when all but the last have that length, so the pieces must be of one size, whatever the
 * files' sizes (one per file would misplace bytes when a later file is longer than the first).
 */
export async function readConcatenated(files: ReadonlyArray<{ path: string; size: number }>, chunkBytes = READ_CHUNK_BYTES): Promise<ArrayBuffer[]> {
  const total = files.reduce((a, f) => a + f.size, 0);
  const chunks = Array.from({ length: Math.max(1, Math.ceil(total / chunkBytes)) }, (_, i) => new Uint8Array(Math.min(chunkBytes, total - i * chunkBytes)));
  let at = 0; // bytes of the concatenation filled
  for (const { path, size } of files) {
    const file = await open(path, 'r');
    try {
      for (let done = 0; done < size; ) {
        const chunk = chunks[Math.floor(at / chunkBytes)];
        const offset = at % chunkBytes;
        const { bytesRead } = await file.read(chunk, offset, Math.min(chunk.length - offset, size - done), done);
        if (bytesRead === 0) throw new Error(`fileSystem: ${path} ended after ${done} bytes, expected ${size} (was it changed while being read?)`);
        done += bytesRead;
        at += bytesRead;
      }
    } finally {
      await file.close();
    }
  }
  return chunks.map((c) => c.buffer as ArrayBuffer);
}

/**
 * The byte length of a manifest entry, or null for a string weight (variable length); throws,
 * naming `where`, unless it is a weight entry (name, shape of non-negative integers, known dtype).
 */
function entryBytes(entry: unknown, where: string): number | null {
  const e = entry as Partial<tf.io.WeightsManifestEntry> | null;
  const show = JSON.stringify(entry)?.slice(0, 200);
  if (e === null || typeof e !== 'object' || typeof e.name !== 'string' || !Array.isArray(e.shape) || !e.shape.every((n) => Number.isInteger(n) && n >= 0)) {
    throw new Error(`${where}: expected a weight entry { name, shape: non-negative integers, dtype }, got ${show}`);
  }
  if (e.dtype === 'string') return null;
  const dtype = e.quantization?.dtype ?? e.dtype;
  const bytes = typeof dtype === 'string' ? BYTES_PER_ELEMENT[dtype] : undefined;
  if (bytes === undefined) throw new Error(`${where}: weight '${e.name}' has dtype ${JSON.stringify(dtype)}; expected float32, int32, bool, complex64 or string (quantized: uint8, uint16, float16)`);
  return bytes * e.shape.reduce((a, n) => a * n, 1);
}

/** The handler {@link fileSystem} returns. */
export class FileSystemHandler implements tf.io.IOHandler {
  /** The folder (absolute): saved into; loaded from (or, when a file is given, that model.json). */
  readonly path: string;

  constructor(path: string) {
    this.path = localPath(path);
  }

  /**
   * Writes `model.json` and `weights.bin` into the folder (made, with its parents, if missing;
   * files of the same names are replaced). The weights go first and model.json last, each written
   * to a temporary name and renamed, so a model.json on disk always has its weights.
   *
   * @throws if the path is a file, or the topology is binary (a graph model's protobuf).
   */
  async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
    if (artifacts.modelTopology instanceof ArrayBuffer) throw new Error(`fileSystem(${this.path}).save: binary (protobuf) model topologies are not supported; save a LayersModel`);
    const info = await statOrNull(this.path);
    if (info !== null && !info.isDirectory()) throw new Error(`fileSystem(${this.path}).save: the path exists and is not a folder; give a folder (made if missing)`);
    await mkdir(this.path, { recursive: true });
    const { weightSpecs, weightData, getWeightStream: _stream, ...rest } = artifacts;
    const modelJson: tf.io.ModelJSON = {
      ...(rest as Omit<tf.io.ModelJSON, 'weightsManifest'>),
      modelTopology: artifacts.modelTopology ?? {},
      weightsManifest: [{ paths: [WEIGHTS_BINARY_FILENAME], weights: weightSpecs ?? [] }],
    };
    const weightsPath = join(this.path, WEIGHTS_BINARY_FILENAME);
    const jsonPath = join(this.path, MODEL_JSON_FILENAME);
    await writeBuffers(`${weightsPath}.tmp`, buffersOf(weightData));
    await rename(`${weightsPath}.tmp`, weightsPath);
    await writeFile(`${jsonPath}.tmp`, JSON.stringify(modelJson), 'utf8');
    await rename(`${jsonPath}.tmp`, jsonPath);
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
  }

  /**
   * Reads `model.json` (in the folder, or the file given) and the weights files its manifest lists
   * (relative to model.json's folder), after checking them (see the module comment).
   *
   * @throws naming the file: missing, not JSON, no modelTopology, a bad manifest, or a weights file
   *   missing or of the wrong length.
   */
  async load(): Promise<tf.io.ModelArtifacts> {
    const info = await statOrNull(this.path);
    const isJson = info === null ? this.path.endsWith('.json') : !info.isDirectory();
    const jsonPath = isJson ? this.path : join(this.path, MODEL_JSON_FILENAME);
    const where = `fileSystem(${this.path}).load`;
    if ((isJson ? info : await statOrNull(jsonPath)) === null) {
      throw new Error(`${where}: no ${MODEL_JSON_FILENAME} at ${jsonPath} (save a model there with model.save(fileSystem(folder)))`);
    }
    let modelJson: tf.io.ModelJSON;
    try {
      modelJson = JSON.parse(await readFile(jsonPath, 'utf8'));
    } catch (err) {
      throw new Error(`${where}: ${jsonPath} is not valid JSON (${(err as Error).message}); it is corrupt or not a model.json`);
    }
    if (modelJson === null || typeof modelJson !== 'object' || modelJson.modelTopology == null || typeof modelJson.modelTopology !== 'object') {
      throw new Error(`${where}: ${jsonPath} has no modelTopology object; it is not a tf.js model.json`);
    }
    return tf.io.getModelArtifactsForJSON(modelJson, (manifest) => this.loadWeights(manifest, jsonPath, where));
  }

  /** The weight entries and bytes of `manifest`, each group's files checked against its entries. */
  private async loadWeights(manifest: unknown, jsonPath: string, where: string): Promise<[tf.io.WeightsManifestEntry[], tf.io.WeightData]> {
    if (!Array.isArray(manifest)) throw new Error(`${where}: ${jsonPath}: weightsManifest must be an array of { paths, weights } groups, got ${JSON.stringify(manifest)?.slice(0, 200)}`);
    const specs: tf.io.WeightsManifestEntry[] = [];
    const allFiles: Array<{ path: string; size: number }> = [];
    const names = new Set<string>();
    for (const [g, group] of manifest.entries()) {
      const at = `${where}: ${jsonPath}: weightsManifest[${g}]`;
      if (group === null || typeof group !== 'object' || !Array.isArray(group.paths) || !group.paths.every((p: unknown) => typeof p === 'string') || !Array.isArray(group.weights)) {
        throw new Error(`${at}: expected { paths: string[], weights: [...] }, got ${JSON.stringify(group)?.slice(0, 200)}`);
      }
      let need: number | null = 0;
      for (const entry of group.weights) {
        const bytes = entryBytes(entry, at);
        need = need === null || bytes === null ? null : need + bytes;
        if (names.has(entry.name)) throw new Error(`${at}: weight '${entry.name}' is listed twice`);
        names.add(entry.name);
      }
      const files: Array<{ path: string; size: number }> = [];
      for (const p of group.paths as string[]) {
        const path = join(dirname(jsonPath), p);
        const s = await statOrNull(path);
        if (s === null || !s.isFile()) throw new Error(`${where}: weights file ${path} (listed in ${jsonPath}) ${s === null ? 'does not exist' : 'is not a file'}`);
        files.push({ path, size: Number(s.size) });
      }
      const have = files.reduce((a, f) => a + f.size, 0);
      if (need !== null && have !== need) {
        const listed = group.weights.map((w: tf.io.WeightsManifestEntry) => `${w.name} [${w.shape.join(', ')}] ${w.quantization?.dtype ?? w.dtype}`).join(', ');
        throw new Error(`${where}: weights file ${files.map((f) => f.path).join(' + ')} holds ${have} bytes, but ${jsonPath} lists weights of ${need} bytes (${listed}): the file is truncated, corrupt or another model's`);
      }
      allFiles.push(...files);
      specs.push(...group.weights);
    }
    const buffers = await readConcatenated(allFiles);
    return [specs, buffers.length === 1 ? buffers[0] : buffers];
  }
}

/**
 * A handler for `model.save` and `tf.loadLayersModel` on the local file system (Node):
 *
 * ```ts
 * await model.save(fileSystem('models/pose-net'));            // writes model.json and weights.bin
 * const loaded = await tf.loadLayersModel(fileSystem('models/pose-net'));
 * ```
 *
 * @param path the folder to save into (made if missing) or load from; loading also takes the path
 *   of a model.json (as tfjs-node's `file://` does). A leading `file://` is ignored.
 */
export function fileSystem(path: string): FileSystemHandler {
  return new FileSystemHandler(path);
}
