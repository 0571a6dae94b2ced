import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { decode } from 'fast-png';
import { imageToPngBytes, saveImage, type SaveImageOptions } from '../../lib/image/save_image.js';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

/** Encodes, decodes back and returns the decoded PNG with its samples as a plain array. */
async function roundTrip(img: tf.Tensor, options?: SaveImageOptions) {
  const png = decode(await imageToPngBytes(img, options));
  return { ...png, pixels: Array.from(png.data) };
}

describe('imageToPngBytes', () => {
  test('8-bit minmax maps min..max onto 0..255', async () => {
    const png = await roundTrip(tf.tensor2d([[0, 1, 2], [3, 4, 5]]));
    expect([png.width, png.height, png.depth, png.channels]).toEqual([3, 2, 8, 1]);
    expect(png.pixels).toEqual([0, 51, 102, 153, 204, 255]);
  });

  test('16-bit minmax maps min..max onto 0..65535', async () => {
    const png = await roundTrip(tf.tensor2d([[-1, 0], [1, 2]]), { bitDepth: 16 });
    expect(png.depth).toBe(16);
    expect(png.pixels).toEqual([0, 21845, 43690, 65535]);
  });

  test('a constant image gives all zeros', async () => {
    expect((await roundTrip(tf.fill([2, 2], 7.5))).pixels).toEqual([0, 0, 0, 0]);
    expect((await roundTrip(tf.zeros([1, 1, 2, 2]), { bitDepth: 16 })).pixels).toEqual([0, 0, 0, 0]);
  });

  test("'none' rounds and clamps raw values", async () => {
    const img = tf.tensor2d([[-5, 12.4], [300, 254.6]]);
    expect((await roundTrip(img, { normalize: 'none' })).pixels).toEqual([0, 12, 255, 255]);
    const img16 = tf.tensor2d([[-1, 1000.5], [70000, 65535]]);
    expect((await roundTrip(img16, { normalize: 'none', bitDepth: 16 })).pixels).toEqual([0, 1001, 65535, 65535]);
  });

  test('invert flips the gray levels', async () => {
    const png = await roundTrip(tf.tensor2d([[0, 1], [2, 3]]), { invert: true });
    expect(png.pixels).toEqual([255, 170, 85, 0]);
  });

  test('channels are summed by default; channel selects one', async () => {
    // [C=2, H=2, W=2]: channel 0 = [[0, 1], [0, 0]], channel 1 = [[0, 0], [0, 3]]
    const img = tf.tensor3d([[[0, 1], [0, 0]], [[0, 0], [0, 3]]]);
    expect((await roundTrip(img)).pixels).toEqual([0, 85, 0, 255]);
    expect((await roundTrip(img, { channel: 0 })).pixels).toEqual([0, 255, 0, 0]);
    expect((await roundTrip(img, { channel: 1 })).pixels).toEqual([0, 0, 0, 255]);
  });

  test('batch selects the image of a [B, C, H, W] batch', async () => {
    // B=2, C=1, H=1, W=3
    const img = tf.tensor4d([[[[0, 1, 2]]], [[[4, 2, 0]]]]);
    expect((await roundTrip(img)).pixels).toEqual([0, 128, 255]);
    const png = await roundTrip(img, { batch: 1 });
    expect([png.width, png.height]).toEqual([3, 1]);
    expect(png.pixels).toEqual([255, 128, 0]);
  });

  test('int32 and bool images are accepted', async () => {
    expect((await roundTrip(tf.tensor2d([[0, 2]], [1, 2], 'int32'))).pixels).toEqual([0, 255]);
    expect((await roundTrip(tf.tensor2d([[true, false]], [1, 2], 'bool'))).pixels).toEqual([255, 0]);
  });

  test('clear errors', async () => {
    await expect(imageToPngBytes(tf.zeros([4]))).rejects.toThrow(/expected an image of shape \[B, C, H, W\], \[C, H, W\] or \[H, W\], got \[4\]/);
    await expect(imageToPngBytes(tf.zeros([1, 1, 1, 2, 2]))).rejects.toThrow(/got \[1, 1, 1, 2, 2\]/);
    await expect(imageToPngBytes(tf.zeros([2, 1, 2, 2]), { batch: 2 })).rejects.toThrow(/batch index 2 is out of range \(the image has 2\)/);
    await expect(imageToPngBytes(tf.zeros([2, 2]), { batch: -1 })).rejects.toThrow(/batch index -1 is out of range/);
    await expect(imageToPngBytes(tf.zeros([3, 2, 2]), { channel: 3 })).rejects.toThrow(/channel index 3 is out of range \(the image has 3\)/);
    await expect(imageToPngBytes(tf.zeros([3, 2, 2]), { channel: 0.5 })).rejects.toThrow(/channel index 0.5 is out of range/);
    await expect(imageToPngBytes(tf.tensor2d([[0, NaN]]))).rejects.toThrow(/non-finite value \(NaN\) at row 0, column 1/);
    await expect(imageToPngBytes(tf.tensor2d([[0], [Infinity]]))).rejects.toThrow(/non-finite value \(Infinity\) at row 1, column 0/);
    await expect(imageToPngBytes(tf.zeros([2, 2]), { bitDepth: 12 as 8 })).rejects.toThrow(/bitDepth must be 8 or 16, got 12/);
    await expect(imageToPngBytes(tf.zeros([2, 2]), { normalize: 'log' as 'none' })).rejects.toThrow(/normalize must be 'minmax' or 'none'/);
    await expect(imageToPngBytes(tf.zeros([0, 2]))).rejects.toThrow(/the image is empty/);
  });
});

describe('saveImage', () => {
  test('writes the bytes imageToPngBytes returns', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tfdrr-save-image-'));
    try {
      const img = tf.tensor4d([[[[0, 1], [2, 3]]]]);
      const path = join(dir, 'img.png');
      await saveImage(img, path, { bitDepth: 16 });
      const written = new Uint8Array(await readFile(path));
      expect(written).toEqual(await imageToPngBytes(img, { bitDepth: 16 }));
      expect(Array.from(decode(written).data)).toEqual([0, 21845, 43690, 65535]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
