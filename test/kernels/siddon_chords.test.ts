/**
 * Exact answers: through a volume of ones, each pixel is the ray's chord length (mm) through the
 * volume's box. Rays along axes, diagonals, grazing faces, starting inside, and missing (0).
 */
import * as tf from '@tensorflow/tfjs';
import { DRR } from '../../lib/drr.js';
import { makeSubject } from '../../lib/subject.js';
import { useCpuBackend } from '../helpers/tf_setup.js';

beforeAll(useCpuBackend);

// 4 x 5 x 6 voxels of 2 x 3 x 4 mm; voxel (i, j, k) centred at (2i + 10, 3j - 5, 4k + 1) mm.
const shape: [number, number, number] = [4, 5, 6];
const spacing = [2, 3, 4];
const origin = [10, -5, 1];
const affine = [
  [2, 0, 0, 10],
  [0, 3, 0, -5],
  [0, 0, 4, 1],
  [0, 0, 0, 1],
];

/** The box's faces in world mm for a voxel shift (voxel i spans [i - shift, i + 1 - shift) in index units). */
function box(voxelShift: number): { lo: number[]; hi: number[] } {
  return {
    lo: [0, 1, 2].map((a) => origin[a] + spacing[a] * -voxelShift),
    hi: [0, 1, 2].map((a) => origin[a] + spacing[a] * (shape[a] - voxelShift)),
  };
}

/** Chord length of segment s->t through an axis-aligned box, in double precision (slab method). */
function chord(s: number[], t: number[], lo: number[], hi: number[]): number {
  let a0 = 0;
  let a1 = 1;
  for (let a = 0; a < 3; a++) {
    const d = t[a] - s[a];
    if (d === 0) {
      if (s[a] < lo[a] || s[a] >= hi[a]) return 0;
      continue;
    }
    const p = (lo[a] - s[a]) / d;
    const q = (hi[a] - s[a]) / d;
    a0 = Math.max(a0, Math.min(p, q));
    a1 = Math.min(a1, Math.max(p, q));
  }
  return a1 > a0 ? (a1 - a0) * Math.hypot(t[0] - s[0], t[1] - s[1], t[2] - s[2]) : 0;
}

function cases(voxelShift: number): Array<{ name: string; s: number[]; t: number[]; expected?: number }> {
  const { lo, hi } = box(voxelShift);
  const mid = [0, 1, 2].map((a) => (lo[a] + hi[a]) / 2);
  const size = [0, 1, 2].map((a) => hi[a] - lo[a]);
  return [
    { name: 'along x through the middle', s: [lo[0] - 50, mid[1], mid[2]], t: [hi[0] + 50, mid[1], mid[2]], expected: size[0] },
    { name: 'along -y through the middle', s: [mid[0], hi[1] + 7, mid[2]], t: [mid[0], lo[1] - 9, mid[2]], expected: size[1] },
    { name: 'along z off-centre', s: [lo[0] + 0.3, lo[1] + 1.1, lo[2] - 100], t: [lo[0] + 0.3, lo[1] + 1.1, hi[2] + 1], expected: size[2] },
    { name: 'along x on an inner voxel face', s: [lo[0] - 5, lo[1] + spacing[1], mid[2]], t: [hi[0] + 5, lo[1] + spacing[1], mid[2]], expected: size[0] },
    { name: 'main diagonal corner to corner', s: [lo[0] - size[0], lo[1] - size[1], lo[2] - size[2]], t: [hi[0] + size[0], hi[1] + size[1], hi[2] + size[2]], expected: Math.hypot(...size) },
    { name: 'face diagonal', s: [lo[0] - size[0], lo[1] - size[1], mid[2]], t: [hi[0] + size[0], hi[1] + size[1], mid[2]], expected: Math.hypot(size[0], size[1]) },
    { name: 'oblique', s: [lo[0] - 13.7, lo[1] - 3.3, lo[2] + 2.9], t: [hi[0] + 4.1, hi[1] + 8.8, hi[2] - 1.7] },
    { name: 'grazing the lower x face (inside: faces are half-open [lo, hi))', s: [lo[0], lo[1] - 10, mid[2]], t: [lo[0], hi[1] + 10, mid[2]], expected: size[1] },
    { name: 'grazing the upper x face (outside)', s: [hi[0], lo[1] - 10, mid[2]], t: [hi[0], hi[1] + 10, mid[2]], expected: 0 },
    // Grazing rays use the x and z axes, whose 2 and 4 mm spacings make the float32 world-to-index map exact.
    { name: 'grazing a lower edge', s: [lo[0], lo[1] - 10, lo[2]], t: [lo[0], hi[1] + 10, lo[2]], expected: size[1] },
    { name: 'grazing an upper edge (outside)', s: [hi[0], lo[1] - 10, hi[2]], t: [hi[0], hi[1] + 10, hi[2]], expected: 0 },
    { name: 'starting inside the box', s: mid, t: [mid[0] + 100, mid[1], mid[2]], expected: hi[0] - mid[0] },
    { name: 'inside to inside', s: [mid[0] - 1, mid[1] - 2, mid[2] - 3], t: [mid[0] + 1, mid[1] + 2, mid[2] + 3], expected: Math.hypot(2, 4, 6) },
    { name: 'ending inside the box', s: [mid[0], mid[1], lo[2] - 40], t: mid, expected: mid[2] - lo[2] },
    { name: 'missing beside the box', s: [hi[0] + 1, lo[1] - 10, mid[2]], t: [hi[0] + 1, hi[1] + 10, mid[2]], expected: 0 },
    { name: 'missing: stops before the box', s: [lo[0] - 50, mid[1], mid[2]], t: [lo[0] - 1, mid[1], mid[2]], expected: 0 },
    { name: 'missing: oblique past a corner', s: [hi[0] + 1, hi[1] + 1, lo[2] - 30], t: [hi[0] + 30, hi[1] + 1, hi[2] + 30], expected: 0 },
  ];
}

describe.each([
  ['fused', 0.5],
  ['fused', 0],
  ['reference', 0.5],
  ['reference', 0],
] as const)('chord lengths through a box of ones (%s, voxelShift %d)', (implementation, voxelShift) => {
  const { lo, hi } = box(voxelShift);
  test.each(cases(voxelShift))('$name', ({ s, t, expected }) => {
    const subject = makeSubject({ density: tf.ones(shape) as tf.Tensor3D, affine, orientation: null });
    const drr = new DRR(subject, { sdd: 1, height: 1, delx: 1, voxelShift, implementation, alphaMin: 0, alphaMax: 1 });
    const img = drr.render(subject.density, tf.tensor2d([s]), tf.tensor3d([[t]]));
    const value = img.dataSync()[0];
    const exact = chord(s, t, lo, hi);
    if (expected !== undefined) expect(exact).toBeCloseTo(expected, 9);
    if (exact === 0) expect(value).toBe(0);
    else expect(Math.abs(value - exact) / exact).toBeLessThan(1e-5);
    tf.dispose([img, subject.density]);
    drr.dispose();
  });
});
