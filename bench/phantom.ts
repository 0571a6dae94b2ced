/**
 * Synthetic CT volumes for the bench: an n³ torso-like phantom at 1 mm voxels, centred on the
 * world origin, made of a few ellipsoids of different densities with soft (about 1.5 voxel) edges,
 * added as in Shepp-Logan and clamped to [0, 1]. Deterministic: the same n gives the same values.
 */
import type { Subject } from '../lib/subject.js';
import { makeSubject } from '../lib/subject.js';

/** An ellipsoid: centre and semi-axes as fractions of the half-width, and the density it adds. */
interface Ellipsoid {
  c: [number, number, number];
  r: [number, number, number];
  add: number;
}

/** Body, lungs, heart, spine and two "hip" bones (x: left-right, y: front-back, z: head-foot). */
const ELLIPSOIDS: Ellipsoid[] = [
  { c: [0, 0, 0], r: [0.8, 0.55, 0.95], add: 0.25 }, // body, soft tissue
  { c: [-0.35, -0.05, 0.3], r: [0.25, 0.3, 0.45], add: -0.2 }, // left lung
  { c: [0.35, -0.05, 0.3], r: [0.25, 0.3, 0.45], add: -0.2 }, // right lung
  { c: [0.05, -0.15, 0.15], r: [0.18, 0.16, 0.2], add: 0.1 }, // heart
  { c: [0, 0.35, 0], r: [0.07, 0.07, 0.9], add: 0.6 }, // spine
  { c: [-0.35, 0.1, -0.7], r: [0.2, 0.12, 0.15], add: 0.5 }, // left hip
  { c: [0.35, 0.1, -0.7], r: [0.2, 0.12, 0.15], add: 0.5 }, // right hip
];

/** Edge width of each ellipsoid, voxels. */
const EDGE = 1.5;

/** The phantom's density, `[n, n, n]` C order (k fastest). */
export function phantomDensity(n: number): Float32Array {
  if (!(Number.isInteger(n) && n >= 8)) throw new Error(`phantom: expected an integer size >= 8, got ${n}`);
  const out = new Float32Array(n * n * n);
  const half = n / 2;
  for (const e of ELLIPSOIDS) {
    const c = e.c.map((v) => half + v * half - 0.5);
    const r = e.r.map((v) => v * half);
    const rMin = Math.min(...r);
    // (1 - q) * rMin / EDGE: 1 a voxel inside the surface's EDGE band and more, 0 outside.
    const lo = c.map((v, a) => Math.max(0, Math.floor(v - r[a])));
    const hi = c.map((v, a) => Math.min(n - 1, Math.ceil(v + r[a])));
    for (let i = lo[0]; i <= hi[0]; i++) {
      const x = (i - c[0]) / r[0];
      for (let j = lo[1]; j <= hi[1]; j++) {
        const y = (j - c[1]) / r[1];
        const xy = x * x + y * y;
        if (xy >= 1) continue;
        const row = (i * n + j) * n;
        for (let k = lo[2]; k <= hi[2]; k++) {
          const z = (k - c[2]) / r[2];
          const q2 = xy + z * z;
          if (q2 >= 1) continue;
          const w = Math.min(1, ((1 - Math.sqrt(q2)) * rMin) / EDGE);
          out[row + k] += e.add * w;
        }
      }
    }
  }
  for (let v = 0; v < out.length; v++) out[v] = Math.min(1, Math.max(0, out[v]));
  return out;
}

/** The phantom as a subject: 1 mm voxels, the volume's centre at the world origin, AP camera. */
export function makePhantom(n: number): Subject {
  const o = -(n - 1) / 2;
  const affine = [
    [1, 0, 0, o],
    [0, 1, 0, o],
    [0, 0, 1, o],
    [0, 0, 0, 1],
  ];
  return makeSubject({ density: phantomDensity(n), shape: [n, n, n], affine });
}
