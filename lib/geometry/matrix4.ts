/**
 * Small double-precision 4x4 matrix helpers for the fixed (non-differentiable) transforms:
 * the volume affine, its inverse and the reorientation.
 *
 * Storage: a `Float64Array(16)` in ROW-major order, `m[4 * row + col]`; matrices act on column
 * vectors `(x, y, z, 1)`. (The differentiable pose lives in tensors, see `pose.ts`.)
 */

/** A 4x4 matrix, row-major. */
export type Matrix4 = Float64Array;

/** The 4x4 identity. */
export function identity4(): Matrix4 {
  const m = new Float64Array(16);
  m[0] = m[5] = m[10] = m[15] = 1;
  return m;
}

/** Builds a row-major 4x4 from 16 numbers or from 4 rows of 4. */
export function matrix4(values: ArrayLike<number> | number[][]): Matrix4 {
  const flat = Array.isArray(values) && Array.isArray(values[0]) ? (values as number[][]).flat() : Array.from(values as ArrayLike<number>);
  if (flat.length !== 16) throw new Error(`matrix4: expected 16 values (4x4), got ${flat.length}`);
  return Float64Array.from(flat);
}

/** `a b` (apply b first). */
export function multiply4(a: Matrix4, b: Matrix4): Matrix4 {
  const out = new Float64Array(16);
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[4 * r + k] * b[4 * k + c];
      out[4 * r + c] = s;
    }
  }
  return out;
}

/** The translation matrix `Tr(t)`. */
export function translation4(tx: number, ty: number, tz: number): Matrix4 {
  const m = identity4();
  m[3] = tx;
  m[7] = ty;
  m[11] = tz;
  return m;
}

/** Applies `m` to the point `(x, y, z, 1)` and returns `(x', y', z')`. */
export function applyPoint4(m: Matrix4, p: ArrayLike<number>): [number, number, number] {
  return [
    m[0] * p[0] + m[1] * p[1] + m[2] * p[2] + m[3],
    m[4] * p[0] + m[5] * p[1] + m[6] * p[2] + m[7],
    m[8] * p[0] + m[9] * p[1] + m[10] * p[2] + m[11],
  ];
}

/** Determinant of the upper-left 3x3 block. */
export function det3of4(m: Matrix4): number {
  return (
    m[0] * (m[5] * m[10] - m[6] * m[9]) -
    m[1] * (m[4] * m[10] - m[6] * m[8]) +
    m[2] * (m[4] * m[9] - m[5] * m[8])
  );
}

/**
 * Inverse of an affine 4x4 (last row `0 0 0 1`), through the 3x3 adjugate.
 * Throws naming `what` if the matrix is not finite or its 3x3 block is singular.
 */
export function invertAffine4(m: Matrix4, what = 'affine'): Matrix4 {
  if (!m.every(Number.isFinite)) throw new Error(`${what}: matrix has non-finite entries (${Array.from(m).join(', ')})`);
  const det = det3of4(m);
  const scale = Math.max(...[0, 1, 2, 4, 5, 6, 8, 9, 10].map((i) => Math.abs(m[i])));
  if (!(Math.abs(det) > 1e-12 * scale * scale * scale) || scale === 0) {
    throw new Error(`${what}: the 3x3 part is singular (determinant ${det}); expected an invertible voxel-to-world affine`);
  }
  const inv = new Float64Array(16);
  inv[0] = (m[5] * m[10] - m[6] * m[9]) / det;
  inv[1] = (m[2] * m[9] - m[1] * m[10]) / det;
  inv[2] = (m[1] * m[6] - m[2] * m[5]) / det;
  inv[4] = (m[6] * m[8] - m[4] * m[10]) / det;
  inv[5] = (m[0] * m[10] - m[2] * m[8]) / det;
  inv[6] = (m[2] * m[4] - m[0] * m[6]) / det;
  inv[8] = (m[4] * m[9] - m[5] * m[8]) / det;
  inv[9] = (m[1] * m[8] - m[0] * m[9]) / det;
  inv[10] = (m[0] * m[5] - m[1] * m[4]) / det;
  for (let r = 0; r < 3; r++) {
    inv[4 * r + 3] = -(inv[4 * r] * m[3] + inv[4 * r + 1] * m[7] + inv[4 * r + 2] * m[11]);
  }
  inv[15] = 1;
  return inv;
}
