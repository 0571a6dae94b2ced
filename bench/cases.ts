/**
 * What `npm run bench` measures, per scope:
 *
 * - quick: a handful of rows (< 1 min).
 * - default (about 8 min on a 2-core machine): the headline rows; the full size x batch grid of the
 *   Siddon forward on the example CT; a size sweep (batch 1) of the Siddon forward on the 256³ and
 *   512³ phantoms; forward + pose and forward + volume backward at 128 and 256 px on each volume;
 *   Trilinear (500 points) at 128 and 256 px (forward on each volume, the backward passes on the
 *   example CT); registration steps; the wasm backend. Each with one thread and with all.
 * - full: the whole cross product renderer x mode x size x batch x volume x threads, plus the
 *   headline, registration and wasm rows (many hours: see run.ts).
 * - gpu: the webgpu rows of GitHub issue #6 (Siddon on the example CT, 200x200 and 512x512,
 *   batches 1 and 16, forward and both backward passes) and the cpu hello world for comparison;
 *   what the bundled GPU bench runs (scripts/build_gpu_bench.mjs).
 */

export type VolumeName = 'example CT' | 'phantom 256³' | 'phantom 512³';
/**
 * 'kernel forward': the fused Siddon kernel alone on index-space rays made once (the work the C
 * yardstick times: traversal only, without the pose-to-ray geometry and the ray-length product of
 * `DRR.forward`).
 */
export type Mode = 'forward' | 'kernel forward' | 'fwd+pose bwd' | 'fwd+volume bwd' | 'registration step';
export type Renderer = 'siddon' | 'trilinear';
export type Scope = 'quick' | 'default' | 'full' | 'gpu';

/** Volumes, in the order they are used (each is made once and freed after its last row). */
export const VOLUMES: VolumeName[] = ['example CT', 'phantom 256³', 'phantom 512³'];

/**
 * Detector width (mm) per volume, at sdd 1020 mm with the source 850 mm from the volume's centre:
 * 400 mm on the example CT (the README's hello world: 200 px of 2 mm); 1.5 x the phantom's width
 * otherwise (it then fills two thirds of the detector). Pixel size = width / size.
 */
export const DETECTOR_MM: Record<VolumeName, number> = { 'example CT': 400, 'phantom 256³': 384, 'phantom 512³': 768 };

export const SIZES = [64, 128, 256, 512, 1024];
export const BATCHES = [1, 4, 16];

export interface BenchCase {
  /** Table section. */
  section: string;
  /** Short name of the row ("hello world", ...); defaults to the section. */
  label?: string;
  renderer: Renderer;
  /** Trilinear samples per ray. */
  nPoints?: number;
  /** 'reference': the tensor-op Siddon. Default: the fused kernel. */
  implementation?: 'fused' | 'reference';
  mode: Mode;
  /** Detector height = width, pixels. */
  size: number;
  /** Poses rendered at once. */
  batch: number;
  volume: VolumeName;
  threads: 'one' | 'all';
  backend: 'cpu' | 'wasm' | 'webgpu';
}

const BOTH = ['one', 'all'] as const;

/** The same case with one thread and with all. */
function both(c: Omit<BenchCase, 'threads'>): BenchCase[] {
  return BOTH.map((threads) => ({ ...c, threads }));
}

const HELLO = { volume: 'example CT', size: 200, batch: 1, backend: 'cpu' } as const;

function headline(scope: Scope): BenchCase[] {
  const s = 'headline';
  const fwd = [
    ...both({ ...HELLO, section: s, label: 'hello world', renderer: 'siddon', mode: 'forward' }),
    ...both({ ...HELLO, section: s, label: 'hello world', renderer: 'siddon', mode: 'kernel forward' }),
  ];
  const pose = both({ ...HELLO, section: s, label: 'hello world', renderer: 'siddon', mode: 'fwd+pose bwd' });
  if (scope === 'quick') return [...fwd, ...pose];
  return [
    ...fwd,
    ...pose,
    ...both({ ...HELLO, section: s, label: 'hello world', renderer: 'siddon', mode: 'fwd+volume bwd' }),
    ...both({ ...HELLO, section: s, label: 'trilinear 100 pts', renderer: 'trilinear', nPoints: 100, mode: 'forward' }),
    ...both({ ...HELLO, section: s, label: 'trilinear 500 pts', renderer: 'trilinear', nPoints: 500, mode: 'forward' }),
    ...both({ ...HELLO, section: s, label: 'trilinear 500 pts', renderer: 'trilinear', nPoints: 500, mode: 'fwd+pose bwd' }),
    ...both({ section: s, label: 'memory 512x512 x4', renderer: 'siddon', mode: 'fwd+pose bwd', size: 512, batch: 4, volume: 'example CT', backend: 'cpu' }),
    { section: s, label: 'tensor-op reference', renderer: 'siddon', implementation: 'reference', mode: 'forward', size: 64, batch: 1, volume: 'example CT', threads: 'one', backend: 'cpu' },
    // the fused kernel on the same case, for the ratio (also a grid row)
    { section: s, label: 'fused (same case)', renderer: 'siddon', mode: 'forward', size: 64, batch: 1, volume: 'example CT', threads: 'one', backend: 'cpu' },
  ];
}

function grid(scope: Scope): BenchCase[] {
  const section = 'grid: example CT, Siddon forward, size x batch';
  const sizes = scope === 'quick' ? [64, 256] : SIZES;
  const batches = scope === 'quick' ? [1] : BATCHES;
  return sizes.flatMap((size) => batches.flatMap((batch) => both({ section, renderer: 'siddon', mode: 'forward', size, batch, volume: 'example CT', backend: 'cpu' })));
}

function sizeSweep(scope: Scope): BenchCase[] {
  const section = 'size sweep: phantoms, Siddon forward, batch 1';
  if (scope === 'quick') return both({ section, renderer: 'siddon', mode: 'forward', size: 256, batch: 1, volume: 'phantom 256³', backend: 'cpu' });
  return (['phantom 256³', 'phantom 512³'] as const).flatMap((volume) => SIZES.flatMap((size) => both({ section, renderer: 'siddon', mode: 'forward', size, batch: 1, volume, backend: 'cpu' })));
}

function backward(scope: Scope): BenchCase[] {
  if (scope === 'quick') return [];
  const section = 'backward: Siddon, batch 1';
  return VOLUMES.flatMap((volume) =>
    [128, 256].flatMap((size) => (['fwd+pose bwd', 'fwd+volume bwd'] as const).flatMap((mode) => both({ section, renderer: 'siddon', mode, size, batch: 1, volume, backend: 'cpu' }))),
  );
}

function trilinear(scope: Scope): BenchCase[] {
  const section = 'trilinear: 500 points, batch 1';
  if (scope === 'quick') return [{ section, renderer: 'trilinear', nPoints: 500, mode: 'forward', size: 128, batch: 1, volume: 'example CT', threads: 'one', backend: 'cpu' }];
  // The forward on every volume; the backward passes on the example CT (on the phantoms: --full).
  const modes = (volume: VolumeName) => (volume === 'example CT' || scope === 'full' ? (['forward', 'fwd+pose bwd', 'fwd+volume bwd'] as const) : (['forward'] as const));
  return VOLUMES.flatMap((volume) => [128, 256].flatMap((size) => modes(volume).flatMap((mode) => both({ section, renderer: 'trilinear', nPoints: 500, mode, size, batch: 1, volume, backend: 'cpu' }))));
}

function registration(scope: Scope): BenchCase[] {
  const section = 'registration: await reg.step() (Siddon, Adam, multiscale NCC)';
  const c = { section, renderer: 'siddon', mode: 'registration step', volume: 'example CT', backend: 'cpu' } as const;
  if (scope === 'quick') return both({ ...c, size: 128, batch: 1 });
  return [...both({ ...c, size: 128, batch: 1 }), ...both({ ...c, size: 256, batch: 1 }), ...both({ ...c, size: 128, batch: 10 })];
}

function wasm(scope: Scope): BenchCase[] {
  const c = { ...HELLO, section: 'wasm backend: hello world', label: 'hello world', renderer: 'siddon', backend: 'wasm' } as const;
  if (scope === 'quick') return [{ ...c, mode: 'forward', threads: 'one' }];
  return (['forward', 'fwd+pose bwd', 'fwd+volume bwd'] as const).flatMap((mode) => both({ ...c, mode }));
}

/**
 * tf.js's webgpu backend (WGSL kernels), in Node through Dawn on whatever adapter is present (lavapipe
 * on a machine without a GPU): run.ts skips these rows, saying why, when no adapter is found. The
 * kernels run on the GPU, so the threads setting does not apply (one row each).
 */
function webgpu(scope: Scope): BenchCase[] {
  const section = 'webgpu backend';
  const c = { section, volume: 'example CT', backend: 'webgpu', threads: 'one' } as const;
  const hello = { ...c, label: 'hello world', renderer: 'siddon', size: 200, batch: 1 } as const;
  if (scope === 'quick') return [{ ...hello, mode: 'forward' }];
  return [
    { ...hello, mode: 'forward' },
    { ...hello, mode: 'fwd+pose bwd' },
    { ...hello, mode: 'fwd+volume bwd' },
    { ...hello, label: '256x256 x16', size: 256, batch: 16, mode: 'forward' },
    { ...hello, label: '512x512', size: 512, mode: 'forward' },
    { ...hello, label: '512x512', size: 512, mode: 'fwd+pose bwd' },
    { ...c, label: 'trilinear 500 pts', renderer: 'trilinear', nPoints: 500, size: 200, batch: 1, mode: 'forward' },
    { ...c, label: 'trilinear 500 pts', renderer: 'trilinear', nPoints: 500, size: 200, batch: 1, mode: 'fwd+pose bwd' },
    { ...c, label: 'registration', renderer: 'siddon', mode: 'registration step', size: 128, batch: 1 },
    { ...c, label: 'registration', renderer: 'siddon', mode: 'registration step', size: 256, batch: 1 },
    { ...c, label: 'registration', renderer: 'siddon', mode: 'registration step', size: 128, batch: 10 },
  ];
}

/**
 * The GPU bench (scope 'gpu', GitHub issue #6): Siddon on the example CT through the webgpu backend,
 * 200x200 and 512x512, batches 1 and 16, forward and forward + pose / volume backward; and the cpu
 * backend's hello world forward (1 thread and all) to compare with.
 */
function gpuScope(): BenchCase[] {
  const c = { section: 'webgpu backend: Siddon, example CT, size x batch', renderer: 'siddon', volume: 'example CT', backend: 'webgpu', threads: 'one' } as const;
  const modes = ['forward', 'fwd+pose bwd', 'fwd+volume bwd'] as const;
  const rows = [200, 512].flatMap((size) => [1, 16].flatMap((batch) => modes.map((mode): BenchCase => ({ ...c, label: `${size}x${size} x${batch}`, size, batch, mode }))));
  return [...rows, ...both({ ...HELLO, section: 'cpu backend, for comparison', label: 'hello world', renderer: 'siddon', mode: 'forward' })];
}

/** Every combination of renderer, mode, size, batch, volume and threads. */
function crossProduct(): BenchCase[] {
  const section = 'full cross product';
  const renderers = [{ renderer: 'siddon' }, { renderer: 'trilinear', nPoints: 500 }] as const;
  const modes = ['forward', 'fwd+pose bwd', 'fwd+volume bwd'] as const;
  return VOLUMES.flatMap((volume) =>
    renderers.flatMap((r) => modes.flatMap((mode) => SIZES.flatMap((size) => BATCHES.flatMap((batch) => both({ section, ...r, mode, size, batch, volume, backend: 'cpu' }))))),
  );
}

/** A key of what a case computes (two cases with the same key are the same measurement). */
export function caseKey(c: BenchCase): string {
  return [c.backend, c.renderer, c.nPoints ?? '', c.implementation ?? 'fused', c.mode, c.size, c.batch, c.volume, c.threads].join('|');
}

/**
 * The cases of `scope`, in table order (a case listed twice in one section once). Sections may
 * share a measurement (same `caseKey`): it is run once and shown in each.
 */
export function casesFor(scope: Scope): BenchCase[] {
  if (scope === 'gpu') return gpuScope();
  const all = [...headline(scope), ...grid(scope), ...sizeSweep(scope), ...backward(scope), ...trilinear(scope), ...registration(scope), ...wasm(scope), ...webgpu(scope), ...(scope === 'full' ? crossProduct() : [])];
  const seen = new Set<string>();
  return all.filter((c) => {
    const key = `${c.section}|${c.label ?? ''}|${caseKey(c)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
