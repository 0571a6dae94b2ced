/**
 * A cell of the trilinear grid read and written with zero padding (grid_sample's): cell
 * `(i, j, k)` has the corners `i..i+1` x `j..j+1` x `k..k+1`; corners outside the volume read 0
 * and take no weight. Corner order: 000 001 010 011 100 101 110 111 (x y z bits), as the loops
 * name them `c000 .. c111`.
 */
import type { VolumeShape } from './siddon_walker.js';

/** Reads and writes the cells of volumes of one shape (C order `[X, Y, Z]`). */
export class PaddedCells {
  private readonly lastX: number;
  private readonly lastY: number;
  private readonly lastZ: number;
  private readonly strideX: number;
  private readonly strideY: number;
  /** `locate`'s result: whether the cell's lower (0) and upper (1) corner plane lies inside, per axis. */
  private x0 = false;
  private x1 = false;
  private y0 = false;
  private y1 = false;
  private z0 = false;
  private z1 = false;

  constructor(shape: VolumeShape) {
    this.lastX = shape[0] - 1;
    this.lastY = shape[1] - 1;
    this.lastZ = shape[2] - 1;
    this.strideX = shape[1] * shape[2];
    this.strideY = shape[2];
  }

  /**
   * The corners of cell `(i, j, k)` of `d` into `out` (8 values, 0 outside).
   * @returns whether all eight lie inside.
   */
  read(d: Float32Array | Float64Array, i: number, j: number, k: number, out: Float64Array): boolean {
    const base = this.locate(i, j, k);
    const { strideX: sx, strideY: sy, x0, x1, y0, y1, z0, z1 } = this;
    out[0] = x0 && y0 && z0 ? d[base] : 0;
    out[1] = x0 && y0 && z1 ? d[base + 1] : 0;
    out[2] = x0 && y1 && z0 ? d[base + sy] : 0;
    out[3] = x0 && y1 && z1 ? d[base + sy + 1] : 0;
    out[4] = x1 && y0 && z0 ? d[base + sx] : 0;
    out[5] = x1 && y0 && z1 ? d[base + sx + 1] : 0;
    out[6] = x1 && y1 && z0 ? d[base + sx + sy] : 0;
    out[7] = x1 && y1 && z1 ? d[base + sx + sy + 1] : 0;
    return x0 && x1 && y0 && y1 && z0 && z1;
  }

  /** Adds the weights `w` (8 values) to the corners of cell `(i, j, k)` of `out` that lie inside. */
  add(out: Float64Array, i: number, j: number, k: number, w: Float64Array): void {
    const base = this.locate(i, j, k);
    const { strideX: sx, strideY: sy, x0, x1, y0, y1, z0, z1 } = this;
    if (x0 && y0 && z0) out[base] += w[0];
    if (x0 && y0 && z1) out[base + 1] += w[1];
    if (x0 && y1 && z0) out[base + sy] += w[2];
    if (x0 && y1 && z1) out[base + sy + 1] += w[3];
    if (x1 && y0 && z0) out[base + sx] += w[4];
    if (x1 && y0 && z1) out[base + sx + 1] += w[5];
    if (x1 && y1 && z0) out[base + sx + sy] += w[6];
    if (x1 && y1 && z1) out[base + sx + sy + 1] += w[7];
  }

  /** Which corner planes of cell `(i, j, k)` lie inside, per axis (into `x0` .. `z1`). @returns its flat lower corner. */
  private locate(i: number, j: number, k: number): number {
    const { lastX, lastY, lastZ } = this;
    this.x0 = i >= 0 && i <= lastX;
    this.x1 = i >= -1 && i < lastX;
    this.y0 = j >= 0 && j <= lastY;
    this.y1 = j >= -1 && j < lastY;
    this.z0 = k >= 0 && k <= lastZ;
    this.z1 = k >= -1 && k < lastZ;
    return i * this.strideX + j * this.strideY + k;
  }
}
