/**
 * The WebAssembly SIMD kernels (kernels/simd: four rays per f32x4, float32 sums; the cell walk for
 * dense rays, samples one by one for the others) in the Trilinear forward, against the JS kernels
 * in float64 (`simd: false`): pixels and ray gradient rows within float32 rounding on random rays
 * in every direction, axis-parallel ones, volumes without interior cells and rays from a million
 * voxels away; a ray's result the same to the bit in any batch, order or ray range (what makes
 * threads agree with one thread); batches larger than one call; non-finite voxels read only where
 * the JS kernels read them; a volume copied in once per key.
 */
import { siddonForwardImpl } from '../../kernels/shared/siddon_impl.js';
import { trilinearForwardImpl, type TrilinearSampling, type VolumeShape } from '../../kernels/shared/trilinear_impl.js';
import { RAY_GRADIENT_WIDTH } from '../../kernels/shared/trilinear_ray_gradient.js';
import { SIMD_CHUNK, SimdKernels, disposeSimdKernels, simdKernels } from '../../kernels/simd/simd_kernels.js';
import { randomRayCase } from '../helpers/random_rays.js';
import { maxRelativeError, seededRandom } from '../helpers/tf_setup.js';

const shape: VolumeShape = [19, 14, 16];

interface Rendered {
  pixels: Float64Array;
  rows: Float64Array | null;
}

/** The forward of rays `source` (S) to `target` (R) with ray gradient rows, optionally over `[first, end)` only. */
function render(volume: Float32Array, source: Float32Array, target: Float32Array, sampling: TrilinearSampling, rows: boolean, range?: { first: number; end: number }, volumeShape: VolumeShape = shape): Rendered {
  const nRays = target.length / 3;
  const pixels = new Float64Array(nRays);
  const gradients = rows ? new Float64Array(RAY_GRADIENT_WIDTH * nRays) : null;
  const rays = { density: volume, shape: volumeShape, source, target, nRays, raysPerSource: nRays / (source.length / 3), mask: null };
  trilinearForwardImpl(rays, sampling, pixels, range, gradients);
  return { pixels, rows: gradients };
}

/** Rays parallel to the axes and to the faces (an axis the walk never crosses), one source each. */
function axisRays(): { source: Float32Array; target: Float32Array } {
  const pairs = [
    [4.3, 3.2, -5, 4.3, 3.2, 20], // along z
    [-6, 7.5, 2.5, 25, 7.5, 2.5], // along x, on a cell face in y and z
    [9.1, -3, 8.7, 9.1, 18, 8.7], // along y
    [-2, -2, 3.3, 22, 17, 3.3], // in a z plane
    [0, 0, 0, 18, 13, 15], // corner to corner
  ];
  return { source: Float32Array.from(pairs.flatMap((p) => p.slice(0, 3))), target: Float32Array.from(pairs.flatMap((p) => p.slice(3))) };
}

test('the SIMD module runs on this engine (Node has WebAssembly SIMD)', () => {
  const simd = SimdKernels.create();
  expect(simd).not.toBeNull();
});

describe.each([40, 400, 4000])('%d points per ray', (nPoints) => {
  test.each([
    { voxelShift: 0.5, lo: -0.1, hi: 1.2 },
    { voxelShift: 0, lo: 0.25, hi: 0.85 },
  ])('SIMD = JS within float32 rounding (%o)', (range) => {
    const c = randomRayCase(31 + nPoints, shape, 600, 40);
    const sampling = { ...range, nPoints };
    for (const rays of [c, axisRays()]) {
      const simd = render(c.volume, rays.source, rays.target, sampling, true);
      const js = render(c.volume, rays.source, rays.target, { ...sampling, simd: false }, true);
      expect(maxRelativeError(simd.pixels, js.pixels)).toBeLessThan(2e-6);
      expect(maxRelativeError(simd.rows!, js.rows!)).toBeLessThan(2e-5);
      // the pixels do not depend on whether the rows were asked for
      expect(render(c.volume, rays.source, rays.target, sampling, false).pixels).toEqual(simd.pixels);
    }
  });
});

test.each<[VolumeShape]>([[[1, 6, 5]], [[2, 3, 40]], [[7, 1, 9]]])('volumes without interior cells (%j): every cell and sample read zero padded, SIMD = JS', (volumeShape) => {
  for (const nPoints of [10, 300]) {
    const c = randomRayCase(17 + nPoints, volumeShape, 300, 30);
    const sampling = { voxelShift: 0.5, lo: -0.2, hi: 1.2, nPoints };
    const simd = render(c.volume, c.source, c.target, sampling, true, undefined, volumeShape);
    const js = render(c.volume, c.source, c.target, { ...sampling, simd: false }, true, undefined, volumeShape);
    expect(maxRelativeError(simd.pixels, js.pixels)).toBeLessThan(2e-6);
    expect(maxRelativeError(simd.rows!, js.rows!)).toBeLessThan(2e-5);
    expect(js.pixels.filter((v) => v > 0).length).toBeGreaterThan(50);
  }
});

test('rays along the faces at the largest step the cell walk takes read zeros around the volume, as the JS kernels', () => {
  // each ray runs along one axis, from 20 voxels before the volume to 20 past it, at a step of
  // 0.69 voxels (CELL_WALK_MAX_STEP 0.7), through cells as far out as the walk goes: lower
  // corners from -2 to N on the other axes
  const pairs: number[][] = [];
  for (let a = 0; a < 3; a++) {
    const [b, c] = [(a + 1) % 3, (a + 2) % 3];
    for (const u of [-1.6, -1.2, -0.4, 0.3, shape[b] - 1.3, shape[b] - 0.6, shape[b] - 0.2, shape[b] + 0.4]) {
      for (const v of [-1.7, -0.5, shape[c] - 0.7, shape[c] + 0.45]) {
        const s = [0, 0, 0];
        const t = [0, 0, 0];
        [s[a], t[a]] = [-20, shape[a] + 20];
        [s[b], t[b], s[c], t[c]] = [u, u + 0.01, v, v - 0.01];
        pairs.push(u > 0 ? [...s, ...t] : [...t, ...s]);
      }
    }
  }
  const source = Float32Array.from(pairs.flatMap((p) => p.slice(0, 3)));
  const target = Float32Array.from(pairs.flatMap((p) => p.slice(3)));
  const volume = randomRayCase(3, shape, 1).volume;
  const nPoints = Math.ceil(Math.max(...shape.map((n) => n + 40)) / 0.69) + 1;
  for (const voxelShift of [0.5, 0]) {
    const sampling = { voxelShift, lo: 0, hi: 1, nPoints };
    const simd = render(volume, source, target, sampling, true);
    const js = render(volume, source, target, { ...sampling, simd: false }, true);
    expect(maxRelativeError(simd.pixels, js.pixels)).toBeLessThan(2e-6);
    expect(maxRelativeError(simd.rows!, js.rows!)).toBeLessThan(2e-5);
    expect(js.pixels.filter((v) => v > 0).length).toBeGreaterThan(20);
  }
});

test('rays from a million voxels away give what the JS kernels give', () => {
  const c = randomRayCase(23, shape, 200, 1);
  const source = Float32Array.from([9.5, -1e6, 7.5]);
  // targets just past the volume in y: the rays cross it nearly along y
  const target = Float32Array.from(c.target, (v, i) => (i % 3 === 1 ? shape[1] + 5 + v / 10 : v / 2 + 2));
  for (const nPoints of [2e4, 2e5, 2e6]) {
    const sampling = { voxelShift: 0.5, lo: 0, hi: 1, nPoints };
    const simd = render(c.volume, source, target, sampling, true);
    const js = render(c.volume, source, target, { ...sampling, simd: false }, true);
    expect(maxRelativeError(simd.pixels, js.pixels)).toBeLessThan(2e-6);
    // At 2e6 samples the range gradients are two terms of ~1e-7 cancelling to ~1e-10 (the samples
    // near the volume shift as hi moves): float32 sums leave ~1e-7 there, as DiffDRR's would.
    if (nPoints <= 2e5) expect(maxRelativeError(simd.rows!, js.rows!)).toBeLessThan(2e-5);
    if (nPoints > 2e4) expect(js.pixels.filter((v) => v > 0).length).toBeGreaterThan(100);
  }
});

test('a ray gets the same result to the bit in any batch, order or ray range', () => {
  const c = randomRayCase(5, shape, 2 * SIMD_CHUNK + 7, 2 * SIMD_CHUNK + 7);
  const sampling = { voxelShift: 0.5, lo: 0, hi: 1, nPoints: 300 };
  const all = render(c.volume, c.source, c.target, sampling, true);
  // every ray: dense rays walked by the SIMD module, more of them than one batch
  const js = render(c.volume, c.source, c.target, { ...sampling, simd: false }, true);
  expect(maxRelativeError(all.pixels, js.pixels)).toBeLessThan(2e-6);
  // reversed: each ray in another lane, with other neighbours
  const n = c.target.length / 3;
  const reverse = (a: Float32Array) => Float32Array.from({ length: a.length }, (_, i) => a[3 * (n - 1 - Math.floor(i / 3)) + (i % 3)]);
  const reversed = render(c.volume, reverse(c.source), reverse(c.target), sampling, true);
  for (let r = 0; r < n; r++) {
    expect(reversed.pixels[n - 1 - r]).toBe(all.pixels[r]);
    for (let q = 0; q < RAY_GRADIENT_WIDTH; q++) expect(reversed.rows![RAY_GRADIENT_WIDTH * (n - 1 - r) + q]).toBe(all.rows![RAY_GRADIENT_WIDTH * r + q]);
  }
  // ranges as the worker threads take them (rays outside a range are left 0)
  const rand = seededRandom(9);
  for (let trial = 0; trial < 4; trial++) {
    const first = Math.floor(rand(0, n));
    const end = Math.min(n, first + 1 + Math.floor(rand(0, 3000)));
    const part = render(c.volume, c.source, c.target, sampling, false, { first, end });
    for (let r = first; r < end; r++) expect(part.pixels[r]).toBe(all.pixels[r]);
  }
});

test('a non-finite voxel reaches only the rays whose samples read it, as in the JS walk', () => {
  const c = randomRayCase(12, shape, 800, 50);
  const volume = Float32Array.from(c.volume);
  volume[(9 * shape[1] + 7) * shape[2] + 8] = NaN;
  volume[(3 * shape[1] + 2) * shape[2] + 12] = Infinity;
  const sampling = { voxelShift: 0.5, lo: -0.1, hi: 1.1, nPoints: 500 };
  const simd = render(volume, c.source, c.target, sampling, false);
  const js = render(volume, c.source, c.target, { ...sampling, simd: false }, false);
  const finite = (a: Float64Array) => Array.from(a, Number.isFinite);
  expect(finite(simd.pixels)).toEqual(finite(js.pixels));
  expect(finite(js.pixels).filter((f) => !f).length).toBeGreaterThan(10);
  expect(finite(js.pixels).filter((f) => f).length).toBeGreaterThan(400);
});

test('a volume is copied in once per key: the same key keeps the copy, a new key or shape copies again', () => {
  const simd = simdKernels()!;
  const c = randomRayCase(41, shape, 400, 20);
  const sampling = { voxelShift: 0.5, lo: -0.1, hi: 1.1, nPoints: 300 };
  const rays = (density: Float32Array, densityKey?: number) => ({ density, shape, source: c.source, target: c.target, nRays: 400, raysPerSource: 20, mask: null, densityKey });
  const pixels = (density: Float32Array, densityKey?: number) => {
    const out = new Float64Array(400);
    trilinearForwardImpl(rays(density, densityKey), sampling, out);
    return out;
  };
  const first = pixels(c.volume, 1e9);
  // other values under the same key: the copy in is kept (the key promises the same values)
  const doubled = Float32Array.from(c.volume, (v) => 2 * v);
  expect(pixels(doubled, 1e9)).toEqual(first);
  // a new key, or none, copies them in
  const twice = pixels(doubled, 1e9 + 1);
  expect(maxRelativeError(twice, Float64Array.from(first, (v) => 2 * v))).toBeLessThan(1e-6);
  expect(pixels(c.volume)).toEqual(first);
  expect(simdKernels()).toBe(simd);
  disposeSimdKernels();
  expect(simdKernels()).not.toBe(simd);
});

test('the Siddon and Trilinear kernels keep their copies of one volume (plain and zero padded) side by side', () => {
  const c = randomRayCase(43, shape, 400, 20);
  const rays = (density: Float32Array, densityKey: number) => ({ density, shape, source: c.source, target: c.target, nRays: 400, raysPerSource: 20, mask: null, densityKey });
  const trilinear = (density: Float32Array, key: number) => {
    const out = new Float64Array(400);
    trilinearForwardImpl(rays(density, key), { voxelShift: 0.5, lo: -0.1, hi: 1.1, nPoints: 300 }, out);
    return out;
  };
  const siddon = (density: Float32Array, key: number) => {
    const out = new Float64Array(400);
    siddonForwardImpl(rays(density, key), { voxelShift: 0.5, alphaMin: 0, alphaMax: 1, reduce: 'sum', channels: 1 }, out);
    return out;
  };
  const doubled = Float32Array.from(c.volume, (v) => 2 * v);
  const t1 = trilinear(c.volume, 7e8);
  const s1 = siddon(c.volume, 7e8);
  // other values under the same key, in turns: each kernel still reads its own copy
  expect(trilinear(doubled, 7e8)).toEqual(t1);
  expect(siddon(doubled, 7e8)).toEqual(s1);
  expect(trilinear(doubled, 7e8)).toEqual(t1);
  // a new key: each copies the new values in, and then keeps them
  const t2 = trilinear(doubled, 7e8 + 1);
  const s2 = siddon(doubled, 7e8 + 1);
  expect(maxRelativeError(t2, Float64Array.from(t1, (v) => 2 * v))).toBeLessThan(1e-6);
  expect(maxRelativeError(s2, Float64Array.from(s1, (v) => 2 * v))).toBeLessThan(1e-6);
  expect(trilinear(c.volume, 7e8 + 1)).toEqual(t2);
  expect(siddon(c.volume, 7e8 + 1)).toEqual(s2);
});

test('with countSamples, the samples touching the volume are counted as the JS kernels count them (else 0)', () => {
  const c = randomRayCase(61, shape, 500, 25);
  const rays = { density: c.volume, shape, source: c.source, target: c.target, nRays: 500, raysPerSource: 20, mask: null };
  for (const nPoints of [40, 400]) {
    const sampling = { voxelShift: 0.5, lo: -0.2, hi: 1.2, nPoints };
    const count = (extra: Partial<TrilinearSampling>) => trilinearForwardImpl(rays, { ...sampling, ...extra }, new Float64Array(500));
    const js = count({ simd: false, countSamples: true });
    expect(js).toBeGreaterThan(500);
    expect(count({ countSamples: true })).toBe(js);
    expect(count({})).toBe(0);
    expect(count({ simd: false })).toBe(0);
  }
});
