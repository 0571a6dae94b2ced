/**
 * Animated GIF output of a sequence of images (e.g. the DRR of every iteration of a 2D/3D
 * registration run, or {@link overlayImages} frames), encoded with `gifenc`.
 *
 * Grayscale sequences use one fixed 256-level gray palette (the global colour table), so gray levels
 * are exact. As soon as one frame is RGB, every frame gets its own palette of at most 256 colours,
 * built by gifenc's `quantize` (pnnquant) and applied with `applyPalette` (nearest colour, rgb565
 * cache); gray frames of such a sequence are written as RGB.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import gifenc, * as gifencNamespace from 'gifenc';
import type { GifencColor, GifencModule } from 'gifenc';
import { round } from '../../kernels/shared/builtins.js';
import { checkOptionKeys, optionKeys } from '../validation/options.js';

/** A frame given as raw pixels, row-major, with interleaved channels (`[H, W, C]` order). */
export interface RawGifFrame {
  /** `height * width * channels` values. */
  data: Float32Array | Uint8Array;
  height: number;
  width: number;
  /** `1` (gray) or `3` (RGB). */
  channels: 1 | 3;
}

/**
 * One GIF frame: a tensor of shape `[H, W]`, `[1, H, W]`, `[H, W, 1]`, `[H, W, 3]`, `[1, 1, H, W]` or
 * `[1, 3, H, W]` (float32, int32 or bool), or a {@link RawGifFrame}. A rank-3 tensor whose last size
 * is 1 or 3 is read as `[H, W, C]`, any other rank-3 tensor must be `[1, H, W]`.
 */
export type GifFrame = tf.Tensor | RawGifFrame;

/**
 * How pixel values become 0..255 levels (RGB frames: one range for all three channels):
 * - `'frame'`: each frame's own min..max maps linearly onto 0..255 (a constant frame is all 0);
 * - `'global'`: the min..max over all frames maps onto 0..255 (so brightness is comparable across frames);
 * - `{ min, max }`: this fixed range maps onto 0..255, values outside it are clamped
 *   (`{ min: 0, max: 1 }` for images already in [0, 1], `{ min: 0, max: 255 }` for 8-bit data).
 */
export type GifNormalization = 'frame' | 'global' | { min: number; max: number };

/** Options of {@link encodeGif} and {@link saveGif}. */
export interface GifOptions {
  /**
   * Display time of every frame in milliseconds, stored in hundredths of a second (rounded). Default
   * `100`. Browsers show delays under 20 ms as 100 ms.
   */
  delayMs?: number;
  /** `true` (default): loop forever (NETSCAPE2.0 extension). `false`: play once. */
  loop?: boolean;
  /** Gray mapping; see {@link GifNormalization}. Default `'frame'`. */
  normalization?: GifNormalization;
}

/** The keys of {@link GifOptions}. */
export const GIF_OPTION_KEYS = optionKeys<GifOptions>()(['delayMs', 'loop', 'normalization']);

/** Largest GIF delay: 65535 hundredths of a second. */
const MAX_DELAY_MS = 655350;

/** A frame read into memory: `H x W x C` values, interleaved channels. */
interface PixelFrame {
  values: ArrayLike<number>;
  height: number;
  width: number;
  channels: 1 | 3;
}

/**
 * Encodes `frames` as an animated GIF (the bytes {@link saveGif} writes).
 *
 * ```js
 * const frames = [];
 * for (let it = 0; it < 50; it++) { ...; frames.push(drr.forward(pose)); }
 * const bytes = await encodeGif(frames, { delayMs: 80, normalization: 'global' });
 * ```
 *
 * Tensors are read with `await t.data()` (any backend) and not disposed.
 *
 * @param frames At least one frame, all of the same height and width; see {@link GifFrame}.
 * @param options Delay, looping and gray mapping; see {@link GifOptions}.
 * @returns The GIF file bytes (GIF89a).
 * @throws If `frames` is empty, a frame has an unsupported shape, dtype or size, the frames differ in
 *   size, a frame holds a NaN or an infinity (the message names the frame index), or an option is invalid.
 */
export async function encodeGif(frames: readonly GifFrame[], options: GifOptions = {}): Promise<Uint8Array> {
  checkOptionKeys(options, GIF_OPTION_KEYS, 'encodeGif');
  const { delayMs = 100, loop = true, normalization = 'frame' } = options;
  if (!Number.isFinite(delayMs) || delayMs < 0 || delayMs > MAX_DELAY_MS) {
    throw new Error(`encodeGif: delayMs must be a number in 0..${MAX_DELAY_MS}, got ${String(delayMs)}`);
  }
  if (typeof loop !== 'boolean') {
    throw new Error(`encodeGif: loop must be true or false, got ${String(loop)}`);
  }
  checkNormalization(normalization);
  if (!Array.isArray(frames) || frames.length === 0) {
    throw new Error('encodeGif: frames must be a non-empty array of images');
  }

  const pixels: PixelFrame[] = [];
  for (let i = 0; i < frames.length; i++) {
    const frame = await readFrame(frames[i], i);
    const first = pixels[0] ?? frame;
    if (frame.height !== first.height || frame.width !== first.width) {
      throw new Error(
        `encodeGif: frame ${i} is ${frame.height} x ${frame.width} (H x W), but frame 0 is ` +
          `${first.height} x ${first.width}; all frames must have the same size`,
      );
    }
    checkFinite(frame, i);
    pixels.push(frame);
  }

  const ranges = levelRanges(pixels, normalization);
  const api = gifencApi();
  const encoder = api.GIFEncoder();
  const { height, width } = pixels[0];
  const delay = Math.round(delayMs);
  const repeat = loop ? 0 : -1;
  const rgb = pixels.some((frame) => frame.channels === 3);
  const gray = grayPalette();

  pixels.forEach((frame, i) => {
    const levels = toLevels(frame.values, ranges[i]);
    if (!rgb) {
      // One global gray palette: the levels are the palette indices.
      encoder.writeFrame(levels, width, height, { palette: i === 0 ? gray : null, delay, repeat });
      return;
    }
    const rgba = toRgba(levels, frame.channels);
    const palette = api.quantize(rgba, 256);
    const index = api.applyPalette(rgba, palette);
    encoder.writeFrame(index, width, height, { palette, delay, repeat });
  });
  encoder.finish();
  return encoder.bytes();
}

/**
 * Writes `frames` to `path` as an animated GIF, creating the parent folder if needed.
 *
 * ```js
 * await saveGif(frames, 'out/registration.gif', { delayMs: 80 });
 * ```
 *
 * @param frames At least one frame, all of the same size; see {@link GifFrame}.
 * @param path Output file path (overwritten).
 * @param options Delay, looping and gray mapping; see {@link GifOptions}.
 * @throws As {@link encodeGif}.
 */
export async function saveGif(frames: readonly GifFrame[], path: string, options: GifOptions = {}): Promise<void> {
  const bytes = await encodeGif(frames, options);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
}

/**
 * gifenc's functions. Node ESM sees the CommonJS `module.exports` as the default export; bundlers that
 * use the package's ESM build give named exports (and a default export that is `GIFEncoder` itself).
 */
function gifencApi(): GifencModule {
  const candidates: unknown[] = [gifenc, gifencNamespace, (gifenc as unknown as { default?: unknown })?.default];
  for (const candidate of candidates) {
    const api = candidate as Partial<GifencModule> | undefined;
    if (
      api &&
      typeof api.GIFEncoder === 'function' &&
      typeof api.quantize === 'function' &&
      typeof api.applyPalette === 'function'
    ) {
      return api as GifencModule;
    }
  }
  throw new Error('encodeGif: could not load GIFEncoder, quantize and applyPalette from the gifenc package');
}

function checkNormalization(normalization: GifNormalization): void {
  if (normalization === 'frame' || normalization === 'global') return;
  if (typeof normalization === 'object' && normalization !== null) {
    const { min, max } = normalization;
    if (typeof min === 'number' && typeof max === 'number' && Number.isFinite(min) && Number.isFinite(max) && max > min) {
      return;
    }
    throw new Error(
      `encodeGif: normalization { min, max } needs finite numbers with max > min, got { min: ${String(min)}, max: ${String(max)} }`,
    );
  }
  throw new Error(
    `encodeGif: normalization must be 'frame', 'global' or { min, max }, got ${JSON.stringify(normalization)}`,
  );
}

function isRawFrame(frame: GifFrame): frame is RawGifFrame {
  return typeof (frame as { data?: unknown }).data !== 'function';
}

/** Reads frame `i` into memory, checking its shape (tensor) or its fields (raw frame). */
async function readFrame(frame: GifFrame, i: number): Promise<PixelFrame> {
  if (frame === null || typeof frame !== 'object') {
    throw new Error(`encodeGif: frame ${i} must be a tensor or { data, height, width, channels }, got ${String(frame)}`);
  }
  if (isRawFrame(frame)) return checkRawFrame(frame, i);

  const { shape, dtype } = frame;
  if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool') {
    throw new Error(`encodeGif: frame ${i} must be a float32, int32 or bool tensor, got dtype ${dtype}`);
  }
  let height: number;
  let width: number;
  let channels: number;
  let channelsFirst = false;
  if (shape.length === 2) {
    [height, width, channels] = [shape[0], shape[1], 1];
  } else if (shape.length === 3 && (shape[2] === 1 || shape[2] === 3)) {
    [height, width, channels] = [shape[0], shape[1], shape[2]];
  } else if (shape.length === 3 && shape[0] === 1) {
    [height, width, channels] = [shape[1], shape[2], 1];
  } else if (shape.length === 4 && shape[0] === 1 && (shape[1] === 1 || shape[1] === 3)) {
    [height, width, channels] = [shape[2], shape[3], shape[1]];
    channelsFirst = shape[1] === 3;
  } else {
    throw new Error(
      `encodeGif: frame ${i} must have shape [H, W], [1, H, W], [H, W, 1], [H, W, 3], [1, 1, H, W] or ` +
        `[1, 3, H, W], got [${shape.join(', ')}]`,
    );
  }
  if (height === 0 || width === 0) throw new Error(`encodeGif: frame ${i} is empty (${height} x ${width})`);
  const data = (await frame.data()) as Float32Array | Int32Array | Uint8Array;
  const values = channelsFirst ? interleave(data, height * width) : data;
  return { values, height, width, channels: channels as 1 | 3 };
}

function checkRawFrame(frame: RawGifFrame, i: number): PixelFrame {
  const { data, height, width, channels } = frame;
  if (!(data instanceof Float32Array) && !(data instanceof Uint8Array)) {
    throw new Error(`encodeGif: frame ${i}.data must be a Float32Array or a Uint8Array`);
  }
  for (const [name, value] of [['height', height], ['width', width]] as const) {
    if (!Number.isInteger(value) || value <= 0) {
      throw new Error(`encodeGif: frame ${i}.${name} must be a positive integer, got ${String(value)}`);
    }
  }
  if (channels !== 1 && channels !== 3) {
    throw new Error(`encodeGif: frame ${i}.channels must be 1 or 3, got ${String(channels)}`);
  }
  if (data.length !== height * width * channels) {
    throw new Error(
      `encodeGif: frame ${i}.data has ${data.length} values, expected height * width * channels = ` +
        `${height} * ${width} * ${channels} = ${height * width * channels}`,
    );
  }
  return { values: data, height, width, channels };
}

/** `[3, H, W]` planes to interleaved `[H, W, 3]`. */
function interleave(planes: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(3 * n);
  for (let p = 0; p < n; p++) {
    out[3 * p] = planes[p];
    out[3 * p + 1] = planes[n + p];
    out[3 * p + 2] = planes[2 * n + p];
  }
  return out;
}

function checkFinite(frame: PixelFrame, i: number): void {
  const { values, width, channels } = frame;
  for (let k = 0; k < values.length; k++) {
    if (!Number.isFinite(values[k])) {
      const p = Math.floor(k / channels);
      throw new Error(
        `encodeGif: frame ${i} has a non-finite value (${values[k]}) at row ${Math.floor(p / width)}, column ${p % width}`,
      );
    }
  }
}

function minMax(values: ArrayLike<number>): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

/** The value range mapped onto 0..255, per frame. */
function levelRanges(frames: PixelFrame[], normalization: GifNormalization): { min: number; max: number }[] {
  if (normalization === 'frame') return frames.map((frame) => minMax(frame.values));
  if (normalization === 'global') {
    const all = frames.map((frame) => minMax(frame.values));
    const range = { min: Math.min(...all.map((r) => r.min)), max: Math.max(...all.map((r) => r.max)) };
    return frames.map(() => range);
  }
  return frames.map(() => normalization);
}

/** Levels 0..255: `range` mapped linearly (all 0 when the range is empty), rounded and clamped. */
function toLevels(values: ArrayLike<number>, range: { min: number; max: number }): Uint8Array {
  const scale = range.max > range.min ? 255 / (range.max - range.min) : 0;
  const levels = new Uint8Array(values.length);
  for (let k = 0; k < values.length; k++) {
    const level = round((values[k] - range.min) * scale);
    levels[k] = level < 0 ? 0 : level > 255 ? 255 : level;
  }
  return levels;
}

/** Opaque RGBA bytes (a fresh buffer, as gifenc views `rgba.buffer` as 32-bit pixels). */
function toRgba(levels: Uint8Array, channels: 1 | 3): Uint8Array {
  const n = levels.length / channels;
  const rgba = new Uint8Array(4 * n);
  for (let p = 0; p < n; p++) {
    const r = levels[channels * p];
    rgba[4 * p] = r;
    rgba[4 * p + 1] = channels === 3 ? levels[3 * p + 1] : r;
    rgba[4 * p + 2] = channels === 3 ? levels[3 * p + 2] : r;
    rgba[4 * p + 3] = 255;
  }
  return rgba;
}

function grayPalette(): GifencColor[] {
  return Array.from({ length: 256 }, (_, v) => [v, v, v]);
}
