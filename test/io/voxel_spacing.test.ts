/**
 * The accepted voxel-size range (lib/geometry/voxel_spacing.ts, 1e-4 mm to 1e4 mm per index axis):
 * checked where an affine enters (readNifti / read, makeSubject, the DRR constructor), and at both
 * ends of it the renderers still scale exactly: a volume and camera scaled by `s` render `s` times
 * the 1 mm image.
 */
import * as tf from '@tensorflow/tfjs';
import { DRR } from '../../lib/drr.js';
import { checkVoxelSpacing, voxelSpacing, VOXEL_SIZE_RANGE_MM } from '../../lib/geometry/voxel_spacing.js';
import { read } from '../../lib/io/read.js';
import { makeSubject } from '../../lib/subject.js';
import { niftiBytes } from '../helpers/nifti_fixture.js';
import { maxRelativeError, useCpuBackend } from '../helpers/tf_setup.js';

beforeAll(useCpuBackend);

const N = 8;
const VALUES = Float32Array.from({ length: N ** 3 }, (_, n) => ((n * 7919) % 97) / 97);

/** A diagonal affine with these voxel sizes, centred. */
const diagonal = (s: number[]) => [
  [s[0], 0, 0, (-(N - 1) / 2) * s[0]],
  [0, s[1], 0, (-(N - 1) / 2) * s[1]],
  [0, 0, s[2], (-(N - 1) / 2) * s[2]],
  [0, 0, 0, 1],
];

/** The README's pose (or a rotated one), with the camera (sdd, pixel size, translation) scaled by `g`. */
async function render(subject: ReturnType<typeof makeSubject>, renderer: 'siddon' | 'trilinear', g: number, rotation = [0, 0, 0]): Promise<Float32Array> {
  const drr = new DRR(subject, { sdd: 1020 * g, height: 16, delx: 8 * g, renderer });
  const img = drr.forward(tf.tensor2d([rotation]), tf.tensor2d([[0, 850 * g, 0]]), { parameterization: 'euler_angles', convention: 'ZXY' });
  const data = (await img.data()) as Float32Array;
  img.dispose();
  drr.dispose();
  return data;
}

describe('checkVoxelSpacing', () => {
  test('the range is 1e-4 mm to 1e4 mm, both ends included (and their float32 roundings)', () => {
    expect(VOXEL_SIZE_RANGE_MM).toEqual([1e-4, 1e4]);
    for (const s of [1e-4, Math.fround(1e-4), 1e4, Math.fround(1e4), 1, 0.5]) {
      expect(() => checkVoxelSpacing(Float64Array.from(diagonal([s, s, s]).flat()), 'a')).not.toThrow();
    }
  });

  test('the size is the column norm, so rotations do not change it', () => {
    const c = Math.cos(0.7);
    const s = Math.sin(0.7);
    const rotated = [[2 * c, -3 * s, 0, 0], [2 * s, 3 * c, 0, 0], [0, 0, 4, 0], [0, 0, 0, 1]].flat();
    const [si, sj, sk] = voxelSpacing(rotated);
    expect(si).toBeCloseTo(2, 14);
    expect(sj).toBeCloseTo(3, 14);
    expect(sk).toBe(4);
  });

  test('sizes outside the range are refused, naming the axis and the size', () => {
    const cases: [number[], string][] = [
      [[1, 9.99e-5, 1], 'voxel size along j is 0.0000999 mm'],
      [[1, 1, 1.0001e4], 'voxel size along k is 10001 mm'],
      [[0, 1, 1], 'voxel size along i is 0 mm'],
      [[1e-37, 1e-37, 1e-37], 'voxel size along i is 1e-37 mm'],
      [[1e20, 1, 1], 'voxel size along i is 100000000000000000000 mm'],
    ];
    for (const [s, text] of cases) {
      const column = 'ijk'.indexOf(text['voxel size along '.length]);
      expect(() => checkVoxelSpacing(Float64Array.from(diagonal(s).flat()), 'my.affine')).toThrow(
        `my.affine: ${text} (the norm of column ${column} of the 3x3 part); expected 0.0001 mm to 10000 mm per axis`,
      );
    }
  });
});

describe('where an affine enters', () => {
  test('makeSubject refuses an affine outside the range', () => {
    expect(() => makeSubject({ density: VALUES, shape: [N, N, N], affine: diagonal([1e-5, 1e-5, 1e-5]) })).toThrow(/^affine: voxel size along i is 0.00001 mm/);
  });

  test('the DRR constructor refuses a hand-made subject whose affine is outside the range', () => {
    const subject = makeSubject({ density: VALUES, shape: [N, N, N] });
    const tiny = { ...subject, affine: Float64Array.from(diagonal([1e-37, 1e-37, 1e-37]).flat()) };
    expect(() => new DRR(tiny, { sdd: 1020, height: 16, delx: 8 })).toThrow(/^subject\.affine: voxel size along i is 1e-37 mm/);
    subject.dispose();
  });

  test('read refuses a transform that takes the voxel sizes out of the range, naming the file', async () => {
    const bytes = niftiBytes({ dims: [2, 2, 2], sformCode: 1 });
    await expect(read(bytes, { transform: diagonal([1, 1e5, 1]) })).rejects.toThrow(/^read\(<bytes>\): transform x the sform affine: voxel size along j is 100000 mm/);
  });
});

describe('at the ends of the range the renderers scale exactly', () => {
  // Tolerances: the README pose, float32 rounding of the scaled geometry only (measured 1.2e-7
  // Siddon, 2.6e-6 Trilinear); a rotated pose, rays that graze voxel faces move by float32 rounding
  // (measured up to 7e-5 at 1e-4 mm, and the same at ordinary factors such as 3 or 0.7).
  const tolerance = { siddon: [1e-6, 2e-4], trilinear: [1e-5, 2e-4] };
  for (const renderer of ['siddon', 'trilinear'] as const) {
    test(`${renderer}: a volume and camera scaled by 1e-4 and 1e4 render that factor times the 1 mm image`, async () => {
      for (const [p, rotation] of [[0, 0, 0], [0.1, -0.2, 0.3]].entries()) {
        const images: Record<number, Float32Array> = {};
        for (const s of [1, 1e-4, 1e4]) {
          const subject = makeSubject({ density: tf.tensor3d(VALUES, [N, N, N]), affine: diagonal([s, s, s]) });
          images[s] = await render(subject, renderer, s, rotation);
          subject.dispose();
        }
        expect(Math.max(...images[1])).toBeGreaterThan(1);
        for (const s of [1e-4, 1e4]) {
          const unscaled = images[s].map((x) => x / s);
          expect(unscaled.every(Number.isFinite)).toBe(true);
          expect(maxRelativeError(unscaled, images[1])).toBeLessThan(tolerance[renderer][p]);
        }
      }
    });
  }

  test('the same from NIfTI-1 files whose float32 sform holds 1e-4 mm and 1e4 mm voxels', async () => {
    const hu = Array.from(VALUES, (v) => v * 2000 - 1000);
    const images: Record<number, Float32Array> = {};
    for (const s of [1, 1e-4, 1e4]) {
      const subject = await read(niftiBytes({ dims: [N, N, N], values: hu, sformCode: 1, srow: diagonal([s, s, s]).slice(0, 3) }));
      images[s] = await render(subject, 'siddon', s);
      subject.dispose();
    }
    expect(Math.max(...images[1])).toBeGreaterThan(1);
    for (const s of [1e-4, 1e4]) expect(maxRelativeError(images[s].map((x) => x / s), images[1])).toBeLessThan(1e-6);
  });
});
