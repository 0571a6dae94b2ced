/**
 * The fused Trilinear kernel equals the tensor-op reference on small random volumes and rays,
 * interpolates a linear volume exactly, and gives 0 (never NaN) for rays that miss.
 */
import * as tf from '@tensorflow/tfjs';
import { trilinearForwardImpl, type VolumeShape } from '../../kernels/shared/trilinear_impl.js';
import { trilinear } from '../../lib/ops/trilinear.js';
import { trilinearRange } from '../../lib/renderers/trilinear_range.js';
import { trilinearReference } from '../../lib/renderers/trilinear_reference.js';
import { maxRelativeError, seededRandom, useCpuBackend } from '../helpers/tf_setup.js';
import { randomRayCase } from '../helpers/random_rays.js';

beforeAll(useCpuBackend);


type RangeOf = (shape: VolumeShape, s: tf.Tensor2D, t: tf.Tensor2D, voxelShift: number) => tf.Tensor1D;
const ranges: Array<{ name: string; rangeOf: RangeOf }> = [
  { name: "DiffDRR's global range", rangeOf: (shape, s, t, voxelShift) => trilinearRange(shape, s, t, { voxelShift }) },
  { name: 'source to target', rangeOf: () => tf.tensor1d([0, 1]) },
  { name: 'beyond both ends', rangeOf: () => tf.tensor1d([-0.3, 1.4]) },
];

describe.each([0.5, 0])('fused kernel = tensor-op reference (voxelShift %d)', (voxelShift) => {
  describe.each([
    ['one source per ray', 1],
    ['one source per 50 rays (per pose)', 50],
  ])('%s', (_, raysPerSource) => {
    test.each(ranges)('random rays through random volumes, $name', ({ rangeOf }) => {
      for (const [seed, shape] of [[1, [5, 6, 7]], [2, [9, 4, 3]], [3, [1, 8, 8]]] as Array<[number, VolumeShape]>) {
        const nRays = 150;
        const nSources = nRays / raysPerSource;
        const c = randomRayCase(seed, shape, nRays, nSources);
        const [fused, reference] = tf.tidy(() => {
          const vol = tf.tensor3d(c.volume, [...shape]);
          const s = tf.tensor2d(c.source, [nSources, 3]);
          const t = tf.tensor2d(c.target, [nRays, 3]);
          const range = rangeOf(shape, s, t, voxelShift);
          const options = { voxelShift, nPoints: 61 };
          return [trilinear(vol, s, t, range, options).dataSync(), trilinearReference(vol, s, t, range, options).dataSync()];
        });
        expect(maxRelativeError(fused, reference)).toBeLessThan(1e-5);
        expect(fused.some((v) => v > 0)).toBe(true);
      }
    });
  });
});

test('the default 500 samples, on a larger volume', () => {
  const shape: VolumeShape = [12, 10, 11];
  const c = randomRayCase(4, shape, 80, 4);
  const [fused, reference] = tf.tidy(() => {
    const vol = tf.tensor3d(c.volume, [...shape]);
    const s = tf.tensor2d(c.source, [4, 3]);
    const t = tf.tensor2d(c.target, [80, 3]);
    const range = trilinearRange(shape, s, t);
    return [trilinear(vol, s, t, range).dataSync(), trilinearReference(vol, s, t, range).dataSync()];
  });
  expect(maxRelativeError(fused, reference)).toBeLessThan(1e-5);
});

describe.each([0.5, 0])('a linear volume is interpolated exactly inside (voxelShift %d)', (voxelShift) => {
  // f(i, j, k) = a i + b j + c k + e at voxel (i, j, k), which sits at index (i, j, k) + 0.5 - voxelShift
  const shape: VolumeShape = [7, 8, 9];
  const [a, b, c, e] = [0.3, -0.2, 0.45, 5];
  const volume64 = new Float64Array(7 * 8 * 9);
  for (let i = 0; i < 7; i++) for (let j = 0; j < 8; j++) for (let k = 0; k < 9; k++) volume64[(i * 8 + j) * 9 + k] = a * i + b * j + c * k + e;
  const volume = Float32Array.from(volume64);
  const rand = seededRandom(9);
  // rays whose samples all lie inside [0, N - 1] in interpolation coordinates q = p + voxelShift - 0.5
  const nRays = 50;
  const inside = () => [0, 1, 2].map((ax) => rand(0.5 - voxelShift, shape[ax] - 1.5 - voxelShift));
  const source = Float32Array.from({ length: 3 * nRays }, () => 0);
  const target = Float32Array.from({ length: 3 * nRays }, () => 0);
  for (let r = 0; r < nRays; r++) {
    source.set(inside(), 3 * r);
    target.set(inside(), 3 * r);
  }
  const nPoints = 40;
  const expected = Array.from({ length: nRays }, (_, r) => {
    let sum = 0;
    for (let k = 0; k < nPoints; k++) {
      const alpha = k / (nPoints - 1);
      const q = [0, 1, 2].map((ax) => source[3 * r + ax] + alpha * (target[3 * r + ax] - source[3 * r + ax]) + voxelShift - 0.5);
      sum += a * q[0] + b * q[1] + c * q[2] + e;
    }
    return sum / (nPoints - 1);
  });

  test.each([
    ['fused', trilinear],
    ['reference', trilinearReference],
  ])('%s', (_, render) => {
    const got = tf.tidy(() => render(tf.tensor3d(volume, [...shape]), tf.tensor2d(source, [nRays, 3]), tf.tensor2d(target, [nRays, 3]), tf.tensor1d([0, 1]), { voxelShift, nPoints }).dataSync());
    expect(maxRelativeError(got, expected)).toBeLessThan(1e-6);
  });

  test('the float64 forward to rounding', () => {
    const out = new Float64Array(nRays);
    trilinearForwardImpl({ density: volume64, shape, source, target, nRays, raysPerSource: 1 }, { voxelShift, nPoints, lo: 0, hi: 1 }, out);
    expect(maxRelativeError(out, expected)).toBeLessThan(1e-12);
  });
});

test('rays that miss the volume, rays parallel to its faces, and a zero-length range', () => {
  const shape: VolumeShape = [4, 5, 6];
  const vol = tf.ones([...shape]) as tf.Tensor3D;
  const s = tf.tensor2d([
    [-10, 2, 2], // along x through the volume
    [-10, 20, 2], // along x, passing beside it
    [2, 2, -10], // along z
    [1, 7, 1], // parallel to the y = -1 .. 6 faces, outside (zero padding reaches index 5 + 1 - 0.5)
    [-3, -3, -3], // diagonal, inside
  ]);
  const t = tf.tensor2d([
    [10, 2, 2],
    [10, 20, 2],
    [2, 2, 10],
    [1, 7, 10],
    [7, 8, 9],
  ]);
  const full = tf.tensor1d([0, 1]);
  const fused = Array.from(trilinear(vol, s, t, full, { nPoints: 201 }).dataSync());
  const reference = Array.from(trilinearReference(vol, s, t, full, { nPoints: 201 }).dataSync());
  expect(maxRelativeError(fused, reference)).toBeLessThan(1e-5);
  // along x through a ones volume (voxelShift 0.5): f = 1 on [0, 3], ramps on [-1, 0] and [3, 4]: 4 of 20 index units
  expect(fused[0]).toBeCloseTo(0.2, 6);
  expect(fused[1]).toBe(0);
  expect(fused[3]).toBe(0);
  expect(fused.every(Number.isFinite)).toBe(true);
  const empty = trilinear(vol, s, t, tf.tensor1d([0.5, 0.5])).arraySync();
  expect(empty).toEqual([[0], [0], [0], [0], [0]]);
  tf.dispose([vol, s, t, full]);
});

test('bad input is rejected with a clear message', () => {
  const vol = tf.ones([2, 2, 2]) as tf.Tensor3D;
  const s = tf.zeros([1, 3]) as tf.Tensor2D;
  const t = tf.ones([2, 3]) as tf.Tensor2D;
  const range = tf.tensor1d([0, 1]);
  expect(() => trilinear(vol, s, t, range, { nPoints: 1 })).toThrow(/nPoints: expected an integer >= 2/);
  expect(() => trilinear(vol, s, t, range, { nPoints: 2.5 })).toThrow(/nPoints/);
  expect(() => trilinear(vol, s, t, range, { voxelShift: NaN })).toThrow(/voxelShift: expected a finite number/);
  expect(() => trilinear(vol, s, t, tf.tensor1d([0, 1, 2]))).toThrow(/range: expected a tensor of rank 1 with last dimension 2/);
  expect(() => trilinear(vol, tf.zeros([3, 3]) as tf.Tensor2D, t, range)).toThrow(/S dividing the 2 target rays/);
  expect(() => trilinear(vol, s, t, tf.tensor1d([0, Infinity]))).toThrow(/range: expected finite/);
  tf.dispose([vol, s, t, range]);
});
