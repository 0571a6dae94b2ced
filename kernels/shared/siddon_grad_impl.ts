/**
 * Siddon backward, analytic: each ray is walked again (no tape of intermediates), summing in
 * double precision.
 *
 * With `I = sum_k rho_k (alpha_{k+1} - alpha_k)` and a face crossing of axis `a` at plane `c`,
 * `alpha = (c - s_a) / d_a`, `d = t - s`:
 *
 *     dI/d alpha      = rho_before - rho_after          (density jump; 0 outside the volume)
 *     d alpha / d s_a = (alpha - 1) / d_a
 *     d alpha / d t_a = -alpha / d_a
 *
 * summed over every crossed face, the volume's entry and exit faces included (ends set by
 * alphaMin / alphaMax do not move with the endpoints). The ray length in mm multiplies outside
 * the kernel, on the tape. d I / d rho_v is the alpha length of the ray inside voxel v.
 */
import { SiddonWalker, type AlphaRange, type VolumeShape } from './siddon_walker.js';

/**
 * Accumulates `dSource` (`[S, 3]`, summed over each source's rays) and writes `dTarget` (`[R, 3]`)
 * for upstream gradients `dy` (`[R]`). Rays are laid out as in `siddonForwardImpl`.
 */
export function siddonGradRaysImpl(
  density: Float32Array | Float64Array,
  shape: VolumeShape,
  source: Float32Array | Float64Array,
  target: Float32Array | Float64Array,
  dy: Float32Array | Float64Array,
  nRays: number,
  voxelShift: number,
  range: AlphaRange,
  dSource: Float32Array | Float64Array,
  dTarget: Float32Array | Float64Array,
  raysPerSource = 1,
): void {
  const walker = new SiddonWalker(shape, voxelShift, range);
  const gs = new Float64Array(3);
  const gt = new Float64Array(3);
  const sourceSums = new Float64Array(dSource.length);
  /** Adds the contribution of a face crossing of `axis` at `alpha` with density jump `jump`. */
  const cross = (axis: number, alpha: number, jump: number) => {
    const d = axis === 0 ? walker.dx : axis === 1 ? walker.dy : walker.dz;
    gs[axis] += (jump * (alpha - 1)) / d;
    gt[axis] -= (jump * alpha) / d;
  };
  for (let r = 0; r < nRays; r++) {
    const o = 3 * r;
    const so = 3 * Math.floor(r / raysPerSource);
    gs.fill(0);
    gt.fill(0);
    const g = dy[r];
    if (g !== 0 && walker.start(source[so], source[so + 1], source[so + 2], target[o], target[o + 1], target[o + 2])) {
      let rho = density[walker.voxel];
      if (walker.entryAxis >= 0) cross(walker.entryAxis, walker.amin, -rho);
      for (;;) {
        const axis = walker.crossAxis;
        const alpha = walker.alpha1;
        if (!walker.advance()) break;
        const next = density[walker.voxel];
        cross(axis, alpha, rho - next);
        rho = next;
      }
      if (walker.exitAxis >= 0) cross(walker.exitAxis, walker.amax, rho);
    }
    for (let a = 0; a < 3; a++) {
      dTarget[o + a] = g * gt[a];
      sourceSums[so + a] += g * gs[a];
    }
  }
  dSource.set(sourceSums);
}

/** Accumulates `dDensity[v] += dy[r] * (alpha length of ray r inside voxel v)` over all rays. */
export function siddonGradDensityImpl(
  shape: VolumeShape,
  source: Float32Array | Float64Array,
  target: Float32Array | Float64Array,
  dy: Float32Array | Float64Array,
  nRays: number,
  voxelShift: number,
  range: AlphaRange,
  dDensity: Float32Array | Float64Array,
  raysPerSource = 1,
): void {
  const walker = new SiddonWalker(shape, voxelShift, range);
  const sums = new Float64Array(dDensity.length);
  for (let r = 0; r < nRays; r++) {
    const o = 3 * r;
    const so = 3 * Math.floor(r / raysPerSource);
    const g = dy[r];
    if (g === 0 || !walker.start(source[so], source[so + 1], source[so + 2], target[o], target[o + 1], target[o + 2])) continue;
    do {
      sums[walker.voxel] += g * (walker.alpha1 - walker.alpha0);
    } while (walker.advance());
  }
  dDensity.set(sums);
}
