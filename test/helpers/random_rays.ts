/** Reproducible random test cases for the ray kernels. */
import type { VolumeShape } from '../../kernels/shared/siddon_walker.js';
import { seededRandom } from './tf_setup.js';

/**
 * A random volume in [0, 1), rays between points around it (many crossing it, some starting or
 * ending inside), `nSources` starts shared by consecutive rays, and weights in [-1, 2) per ray.
 */
export function randomRayCase(seed: number, shape: VolumeShape, nRays: number, nSources = nRays) {
  const rand = seededRandom(seed);
  const volume = Float32Array.from({ length: shape[0] * shape[1] * shape[2] }, () => rand());
  const point = () => [0, 1, 2].map((a) => rand(-0.6 * shape[a], 1.6 * shape[a]));
  const source = new Float32Array(3 * nSources);
  const target = new Float32Array(3 * nRays);
  for (let s = 0; s < nSources; s++) source.set(point(), 3 * s);
  for (let r = 0; r < nRays; r++) target.set(point(), 3 * r);
  const weights = Float32Array.from({ length: nRays }, () => rand(-1, 2));
  return { volume, source, target, weights };
}
