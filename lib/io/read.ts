/**
 * `read()`: a CT (and optional labelmap) to a {@link Subject}, following DiffDRR's `read(...)`
 * (conventions note section 1). Order of the steps, as DiffDRR:
 * 1. read the volume (and labelmap) with the nibabel affine `A` (`nifti_file.ts`);
 * 2. optional `transform`: `A <- T A`;
 * 3. HU -> density on the raw volume values (`hu_to_density.ts`);
 * 4. the reorientation matrix of `orientation` (`geometry/orientation.ts`);
 * 5. `centerVolume`: `A <- Tr(-c) A` with `c = A (N - 1)/2`, the world position of the middle
 *    voxel's centre;
 * 6. `labels`: density and mask multiplied by `keep = (mask is one of labels)`;
 * 7. density and mask to C-order `[X, Y, Z]` float32 tensors.
 */
import * as tf from '@tensorflow/tfjs';
import { invertAffine4, matrix4, multiply4, type Matrix4 } from '../geometry/matrix4.js';
import { reorientationMatrix, type Orientation } from '../geometry/orientation.js';
import { checkVoxelSpacing } from '../geometry/voxel_spacing.js';
import { countLabelChannels, type Subject } from '../subject.js';
import { huToDensity } from './hu_to_density.js';
import { niftiToCOrder, readNifti, type NiftiVolume } from './nifti_file.js';

/** Options of {@link read}. */
export interface ReadOptions {
  /** Camera orientation relative to the patient: `'AP'`, `'PA'` or `null` (identity). Default `'AP'`. */
  orientation?: Orientation;
  /** Factor applied to bone voxels (HU > 350) before normalisation; finite and > 0. Default `1`. */
  boneAttenuationMultiplier?: number;
  /** Move the world origin to the centre of the middle voxel. Default `true`. */
  centerVolume?: boolean;
  /** A labelmap NIfTI (path or bytes) with the CT's shape; gives `Subject.mask`. Default none. */
  labelmap?: string | Uint8Array | ArrayBuffer;
  /** Keep only voxels whose label is one of these integers (needs `labelmap`). Default: keep all. */
  labels?: number | number[];
  /** A 4x4 (row-major, last row `0 0 0 1`) applied to the file affine first: `A <- T A`. Default none. */
  transform?: Matrix4 | number[][];
}

const KNOWN_OPTIONS = ['orientation', 'boneAttenuationMultiplier', 'centerVolume', 'labelmap', 'labels', 'transform'];

/**
 * Reads a CT volume (NIfTI, HU values) into a {@link Subject}, as DiffDRR's `read()`.
 *
 * Voxel sizes (of the file's affine, and after `transform`) must lie in 1e-4 mm to 1e4 mm per
 * index axis (`VOXEL_SIZE_RANGE_MM`, `geometry/voxel_spacing.ts`).
 *
 * @param pathOrBytes The CT file path, or its bytes (`.nii` or `.nii.gz`).
 * @param options See {@link ReadOptions}; every field has a default.
 * @returns The subject; call `dispose()` to free its tensors.
 * @throws Error for invalid options, unreadable or hostile files (the message names the file and
 *   the field: see `readNifti`), voxel sizes outside the range, a NaN, infinite or constant volume
 *   (naming the file, and a NaN voxel's `(i, j, k)`), or a labelmap whose shape or axis
 *   orientation differs from the CT's.
 */
export async function read(pathOrBytes: string | Uint8Array | ArrayBuffer, options: ReadOptions = {}): Promise<Subject> {
  const opts = validateOptions(options);
  const [volume, labelmap] = await Promise.all([
    readNifti(pathOrBytes),
    opts.labelmap === undefined ? undefined : readNifti(opts.labelmap),
  ]);
  if (labelmap) {
    checkLabelmapMatches(volume, labelmap);
    checkLabelsFinite(labelmap);
  }

  let affine = opts.transform ? multiply4(opts.transform, volume.affine) : volume.affine;
  if (opts.transform) checkVoxelSpacing(affine, `read(${volume.source}): transform x the ${volume.affineSource} affine`);
  const density = huToDensity(volume.data, opts.boneAttenuationMultiplier, { name: `read(${volume.source})`, dims: volume.dims });
  const reorient = reorientationMatrix(opts.orientation);
  if (opts.centerVolume) affine = centred(affine, volume.dims);
  const mask = labelmap?.data;
  if (mask && opts.labels) keepLabels(opts.labels, mask, density);

  const densityTensor = tf.tensor3d(niftiToCOrder(density, volume.dims), volume.dims, 'float32');
  const maskTensor = mask ? tf.tensor3d(niftiToCOrder(mask, volume.dims), volume.dims, 'float32') : undefined;
  return {
    density: densityTensor,
    affine,
    orientation: opts.orientation,
    reorient,
    ...(maskTensor && mask ? { mask: maskTensor, labelChannels: labelChannelsOrUndefined(mask) } : {}),
    dispose() {
      densityTensor.dispose();
      maskTensor?.dispose();
    },
  };
}

/** The label channels of a labelmap, or undefined when a label is not a non-negative integer (maskToChannels then says so). */
function labelChannelsOrUndefined(labels: Float32Array): number | undefined {
  try {
    return countLabelChannels(labels);
  } catch {
    return undefined;
  }
}

/**
 * `Tr(-c) A` with `c = A (N - 1)/2`: the 3x3 part is kept and the translation becomes
 * `-L (N - 1)/2` (`L` the 3x3 part), computed without the file's translation `t`: subtracting
 * `t + L (N - 1)/2` from `t` loses the volume's extent when `|t|` is huge (1e20 mm in a hostile
 * header moved the volume by half its size).
 */
function centred(affine: Matrix4, dims: readonly [number, number, number]): Matrix4 {
  const half = dims.map((n) => (n - 1) / 2);
  const out = Float64Array.from(affine);
  for (let r = 0; r < 3; r++) out[4 * r + 3] = -(affine[4 * r] * half[0] + affine[4 * r + 1] * half[1] + affine[4 * r + 2] * half[2]);
  return out;
}

/** `density *= keep`, `mask *= keep` with `keep = mask in labels` (in place). */
function keepLabels(labels: number[], mask: Float32Array, density: Float32Array): void {
  const wanted = new Set(labels);
  for (let n = 0; n < mask.length; n++) {
    if (!wanted.has(mask[n])) {
      mask[n] = 0;
      density[n] = 0;
    }
  }
}

interface ValidOptions {
  orientation: Orientation;
  boneAttenuationMultiplier: number;
  centerVolume: boolean;
  labelmap?: string | Uint8Array | ArrayBuffer;
  labels?: number[];
  transform?: Matrix4;
}

function validateOptions(options: ReadOptions): ValidOptions {
  if (options === null || typeof options !== 'object') throw new Error(`read: options must be an object, got ${String(options)}`);
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.includes(key)) throw new Error(`read: unknown option '${key}' (known: ${KNOWN_OPTIONS.join(', ')})`);
  }
  const orientation = options.orientation === undefined ? 'AP' : options.orientation;
  if (orientation !== 'AP' && orientation !== 'PA' && orientation !== null) {
    throw new Error(`read: orientation must be 'AP', 'PA' or null, got ${JSON.stringify(orientation)}`);
  }
  const boneAttenuationMultiplier = options.boneAttenuationMultiplier ?? 1;
  if (typeof boneAttenuationMultiplier !== 'number' || !Number.isFinite(boneAttenuationMultiplier) || !(boneAttenuationMultiplier > 0)) {
    throw new Error(`read: boneAttenuationMultiplier must be a finite number > 0, got ${String(boneAttenuationMultiplier)}`);
  }
  const centerVolume = options.centerVolume ?? true;
  if (typeof centerVolume !== 'boolean') throw new Error(`read: centerVolume must be a boolean, got ${String(centerVolume)}`);
  let labels: number[] | undefined;
  if (options.labels !== undefined) {
    labels = typeof options.labels === 'number' ? [options.labels] : options.labels;
    if (!Array.isArray(labels) || labels.length === 0 || !labels.every(Number.isInteger)) {
      throw new Error(`read: labels must be an integer or a non-empty array of integers, got ${JSON.stringify(options.labels)}`);
    }
    if (options.labelmap === undefined) throw new Error('read: labels were given without a labelmap');
  }
  return {
    orientation,
    boneAttenuationMultiplier,
    centerVolume,
    labelmap: options.labelmap,
    labels,
    transform: options.transform === undefined ? undefined : validTransform(options.transform),
  };
}

function validTransform(t: Matrix4 | number[][]): Matrix4 {
  let m: Matrix4;
  try {
    m = matrix4(t);
  } catch (e) {
    throw new Error(`read: transform must be a 4x4 matrix (${(e as Error).message})`);
  }
  if (m[12] !== 0 || m[13] !== 0 || m[14] !== 0 || m[15] !== 1) {
    throw new Error(`read: transform must be affine with last row 0 0 0 1, got ${Array.from(m.subarray(12)).join(' ')}`);
  }
  invertAffine4(m, 'read: transform');
  return m;
}

function checkLabelmapMatches(volume: NiftiVolume, labelmap: NiftiVolume): void {
  if (!volume.dims.every((n, a) => n === labelmap.dims[a])) {
    throw new Error(
      `read: labelmap ${labelmap.source} has shape [${labelmap.dims.join(', ')}] but the volume ${volume.source} has shape [${volume.dims.join(', ')}]`,
    );
  }
  const a = axisCodes(volume.affine);
  const b = axisCodes(labelmap.affine);
  if (a !== b) {
    throw new Error(
      `read: labelmap ${labelmap.source} is oriented ${b} but the volume ${volume.source} is oriented ${a}; reorienting a labelmap is not supported`,
    );
  }
}

/** Refuses a labelmap with a NaN or infinite label, naming the file and the voxel's `(i, j, k)`. */
function checkLabelsFinite(labelmap: NiftiVolume): void {
  const [X, Y] = labelmap.dims;
  const n = labelmap.data.findIndex((v) => !Number.isFinite(v));
  if (n < 0) return;
  const ijk = `(${n % X}, ${Math.floor(n / X) % Y}, ${Math.floor(n / (X * Y))})`;
  throw new Error(`read: labelmap ${labelmap.source}: voxel (i, j, k) = ${ijk} has label ${labelmap.data[n]}; expected finite labels`);
}

/** nibabel-style axis codes of an affine (e.g. `'RAS'`): the dominant world axis of each index axis. */
function axisCodes(affine: Matrix4): string {
  const names = [['L', 'R'], ['P', 'A'], ['I', 'S']];
  let codes = '';
  for (let col = 0; col < 3; col++) {
    let best = 0;
    for (let row = 1; row < 3; row++) if (Math.abs(affine[4 * row + col]) > Math.abs(affine[4 * best + col])) best = row;
    codes += names[best][affine[4 * best + col] > 0 ? 1 : 0];
  }
  return codes;
}
