import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { encodeGif, saveGif, type GifFrame } from '../../lib/image/gif.js';
import { parseGif } from '../helpers/gif_frames.js';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

/** `[H, W]` ramp 0, 1, ..., H*W-1 times `scale`. */
function ramp(height: number, width: number, scale = 1): tf.Tensor2D {
  return tf.mul(tf.range(0, height * width, 1, 'float32'), scale).reshape([height, width]) as tf.Tensor2D;
}

/** Levels of `values` mapped from min..max onto 0..255, as encodeGif rounds them. */
function levels(values: number[], min: number, max: number): number[] {
  return values.map((v) => Math.min(255, Math.max(0, Math.round(((v - min) * 255) / (max - min)))));
}

describe('encodeGif', () => {
  test('gray frames: screen size, frame count, delays, loop, gray palette and exact indices', async () => {
    const frames = [ramp(4, 8), ramp(4, 8, 2), tf.zeros([4, 8])];
    const gif = parseGif(await encodeGif(frames));
    expect(gif.version).toBe('89a');
    expect([gif.width, gif.height]).toEqual([8, 4]);
    expect(gif.hasTrailer).toBe(true);
    expect(gif.frames).toHaveLength(3);
    expect(gif.loopCount).toBe(0); // NETSCAPE2.0, loop forever
    expect(gif.globalPalette).toHaveLength(256);
    gif.globalPalette!.forEach((rgb, i) => expect(rgb).toEqual([i, i, i]));
    for (const frame of gif.frames) {
      expect([frame.left, frame.top, frame.width, frame.height]).toEqual([0, 0, 8, 4]);
      expect(frame.delayCs).toBe(10); // 100 ms default
      expect(frame.localPalette).toBeUndefined();
      expect(frame.interlaced).toBe(false);
    }
    const rampLevels = levels(Array.from({ length: 32 }, (_, i) => i), 0, 31);
    expect(Array.from(gif.frames[0].indices)).toEqual(rampLevels);
    expect(Array.from(gif.frames[1].indices)).toEqual(rampLevels); // 'frame' normalisation: own range
    expect(Array.from(gif.frames[2].indices)).toEqual(new Array(32).fill(0)); // constant frame
    expect(rampLevels[0]).toBe(0);
    expect(rampLevels[31]).toBe(255);
  });

  test('a larger gray frame (LZW code growth and table resets) decodes to the exact levels', async () => {
    const [height, width] = [96, 130];
    let seed = 12345;
    const values = Array.from({ length: height * width }, () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    });
    const gif = parseGif(await encodeGif([tf.tensor2d(values, [height, width]), ramp(height, width)]));
    expect([gif.width, gif.height, gif.frames.length]).toEqual([width, height, 2]);
    const min = Math.min(...values);
    const max = Math.max(...values);
    expect(Array.from(gif.frames[0].indices)).toEqual(levels(values, min, max));
    const rampValues = Array.from({ length: height * width }, (_, i) => i);
    expect(Array.from(gif.frames[1].indices)).toEqual(levels(rampValues, 0, height * width - 1));
  });

  test('many-colour RGB frames are approximated within a few levels (1536 colours, 256-entry palette)', async () => {
    const [height, width] = [32, 48];
    const rgb = new Float32Array(height * width * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const p = 3 * (y * width + x);
        [rgb[p], rgb[p + 1], rgb[p + 2]] = [x / (width - 1), y / (height - 1), x / (width - 1)];
      }
    }
    const gif = parseGif(await encodeGif([{ data: rgb, height, width, channels: 3 }], { normalization: { min: 0, max: 1 } }));
    const palette = gif.globalPalette!;
    let worst = 0;
    let total = 0;
    gif.frames[0].indices.forEach((index, p) => {
      for (let c = 0; c < 3; c++) {
        const error = Math.abs(palette[index][c] - Math.round(255 * rgb[3 * p + c]));
        worst = Math.max(worst, error);
        total += error;
      }
    });
    // 1536 distinct colours share 256 palette entries.
    expect(worst).toBeLessThanOrEqual(16);
    expect(total / rgb.length).toBeLessThan(4);
  });

  test('delayMs and loop: false are written', async () => {
    const frames = [ramp(2, 3), ramp(2, 3)];
    const slow = parseGif(await encodeGif(frames, { delayMs: 250 }));
    expect(slow.frames.map((f) => f.delayCs)).toEqual([25, 25]);
    expect(slow.loopCount).toBe(0);
    const once = parseGif(await encodeGif(frames, { loop: false, delayMs: 0 }));
    expect(once.loopCount).toBeUndefined(); // no NETSCAPE extension: play once
    expect(once.frames.map((f) => f.delayCs)).toEqual([0, 0]);
    expect(once.frames).toHaveLength(2);
  });

  test("'global' normalisation uses one range for all frames, unlike 'frame'", async () => {
    const values = [0, 1, 2, 3, 4, 5];
    const frames = [tf.tensor2d(values, [2, 3]), tf.tensor2d(values.map((v) => 2 * v), [2, 3])];
    const perFrame = await encodeGif(frames);
    const global = await encodeGif(frames, { normalization: 'global' });
    expect(Buffer.from(global).equals(Buffer.from(perFrame))).toBe(false);
    const g = parseGif(global);
    expect(Array.from(g.frames[0].indices)).toEqual(levels(values, 0, 10));
    expect(Array.from(g.frames[1].indices)).toEqual(levels(values.map((v) => 2 * v), 0, 10));
    const f = parseGif(perFrame);
    expect(Array.from(f.frames[0].indices)).toEqual(levels(values, 0, 5));
    expect(Array.from(f.frames[1].indices)).toEqual(levels(values, 0, 5));
  });

  test('a fixed { min, max } range maps linearly and clamps', async () => {
    const gif = parseGif(await encodeGif([tf.tensor2d([[-1, 0, 0.5], [1, 2, 0.25]])], { normalization: { min: 0, max: 1 } }));
    expect(Array.from(gif.frames[0].indices)).toEqual([0, 0, 128, 255, 255, 64]);
  });

  test('gray tensor layouts and raw frames give the same GIF', async () => {
    const values = [3, 1, 4, 1, 5, 9, 2, 6];
    const expected = await encodeGif([tf.tensor2d(values, [2, 4])]);
    const variants: GifFrame[] = [
      tf.tensor3d(values, [1, 2, 4]),
      tf.tensor3d(values, [2, 4, 1]),
      tf.tensor4d(values, [1, 1, 2, 4]),
      tf.tensor2d(values, [2, 4], 'int32'),
      { data: Float32Array.from(values), height: 2, width: 4, channels: 1 },
      { data: Uint8Array.from(values), height: 2, width: 4, channels: 1 },
    ];
    for (const frame of variants) {
      expect(Buffer.from(await encodeGif([frame])).equals(Buffer.from(expected))).toBe(true);
    }
  });

  test('a rank-3 tensor whose last size is 3 is read as [H, W, 3]', async () => {
    const gif = parseGif(await encodeGif([tf.zeros([1, 2, 3])]));
    expect([gif.width, gif.height]).toEqual([2, 1]);
  });

  test('RGB frames: quantised palettes (global, then local) reproduce a few-colour image', async () => {
    // [H, W, 3] in [0, 1]: red, green, blue, white, black, magenta.
    const colors = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1], [0, 0, 0], [1, 0, 1]];
    const hwc = tf.tensor3d(colors.flat(), [2, 3, 3]);
    const chw = tf.transpose(hwc, [2, 0, 1]).reshape([1, 3, 2, 3]);
    const bytes = await encodeGif([hwc, chw, ramp(2, 3)], { normalization: { min: 0, max: 1 } });
    const gif = parseGif(bytes);
    expect(gif.frames).toHaveLength(3);
    expect([gif.width, gif.height]).toEqual([3, 2]);
    expect(gif.globalPalette).toBeDefined();
    expect(gif.frames[0].localPalette).toBeUndefined();
    expect(gif.frames[1].localPalette).toBeDefined();
    const decoded = (frame: number) => {
      const palette = frame === 0 ? gif.globalPalette! : gif.frames[frame].localPalette!;
      return Array.from(gif.frames[frame].indices).map((i) => palette[i]);
    };
    const expected = colors.map((c) => c.map((v) => 255 * v));
    expect(decoded(0)).toEqual(expected);
    expect(decoded(1)).toEqual(expected);
    // A gray frame in an RGB sequence is written as RGB gray (clamped to the fixed 0..1 range).
    expect(decoded(2)).toEqual([0, 1, 1, 1, 1, 1].map((v) => [255 * v, 255 * v, 255 * v]));
  });

  test('RGB raw frames are interleaved [H, W, 3]', async () => {
    const data = Uint8Array.from([255, 0, 0, 0, 0, 255]);
    const gif = parseGif(await encodeGif([{ data, height: 1, width: 2, channels: 3 }], { normalization: { min: 0, max: 255 } }));
    const palette = gif.globalPalette!;
    expect(Array.from(gif.frames[0].indices).map((i) => palette[i])).toEqual([[255, 0, 0], [0, 0, 255]]);
  });

  test('errors: empty frames, mismatched sizes, non-finite values, bad shapes and options', async () => {
    await expect(encodeGif([])).rejects.toThrow('encodeGif: frames must be a non-empty array');
    await expect(encodeGif([ramp(2, 3), ramp(2, 3), ramp(3, 2)])).rejects.toThrow(
      /frame 2 is 3 x 2 \(H x W\), but frame 0 is 2 x 3/,
    );
    const nan = tf.tensor2d([[0, 1], [NaN, 3]]);
    await expect(encodeGif([ramp(2, 2), nan])).rejects.toThrow('encodeGif: frame 1 has a non-finite value (NaN) at row 1, column 0');
    const inf = { data: Float32Array.from([0, Infinity]), height: 1, width: 2, channels: 1 as const };
    await expect(encodeGif([inf])).rejects.toThrow(/frame 0 has a non-finite value \(Infinity\)/);
    await expect(encodeGif([tf.zeros([2, 2, 2])])).rejects.toThrow(/frame 0 must have shape/);
    await expect(encodeGif([tf.zeros([2, 3, 2, 2])])).rejects.toThrow(/frame 0 must have shape/);
    await expect(encodeGif([tf.zeros([0, 2])])).rejects.toThrow(/frame 0 is empty/);
    await expect(encodeGif([tf.zeros([2, 2], 'complex64')])).rejects.toThrow(/frame 0 must be a float32, int32 or bool tensor/);
    await expect(encodeGif([{ data: new Float32Array(5), height: 2, width: 3, channels: 1 }])).rejects.toThrow(
      /frame 0.data has 5 values, expected height \* width \* channels = 2 \* 3 \* 1 = 6/,
    );
    await expect(
      encodeGif([{ data: new Float32Array(8), height: 2, width: 2, channels: 2 as unknown as 1 }]),
    ).rejects.toThrow(/frame 0.channels must be 1 or 3/);
    await expect(encodeGif([ramp(2, 2)], { delayMs: -1 })).rejects.toThrow(/delayMs must be a number/);
    await expect(encodeGif([ramp(2, 2)], { delayMs: NaN })).rejects.toThrow(/delayMs must be a number/);
    await expect(encodeGif([ramp(2, 2)], { normalization: 'auto' as 'frame' })).rejects.toThrow(/normalization must be/);
    await expect(encodeGif([ramp(2, 2)], { normalization: { min: 1, max: 1 } })).rejects.toThrow(/max > min/);
  });
});

describe('saveGif', () => {
  test('writes the encoded bytes, creating the parent folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tfdrr-gif-'));
    try {
      const frames = [ramp(3, 5), ramp(3, 5, -1)];
      const path = join(dir, 'nested', 'deeper', 'run.gif');
      await saveGif(frames, path, { delayMs: 40 });
      const bytes = new Uint8Array(await readFile(path));
      expect(Buffer.from(bytes).equals(Buffer.from(await encodeGif(frames, { delayMs: 40 })))).toBe(true);
      const gif = parseGif(bytes);
      expect(gif.frames).toHaveLength(2);
      expect(gif.frames[1].delayCs).toBe(4);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
