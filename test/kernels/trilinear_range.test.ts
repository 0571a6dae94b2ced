/**
 * DiffDRR's global sampling range as tensor ops: values against a double-precision evaluation,
 * and its gradient (only the rays attaining lo / hi, shared evenly among ties, none when clamped).
 */
import * as tf from '@tensorflow/tfjs';
import { trilinearRange } from '../../lib/renderers/trilinear_range.js';
import { seededRandom, useCpuBackend } from '../helpers/tf_setup.js';

beforeAll(useCpuBackend);

type Shape = [number, number, number];

/** DiffDRR's lo, hi in double precision (conventions note 7.1 with the voxel shift of note 8). */
function range64(shape: Shape, source: ArrayLike<number>, target: ArrayLike<number>, nRays: number, voxelShift: number): [number, number] {
  const perSource = (3 * nRays) / source.length;
  let lo = Infinity;
  let hi = -Infinity;
  for (let r = 0; r < nRays; r++) {
    const s = Math.floor(r / perSource);
    let enter = -Infinity;
    let exit = Infinity;
    for (let a = 0; a < 3; a++) {
      const d = target[3 * r + a] - source[3 * s + a] + 1e-8;
      const a0 = (-voxelShift - source[3 * s + a]) / d;
      const a1 = (shape[a] + 1 - voxelShift - source[3 * s + a]) / d;
      enter = Math.max(enter, Math.min(a0, a1));
      exit = Math.min(exit, Math.max(a0, a1));
    }
    lo = Math.min(lo, Math.max(enter, 0));
    hi = Math.max(hi, Math.min(exit, 1));
  }
  return [lo, hi];
}

test.each([0.5, 0])('lo and hi = a double-precision evaluation (voxelShift %d)', (voxelShift) => {
  const rand = seededRandom(3);
  const shape: Shape = [7, 5, 9];
  for (const [nRays, nSources, spread] of [[200, 200, 0.6], [200, 4, 3], [60, 2, 10]]) {
    // endpoints around the volume, from close (some inside: lo clamped to 0) to far (lo > 0)
    const point = () => [0, 1, 2].map((a) => rand(-spread * shape[a], (1 + spread) * shape[a]));
    const source = Float32Array.from({ length: 3 * nSources }, (_, i) => point()[i % 3]);
    const target = Float32Array.from({ length: 3 * nRays }, (_, i) => point()[i % 3]);
    const got = tf.tidy(() => trilinearRange(shape, tf.tensor2d(source, [nSources, 3]), tf.tensor2d(target, [nRays, 3]), { voxelShift }).dataSync());
    const want = range64(shape, source, target, nRays, voxelShift);
    expect(Math.abs(got[0] - want[0])).toBeLessThan(1e-6);
    expect(Math.abs(got[1] - want[1])).toBeLessThan(1e-6);
  }
});

/** Expects every value to be 0 (either sign). */
function expectZeros(values: number[]): void {
  expect(values.map((v) => (v === 0 ? 0 : v))).toEqual(values.map(() => 0));
}

/** Gradients of `lo + 2 hi` with respect to source and target. */
function rangeGradients(shape: Shape, source: number[][], target: number[][], options = {}): { range: Float32Array; ds: number[][]; dt: number[][] } {
  return tf.tidy(() => {
    const s = tf.tensor2d(source);
    const t = tf.tensor2d(target);
    const range = trilinearRange(shape, s, t, options).dataSync() as Float32Array;
    const [ds, dt] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(trilinearRange(shape, a as tf.Tensor2D, b as tf.Tensor2D, options), tf.tensor1d([1, 2]))))([s, t]);
    return { range, ds: ds.arraySync() as number[][], dt: dt.arraySync() as number[][] };
  });
}

describe('the gradient of the range', () => {
  const shape: Shape = [4, 4, 4];
  // Three rays along +x from x = -10 to x = 20 (entry through the x = -0.5 face, exit through x = 4.5).
  // Ray 1 starts closer (the smallest entry alpha), ray 2 ends closer (the largest exit alpha).
  const source = [[-10, 1, 1], [-6, 2, 1], [-10, 1, 2]];
  const target = [[20, 1.2, 1], [20, 2, 1.1], [12, 1, 2]];

  test('reaches only the rays attaining lo and hi, with the derivative of their face alpha', () => {
    const { range, ds, dt } = rangeGradients(shape, source, target);
    // lo: ray 1 entering at x = -0.5: alpha = (-0.5 - s_x) / (t_x - s_x); hi: ray 2 leaving at x = 4.5
    const lo = (-0.5 + 6) / 26;
    const hi = (4.5 + 10) / 22;
    expect(range[0]).toBeCloseTo(lo, 6);
    expect(range[1]).toBeCloseTo(hi, 6);
    // d alpha / d s_x = (alpha - 1) / d_x, d alpha / d t_x = -alpha / d_x; weights 1 (lo) and 2 (hi)
    expect(ds[1][0]).toBeCloseTo((lo - 1) / 26, 6);
    expect(dt[1][0]).toBeCloseTo(-lo / 26, 6);
    expect(ds[2][0]).toBeCloseTo((2 * (hi - 1)) / 22, 6);
    expect(dt[2][0]).toBeCloseTo((-2 * hi) / 22, 6);
    expectZeros(ds[0]);
    expectZeros(dt[0]);
    for (const r of [1, 2]) expectZeros([ds[r][1], ds[r][2], dt[r][1], dt[r][2]]);
  });

  test('is shared evenly among rays that tie (as torch.min / torch.max)', () => {
    const single = rangeGradients(shape, [source[1]], [target[1]]);
    const twice = rangeGradients(shape, [source[1], source[1]], [target[1], target[1]]);
    for (const r of [0, 1]) {
      for (let a = 0; a < 3; a++) {
        expect(twice.ds[r][a]).toBeCloseTo(single.ds[0][a] / 2, 6);
        expect(twice.dt[r][a]).toBeCloseTo(single.dt[0][a] / 2, 6);
      }
    }
  });

  test('is 0 where the range is clamped to [0, 1], and finite for rays parallel to the faces', () => {
    // a source inside the box (lo clamped to 0), a target inside it (hi clamped to 1), direction (1, 0, 0)
    const { range, ds, dt } = rangeGradients(shape, [[1, 1, 1]], [[3, 1, 1]]);
    expect(Array.from(range)).toEqual([0, 1]);
    expectZeros(ds.flat().concat(dt.flat()));
    // from outside along x only: zero y and z components
    const parallel = rangeGradients(shape, [[-10, 1, 1]], [[20, 1, 1]]);
    expect(parallel.range[0]).toBeCloseTo(9.5 / 30, 6);
    expect(parallel.range[1]).toBeCloseTo(14.5 / 30, 6);
    expect(parallel.ds.flat().concat(parallel.dt.flat()).every(Number.isFinite)).toBe(true);
    expect(parallel.dt[0][0]).toBeCloseTo(-(9.5 / 30) / 30 - (2 * (14.5 / 30)) / 30, 6);
    expectZeros([parallel.dt[0][1], parallel.dt[0][2]]);
  });

  test('alphamin / alphamax replace lo / hi (and their gradients)', () => {
    const onlyLo = rangeGradients(shape, source, target, { alphamin: 0.1 });
    expect(onlyLo.range[0]).toBeCloseTo(0.1, 7);
    expectZeros(onlyLo.ds[1]);
    expect(onlyLo.ds[2][0]).not.toBe(0);
    const both = tf.tidy(() => trilinearRange(shape, tf.tensor2d(source), tf.tensor2d(target), { alphamin: 0.25, alphamax: 0.75 }).arraySync());
    expect(both).toEqual([0.25, 0.75]);
  });
});

test('bad input is rejected with a clear message', () => {
  const s = tf.zeros([1, 3]) as tf.Tensor2D;
  const t = tf.ones([2, 3]) as tf.Tensor2D;
  expect(() => trilinearRange([2, 2, 2], s, t, { voxelShift: Infinity })).toThrow(/voxelShift: expected a finite number/);
  expect(() => trilinearRange([2, 2, 2], s, t, { alphamin: NaN })).toThrow(/alphamin: expected a finite number/);
  expect(() => trilinearRange([2, 0, 2], s, t)).toThrow(/shape: expected \[X, Y, Z\] positive integers/);
  expect(() => trilinearRange([2, 2, 2], tf.zeros([3, 3]) as tf.Tensor2D, t)).toThrow(/S dividing the 2 target rays/);
  tf.dispose([s, t]);
});
