/**
 * The plain-sum loops (kernels/shared/siddon_sum_loops.ts: unchecked fast steps, then the walker)
 * against the kernels' general path, which walks every step with `SiddonWalker.advance`: the same
 * call with two label channels and every label 0 (channel 0 is then the plain sum, channel 1 all 0).
 * Forward values, ray gradients and density gradients within 1e-12 relative, in double precision,
 * on random rays and on rays that leave the volume through edges and corners, run along faces,
 * cross few voxels, or are cut inside the volume by alphaMin / alphaMax. The forward with
 * `rayGradients` (each ray's endpoint gradient found in the forward traversal), scaled by
 * `SiddonScaleRayGradients`'s implementation, gives the same ray gradients, and its values equal
 * the plain forward's bit for bit.
 */
import type { SiddonAttrs } from '../../kernels/kernel_names.js';
import { scaleRayGradientsImpl } from '../../kernels/shared/scale_ray_gradients.js';
import { siddonGradDensityImpl, siddonGradRaysImpl } from '../../kernels/shared/siddon_grad_impl.js';
import { siddonForwardImpl, type SiddonRays } from '../../kernels/shared/siddon_impl.js';
import type { VolumeShape } from '../../kernels/shared/siddon_walker.js';
import { randomRayCase } from '../helpers/random_rays.js';

const shape: VolumeShape = [9, 7, 8];

/** Rays through edges and corners of the volume and of voxels, along faces, and short ones. */
function awkwardRays(): { source: Float64Array; target: Float64Array } {
  const [X, Y, Z] = shape;
  const pairs: number[][] = [
    [-3, -3, -3, X + 3, Y + 3, Z + 3], // through two corners of the volume
    [-2, 2, 3, X, Y, 3], // leaves through the x = X, y = Y edge
    [0, 0, -5, X, Y, Z + 5], // along the volume's diagonal plane, through edges
    [2, 3, -4, 2, 3, Z + 4], // along voxel edges (x = 2, y = 3 faces)
    [0, 3.5, 4.5, X, 3.5, 4.5], // on the x = 0 face, parallel to x
    [-1, 1.2, 1.3, 0.5, 1.4, 1.6], // enters and crosses one face
    [3.2, 3.3, 3.4, 3.6, 3.7, 3.8], // inside one voxel
    [-4, -1, 2.5, X + 1, Y + 4, 2.5], // a 45-degree ray through voxel corners
    [1, 1, 1, 2, 2, 2], // from corner to corner of one voxel
    [4.5, -10, 4.5, 4.5 + 1e-9, Y + 10, 4.5], // nearly parallel to y
  ];
  const source = new Float64Array(3 * pairs.length);
  const target = new Float64Array(3 * pairs.length);
  pairs.forEach((p, r) => {
    source.set(p.slice(0, 3), 3 * r);
    target.set(p.slice(3), 3 * r);
  });
  return { source, target };
}

/** Forward, d source, d target and d density of `rays` with `channels` (all labels 0). */
function kernels(rays: SiddonRays, attrs: Omit<SiddonAttrs, 'channels' | 'reduce'>, dy: Float64Array, channels: 1 | 2) {
  const all: SiddonAttrs = { ...attrs, reduce: 'sum', channels };
  const n = rays.nRays;
  const out = new Float64Array(n * channels);
  siddonForwardImpl(rays, all, out);
  const dyC = Float64Array.from({ length: n * channels }, (_, i) => (i % channels === 0 ? dy[Math.floor(i / channels)] : 0));
  const dSource = new Float64Array(rays.source.length);
  const dTarget = new Float64Array(3 * n);
  siddonGradRaysImpl(rays, all, dyC, dSource, dTarget);
  const dDensity = new Float64Array(rays.density.length);
  siddonGradDensityImpl(rays, all, dyC, dDensity);
  return { value: out.filter((_, i) => i % channels === 0), dSource, dTarget, dDensity };
}

/** The forward with `rayGradients`, and the ray gradients scaled from them. */
function forwardWithRayGradients(rays: SiddonRays, attrs: Omit<SiddonAttrs, 'channels' | 'reduce'>, dy: Float64Array) {
  const value = new Float64Array(rays.nRays);
  const rayGradients = new Float64Array(6 * rays.nRays);
  siddonForwardImpl(rays, { ...attrs, reduce: 'sum', channels: 1, rayGradients: true }, value, undefined, rayGradients);
  const dSource = new Float64Array(rays.source.length);
  const dTarget = new Float64Array(3 * rays.nRays);
  scaleRayGradientsImpl(rayGradients, 6, dy, rays.raysPerSource, dSource, dTarget);
  return { value, dSource, dTarget };
}

function maxRelative(got: Float64Array, want: Float64Array): number {
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]));
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

describe.each([
  ['whole rays', { voxelShift: 0.5, alphaMin: -Infinity, alphaMax: Infinity }],
  ['alpha in [0.3, 0.7]', { voxelShift: 0, alphaMin: 0.3, alphaMax: 0.7 }],
])('plain-sum loops = the walker, %s', (_, attrs) => {
  const c = randomRayCase(11, shape, 500, 5);
  const awkward = awkwardRays();
  test.each([
    ['random rays (5 sources)', c.source, c.target],
    ['edges, corners, faces, short rays', awkward.source, awkward.target],
  ])('%s', (name, source, target) => {
    const nRays = target.length / 3;
    const rays: SiddonRays = {
      density: Float64Array.from(c.volume),
      shape,
      source: Float64Array.from(source),
      target: Float64Array.from(target),
      nRays,
      raysPerSource: nRays / (source.length / 3),
      mask: new Float64Array(c.volume.length),
    };
    const dy = Float64Array.from({ length: nRays }, (_, r) => c.weights[r % c.weights.length]);
    const fast = kernels(rays, attrs, dy, 1);
    const walker = kernels(rays, attrs, dy, 2);
    expect(fast.value.some((v) => v !== 0)).toBe(true);
    for (const key of ['value', 'dSource', 'dTarget', 'dDensity'] as const) {
      expect(maxRelative(fast[key], walker[key])).toBeLessThanOrEqual(1e-12);
    }
    const inForward = forwardWithRayGradients(rays, attrs, dy);
    expect(inForward.value).toEqual(fast.value);
    expect(maxRelative(inForward.dSource, walker.dSource)).toBeLessThanOrEqual(1e-12);
    expect(maxRelative(inForward.dTarget, walker.dTarget)).toBeLessThanOrEqual(1e-12);
  });
});
