import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { decode } from 'fast-png';
import { overlayImages, overlayPngBytes, saveOverlayPng, sideBySide } from '../../lib/image/overlay.js';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

/** The tensor's values as a nested array, rounded to 6 decimals. */
async function values(t: tf.Tensor): Promise<unknown> {
  const round = (x: unknown): unknown => (Array.isArray(x) ? x.map(round) : Math.round((x as number) * 1e6) / 1e6);
  return round(await t.array());
}

describe('overlayImages', () => {
  test('r = b = normalised fixed, g = normalised moving', async () => {
    const moving = tf.tensor2d([[0, 1], [2, 3]]);
    const fixed = tf.tensor2d([[10, 10], [20, 30]]);
    const before = tf.memory().numTensors;
    const overlay = overlayImages(moving, fixed);
    expect(tf.memory().numTensors).toBe(before + 1); // only the result is left
    expect(overlay.shape).toEqual([2, 2, 3]);
    expect(overlay.dtype).toBe('float32');
    expect(await values(overlay)).toEqual([
      [[0, 0, 0], [0, 0.333333, 0]],
      [[0.5, 0.666667, 0.5], [1, 1, 1]],
    ]);
  });

  test('accepts [1, 1, H, W], [1, H, W] and int32; a constant image gives 0', async () => {
    const moving = tf.tensor4d([4, 2, 0, 2], [1, 1, 2, 2]);
    const fixed = tf.fill([1, 2, 2], 7, 'int32');
    expect(await values(overlayImages(moving, fixed))).toEqual([
      [[0, 1, 0], [0, 0.5, 0]],
      [[0, 0, 0], [0, 0.5, 0]],
    ]);
  });

  test('errors name the bad argument', () => {
    const a = tf.zeros([2, 3]);
    expect(() => overlayImages(a, tf.zeros([3, 2]))).toThrow(
      'overlayImages: moving and fixed must have the same size, got moving 2 x 3 and fixed 3 x 2 (H x W)',
    );
    expect(() => overlayImages(tf.zeros([2, 2, 3]), a)).toThrow(
      'overlayImages: moving must have shape [H, W], [1, H, W] or [1, 1, H, W], got [2, 2, 3]',
    );
    expect(() => overlayImages(a, tf.zeros([1, 2, 2, 3]))).toThrow(/overlayImages: fixed must have shape/);
    expect(() => overlayImages(a, tf.zeros([2, 3], 'bool'))).toThrow(/fixed must be a float32 or int32 tensor, got dtype bool/);
    expect(() => overlayImages(a, [1, 2] as unknown as tf.Tensor)).toThrow('overlayImages: fixed must be a tf.Tensor');
    expect(() => overlayImages(tf.zeros([0, 3]), a)).toThrow(/moving is empty/);
  });
});

describe('sideBySide', () => {
  test('normalised images with a 2-px white separator', async () => {
    const a = tf.tensor2d([[1, 3], [5, 9]]);
    const b = tf.tensor4d([0, -2, -4, 4, 6, 8], [1, 1, 2, 3]);
    const before = tf.memory().numTensors;
    const frame = sideBySide(a, b);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(frame.shape).toEqual([2, 7]);
    expect(await values(frame)).toEqual([
      [0, 0.25, 1, 1, 0.333333, 0.166667, 0],
      [0.5, 1, 1, 1, 0.666667, 0.833333, 1],
    ]);
  });

  test('separator width and value options', async () => {
    const a = tf.tensor2d([[0, 2]]);
    const b = tf.tensor2d([[2, 0]]);
    expect(await values(sideBySide(a, b, { separatorWidth: 0 }))).toEqual([[0, 1, 1, 0]]);
    expect(await values(sideBySide(a, b, { separatorWidth: 3, separatorValue: 0.5 }))).toEqual([[0, 1, 0.5, 0.5, 0.5, 1, 0]]);
  });

  test('errors name the bad argument', () => {
    expect(() => sideBySide(tf.zeros([2, 3]), tf.zeros([3, 3]))).toThrow(
      'sideBySide: a and b must have the same height, got a 2 x 3 and b 3 x 3 (H x W)',
    );
    expect(() => sideBySide(tf.zeros([2, 2]), tf.zeros([2, 2, 2]))).toThrow(/sideBySide: b must have shape/);
    expect(() => sideBySide(tf.zeros([2, 2]), tf.zeros([2, 2]), { separatorWidth: 1.5 })).toThrow(
      /separatorWidth must be a non-negative integer/,
    );
    expect(() => sideBySide(tf.zeros([2, 2]), tf.zeros([2, 2]), { separatorValue: NaN })).toThrow(/separatorValue must be a finite number/);
  });
});

describe('overlayPngBytes / saveOverlayPng', () => {
  const moving = () => tf.tensor2d([[0, 1, 2], [3, 4, 5]]);
  const fixed = () => tf.tensor2d([[5, 0, 0], [0, 0, 10]]);
  // moving / 5 and fixed / 10, times 255, rounded.
  const expectedRgb = [
    [128, 0, 128], [0, 51, 0], [0, 102, 0],
    [0, 153, 0], [0, 204, 0], [255, 255, 255],
  ].flat();

  test('encodes an 8-bit RGB PNG of the overlay', async () => {
    const before = tf.memory().numTensors;
    const [m, f] = [moving(), fixed()];
    const png = decode(await overlayPngBytes(m, f));
    expect(tf.memory().numTensors).toBe(before + 2); // only the two inputs
    expect([png.width, png.height, png.channels, png.depth]).toEqual([3, 2, 3, 8]);
    expect(Array.from(png.data)).toEqual(expectedRgb);
  });

  test('saveOverlayPng writes the file, creating the parent folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tfdrr-overlay-'));
    try {
      const path = join(dir, 'a', 'b', 'overlay.png');
      await saveOverlayPng(moving(), fixed(), path);
      const png = decode(await readFile(path));
      expect([png.width, png.height, png.channels]).toEqual([3, 2, 3]);
      expect(Array.from(png.data)).toEqual(expectedRgb);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a NaN or an infinity is an error naming moving or fixed', async () => {
    const bad = tf.tensor2d([[0, NaN, 2], [3, 4, 5]]);
    await expect(overlayPngBytes(bad, fixed())).rejects.toThrow(/saveOverlayPng: moving holds a NaN or an infinity/);
    await expect(overlayPngBytes(moving(), bad)).rejects.toThrow(/saveOverlayPng: fixed holds a NaN or an infinity/);
    const inf = tf.tensor2d([[0, Infinity, 2], [3, 4, 5]]);
    await expect(overlayPngBytes(moving(), inf)).rejects.toThrow(/fixed holds a NaN or an infinity/);
  });
});
