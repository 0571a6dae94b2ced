/** Issue #17 for the image writers: unknown option keys are rejected with a suggestion. */
import * as tf from '@tensorflow/tfjs';
import { encodeGif } from '../../lib/image/gif.js';
import { lossCurveSvg } from '../../lib/image/loss_curve.js';
import { sideBySide } from '../../lib/image/overlay.js';
import { imageToPngBytes } from '../../lib/image/save_image.js';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

test('saveImage / imageToPngBytes (was: bitdepth ignored, an 8-bit PNG written)', async () => {
  const img = tf.ones([4, 4]);
  await expect(imageToPngBytes(img, { bitdepth: 16 } as object)).rejects.toThrow(/^saveImage: unknown option 'bitdepth' \(did you mean 'bitDepth'\? known: batch, channel, bitDepth, normalize, invert\)$/);
  img.dispose();
});

test('encodeGif / saveGif', async () => {
  const frame = { data: new Float32Array(16), height: 4, width: 4, channels: 1 as const };
  await expect(encodeGif([frame], { delayMS: 50 } as object)).rejects.toThrow(/^encodeGif: unknown option 'delayMS' \(did you mean 'delayMs'\? known: delayMs, loop, normalization\)$/);
});

test('sideBySide', () => {
  const [a, b] = [tf.ones([4, 4]), tf.zeros([4, 4])];
  expect(() => sideBySide(a, b, { separator: 3 } as object)).toThrow(/^sideBySide: unknown option 'separator' \(known: separatorWidth, separatorValue\)$/);
  tf.dispose([a, b]);
});

test('lossCurveSvg / saveLossCurve', () => {
  expect(() => lossCurveSvg([1, 0.5, 0.25], { logy: true } as object)).toThrow(/^lossCurveSvg: unknown option 'logy' \(did you mean 'logY'\? known: width, height, title, xLabel, yLabel, logY, labels, colors, lineWidth\)$/);
});
