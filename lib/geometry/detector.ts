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
import { checkOptionKeys, optionKeys } from '../validation/options.js';

/** Detector geometry. Lengths in mm (see {@link DETECTOR_LENGTH_RANGE}). */
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

/** The keys of {@link DetectorOptions}. */
export const DETECTOR_OPTION_KEYS = optionKeys<DetectorOptions>()(['sdd', 'height', 'delx', 'width', 'dely', 'x0', 'y0', 'reverseXAxis']);

/**
 * The lengths a detector may have (mm): `sdd`, `delx` and `dely` in `[min, max]`; `|x0|`, `|y0|`
 * and the reach of the pixel centres from the principal ray (`delx (width - 1) / 2 + |x0|`, the
 * same along y) at most `max`. The geometry is float32: far beyond these, pixel positions and
 * their squares (the ray lengths) overflow to infinity or underflow to zero, and the image is NaN
 * or silently zero.
 */
export const DETECTOR_LENGTH_RANGE = { min: 1e-6, max: 1e9 } as const;

function positive(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new Error(`${name}: expected a finite number > 0, got ${String(value)}`);
  }
  const { min, max } = DETECTOR_LENGTH_RANGE;
  if (value < min || value > max) throw new Error(`${name}: expected a length in [${min.toExponential()}, ${max.toExponential()}] mm (float32 geometry), got ${value}`);
  return value;
}

function positiveInteger(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new Error(`${name}: expected a positive integer, got ${String(value)}`);
  }
  return value;
}

function offset(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${name}: expected a finite number, got ${String(value)}`);
  const { max } = DETECTOR_LENGTH_RANGE;
  if (Math.abs(value) > max) throw new Error(`${name}: expected an offset in [-${max.toExponential()}, ${max.toExponential()}] mm (float32 geometry), got ${value}`);
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

  /** @throws on an unknown option, a missing or invalid value, or lengths outside {@link DETECTOR_LENGTH_RANGE}. */
  constructor(options: DetectorOptions) {
    if (options == null || typeof options !== 'object') throw new Error('detector options: expected an object with sdd, height and delx');
    checkOptionKeys(options, DETECTOR_OPTION_KEYS, 'Detector');
    this.sdd = positive(options.sdd, 'sdd');
    this.height = positiveInteger(options.height, 'height');
    this.width = positiveInteger(options.width ?? options.height, 'width');
    this.delx = positive(options.delx, 'delx');
    this.dely = positive(options.dely ?? options.delx, 'dely');
    this.x0 = offset(options.x0 ?? 0, 'x0');
    this.y0 = offset(options.y0 ?? 0, 'y0');
    if (options.reverseXAxis !== undefined && typeof options.reverseXAxis !== 'boolean') {
      throw new Error(`reverseXAxis: expected a boolean, got ${String(options.reverseXAxis)}`);
    }
    this.reverseXAxis = options.reverseXAxis ?? true;
    const { max } = DETECTOR_LENGTH_RANGE;
    for (const [axis, spacing, n, o, names] of [['x', this.delx, this.width, this.x0, 'delx (width - 1) / 2 + |x0|'], ['y', this.dely, this.height, this.y0, 'dely (height - 1) / 2 + |y0|']] as const) {
      const reach = (spacing * (n - 1)) / 2 + Math.abs(o);
      if (reach > max) throw new Error(`detector: the pixel centres reach ${reach} mm from the principal ray along ${axis} (${names}); expected at most ${max.toExponential()} mm (float32 geometry)`);
    }
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
