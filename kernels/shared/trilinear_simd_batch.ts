/**
 * The Trilinear forward's rays gathered into batches for the WebAssembly SIMD kernels
 * (`kernels/simd`): `add` takes a ray the sampler has started into the batch of its kind (cells or
 * samples), a full batch is summed at once, and each ray's pixel, and its gradient row when asked,
 * is written as the JS path would write it (`TrilinearSampler.integrate`, `rayGradientOf`), from
 * float32 sums.
 */
import { RAY_FIELDS, SIMD_BATCH, SUM_FIELDS, SimdKind, TrilinearSimd, releaseTrilinearSimd, trilinearSimd } from '../simd/trilinear_simd.js';
import type { TrilinearSampler, TrilinearSampling } from './trilinear_impl.js';
import { RAY_GRADIENT_WIDTH, RaySum, rayGradientOf } from './trilinear_ray_gradient.js';

/** The most samples per ray for the SIMD kernels: they count samples in float32, exact up to 2^24. */
const MAX_SAMPLES = 2 ** 24;

/** The rays of one kind waiting to be summed: their indices, first samples and directions. */
class Pending {
  readonly ray = new Int32Array(SIMD_BATCH);
  readonly kBegin = new Float64Array(SIMD_BATCH);
  readonly direction = new Float64Array(3 * SIMD_BATCH);
  count = 0;
}

export class TrilinearSimdBatch {
  private readonly pending = [new Pending(), new Pending()];
  private readonly sums = new Float64Array(7);
  private volumeIn = false;

  private constructor(
    private readonly simd: TrilinearSimd,
    private readonly density: Float32Array,
    private readonly shape: readonly [number, number, number],
    private readonly sampling: TrilinearSampling,
    private readonly out: Float32Array | Float64Array,
    private readonly rayGradients: Float32Array | Float64Array | null,
  ) {}

  /**
   * A batch for the forward of one call, or null where the SIMD kernels do not apply: `simd:
   * false`, a float64 volume, a volume too large, more than 2^24 samples per ray, or no
   * WebAssembly SIMD here. Call `finish` when done.
   */
  static create(density: Float32Array | Float64Array, shape: readonly [number, number, number], sampling: TrilinearSampling, out: Float32Array | Float64Array, rayGradients: Float32Array | Float64Array | null): TrilinearSimdBatch | null {
    if (sampling.simd === false || !(density instanceof Float32Array) || !TrilinearSimd.fits(density.length) || sampling.nPoints > MAX_SAMPLES) return null;
    const simd = trilinearSimd();
    return simd === null ? null : new TrilinearSimdBatch(simd, density, shape, sampling, out, rayGradients);
  }

  /**
   * Takes ray `r`, which `sampler` has started (and found to touch the volume); its pixel is
   * written by a later flush.
   * @returns false (and nothing taken) for a ray that is not finite.
   */
  add(r: number, sampler: TrilinearSampler): boolean {
    const kind = sampler.simdKind();
    if (kind === -1) return false;
    const queue = this.pending[kind];
    const n = queue.count;
    sampler.writeSimdRay(this.simd.rays[kind], RAY_FIELDS * n);
    queue.ray[n] = r;
    queue.kBegin[n] = sampler.kBegin;
    queue.direction[3 * n] = sampler.dx;
    queue.direction[3 * n + 1] = sampler.dy;
    queue.direction[3 * n + 2] = sampler.dz;
    queue.count = n + 1;
    if (queue.count === SIMD_BATCH) this.flush(kind);
    return true;
  }

  /** Sums the rays of `kind` taken and writes their pixels (and gradient rows). */
  private flush(kind: SimdKind): void {
    const queue = this.pending[kind];
    const n = queue.count;
    if (n === 0) return;
    const { simd, sums, out, rayGradients, sampling } = this;
    if (!this.volumeIn) this.copyVolume();
    simd.sum(kind, n, rayGradients !== null);
    const raw = simd.sums[kind];
    const step = (sampling.hi - sampling.lo) / (sampling.nPoints - 1);
    const invN1 = 1 / (sampling.nPoints - 1);
    for (let i = 0; i < n; i++) {
      const s = SUM_FIELDS * i;
      const r = queue.ray[i];
      out[r] = step * raw[s];
      if (rayGradients === null) continue;
      // B = sum_k k grad f with k counted from the ray's sample 0: B' + kBegin A, then / (n - 1)
      const kb = queue.kBegin[i];
      sums[RaySum.Value] = raw[s];
      for (let a = 0; a < 3; a++) {
        sums[RaySum.Gradient + a] = raw[s + 1 + a];
        sums[RaySum.WeightedGradient + a] = invN1 * (raw[s + 4 + a] + kb * raw[s + 1 + a]);
      }
      const d = queue.direction;
      rayGradientOf(sums, sampling, 1, d[3 * i], d[3 * i + 1], d[3 * i + 2], rayGradients, RAY_GRADIENT_WIDTH * r);
    }
    queue.count = 0;
  }

  /** Copies the volume in, once per call, keeping the rays already written (the memory may move). */
  private copyVolume(): void {
    const { simd } = this;
    const written = this.pending.map((queue, kind) => simd.rays[kind].slice(0, RAY_FIELDS * queue.count));
    simd.setVolume(this.density, this.shape);
    written.forEach((rays, kind) => simd.rays[kind].set(rays));
    this.volumeIn = true;
  }

  /** Sums what is left, and gives the SIMD instance back for the next call. */
  finish(): void {
    this.flush(SimdKind.Cells);
    this.flush(SimdKind.Samples);
    releaseTrilinearSimd(this.simd);
  }
}
