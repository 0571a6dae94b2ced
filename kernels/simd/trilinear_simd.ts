/**
 * Runs the WebAssembly SIMD Trilinear kernels (`trilinear_simd.h`: four rays per f32x4) for the
 * Trilinear forward: the caller copies a volume in (`setVolume`), writes rays into `rays[kind]`
 * (`RAY_FIELDS` doubles each) and calls `sum(kind, ...)`, which leaves `SUM_FIELDS` doubles per ray
 * in `sums[kind]`. Two kinds: `SimdKind.Cells`, rays with more samples than cells crossed, summed a
 * cell at a time (`trilinear_cells.c`), and `SimdKind.Samples`, the others, sample by sample
 * (`trilinear_samples.c`).
 *
 * One instance per thread (`trilinearSimd()`), each with its own memory: the main thread and
 * every worker of the pool instantiate the module themselves. Where WebAssembly or its SIMD is
 * unavailable there is none and the caller sums in JS.
 */
import { ceil } from '../shared/builtins.js';
import { TRILINEAR_SIMD_WASM } from './trilinear_simd_wasm.js';

/** Doubles per ray in `rays`: o (3), e (3), kb, ke, kib, kie (see trilinear_simd.h). */
export const RAY_FIELDS = 10;
/** Doubles per ray in `sums`: F, A (3), B' (3) (see trilinear_simd.h). */
export const SUM_FIELDS = 7;
/** Rays per `sum` call. */
export const SIMD_BATCH = 4096;

/** Which kernel sums a batch. */
export const SimdKind = {
  /** Rays with more samples than cells crossed: a cell at a time, in closed form. */
  Cells: 0,
  /** The other rays: sample by sample. */
  Samples: 1,
} as const;
export type SimdKind = (typeof SimdKind)[keyof typeof SimdKind];
const KINDS = [SimdKind.Cells, SimdKind.Samples] as const;

/**
 * A memory grown beyond this for a volume is dropped after the call that needed it (the next call
 * instantiates afresh): WebAssembly memory never shrinks, and a kept instance would hold a copy
 * of the largest volume ever rendered.
 */
const KEEP_BYTES = 64 * 2 ** 20;
/** The largest volume copied in (float32 bytes); larger ones are summed in JS. wasm32 addresses 4 GiB. */
const MAX_VOLUME_BYTES = 2 ** 31;
const PAGE = 65536;

interface SimdExports {
  __heap_base: WebAssembly.Global;
  trilinear_volume(density: number, x: number, y: number, z: number): void;
  trilinear_cells_sum(rays: number, n: number, out: number, withGradient: number): void;
  trilinear_samples_sum(rays: number, n: number, out: number, withGradient: number): void;
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
  const text = atob(TRILINEAR_SIMD_WASM);
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

/** An instance of the module with its memory: per kind a batch of rays and of sums, then the volume. */
export class TrilinearSimd {
  /** Per kind, `SIMD_BATCH` rays of `RAY_FIELDS` doubles (views: valid until the next `setVolume`). */
  readonly rays: Float64Array[] = [];
  /** Per kind, `SIMD_BATCH` rays' sums, `SUM_FIELDS` doubles each (views: as `rays`). */
  readonly sums: Float64Array[] = [];
  private readonly memory: WebAssembly.Memory;
  private readonly exports: SimdExports;
  private readonly raysOffset: number[] = [];
  private readonly sumsOffset: number[] = [];
  private readonly volumeOffset: number;

  private constructor(compiledModule: WebAssembly.Module) {
    // at least the module's own minimum (its stack and data: 2 pages)
    this.memory = new WebAssembly.Memory({ initial: 16 });
    this.exports = new WebAssembly.Instance(compiledModule, { env: { memory: this.memory } }).exports as unknown as SimdExports;
    let offset = align(Number(this.exports.__heap_base.value));
    for (const kind of KINDS) {
      this.raysOffset[kind] = offset;
      this.sumsOffset[kind] = align(offset + 8 * RAY_FIELDS * SIMD_BATCH);
      offset = align(this.sumsOffset[kind] + 8 * SUM_FIELDS * SIMD_BATCH);
    }
    this.volumeOffset = offset;
    this.grow(this.volumeOffset);
    this.views();
  }

  /** A new instance, or null where the module cannot run here. */
  static create(): TrilinearSimd | null {
    const m = module();
    if (m === null) return null;
    try {
      return new TrilinearSimd(m);
    } catch {
      return null;
    }
  }

  /** Whether a volume of `length` voxels fits (else the caller sums in JS). */
  static fits(length: number): boolean {
    return 4 * length <= MAX_VOLUME_BYTES;
  }

  /** Copies `density` (C order `[X, Y, Z]`) in; `rays` and `sums` are new views after it. */
  setVolume(density: Float32Array, shape: readonly [number, number, number]): void {
    this.grow(this.volumeOffset + 4 * density.length);
    new Float32Array(this.memory.buffer, this.volumeOffset, density.length).set(density);
    this.exports.trilinear_volume(this.volumeOffset, shape[0], shape[1], shape[2]);
    this.views();
  }

  /** Sums rays `[0, n)` of `rays[kind]` into `sums[kind]` (`n <= SIMD_BATCH`); with `withGradient` also A and B'. */
  sum(kind: SimdKind, n: number, withGradient: boolean): void {
    const run = kind === SimdKind.Cells ? this.exports.trilinear_cells_sum : this.exports.trilinear_samples_sum;
    run(this.raysOffset[kind], n, this.sumsOffset[kind], withGradient ? 1 : 0);
  }

  /** Whether to keep this instance for the next call (its memory is small enough). */
  get keep(): boolean {
    return this.memory.buffer.byteLength <= KEEP_BYTES;
  }

  private grow(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(ceil((bytes - have) / PAGE));
  }

  private views(): void {
    for (const kind of KINDS) {
      this.rays[kind] = new Float64Array(this.memory.buffer, this.raysOffset[kind], RAY_FIELDS * SIMD_BATCH);
      this.sums[kind] = new Float64Array(this.memory.buffer, this.sumsOffset[kind], SUM_FIELDS * SIMD_BATCH);
    }
  }
}

let kept: TrilinearSimd | null = null;

/** This thread's instance (made on first use), or null where the module cannot run. Give it back with `releaseTrilinearSimd`. */
export function trilinearSimd(): TrilinearSimd | null {
  const instance = kept ?? TrilinearSimd.create();
  kept = null;
  return instance;
}

/** Returns an instance after a call: kept for the next one if its memory is small (`KEEP_BYTES`). */
export function releaseTrilinearSimd(instance: TrilinearSimd): void {
  if (instance.keep) kept = instance;
}
