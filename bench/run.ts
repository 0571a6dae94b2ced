/**
 * `npm run bench [-- --quick | --full | --gpu] [--only TEXT] [--out FILE] [--data DIR]`: speed and memory of the
 * renderers (forward, forward + pose backward, forward + volume backward), registration steps,
 * one thread against all (`setNumThreads`), on the cpu and wasm backends, and on webgpu where an
 * adapter is found (Dawn in Node; lavapipe without a GPU); prints a table, the
 * ratios between rows, the C yardstick and a cost model, and writes bench/results.json.
 *
 * Scopes (see cases.ts): --quick, a few rows (< 1 min, writes nothing unless --out); --gpu, the
 * webgpu rows of GitHub issue #6 (fails when no adapter is found; writes nothing unless --out), which
 * `npm run bench:gpu-bundle` bundles with Node and Dawn for a machine without Node; the default,
 * about 8 minutes on a 2-core machine; --full, the whole cross product renderer x mode x size x
 * batch x volume x threads (540 rows) besides the default's. --full was not run: from the default
 * run's per-ray costs (one thread, Siddon forward: 1 us per ray on the example CT, 2.2 on the 256³
 * phantom, ~22 on the 512³; Trilinear 6 to 31 us; backward passes 2.5-4x the forward; two threads
 * ~0.6x) and the repeat policy (3 runs per row, one past a 2-minute cap), it takes about 9 hours
 * on a 2-core machine, most of it in the 1024² rows through the 512³ phantom (~8e9 voxel steps
 * at batch 16), and needs up to ~6 GiB of memory.
 *
 * Figures: median wall time over runs (one warm-up, then at least 3 runs and 1 s; fewer runs when
 * a row would pass its time cap, see measure.ts). Voxel steps: counted once per case by the
 * kernels' own single-threaded traversal (`siddonForwardImpl`, `trilinearForwardImpl`: samples
 * inside the volume) on the same rays, on every k-th ray when a case has more than 65536 rays
 * (then scaled by k, marked ~); backward rows use the forward's count.
 *
 * Backward rows time the render and its backward pass for an upstream gradient of ones given to
 * `tf.grads` (the image's gradient), with no loss op: the backward of a loss is the loss's cost, not
 * the renderer's (`.sum()`'s gradient alone, a broadcast multiply, takes 5-10 ms at 200x200 on
 * the cpu backend, half the Siddon forward on two threads).
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { initNodeWebGPU, type WebGPUAdapterSummary } from '../lib/webgpu/node_webgpu.js';
import '../kernels/register_all_kernels.js';
import type { RayKernelName } from '../kernels/threads/kernel_tasks.js';
import { disposeThreadPool, getNumThreads, setNumThreads } from '../kernels/threads/index.js';
import { forceThreads, threadsFor } from '../kernels/threads/ray_kernel_call.js';
import { siddonForwardImpl } from '../kernels/shared/siddon_impl.js';
import { trilinearForwardImpl } from '../kernels/shared/trilinear_impl.js';
import { DRR } from '../lib/drr.js';
import { convert } from '../lib/geometry/pose.js';
import { cameraTargets, indexRays } from '../lib/geometry/rays.js';
import { loadExampleCt } from '../lib/io/example_ct.js';
import { read } from '../lib/io/read.js';
import { perturbPoses } from '../lib/registration/perturb_poses.js';
import { Registration } from '../lib/registration/registration.js';
import { siddon } from '../lib/ops/siddon.js';
import { trilinearRange } from '../lib/renderers/trilinear_range.js';
import type { Subject } from '../lib/subject.js';
import { listAdapters, SOFTWARE_ADAPTER } from './adapters.js';
import { runCYardstick, type CResult } from './c_yardstick.js';
import { caseKey, casesFor, DETECTOR_MM, VOLUMES, type BenchCase, type Scope, type VolumeName } from './cases.js';
import { DEFAULT_POLICY, disposeSampler, measure, type RepeatPolicy } from './measure.js';
import { makePhantom } from './phantom.js';
import { addRatios, costModel, formatCostModel, formatTable, type Row } from './table.js';

const here = dirname(fileURLToPath(import.meta.url));
const POSE = { parameterization: 'euler_angles', convention: 'ZXY' } as const;
const SDD = 1020;
/** Cases with more rays than this count their steps on every k-th ray. */
const COUNT_CAP = 1 << 16;

/** Mesa 25's software Vulkan driver as .ci/run installs it. */
const LAVAPIPE_ICD = '/opt/mesa25/lvp_icd.json';

/** Table order of the backends' rows. */
const BACKEND_ORDER = ['cpu', 'wasm', 'webgpu'];

const USAGE = `usage: npm run bench [-- --quick | --full | --gpu] [--only TEXT] [--out FILE] [--data DIR]
       npm run bench -- --adapters
  --quick      a few rows (< 1 min); writes no results file unless --out
  --full       every renderer x mode x size x batch x volume x threads (many hours, see bench/run.ts)
  --gpu        the webgpu rows of GitHub issue #6 and a cpu row to compare (fails without an adapter);
               writes no results file unless --out
  --only TEXT  only the cases whose section, name, renderer, mode or volume contains TEXT
  --out FILE   where to write the results (default bench/results.json; none for --quick and --gpu)
  --data DIR   the folder holding example_ct.nii.gz (default: the package's data/)
  --adapters   list the WebGPU adapters found and exit (non-zero when there are none)`;

/** The poses of a batch: the hello-world pose, then seeded perturbations of it. */
function poses(batch: number, seed = 7): { rotation: tf.Tensor2D; translation: tf.Tensor2D } {
  const first = { rotation: tf.tensor2d([[0, 0, 0]]), translation: tf.tensor2d([[0, 850, 0]]) };
  if (batch === 1) return first;
  const more = perturbPoses([0, 0, 0], [0, 850, 0], { count: batch - 1, maxRotation: 0.1, maxTranslation: 10, seed });
  const out = { rotation: tf.concat([first.rotation, more.rotation]) as tf.Tensor2D, translation: tf.concat([first.translation, more.translation]) as tf.Tensor2D };
  tf.dispose([first.rotation, first.translation, more.rotation, more.translation]);
  return out;
}

function makeDrr(subject: Subject, c: BenchCase, size = c.size): DRR {
  return new DRR(subject, { sdd: SDD, height: size, delx: DETECTOR_MM[c.volume] / size, renderer: c.renderer, implementation: c.implementation ?? 'auto' });
}

/**
 * Voxel steps (Siddon) or samples inside the volume (Trilinear) of the case's rays, and how they
 * were counted. The rays are made on the current backend and read back (async: webgpu has no
 * `dataSync` in Node); the count runs on this thread.
 */
async function countSteps(c: BenchCase, subject: Subject, drr: DRR, rotation: tf.Tensor, translation: tf.Tensor): Promise<{ steps: number; counted: string }> {
  const b = rotation.shape[0];
  const targets = drr.detector.targets();
  const p = targets.shape[0];
  const k = Math.max(1, Math.ceil((b * p) / COUNT_CAP));
  let q = 0;
  const made = tf.tidy(() => {
    const pose = convert(rotation, translation, POSE);
    const sub = k === 1 ? targets : (tf.gather(targets, tf.range(0, p, k, 'int32')) as tf.Tensor2D);
    const rays = indexRays(pose, cameraTargets(sub), subject.reorient, drr.affineInverse);
    q = sub.shape[0];
    if (c.renderer !== 'trilinear') return [rays.source, rays.target];
    const full = indexRays(pose, cameraTargets(targets), subject.reorient, drr.affineInverse); // the range is the whole call's
    return [rays.source, rays.target, trilinearRange(subject.density.shape, full.source, full.target.reshape([b * p, 3]) as tf.Tensor2D, { voxelShift: drr.voxelShift })];
  });
  targets.dispose();
  const [s, t, range = null] = (await Promise.all(made.map((x) => x.data()))) as Float32Array[];
  tf.dispose(made);
  const density = (await subject.density.data()) as Float32Array;
  const rays = { density, shape: subject.density.shape, source: s, target: t, nRays: b * q, raysPerSource: q, mask: null };
  const out = new Float64Array(b * q);
  const steps =
    range === null
      ? siddonForwardImpl(rays, { voxelShift: drr.voxelShift, alphaMin: drr.alphaMin, alphaMax: drr.alphaMax, reduce: 'sum', channels: 1 }, out)
      : trilinearForwardImpl(rays, { voxelShift: drr.voxelShift, nPoints: c.nPoints ?? 500, lo: range[0], hi: range[1], reduce: 'sum', channels: 1, countSamples: true }, out);
  return { steps: (steps * p) / q, counted: k === 1 ? 'exact' : `every ${k}th ray` };
}

/** Threads the case's main kernel uses at the current thread setting. */
function kernelThreads(c: BenchCase, drr: DRR, shape: [number, number, number]): number | null {
  if (c.implementation === 'reference') return null;
  const suffix = c.mode === 'fwd+pose bwd' ? 'GradRays' : c.mode === 'fwd+volume bwd' ? 'GradDensity' : 'Forward';
  const params =
    c.renderer === 'siddon'
      ? { voxelShift: drr.voxelShift, alphaMin: drr.alphaMin, alphaMax: drr.alphaMax, reduce: 'sum' as const, channels: 1 }
      : { voxelShift: drr.voxelShift, nPoints: c.nPoints ?? 500, lo: 0, hi: 1, reduce: 'sum' as const, channels: 1 };
  const p = c.size * c.size;
  return threadsFor({ kernel: `${c.renderer}${suffix}` as RayKernelName, params, shape, nRays: c.batch * p, raysPerSource: p });
}

/** Starts the workers and copies the volume to shared memory (so that no row's first run pays for it). */
function warmPool(subject: Subject, c: BenchCase): void {
  const previous = forceThreads(true);
  const drr = makeDrr(subject, { ...c, renderer: 'siddon', implementation: 'fused' }, 16);
  const { rotation, translation } = poses(1);
  try {
    drr.forward(rotation, translation, POSE).dispose();
  } finally {
    forceThreads(previous);
    tf.dispose([rotation, translation]);
    drr.dispose();
  }
}

/** An upstream gradient of ones for the case's images `[B, 1, H, W]`. */
function imageOfOnes(drr: DRR, c: BenchCase): tf.Tensor {
  return tf.ones([c.batch, 1, drr.detector.height, drr.detector.width]);
}

/** Builds the case's run (called repeatedly by `measure`) and what to free after. */
function prepare(c: BenchCase, subject: Subject, drr: DRR, rotation: tf.Tensor2D, translation: tf.Tensor2D): { run: (probe: () => void) => void | Promise<void>; dispose: () => void } {
  const options = { ...POSE, ...(c.renderer === 'trilinear' ? { nPoints: c.nPoints } : {}) };
  // webgpu returns before the GPU is done: a run ends when its results are read back
  const settle = c.backend === 'webgpu' ? (t: tf.Tensor | tf.Tensor[]) => Promise.all([t].flat().map((x) => x.data())) : null;
  switch (c.mode) {
    case 'kernel forward': {
      const rays = tf.tidy(() => {
        const targets = cameraTargets(drr.detector.targets());
        const r = indexRays(convert(rotation, translation, POSE), targets, subject.reorient, drr.affineInverse);
        return { source: r.source, target: r.target.reshape([-1, 3]) as tf.Tensor2D };
      });
      const attrs = { voxelShift: drr.voxelShift, alphaMin: drr.alphaMin, alphaMax: drr.alphaMax };
      return {
        run: async (probe) => {
          const out = siddon(subject.density, rays.source, rays.target, attrs);
          if (settle) await settle(out);
          probe();
          out.dispose();
        },
        dispose: () => tf.dispose([rays.source, rays.target]),
      };
    }
    case 'forward':
      return {
        run: async (probe) => {
          const img = drr.forward(rotation, translation, options);
          if (settle) await settle(img);
          probe();
          img.dispose();
        },
        dispose: () => undefined,
      };
    case 'fwd+pose bwd': {
      const grads = tf.grads((r: tf.Tensor, t: tf.Tensor) => drr.forward(r, t, options));
      const dy = imageOfOnes(drr, c);
      return {
        run: async (probe) => {
          const g = grads([rotation, translation], dy);
          if (settle) await settle(g);
          probe();
          tf.dispose(g);
        },
        dispose: () => dy.dispose(),
      };
    }
    case 'fwd+volume bwd': {
      const grad = tf.grad((d: tf.Tensor) => drr.forward(rotation, translation, { ...options, density: d as tf.Tensor3D }));
      const dy = imageOfOnes(drr, c);
      return {
        run: async (probe) => {
          const g = grad(subject.density, dy);
          if (settle) await settle(g);
          probe();
          g.dispose();
        },
        dispose: () => dy.dispose(),
      };
    }
    case 'registration step': {
      const target = tf.tidy(() => drr.forward(tf.tensor2d([[0.05, -0.03, 0.04]]), tf.tensor2d([[5, 850, -10]]), options));
      const reg = new Registration(drr, target, { rotation, translation, ...POSE, render: c.renderer === 'trilinear' ? { nPoints: c.nPoints } : {} });
      target.dispose();
      return {
        run: async () => {
          await reg.step();
        },
        dispose: () => reg.dispose(),
      };
    }
  }
}

/** The subjects, made on first use and freed after the last case that needs them. */
class Volumes {
  private readonly held = new Map<string, Subject>();

  /** `dataDir`: the folder holding example_ct.nii.gz, or undefined for the package's data/. */
  constructor(private readonly dataDir?: string) {}

  async get(backend: string, name: VolumeName): Promise<Subject> {
    const key = `${backend}|${name}`;
    let s = this.held.get(key);
    if (s === undefined) {
      const t0 = performance.now();
      s = name === 'example CT' ? await (this.dataDir === undefined ? loadExampleCt() : read(join(this.dataDir, 'example_ct.nii.gz'))) : makePhantom(name === 'phantom 256³' ? 256 : 512);
      if (name !== 'example CT') console.log(`  made ${name} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      this.held.set(key, s);
    }
    return s;
  }

  release(backend: string, name: VolumeName): void {
    const key = `${backend}|${name}`;
    this.held.get(key)?.dispose();
    this.held.delete(key);
    disposeThreadPool(); // drops the shared copy of the volume too
  }
}

/** JSON with one line per record (an object of plain values: a row, a fit) and per short array. */
function compactJson(v: unknown, indent = ''): string {
  const flat = JSON.stringify(v);
  if (v === null || typeof v !== 'object' || flat.length <= 120 || (!Array.isArray(v) && Object.values(v).every((x) => x === null || typeof x !== 'object'))) return flat;
  const inner = `${indent}  `;
  const items = Array.isArray(v) ? v.map((x) => inner + compactJson(x, inner)) : Object.entries(v).map(([k, x]) => `${inner}${JSON.stringify(k)}: ${compactJson(x, inner)}`);
  return Array.isArray(v) ? `[\n${items.join(',\n')}\n${indent}]` : `{\n${items.join(',\n')}\n${indent}}`;
}

/** Puts tf.js on webgpu (then back on cpu): the adapter, or why there is none. */
async function webgpuAdapter(): Promise<WebGPUAdapterSummary | string> {
  // without a GPU: the lavapipe that .ci/run unpacks, unless the environment chose a Vulkan driver
  if (process.env.VK_ICD_FILENAMES === undefined && process.env.VK_DRIVER_FILES === undefined && existsSync(LAVAPIPE_ICD)) process.env.VK_ICD_FILENAMES = LAVAPIPE_ICD;
  try {
    return await initNodeWebGPU();
  } catch (err) {
    return (err as Error).message;
  } finally {
    await tf.setBackend('cpu');
  }
}

/** `--adapters`: prints the adapters found; false when there are none. */
async function printAdapters(): Promise<boolean> {
  const adapter = await webgpuAdapter();
  if (typeof adapter === 'string') {
    console.log(`no WebGPU adapter: ${adapter}`);
    return false;
  }
  const gpu = (globalThis as { navigator?: { gpu?: Parameters<typeof listAdapters>[0] } }).navigator?.gpu;
  const lines = gpu ? await listAdapters(gpu) : [];
  console.log(`WebGPU adapters (VK_ICD_FILENAMES ${process.env.VK_ICD_FILENAMES ?? 'unset'}, VK_DRIVER_FILES ${process.env.VK_DRIVER_FILES ?? 'unset'}):`);
  for (const line of lines) console.log(`  ${line}`);
  return lines.length > 0;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean' },
      full: { type: 'boolean' },
      gpu: { type: 'boolean' },
      only: { type: 'string' },
      out: { type: 'string' },
      data: { type: 'string' },
      adapters: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void console.log(USAGE);
  if (values.adapters) {
    if (!(await printAdapters())) process.exitCode = 1;
    return;
  }
  if ([values.quick, values.full, values.gpu].filter(Boolean).length > 1) throw new Error('--quick, --full and --gpu exclude each other');
  const scope: Scope = values.quick ? 'quick' : values.full ? 'full' : values.gpu ? 'gpu' : 'default';
  const policy: RepeatPolicy = scope === 'full' ? { ...DEFAULT_POLICY, capMs: 120_000 } : scope === 'quick' ? { ...DEFAULT_POLICY, minTotalMs: 300, capMs: 5_000 } : DEFAULT_POLICY;
  const out = values.out ?? (scope === 'quick' || scope === 'gpu' ? null : join(here, 'results.json'));
  const dataDir = values.data === undefined ? undefined : resolve(values.data);
  if (dataDir !== undefined && !existsSync(join(dataDir, 'example_ct.nii.gz'))) throw new Error(`--data ${values.data}: no example_ct.nii.gz there`);

  const start = performance.now();
  const loadStart = loadavg();
  tf.enableProdMode();
  await tf.setBackend('cpu');
  const allThreads = getNumThreads();
  const only = values.only?.toLowerCase();
  let cases = casesFor(scope).filter(
    (c) => (allThreads > 1 || c.threads === 'one') && (!only || [c.section, c.label ?? '', c.renderer, c.mode, c.volume].some((s) => s.toLowerCase().includes(only))),
  );
  if (cases.some((c) => c.backend === 'wasm')) await import('@tensorflow/tfjs-backend-wasm'); // registers the backend (not in the GPU bundle)
  let adapter: WebGPUAdapterSummary | string = 'not needed';
  if (cases.some((c) => c.backend === 'webgpu')) {
    adapter = await webgpuAdapter();
    if (typeof adapter === 'string') {
      if (scope === 'gpu') throw new Error(`no WebGPU adapter, so no webgpu rows (--gpu needs them): ${adapter}`);
      console.log(`webgpu rows skipped: ${adapter}`);
      cases = cases.filter((c) => c.backend !== 'webgpu');
    }
  }
  if (typeof adapter !== 'string') {
    const name = [adapter.vendor, adapter.architecture, adapter.device, adapter.description].filter(Boolean).join(' / ');
    console.log(`webgpu adapter: ${name}${SOFTWARE_ADAPTER.test(name) ? ' (a software driver on the CPU, not a GPU)' : ''}; maxStorageBufferBindingSize ${adapter.maxStorageBufferBindingSize}`);
  }
  const cpuInfo = `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'})`;
  console.log(`tfdrr bench (${scope}): node ${process.version}, ${cpuInfo}, tfjs ${tf.version.tfjs}, threads 1 and ${allThreads}, load average ${loadStart.map((x) => x.toFixed(2)).join(' ')}; ${cases.length} rows`);

  // Run the cases by backend, then volume (each volume is made once), keeping the table order.
  const order = cases.map((c, i) => ({ c, i })).sort((a, b) => BACKEND_ORDER.indexOf(a.c.backend) - BACKEND_ORDER.indexOf(b.c.backend) || VOLUMES.indexOf(a.c.volume) - VOLUMES.indexOf(b.c.volume) || a.i - b.i);
  const lastUse = new Map<string, number>();
  order.forEach(({ c }, n) => lastUse.set(`${c.backend}|${c.volume}`, n));
  const volumes = new Volumes(dataDir);
  const measured = new Map<string, Omit<Row, 'section' | 'case' | 'note'>>();
  const stepCounts = new Map<string, { steps: number; counted: string }>();
  const rows: Row[] = new Array(cases.length);
  let c200: CResult | string = 'not run';

  for (let n = 0; n < order.length; n++) {
    const { c, i } = order[n];
    if (tf.getBackend() !== c.backend) await tf.setBackend(c.backend);
    const key = caseKey(c);
    let m = measured.get(key);
    if (m === undefined) {
      const subject = await volumes.get(c.backend, c.volume);
      if (c.volume === 'example CT' && c.backend === 'cpu' && c200 === 'not run' && scope !== 'gpu') {
        // The C yardstick on the same volume and geometry (source 850 mm from the centre, 200x200, 2 mm pixels).
        const spacing = [0, 1, 2].map((a) => Math.hypot(subject.affine[a], subject.affine[4 + a], subject.affine[8 + a])) as [number, number, number];
        c200 = runCYardstick(resolve(here, '../../shared/bench/siddon_c.c'), subject.density.dataSync() as Float32Array, subject.density.shape, spacing, { height: 200, width: 200, delx: 2, sdd: SDD, sourceDistance: 850 });
      }
      const threads = c.threads === 'one' ? 1 : allThreads;
      setNumThreads(threads);
      const drr = makeDrr(subject, c);
      const { rotation, translation } = c.mode === 'registration step' ? perturbPoses([0, 0, 0], [0, 850, 0], { count: c.batch, maxRotation: 0.1, maxTranslation: 15, seed: 3 }) : poses(c.batch);
      const workKey = [c.renderer, c.nPoints, c.volume, c.size, c.batch, c.mode === 'registration step'].join('|');
      let work = stepCounts.get(workKey);
      if (work === undefined) stepCounts.set(workKey, (work = await countSteps(c, subject, drr, rotation, translation)));
      const used = kernelThreads(c, drr, subject.density.shape);
      if (threads > 1) warmPool(subject, c);
      const { run, dispose } = prepare(c, subject, drr, rotation, translation);
      // The tensor-op reference takes seconds a run and is there for a ratio: one run.
      const t = await measure(run, c.implementation === 'reference' ? { ...policy, minRuns: 1, minTotalMs: 0 } : policy);
      dispose();
      tf.dispose([rotation, translation]);
      drr.dispose();
      const rays = c.batch * c.size * c.size;
      m = {
        renderer: c.implementation === 'reference' ? 'siddon (reference)' : c.renderer === 'trilinear' ? `trilinear-${c.nPoints}` : 'siddon',
        mode: c.mode,
        backend: c.backend,
        size: c.size,
        batch: c.batch,
        volume: c.volume,
        threads,
        kernelThreads: used,
        runs: t.runs,
        medianMs: t.medianMs,
        minMs: t.minMs,
        rays,
        raysPerSecond: rays / (t.medianMs / 1000),
        voxelSteps: Math.round(work.steps),
        stepsCounted: work.counted,
        voxelStepsPerSecond: work.steps / (t.medianMs / 1000),
        peakRssMiB: t.peakRss / 2 ** 20,
        peakTfMiB: t.peakTfBytes / 2 ** 20,
        load1: loadavg()[0],
        key,
      };
      measured.set(key, m);
      console.log(`  [${n + 1}/${order.length}] ${c.label ?? c.renderer} ${c.mode} ${c.size}² x${c.batch} ${c.volume} threads ${threads}: ${t.medianMs.toFixed(1)} ms (${t.runs} runs)`);
    }
    rows[i] = { section: c.section, case: c.label ?? c.section.split(':')[0], ...m, note: '' };
    if (lastUse.get(`${c.backend}|${c.volume}`) === n) volumes.release(c.backend, c.volume);
  }
  await tf.setBackend('cpu');
  disposeThreadPool();
  await disposeSampler();

  // The C yardstick as a row of the headline, with ours / C at one thread and at all.
  const cLines: string[] = [];
  if (typeof c200 === 'string') {
    if (c200 !== 'not run') cLines.push(`C yardstick skipped: ${c200}`);
  } else {
    const cr = c200;
    const ours = (mode: string, threads: number) => rows.find((r) => r.case === 'hello world' && r.mode === mode && r.backend === 'cpu' && r.threads === threads);
    const ratiosOf = (mode: string) =>
      [1, allThreads]
        .filter((t, j, a) => a.indexOf(t) === j)
        .map((t) => ({ t, r: ours(mode, t) }))
        .filter((x): x is { t: number; r: Row } => x.r !== undefined)
        .map(({ t, r }) => `${(r.medianMs / cr.ms).toFixed(2)} at ${t} thread${t > 1 ? 's' : ''}`)
        .join(', ');
    // like for like: the C program times the traversal of given rays (the kernel row); the whole
    // DRR.forward adds the pose-to-ray geometry
    const note = `ours/C: kernel ${ratiosOf('kernel forward')} (target <= 0.6 with all threads); whole DRR.forward ${ratiosOf('forward')}`;
    const at = rows.map((r) => r.section === 'headline' && r.case === 'hello world' && r.mode.endsWith('forward') && r.backend === 'cpu').lastIndexOf(true);
    const cRow: Row = {
      section: 'headline', case: 'C yardstick', renderer: 'C -O3', mode: 'kernel forward', backend: 'native', size: 200, batch: 1, volume: 'example CT', threads: 1, kernelThreads: null, runs: 20,
      medianMs: c200.ms, minMs: c200.ms, rays: 40000, raysPerSecond: 40000 / (c200.ms / 1000), voxelSteps: c200.steps, stepsCounted: 'exact', voxelStepsPerSecond: c200.stepsPerSecond,
      peakRssMiB: 0, peakTfMiB: 0, note: `best of 20; ${note}`, load1: loadStart[0], key: 'C',
    };
    rows.splice(at >= 0 ? at + 1 : rows.length, 0, cRow);
    cLines.push(`C yardstick (200x200 hello world, single thread, -O3): ${c200.ms.toFixed(1)} ms, ${c200.steps} voxel steps; ${note}`);
    const ourSteps = ours('forward', 1)?.voxelSteps;
    if (ourSteps !== undefined) cLines.push(`  voxel steps: ours ${ourSteps}, C ${c200.steps}`);
  }
  const ratioLines = addRatios(rows);
  const fits = costModel(rows);
  const loadEnd = loadavg();
  const seconds = (performance.now() - start) / 1000;

  console.log();
  console.log(formatTable(rows));
  console.log(`thr: threads asked for; "2*1": the main kernel ran on 1 (too little work to split). steps/s: voxel steps (Siddon) or samples in the volume (Trilinear) of the forward per second; ~: counted on every k-th ray.`);
  console.log(`RSS MiB: peak resident set of the process during the row; tf MiB: peak tf.memory().numBytes.`);
  console.log();
  for (const line of [...cLines, ...ratioLines]) console.log(line);
  if (fits.length > 0) console.log('cost model, Siddon forward rows (cpu): time vs voxel steps, least squares');
  for (const line of formatCostModel(fits)) console.log(`  ${line}`);
  console.log(`load average: ${loadStart.map((x) => x.toFixed(2)).join(' ')} at the start, ${loadEnd.map((x) => x.toFixed(2)).join(' ')} at the end; bench time ${(seconds / 60).toFixed(1)} min`);

  if (out !== null) {
    const round = (x: number) => (Number.isInteger(x) ? x : Number(x.toPrecision(4)));
    const meta = {
      date: new Date().toISOString(),
      scope,
      node: process.version,
      tfjs: tf.version.tfjs,
      cpus: cpus().length,
      cpu: cpus()[0]?.model,
      availableParallelism: availableParallelism(),
      threadsAll: allThreads,
      webgpuAdapter: adapter,
      memoryGiB: round(totalmem() / 2 ** 30),
      loadavgStart: loadStart.map(round),
      loadavgEnd: loadEnd.map(round),
      benchSeconds: Math.round(seconds),
      yardstick: typeof c200 === 'string' ? c200 : { ...c200, stepsPerSecond: round(c200.stepsPerSecond) },
      ratios: ratioLines,
      costModel: fits.map((f) => ({ ...f, interceptMs: round(f.interceptMs), nsPerStep: round(f.nsPerStep), r2: round(f.r2) })),
      rows: rows.map(({ key: _key, ...row }) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'number' ? round(v) : v]))),
    };
    writeFileSync(out, compactJson(meta) + '\n');
    console.log(`wrote ${out}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
