/**
 * Comparison pictures of a moving (rendered) and a fixed (target) X-ray image: side by side in gray,
 * or as one colour overlay (fixed in magenta, moving in green: where they agree the picture is gray,
 * where only the fixed image is bright it is magenta, where only the moving image is bright it is green).
 *
 * Every image is first normalised on its own: `(x - min) / (max - min)`, a constant image gives all 0.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { encode } from 'fast-png';
import { checkOptionKeys, optionKeys } from '../validation/options.js';

/** Options of {@link sideBySide}. */
export interface SideBySideOptions {
  /** Width of the separator column in pixels (a non-negative integer). Default `2`. */
  separatorWidth?: number;
  /** Value of the separator pixels, in the [0, 1] range of the normalised images. Default `1` (white). */
  separatorValue?: number;
}

/** The keys of {@link SideBySideOptions}. */
export const SIDE_BY_SIDE_OPTION_KEYS = optionKeys<SideBySideOptions>()(['separatorWidth', 'separatorValue']);

/**
 * Places `a` and `b`, each normalised to [0, 1], next to each other with a separator column between
 * them, as one gray frame (e.g. for `saveImage`, or `encodeGif` with `normalization: { min: 0, max: 1 }`).
 *
 * Non-finite input values make the result non-finite (checked when the frame is written).
 *
 * @param a Left image, `[H, W]`, `[1, H, W]` or `[1, 1, H, W]` (float32 or int32).
 * @param b Right image, same accepted shapes and the same height `H` (its width may differ).
 * @param options Separator; see {@link SideBySideOptions}.
 * @returns A float32 tensor `[H, Wa + separatorWidth + Wb]` in [0, 1] (the caller disposes it).
 * @throws If a shape, dtype or option is invalid, or the heights differ.
 */
export function sideBySide(a: tf.Tensor, b: tf.Tensor, options: SideBySideOptions = {}): tf.Tensor2D {
  checkOptionKeys(options, SIDE_BY_SIDE_OPTION_KEYS, 'sideBySide');
  const { separatorWidth = 2, separatorValue = 1 } = options;
  if (!Number.isInteger(separatorWidth) || separatorWidth < 0) {
    throw new Error(`sideBySide: separatorWidth must be a non-negative integer, got ${String(separatorWidth)}`);
  }
  if (!Number.isFinite(separatorValue)) {
    throw new Error(`sideBySide: separatorValue must be a finite number, got ${String(separatorValue)}`);
  }
  const [ha, wa] = imageSize('sideBySide', 'a', a);
  const [hb, wb] = imageSize('sideBySide', 'b', b);
  if (ha !== hb) {
    throw new Error(`sideBySide: a and b must have the same height, got a ${ha} x ${wa} and b ${hb} x ${wb} (H x W)`);
  }
  return tf.tidy(() => {
    const parts = [normalized(a, ha, wa)];
    if (separatorWidth > 0) parts.push(tf.fill([ha, separatorWidth], separatorValue, 'float32') as tf.Tensor2D);
    parts.push(normalized(b, hb, wb));
    return tf.concat2d(parts, 1);
  });
}

/**
 * Colour overlay of a moving image on a fixed image: red = blue = normalised `fixed`,
 * green = normalised `moving`.
 *
 * Non-finite input values make the result non-finite (checked when the overlay is written).
 *
 * @param moving Moving (e.g. rendered DRR) image, `[H, W]`, `[1, H, W]` or `[1, 1, H, W]` (float32 or int32).
 * @param fixed Fixed (target) image of the same height and width.
 * @returns A float32 tensor `[H, W, 3]` in [0, 1] (the caller disposes it).
 * @throws If a shape or dtype is invalid, or the sizes differ.
 */
export function overlayImages(moving: tf.Tensor, fixed: tf.Tensor): tf.Tensor3D {
  const [hm, wm] = imageSize('overlayImages', 'moving', moving);
  const [hf, wf] = imageSize('overlayImages', 'fixed', fixed);
  if (hm !== hf || wm !== wf) {
    throw new Error(
      `overlayImages: moving and fixed must have the same size, got moving ${hm} x ${wm} and fixed ${hf} x ${wf} (H x W)`,
    );
  }
  return tf.tidy(() => {
    const f = normalized(fixed, hf, wf);
    const m = normalized(moving, hm, wm);
    return tf.stack([f, m, f], 2) as tf.Tensor3D;
  });
}

/**
 * Encodes {@link overlayImages}`(moving, fixed)` as an 8-bit RGB PNG (levels `round(255 * value)`);
 * the bytes {@link saveOverlayPng} writes.
 *
 * @param moving Moving image; see {@link overlayImages}.
 * @param fixed Fixed image of the same size.
 * @returns The PNG file bytes.
 * @throws As {@link overlayImages}, or if `moving` or `fixed` holds a NaN or an infinity.
 */
export async function overlayPngBytes(moving: tf.Tensor, fixed: tf.Tensor): Promise<Uint8Array> {
  const overlay = overlayImages(moving, fixed);
  const [height, width] = overlay.shape;
  let values: Float32Array;
  try {
    values = (await overlay.data()) as Float32Array;
  } finally {
    overlay.dispose();
  }
  const rgb = new Uint8Array(values.length);
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    if (!Number.isFinite(v)) {
      const p = Math.floor(k / 3);
      const which = k % 3 === 1 ? 'moving' : 'fixed';
      throw new Error(
        `saveOverlayPng: ${which} holds a NaN or an infinity (the overlay is ${v} at row ${Math.floor(p / width)}, column ${p % width})`,
      );
    }
    rgb[k] = Math.min(255, Math.max(0, Math.round(255 * v)));
  }
  return encode({ width, height, data: rgb, depth: 8, channels: 3 });
}

/**
 * Writes {@link overlayImages}`(moving, fixed)` to `path` as an 8-bit RGB PNG, creating the parent
 * folder if needed.
 *
 * ```js
 * await saveOverlayPng(drr.forward(pose), target, 'out/overlay.png');
 * ```
 *
 * @param moving Moving image; see {@link overlayImages}.
 * @param fixed Fixed image of the same size.
 * @param path Output file path (overwritten).
 * @throws As {@link overlayPngBytes}.
 */
export async function saveOverlayPng(moving: tf.Tensor, fixed: tf.Tensor, path: string): Promise<void> {
  const bytes = await overlayPngBytes(moving, fixed);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
}

/** `[H, W]` of an image of shape `[H, W]`, `[1, H, W]` or `[1, 1, H, W]`; throws naming `fn` and `arg`. */
function imageSize(fn: string, arg: string, img: tf.Tensor): [number, number] {
  if (img === null || typeof img !== 'object' || !Array.isArray(img.shape) || typeof img.data !== 'function') {
    throw new Error(`${fn}: ${arg} must be a tf.Tensor`);
  }
  if (img.dtype !== 'float32' && img.dtype !== 'int32') {
    throw new Error(`${fn}: ${arg} must be a float32 or int32 tensor, got dtype ${img.dtype}`);
  }
  const { shape } = img;
  const ok =
    shape.length === 2 ||
    (shape.length === 3 && shape[0] === 1) ||
    (shape.length === 4 && shape[0] === 1 && shape[1] === 1);
  if (!ok) {
    throw new Error(`${fn}: ${arg} must have shape [H, W], [1, H, W] or [1, 1, H, W], got [${shape.join(', ')}]`);
  }
  const height = shape[shape.length - 2];
  const width = shape[shape.length - 1];
  if (height === 0 || width === 0) throw new Error(`${fn}: ${arg} is empty (${height} x ${width})`);
  return [height, width];
}

/** `img` as float32 `[H, W]` mapped from its min..max onto [0, 1] (all 0 when constant). Call inside tf.tidy. */
function normalized(img: tf.Tensor, height: number, width: number): tf.Tensor2D {
  const x = tf.reshape(tf.cast(img, 'float32'), [height, width]) as tf.Tensor2D;
  const min = tf.min(x);
  const range = tf.sub(tf.max(x), min);
  return tf.divNoNan(tf.sub(x, min), range) as tf.Tensor2D;
}
