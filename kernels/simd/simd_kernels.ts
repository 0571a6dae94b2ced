/**
 * Runs the WebAssembly SIMD kernels (kernels/simd, one module): the caller copies a volume in
 * (`setVolume`), writes a chunk of rays' endpoints into `source` and `target` and calls
 * `sumTrilinearRays` (the Trilinear forward, `trilinear_simd.h`: rays set up as
 * `TrilinearSampler.start` does and summed four at a time, the cell walk for rays with more
 * samples than cells crossed, samples one by one for the others) or `sumSiddonRays` (the Siddon
 * forward, `siddon_simd.h`: four walkers at once, to the bit the JS walk's sums), which leave
 * each ray's sums in `sums` (`SUM_FIELDS` doubles per ray) and its `RayStatus` in `status`, or
 * `trilinearRange` (DiffDRR's global Trilinear range of the rays, `trilinear_range.c`; no volume).
 *
 * One instance per thread (`simdKernels()`), each with its own memory holding copies of the last
 * volume (at most `MAX_VOLUME_BYTES` in all), kept while calls render the same one: a plain copy
 * for the Siddon kernels and one with zeros around it for the Trilinear ones (`VolumeLayout`),
 * made when first needed. The main thread and every worker of the pool instantiate the module
 * themselves (`disposeThreadPool` drops them all).
 * Where WebAssembly or its SIMD is unavailable there is none and the caller sums in JS.
 */
import type { SiddonAttrs } from '../kernel_names.js';
import { ceil, floor } from '../shared/builtins.js';
import { SIMD_KERNELS_WASM } from './simd_kernels_wasm.js';

/** Rays per call (`sumTrilinearRays`, `sumSiddonRays`). */
export const SIMD_CHUNK = 4096;
/**
 * Doubles per ray in `sums`: Trilinear F, A (3), B (3) (`RaySum` layout); Siddon the sum, then
 * with the jumps the ray's gradient row (d/d source, d/d target: siddonForwardImpl's `rayGradients`).
 */
export const SUM_FIELDS = 7;

/** A ray's status after a call (`simd_volume.h`). */
export const RayStatus = {
  /** Its sums are in `sums`. */
  Summed: 0,
  /** Not finite: the JS kernels sum it. */
  ForJs: 1,
} as const;

/**
 * The largest volume taken (float32 bytes; 256³ is 64 MiB): an instance keeps its copies of the
 * volume from call to call (`setVolume`'s key), at most this much per thread (both layouts where
 * they fit together, else the one in use). A larger volume would be copied in at every call, which
 * costs more than the SIMD saves (a 512³ phantom at 128x128, 500 points: 726 ms against 411 in
 * JS), so the JS kernels sum it.
 */
const MAX_VOLUME_BYTES = 128 * 2 ** 20;
const PAGE = 65536;

/** The rays of a call, as every kernel export takes them (see `sumTrilinearRays`). */
type CallRays = [source: number, sourceFirst: number, target: number, first: number, n: number, raysPerSource: number];

/** trilinear_range's parameters: the rays, the box faces per axis, where `(lo, hi)` goes. */
type RangeArgs = [...CallRays, c0x: number, c0y: number, c0z: number, c1x: number, c1y: number, c1z: number, out: number];

interface SimdExports {
  __heap_base: WebAssembly.Global;
  trilinear_pad(): number;
  set_volume(copy: number, x: number, y: number, z: number, pad: number): void;
  trilinear_rays_sum(...args: [...CallRays, shift: number, lo: number, step: number, nPoints: number, sums: number, status: number, withGradient: number, countSamples: number]): number;
  trilinear_range(...args: RangeArgs): void;
  trilinear_range_bounds(...args: [...RangeArgs, bounds: number, faces: number, stride: number]): void;
  siddon_rays_sum(...args: [...CallRays, shift: number, alphaMin: number, alphaMax: number, sums: number, status: number, withJumps: number]): number;
}

/** How `sumTrilinearRays` samples the rays (`TrilinearSampler`'s fields). */
export interface SimdSampling {
  /** `voxelShift - 0.5`: sample positions are `s + shift + alpha (t - s)`. */
  shift: number;
  lo: number;
  /** Alpha between samples, `(hi - lo) / (nPoints - 1)`. */
  step: number;
  nPoints: number;
  /** Whether `sumTrilinearRays` counts the samples that touch the volume (else it returns 0). */
  countSamples: boolean;
}

let compiled: WebAssembly.Module | null | undefined;

/**
 * The compiled module, or null where this JS engine cannot compile it (no WebAssembly or no SIMD),
 * or not yet: a browser's main thread refuses to compile more than 4 KB synchronously, so there
 * the module is compiled asynchronously and used from the first call after it is ready.
 */
function module(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  compiled = null;
  if (typeof WebAssembly === 'undefined') return null;
  const text = atob(SIMD_KERNELS_WASM);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  try {
    compiled = new WebAssembly.Module(bytes);
  } catch {
    WebAssembly.compile(bytes).then(
      (m) => (compiled = m),
      () => undefined,
    );
  }
  return compiled;
}

function align(offset: number): number {
  return ceil(offset / 16) * 16;
}

/**
 * How a kernel reads the volume (simd_volume.h): the Siddon kernels a plain copy, the Trilinear
 * ones a copy with `trilinear_pad()` voxels of zeros on every side (their zero padding, read
 * without masks; the padded strides would cost the Siddon walk ~5%).
 */
export type VolumeLayout = 'plain' | 'padded';

/** A copy of a volume in the module's memory. */
interface VolumeCopy {
  /** `setVolume`'s key (undefined: none, never the same as the next call's). */
  key: number | undefined;
  shape: readonly number[];
  /** Where it starts, and its size, in bytes. */
  offset: number;
  bytes: number;
}

/** The buffers of a call in the module's memory, in order, and their sizes in bytes. */
const BUFFERS = [
  ['source', 8 * 3 * SIMD_CHUNK],
  ['target', 8 * 3 * SIMD_CHUNK],
  ['sums', 8 * SUM_FIELDS * SIMD_CHUNK],
  ['status', SIMD_CHUNK],
  ['bounds', 4 * 2 * SIMD_CHUNK],
  ['faces', 2 * SIMD_CHUNK],
] as const;
type BufferName = (typeof BUFFERS)[number][0];

/** An instance of the module with its memory: the buffers of a call, then the volume's copies. */
export class SimdKernels {
  /** Ray starts `[S, 3]` of a call (a view: valid until the next `setVolume`). */
  source = new Float64Array(0);
  /** Ray ends `[n, 3]` of a call (a view, as `source`). */
  target = new Float64Array(0);
  /** The rays' sums, `SUM_FIELDS` each (a view, as `source`). */
  sums = new Float64Array(0);
  /** The rays' `RayStatus` (a view, as `source`). */
  status = new Uint8Array(0);
  /** `trilinearRange` with bounds: each ray's alphaMin, then from `SIMD_CHUNK` on its alphaMax (a view, as `source`). */
  bounds = new Float32Array(0);
  /** `trilinearRange` with bounds: the box face each of them depends on, laid out as `bounds` (a view, as `source`). */
  faces = new Int8Array(0);
  private readonly memory: WebAssembly.Memory;
  private readonly exports: SimdExports;
  private readonly offsets = {} as Record<BufferName, number>;
  private readonly volumeOffset: number;
  /** The volume's copies in memory, per layout. */
  private readonly copies: Record<VolumeLayout, VolumeCopy | null> = { plain: null, padded: null };

  private constructor(compiledModule: WebAssembly.Module) {
    // at least the module's own minimum (its stack and data: 2 pages)
    this.memory = new WebAssembly.Memory({ initial: 16 });
    this.exports = new WebAssembly.Instance(compiledModule, { env: { memory: this.memory } }).exports as unknown as SimdExports;
    let offset = align(Number(this.exports.__heap_base.value));
    for (const [name, bytes] of BUFFERS) {
      this.offsets[name] = offset;
      offset = align(offset + bytes);
    }
    this.volumeOffset = offset;
    this.grow(this.volumeOffset);
    this.views();
  }

  /** A new instance, or null where the module cannot run here. */
  static create(): SimdKernels | null {
    const m = module();
    if (m === null) return null;
    try {
      return new SimdKernels(m);
    } catch {
      return null;
    }
  }

  /** Whether a volume of shape `[X, Y, Z]` is taken in `layout` (else the caller sums in JS). */
  fits(shape: readonly [number, number, number], layout: VolumeLayout): boolean {
    return this.bytesOf(shape, layout) <= MAX_VOLUME_BYTES;
  }

  /**
   * Makes `density` (C order `[X, Y, Z]`, `fits` in `layout`) the volume the next calls read, in
   * `layout`: copied in, unless that copy holds it already (the same `key`, `VolumeRays.densityKey`:
   * the same values, and shape). A copy of another volume in the other layout is dropped, and one
   * of this volume is kept where both fit in `MAX_VOLUME_BYTES`. The buffers are new views after it.
   */
  setVolume(density: Float32Array, shape: readonly [number, number, number], key: number | undefined, layout: VolumeLayout): void {
    const holds = (copy: VolumeCopy | null): copy is VolumeCopy => copy !== null && key !== undefined && key === copy.key && shape.every((n, a) => n === copy.shape[a]);
    const pad = layout === 'padded' ? this.exports.trilinear_pad() : 0;
    let copy = this.copies[layout];
    if (!holds(copy)) {
      const otherLayout = layout === 'plain' ? 'padded' : 'plain';
      const other = this.copies[otherLayout];
      const bytes = this.bytesOf(shape, layout);
      const keep = holds(other) && other.bytes + bytes <= MAX_VOLUME_BYTES;
      if (!keep) this.copies[otherLayout] = null;
      // after the other layout's copy of this volume (which is then the first), else first
      copy = { key, shape: [...shape], offset: keep ? align(other.offset + other.bytes) : this.volumeOffset, bytes };
      this.copies[layout] = null;
      this.grow(copy.offset + bytes);
      writeLayout(new Float32Array(this.memory.buffer, copy.offset, bytes / 4), density, shape, pad);
      this.views();
      this.copies[layout] = copy;
    }
    this.exports.set_volume(copy.offset, shape[0], shape[1], shape[2], pad);
  }

  /**
   * Copies the endpoints of rays `first .. first + n - 1` (`n <= SIMD_CHUNK`) of arrays where ray
   * `r` runs from `source[floor(r / raysPerSource)]` to `target[r]` into `source` and `target`.
   * @returns the source row of the first ray (the calls' `sourceFirst`).
   */
  setRays(source: Float32Array | Float64Array, target: Float32Array | Float64Array, first: number, n: number, raysPerSource: number): number {
    const s0 = floor(first / raysPerSource);
    const s1 = floor((first + n - 1) / raysPerSource) + 1;
    this.source.set(source.subarray(3 * s0, 3 * s1));
    this.target.set(target.subarray(3 * first, 3 * (first + n)));
    return s0;
  }

  /**
   * The Trilinear forward of rays `first .. first + n - 1` of a call (`n <= SIMD_CHUNK`): ray
   * `first + i` runs from `source` row `floor((first + i) / raysPerSource) - sourceFirst` to
   * `target` row `i`. Leaves their sums (A and B with `withGradient`) in `sums` and their status
   * in `status`.
   * @returns the number of their samples that touch the volume with `sampling.countSamples`, else 0.
   */
  sumTrilinearRays(sourceFirst: number, first: number, n: number, raysPerSource: number, sampling: SimdSampling, withGradient: boolean): number {
    const o = this.offsets;
    const { shift, lo, step, nPoints, countSamples } = sampling;
    return this.exports.trilinear_rays_sum(o.source, sourceFirst, o.target, first, n, raysPerSource, shift, lo, step, nPoints, o.sums, o.status, withGradient ? 1 : 0, countSamples ? 1 : 0);
  }

  /**
   * DiffDRR's global Trilinear range over rays as `sumTrilinearRays` takes them (float32 endpoints,
   * `n > 0`; trilinear_range.c): the minimum of their alphaMin and the maximum of their alphaMax
   * (float32 values; NaN where a ray's is), for the box faces `c0` `[3]` and `c1` `[3]` (float32).
   * With `withBounds`, also each ray's alphaMin and alphaMax in `bounds` and the box face each
   * depends on in `faces` (`RayBounds`' codes).
   */
  trilinearRange(sourceFirst: number, first: number, n: number, raysPerSource: number, c0: ArrayLike<number>, c1: ArrayLike<number>, withBounds = false): [number, number] {
    const o = this.offsets;
    const args: RangeArgs = [o.source, sourceFirst, o.target, first, n, raysPerSource, c0[0], c0[1], c0[2], c1[0], c1[1], c1[2], o.sums];
    if (withBounds) {
      this.exports.trilinear_range_bounds(...args, o.bounds, o.faces, SIMD_CHUNK);
    } else {
      this.exports.trilinear_range(...args);
    }
    return [this.sums[0], this.sums[1]];
  }

  /**
   * The Siddon forward (one channel, 'sum') of rays as `sumTrilinearRays` takes them: each ray's
   * sum in `sums`, with `withJumps` followed by its gradient row, and its status in `status`.
   * @returns the number of segments visited (0 with the jumps, as `siddonForwardImpl` counts).
   */
  sumSiddonRays(sourceFirst: number, first: number, n: number, raysPerSource: number, attrs: SiddonAttrs, withJumps: boolean): number {
    const o = this.offsets;
    return this.exports.siddon_rays_sum(o.source, sourceFirst, o.target, first, n, raysPerSource, attrs.voxelShift, attrs.alphaMin, attrs.alphaMax, o.sums, o.status, withJumps ? 1 : 0);
  }

  /** Bytes of a copy of a volume of shape `[X, Y, Z]` in `layout`. */
  private bytesOf(shape: readonly [number, number, number], layout: VolumeLayout): number {
    const pad = layout === 'padded' ? this.exports.trilinear_pad() : 0;
    return 4 * (shape[0] + 2 * pad) * (shape[1] + 2 * pad) * (shape[2] + 2 * pad);
  }

  private grow(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(ceil((bytes - have) / PAGE));
  }

  private views(): void {
    const { buffer } = this.memory;
    const o = this.offsets;
    this.source = new Float64Array(buffer, o.source, 3 * SIMD_CHUNK);
    this.target = new Float64Array(buffer, o.target, 3 * SIMD_CHUNK);
    this.sums = new Float64Array(buffer, o.sums, SUM_FIELDS * SIMD_CHUNK);
    this.status = new Uint8Array(buffer, o.status, SIMD_CHUNK);
    this.bounds = new Float32Array(buffer, o.bounds, 2 * SIMD_CHUNK);
    this.faces = new Int8Array(buffer, o.faces, 2 * SIMD_CHUNK);
  }
}

/**
 * Writes `density` (C order `shape`) into `copy` with `pad` voxels of zeros on every side
 * (simd_volume.h's layout): zeros, then each row (i, j) at voxel (i, j, 0).
 */
function writeLayout(copy: Float32Array, density: Float32Array, shape: readonly [number, number, number], pad: number): void {
  const [x, y, z] = shape;
  if (pad === 0) {
    copy.set(density);
    return;
  }
  copy.fill(0);
  const strideY = z + 2 * pad;
  const strideX = (y + 2 * pad) * strideY;
  for (let i = 0; i < x; i++) {
    for (let j = 0; j < y; j++) {
      const row = (i * y + j) * z;
      copy.set(density.subarray(row, row + z), (i + pad) * strideX + (j + pad) * strideY + pad);
    }
  }
}

let instance: SimdKernels | null = null;

/**
 * This thread's instance (made on first use), or null where the module cannot run here, or not
 * yet (a page's main thread, until the module has compiled: each call asks again).
 */
export function simdKernels(): SimdKernels | null {
  instance ??= SimdKernels.create();
  return instance;
}

/** Drops this thread's instance, and with it its copy of a volume (the next call makes a new one). */
export function disposeSimdKernels(): void {
  instance = null;
}
