/**
 * The cell walk (kernels/shared/trilinear_cell_sums.ts: a ray's samples summed cell by cell in
 * closed form) against the samples summed one by one (`TrilinearSampler.valueAt`, `scatterAt`),
 * in double precision: `sum f`, `sum grad f`, `sum u grad f` and the density scatter, within 1e-12
 * relative, on random rays (through, into, out of and beside the volume, in every direction), on
 * rays along faces and edges and parallel to axes, and from one sample per several cells to
 * hundreds of samples per cell. The sampler takes the walk exactly for the dense rays.
 */
import { CELL_WALK_MAX_STEP } from '../../kernels/shared/trilinear_cell_sums.js';
import { TrilinearSampler, type TrilinearSampling, type VolumeShape } from '../../kernels/shared/trilinear_impl.js';
import { RaySum } from '../../kernels/shared/trilinear_ray_gradient.js';
import { randomRayCase } from '../helpers/random_rays.js';

const shape: VolumeShape = [9, 7, 8];
const volumeSize = shape[0] * shape[1] * shape[2];

/** Rays along faces, edges and axes, through corners, and short ones (index coordinates: source, target). */
const awkwardRays: number[][] = [
  [4, 3, -5, 4, 3, 13], // along voxel edges (x = 4, y = 3), parallel to z
  [0, 2.5, 3.5, 8, 2.5, 3.5], // on the x = 0 face, parallel to x
  [-3, -3, -3, 12, 10, 11], // through the volume's corners region
  [-1, 1.2, 1.3, 0.5, 1.4, 1.6], // enters and stops inside
  [3.2, 3.3, 3.4, 3.6, 3.7, 3.8], // inside one cell
  [-4, -1, 2.5, 10, 13, 2.5], // 45 degrees in x-y
  [8, 6, 7, 0, 0, 0], // corner to corner, backwards
  [4.5, -10, 4.5, 4.5 + 1e-9, 17, 4.5], // nearly parallel to y
  [8.5, 3, 3, -0.5, 3.5, 4], // x decreasing across the whole volume, on the padding planes
  [2, 3, 4, 2, 3, 4.0001], // almost no length
];

/** Per-sample sums of the current ray (the reference): F, A, B (`RaySum`) and the scatter of weight `w`. */
function sampleSums(sampler: TrilinearSampler, scatter: Float64Array, w: number): Float64Array {
  const sums = new Float64Array(7);
  const grad = new Float64Array(3);
  const invN1 = 1 / (sampler.nPoints - 1);
  for (let k = sampler.kBegin; k < sampler.kEnd; k++) {
    sums[RaySum.Value] += sampler.valueAt(k, grad);
    for (let a = 0; a < 3; a++) {
      sums[RaySum.Gradient + a] += grad[a];
      sums[RaySum.WeightedGradient + a] += k * invN1 * grad[a];
    }
    sampler.scatterAt(scatter, k, w);
  }
  return sums;
}

/** Largest |a - b| over the entries, relative to the largest |b| (or 1). */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return err / scale;
}

/**
 * Compares the sampler's sums (the cell walk on dense rays) with the per-sample ones for each ray.
 * @returns how many rays touched the volume (by `start`), and how many of them took the walk.
 */
function compareRays(density: Float64Array, source: ArrayLike<number>, target: ArrayLike<number>, sampling: TrilinearSampling, gradients: boolean): { started: number; walked: number } {
  const sampler = new TrilinearSampler(density, shape, sampling);
  const probe = sampler as unknown as { dense: boolean };
  let walked = 0;
  let started = 0;
  for (let r = 0; 3 * r < target.length; r++) {
    const [sx, sy, sz] = [source[3 * r], source[3 * r + 1], source[3 * r + 2]];
    const [tx, ty, tz] = [target[3 * r], target[3 * r + 1], target[3 * r + 2]];
    if (!sampler.start(sx, sy, sz, tx, ty, tz)) continue;
    started++;
    const expectedScatter = new Float64Array(volumeSize);
    const expected = sampleSums(sampler, expectedScatter, 0.7);
    const dense = probe.dense;
    if (dense) walked++;
    const cells = Math.abs(sampler.dx) + Math.abs(sampler.dy) + Math.abs(sampler.dz);
    expect(dense).toBe(cells * sampler.alphaStep <= CELL_WALK_MAX_STEP);
    const value = new Float64Array(7);
    sampler.integrate(value, false);
    const withGradient = new Float64Array(7);
    sampler.integrate(withGradient, true);
    const scatter = new Float64Array(volumeSize);
    sampler.scatter(scatter, 0.7);
    const context = `ray ${r} (${[sx, sy, sz, tx, ty, tz].join(', ')}), ${sampling.nPoints} points`;
    const check = (what: string, err: number) => {
      if (!(err <= 1e-12)) throw new Error(`${context}: ${what} off by ${err} relative`);
    };
    check('sum f', relativeError([value[RaySum.Value]], [expected[RaySum.Value]]));
    check('sum f (with the gradient)', relativeError([withGradient[RaySum.Value]], [expected[RaySum.Value]]));
    if (gradients) check('sum grad f, sum u grad f', relativeError(withGradient, expected));
    check('scatter', relativeError(scatter, expectedScatter));
  }
  return { started, walked };
}

/** A random volume in [0, 1), stored in double precision. */
function randomVolume(seed: number): Float64Array {
  return Float64Array.from(randomRayCase(seed, shape, 1).volume);
}

describe.each([2, 30, 300, 3000])('%d points per ray', (nPoints) => {
  test.each([
    { voxelShift: 0.5, lo: -0.1, hi: 1.2 },
    { voxelShift: 0, lo: 0.2, hi: 0.8 },
  ])('random rays, voxelShift $voxelShift, range [$lo, $hi]: walk = samples one by one', (range) => {
    const c = randomRayCase(7 + nPoints, shape, 300);
    const { started, walked } = compareRays(randomVolume(nPoints), c.source, c.target, { ...range, nPoints }, true);
    expect(started).toBeGreaterThan(150);
    if (nPoints >= 300) expect(walked).toBeGreaterThan(0.9 * started);
    if (nPoints === 30) expect(walked).toBeGreaterThan(0);
    if (nPoints === 2) expect(walked).toBe(0);
  });

  test('rays along faces, edges and axes: values and scatter', () => {
    const source = awkwardRays.flatMap((p) => p.slice(0, 3));
    const target = awkwardRays.flatMap((p) => p.slice(3));
    compareRays(randomVolume(3), source, target, { voxelShift: 0.5, lo: -0.05, hi: 1.05, nPoints }, false);
  });
});
