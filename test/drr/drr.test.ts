/** The DRR module: fallback to the reference, memory, patches, density override and bad input. */
import * as tf from '@tensorflow/tfjs';
import { DRR, type DRROptions } from '../../lib/drr.js';
import { loadExampleCt } from '../../lib/io/example_ct.js';
import { makeSubject, type Subject } from '../../lib/subject.js';
import { maxRelativeError, useCpuBackend } from '../helpers/tf_setup.js';

let ct: Subject;
beforeAll(async () => {
  await useCpuBackend();
  ct = await loadExampleCt();
});
afterAll(() => ct.dispose());

const hello = { sdd: 1020, height: 32, delx: 12 } satisfies DRROptions;
const rot = () => tf.tensor2d([[0.1, -0.2, 0.3]]);
const trans = () => tf.tensor2d([[5, 850, -10]]);

test('the tensor-op reference renders the example CT as the fused kernel does', () => {
  const [fused, reference] = tf.tidy(() =>
    (['fused', 'reference'] as const).map((implementation) => {
      const drr = new DRR(ct, { ...hello, implementation });
      const img = drr.forward(rot(), trans()).dataSync();
      drr.dispose();
      return img;
    }),
  );
  expect(maxRelativeError(fused, reference)).toBeLessThan(1e-5);
});

test('a batch renders each pose as a single render does', () => {
  const drr = new DRR(ct, hello);
  const [batch, first, second] = tf.tidy(() => [
    drr.forward(tf.tensor2d([[0.1, -0.2, 0.3], [0, 0.5, 0]]), tf.tensor2d([[5, 850, -10], [0, 800, 0]])).dataSync(),
    drr.forward(tf.tensor2d([[0.1, -0.2, 0.3]]), tf.tensor2d([[5, 850, -10]])).dataSync(),
    drr.forward(tf.tensor2d([[0, 0.5, 0]]), tf.tensor2d([[0, 800, 0]])).dataSync(),
  ]);
  const n = 32 * 32;
  expect(Array.from(batch.subarray(0, n))).toEqual(Array.from(first));
  expect(Array.from(batch.subarray(n))).toEqual(Array.from(second));
  drr.dispose();
});

test('patches render the same image (including a remainder chunk)', () => {
  const whole = new DRR(ct, { ...hello, width: 30 });
  const patched = new DRR(ct, { ...hello, width: 30, patchSize: 7 });
  const [a, b] = tf.tidy(() => [whole.forward(rot(), trans()).dataSync(), patched.forward(rot(), trans()).dataSync()]);
  expect(Array.from(b)).toEqual(Array.from(a));
  whole.dispose();
  patched.dispose();
});

test('forward({ density }) renders the given volume, and scales linearly with it', () => {
  const drr = new DRR(ct, hello);
  const [base, doubled] = tf.tidy(() => [
    drr.forward(rot(), trans()).dataSync(),
    drr.forward(rot(), trans(), { density: tf.mul(ct.density, 2) as tf.Tensor3D }).dataSync(),
  ]);
  base.forEach((v, i) => expect(doubled[i]).toBeCloseTo(2 * v, 3));
  drr.dispose();
});

test('pSubsample renders a seeded random subset of the pixels (others 0), reproducibly', () => {
  const full = new DRR(ct, hello);
  const make = (seed: number) => new DRR(ct, { ...hello, pSubsample: 0.25, subsampleSeed: seed });
  const [a, b, c] = [make(7), make(7), make(8)];
  const [whole, a1, a2, b1, b2, c1] = tf.tidy(() => [
    full.forward(rot(), trans()).dataSync(),
    a.forward(rot(), trans()).dataSync(),
    a.forward(rot(), trans()).dataSync(),
    b.forward(rot(), trans()).dataSync(),
    b.forward(rot(), trans()).dataSync(),
    c.forward(rot(), trans()).dataSync(),
  ]);
  const rendered = (img: ArrayLike<number>) => Array.from(img).filter((v) => v !== 0).length;
  expect(rendered(a1)).toBeLessThanOrEqual(256); // floor(0.25 x 1024) pixels rendered
  expect(rendered(a1)).toBeGreaterThan(200); // (a few rays may miss the volume)
  a1.forEach((v, i) => expect(v === 0 || v === whole[i]).toBe(true)); // rendered pixels equal the full render
  expect(Array.from(b1)).toEqual(Array.from(a1)); // same seed, same sequence of subsets
  expect(Array.from(b2)).toEqual(Array.from(a2));
  expect(Array.from(a2)).not.toEqual(Array.from(a1)); // a new subset each call
  expect(Array.from(c1)).not.toEqual(Array.from(a1));
  // gradients flow through the rendered pixels only
  const g = tf.tidy(() => tf.grad((t: tf.Tensor) => a.forward(rot(), t).sum())(trans()).dataSync());
  expect(g.every(Number.isFinite) && g.some((v) => v !== 0)).toBe(true);
  [full, a, b, c].forEach((d) => d.dispose());
});

test('tf.memory().numTensors is the same before and after 100 renders', () => {
  const drr = new DRR(ct, { sdd: 1020, height: 8, delx: 40 });
  const r = rot();
  const t = trans();
  const img = drr.forward(r, t);
  img.dispose();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 100; i++) drr.forward(r, t).dispose();
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([r, t]);
  drr.dispose();
});

test.each(['siddon', 'trilinear'] as const)('%s: numTensors flat across 100 forward+backward steps (pose and volume)', (renderer) => {
  const drr = new DRR(ct, { sdd: 1020, height: 6, delx: 60, renderer });
  const r = rot();
  const t = trans();
  const step = () => {
    const [dr, dt] = tf.grads((a: tf.Tensor, b: tf.Tensor) => drr.forward(a, b, { nPoints: renderer === 'trilinear' ? 50 : undefined }).sum())([r, t]);
    const dd = tf.grad((d: tf.Tensor) => drr.forward(r, t, { density: d as tf.Tensor3D, nPoints: renderer === 'trilinear' ? 50 : undefined }).sum())(ct.density);
    expect(dr.dataSync().every(Number.isFinite) && dd.dataSync().some((v) => v > 0)).toBe(true);
    tf.dispose([dr, dt, dd]);
  };
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 100; i++) step();
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([r, t]);
  drr.dispose();
});

describe('bad input gets a clear error naming the field', () => {
  const tiny = () => makeSubject({ density: tf.ones([2, 2, 2]) as tf.Tensor3D });
  test.each([
    [{ sdd: 0 }, /sdd: expected a finite number > 0, got 0/],
    [{ sdd: -5 }, /sdd: expected a finite number > 0/],
    [{ delx: 0 }, /delx: expected a finite number > 0/],
    [{ dely: -1 }, /dely: expected a finite number > 0/],
    [{ sdd: NaN }, /sdd: expected a finite number > 0, got NaN/],
    [{ height: 0 }, /height: expected a positive integer, got 0/],
    [{ height: 2.5 }, /height: expected a positive integer, got 2.5/],
    [{ width: -3 }, /width: expected a positive integer/],
    [{ x0: Infinity }, /x0: expected a finite number/],
    [{ patchSize: 0 }, /patchSize: expected a positive integer/],
    [{ voxelShift: NaN }, /voxelShift: expected a finite number/],
    [{ renderer: 'raytrace' }, /renderer: expected 'siddon'/],
    [{ reducefn: 'min' }, /reducefn: expected 'sum' or 'max', got "min"/],
    [{ pSubsample: 0 }, /pSubsample: expected a fraction in \(0, 1\], got 0/],
    [{ pSubsample: 0.5, subsampleSeed: 1.5 }, /subsampleSeed: expected an integer, got 1.5/],
    [{ alphaMin: 1, alphaMax: 0 }, /alphaMin, alphaMax: expected numbers with alphaMin < alphaMax/],
  ])('DRR options %p', (bad, message) => {
    const s = tiny();
    expect(() => new DRR(s, { sdd: 100, height: 4, delx: 1, ...(bad as Partial<DRROptions>) })).toThrow(message);
    s.dispose();
  });

  test('a subject that is not one', () => {
    expect(() => new DRR({} as Subject, { sdd: 100, height: 4, delx: 1 })).toThrow(/subject: expected a Subject/);
  });

  test('a singular or non-finite affine', () => {
    expect(() => makeSubject({ density: tf.ones([2, 2, 2]) as tf.Tensor3D, affine: [[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]] })).toThrow(/affine: the 3x3 part is singular/);
    expect(() => makeSubject({ density: tf.ones([2, 2, 2]) as tf.Tensor3D, affine: [[1, 0, 0, NaN], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]] })).toThrow(/affine: matrix has non-finite entries/);
  });

  const drrOf = () => new DRR(ct, { sdd: 1020, height: 4, delx: 50 });
  test.each([
    ['NaN in rotation', () => [tf.tensor2d([[NaN, 0, 0]]), tf.tensor2d([[0, 850, 0]]), {}], /rotation: expected finite values, found NaN/],
    ['Inf in translation', () => [tf.tensor2d([[0, 0, 0]]), tf.tensor2d([[0, Infinity, 0]]), {}], /translation: expected finite values, found Infinity/],
    ['rotation of the wrong shape', () => [tf.tensor2d([[0, 0]]), tf.tensor2d([[0, 850, 0]]), {}], /rotation: parameterization 'euler_angles' expects shape \[B, 3\], got shape \[1, 2\]/],
    ['translation batch mismatch', () => [tf.tensor2d([[0, 0, 0], [0, 0, 0]]), tf.tensor2d([[0, 850, 0]]), {}], /translation: expected shape \[2, 3\]/],
    ['missing translation', () => [tf.tensor2d([[0, 0, 0]]), null, {}], /translation: expected shape \[1, 3\].*got null/],
    ['rotation not a tensor', () => [[[0, 0, 0]], tf.tensor2d([[0, 850, 0]]), {}], /rotation: expected a tf.Tensor/],
    ['unknown parameterization', () => [tf.tensor2d([[0, 0, 0]]), tf.tensor2d([[0, 850, 0]]), { parameterization: 'quaternions' }], /parameterization: expected one of axis_angle, euler_angles, matrix, quaternion, .*, got "quaternions"/],
    ['unknown convention', () => [tf.tensor2d([[0, 0, 0]]), tf.tensor2d([[0, 850, 0]]), { convention: 'XXY' }], /convention: expected 3 letters/],
    ['matrix of the wrong shape', () => [tf.tensor2d([[1, 0, 0, 0]]), null, { parameterization: 'matrix' }], /rotation: parameterization 'matrix' expects poses of shape \[B, 4, 4\]/],
    ['NaN in a matrix', () => [tf.tensor3d([[[1, 0, 0, 0], [0, 1, 0, NaN], [0, 0, 1, 0], [0, 0, 0, 1]]]), null, { parameterization: 'matrix' }], /rotation: expected finite values, found NaN/],
    ['maskToChannels without a labelmap', () => [tf.tensor2d([[0, 0, 0]]), tf.tensor2d([[0, 850, 0]]), { maskToChannels: true }], /maskToChannels: the subject has no labelmap/],
    ['a density of the wrong shape', () => [tf.tensor2d([[0, 0, 0]]), tf.tensor2d([[0, 850, 0]]), { density: tf.ones([3, 3, 3]) }], /density: expected shape \[122, 101, 112\]/],
  ] as Array<[string, () => unknown[], RegExp]>)('%s', (_, args, message) => {
    const drr = drrOf();
    const [r, t, o] = args();
    expect(() => drr.forward(r as tf.Tensor, t as tf.Tensor, o as object)).toThrow(message);
    drr.dispose();
  });
});
