/**
 * The WebAssembly SIMD Siddon walk (kernels/simd: four walkers at once, float64) in the Siddon
 * forward, against the JS walk (`simd: false`): the same pixels and ray gradient rows to the bit
 * on random rays, rays along the axes and on voxel faces, rays that start or end inside, ranges
 * finite and infinite, both voxel shifts, rays from a million voxels away and volumes one voxel
 * thin; in any order, batch or ray range; non-finite voxels and rays as the JS walk takes them.
 */
import { siddonForwardImpl, type SiddonImplAttrs, type VolumeShape } from '../../kernels/shared/siddon_impl.js';
import { SIMD_CHUNK } from '../../kernels/simd/simd_kernels.js';
import { randomRayCase } from '../helpers/random_rays.js';
import { seededRandom } from '../helpers/tf_setup.js';

const shape: VolumeShape = [19, 14, 16];
const whole = { voxelShift: 0.5, alphaMin: -Infinity, alphaMax: Infinity, reduce: 'sum', channels: 1 } as const;

interface Rendered {
  pixels: Float64Array;
  rows: Float64Array | null;
  steps: number;
}

function render(volume: Float32Array, source: Float32Array, target: Float32Array, attrs: SiddonImplAttrs, rows: boolean, range?: { first: number; end: number }, volumeShape: VolumeShape = shape): Rendered {
  const nRays = target.length / 3;
  const pixels = new Float64Array(nRays);
  const gradients = rows ? new Float64Array(6 * nRays) : null;
  const rays = { density: volume, shape: volumeShape, source, target, nRays, raysPerSource: nRays / (source.length / 3), mask: null };
  const steps = siddonForwardImpl(rays, attrs, pixels, range, gradients);
  return { pixels, rows: gradients, steps };
}

/** SIMD and JS agree to the bit, pixels and rows, and count the same steps. */
function expectSame(volume: Float32Array, source: Float32Array, target: Float32Array, attrs: SiddonImplAttrs, volumeShape: VolumeShape = shape): Rendered {
  for (const rows of [false, true]) {
    const simd = render(volume, source, target, attrs, rows, undefined, volumeShape);
    const js = render(volume, source, target, { ...attrs, simd: false }, rows, undefined, volumeShape);
    expect(simd.pixels).toEqual(js.pixels);
    expect(simd.rows).toEqual(js.rows);
    expect(simd.steps).toBe(js.steps);
    if (rows) return js;
  }
  throw new Error('unreachable');
}

/** Rays along the axes, on voxel faces and edges, and corner to corner, one source each. */
function axisRays(): { source: Float32Array; target: Float32Array } {
  const pairs = [
    [4.3, 3.2, -5, 4.3, 3.2, 20],
    [-6, 7.5, 2.5, 25, 7.5, 2.5],
    [9.1, -3, 8.7, 9.1, 18, 8.7],
    [-2, -2, 3.3, 22, 17, 3.3],
    [0, 0, 0, 18, 13, 15],
    [-0.5, -0.5, -0.5, 18.5, 13.5, 15.5],
    [3.5, 4.5, 5.5, 3.5, 4.5, 5.5],
  ];
  return { source: Float32Array.from(pairs.flatMap((p) => p.slice(0, 3))), target: Float32Array.from(pairs.flatMap((p) => p.slice(3))) };
}

test.each([
  { name: 'the whole line, voxelShift 0.5', attrs: whole },
  { name: 'source to target, voxelShift 0', attrs: { ...whole, voxelShift: 0, alphaMin: 0, alphaMax: 1 } },
  { name: 'a part of the ray', attrs: { ...whole, alphaMin: 0.3, alphaMax: 0.8 } },
])('SIMD = JS to the bit: random rays and rays along the axes ($name)', ({ attrs }) => {
  const c = randomRayCase(3, shape, 2000, 40);
  const js = expectSame(c.volume, c.source, c.target, attrs);
  expect(js.pixels.filter((v) => v > 0).length).toBeGreaterThan(500);
  const axis = axisRays();
  expectSame(c.volume, axis.source, axis.target, attrs);
});

test.each<[VolumeShape]>([[[1, 6, 5]], [[2, 3, 40]], [[7, 1, 1]]])('volumes one or two voxels thin (%j): SIMD = JS', (volumeShape) => {
  const c = randomRayCase(17, volumeShape, 500, 50);
  const js = expectSame(c.volume, c.source, c.target, whole, volumeShape);
  expect(js.pixels.filter((v) => v > 0).length).toBeGreaterThan(100);
});

test('rays from a million voxels away: SIMD = JS', () => {
  const c = randomRayCase(23, shape, 300, 1);
  const source = Float32Array.from([9.5, -1e6, 7.5]);
  const target = Float32Array.from(c.target, (v, i) => (i % 3 === 1 ? shape[1] + 5 + v / 10 : v / 2 + 2));
  const js = expectSame(c.volume, source, target, { ...whole, alphaMin: 0, alphaMax: 1 });
  expect(js.pixels.filter((v) => v > 0).length).toBeGreaterThan(100);
});

test('a ray gets the same result to the bit in any order or ray range, over several chunks', () => {
  const n = 2 * SIMD_CHUNK + 7;
  const c = randomRayCase(5, shape, n, n);
  const all = render(c.volume, c.source, c.target, whole, true);
  const reverse = (a: Float32Array) => Float32Array.from({ length: a.length }, (_, i) => a[3 * (n - 1 - Math.floor(i / 3)) + (i % 3)]);
  const reversed = render(c.volume, reverse(c.source), reverse(c.target), whole, true);
  expect(Float64Array.from(reversed.pixels).reverse()).toEqual(all.pixels);
  expect(Float64Array.from(all.rows!, (_, i) => reversed.rows![6 * (n - 1 - Math.floor(i / 6)) + (i % 6)])).toEqual(all.rows);
  const rand = seededRandom(9);
  for (let trial = 0; trial < 4; trial++) {
    const first = Math.floor(rand(0, n));
    const end = Math.min(n, first + 1 + Math.floor(rand(0, 5000)));
    const part = render(c.volume, c.source, c.target, whole, false, { first, end });
    expect(part.pixels.subarray(first, end)).toEqual(all.pixels.subarray(first, end));
    expect(part.pixels[first - 1] ?? 0).toBe(0);
  }
});

test('non-finite voxels and rays: SIMD = JS (a non-finite ray is left to the JS walk)', () => {
  const c = randomRayCase(12, shape, 800, 800);
  const volume = Float32Array.from(c.volume);
  volume[(9 * shape[1] + 7) * shape[2] + 8] = NaN;
  volume[(3 * shape[1] + 2) * shape[2] + 12] = Infinity;
  const target = Float32Array.from(c.target);
  target[3 * 5] = NaN;
  target[3 * 6 + 1] = Infinity;
  for (const rows of [false, true]) {
    const simd = render(volume, c.source, target, whole, rows);
    const js = render(volume, c.source, target, { ...whole, simd: false }, rows);
    expect(simd.pixels).toEqual(js.pixels);
    expect(simd.rows).toEqual(js.rows);
    expect(js.pixels.filter((v) => !Number.isFinite(v)).length).toBeGreaterThan(3);
  }
});
