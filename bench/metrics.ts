/**
 * `npm run bench:metrics [-- --out FILE] [--backends cpu,wasm] [--parts loss,registration] [--quick]`: what the image
 * similarity losses cost with their gradient, fused kernels against their tensor-op versions
 * (`implementation: 'reference'`), and what a registration step costs with each (GitHub issue #20).
 *
 * - loss + gradient: `tf.variableGrads` of the sum of `multiscaleNccLoss()` (1 - multiscale NCC,
 *   global + 13 px patches, 0.5 / 0.5: the registration tutorial's loss) of DRRs of the example CT
 *   against a target DRR, 128 and 200 px, batches 1 and 10, then reading the loss and the gradient;
 *   cpu and wasm, 1 and 2 threads (`setNumThreads`: the metric kernels run on the calling thread,
 *   so the setting changes nothing for them, see the README); and at 128 px, batch 1, on cpu, the
 *   gradient NCC (11 px patches, blur 1) and mutual information (64 bins).
 * - registration step: `await reg.step()` (Siddon render, loss, pose gradient, Adam, read back) at
 *   128 px, batches 1 and 10, with the fused loss and with the tensor-op loss, with the kernel
 *   calls of one step (`tf.profile`), and the render with its pose gradient alone (an upstream
 *   gradient of ones, no loss) for scale, run round-robin: each step's paired delta is the median
 *   over rounds of its time minus the render's in the same round (steadier on a busy machine).
 *
 * Figures: medians over timed runs after warm-up runs (the JIT optimizes the kernels after a few
 * hundred calls: a row under 50 ms a run warms up for at least 300 runs and 2 s, then runs at least
 * 100 times and 2 s; a slower row runs twice, then at least 5 times and 3 s). Writes
 * bench/metrics_results.json (or --out); --quick: fewer rows and runs, writes nothing unless --out.
 */
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import '../kernels/register_all_kernels.js';
import { getNumThreads, setNumThreads } from '../kernels/threads/index.js';
import { DRR } from '../lib/drr.js';
import { loadExampleCt } from '../lib/io/example_ct.js';
import { gradientNormalizedCrossCorrelation2d } from '../lib/metrics/gradient_normalized_cross_correlation.js';
import type { MetricImplementation } from '../lib/metrics/images.js';
import { mutualInformation } from '../lib/metrics/mutual_information.js';
import { perturbPoses } from '../lib/registration/perturb_poses.js';
import { Registration } from '../lib/registration/registration.js';
import { multiscaleNccLoss } from '../lib/registration/registration_loss.js';
import type { Subject } from '../lib/subject.js';

const here = dirname(fileURLToPath(import.meta.url));
const POSE = { parameterization: 'euler_angles', convention: 'ZXY' } as const;
const TUTORIAL_SCALES = { patchSizes: [null, 13], patchWeights: [0.5, 0.5] };

interface Row {
  group: string;
  row: string;
  backend: string;
  threads: number;
  size: number;
  batch: number;
  implementation: 'fused' | 'tensor ops' | 'render + pose gradient';
  medianMs: number;
  minMs: number;
  runs: number;
  /** Kernel calls of one run (tf.profile), where counted. */
  kernelCalls: number | null;
  /** Registration rows: the median over rounds of this row's time minus the render + pose gradient's in the same round. */
  pairedDeltaMs?: number;
  load1: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Timings of `run`: warm-up runs (at least `minWarm`, or until `warmMs`), then timed runs until `timedMs` and at least `minRuns`. */
async function time(run: () => void | Promise<void>, quick: boolean): Promise<{ medianMs: number; minMs: number; runs: number }> {
  const budget = quick ? 0.3 : 1;
  await run(); // first-call costs (shader compiles, first JIT tiers)
  let t0 = performance.now();
  await run();
  const slow = performance.now() - t0 > 50;
  const [minWarm, warmMs, minRuns, timedMs] = slow ? [2, 0, quick ? 3 : 5, 3000 * budget] : [quick ? 50 : 300, 2000 * budget, quick ? 30 : 100, 2000 * budget];
  t0 = performance.now();
  for (let n = 0; n < minWarm || performance.now() - t0 < warmMs; n++) await run();
  const times: number[] = [];
  t0 = performance.now();
  while (times.length < minRuns || performance.now() - t0 < timedMs) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  return { medianMs: median(times), minMs: Math.min(...times), runs: times.length };
}

/** Kernel calls of one run. */
async function kernelCalls(run: () => void | Promise<void>): Promise<number> {
  const profile = await tf.profile(async () => {
    await run();
  });
  return profile.kernels.length;
}

/** DRR-like images: the example CT's DRRs, `[batch, 1, size, size]` at perturbed poses, and a target `[1 or batch, ...]`. */
function images(subject: Subject, size: number, batch: number): { drr: DRR; moving: tf.Tensor4D; target: tf.Tensor4D } {
  const drr = new DRR(subject, { sdd: 1020, height: size, delx: 400 / size });
  const { rotation, translation } = perturbPoses([0, 0, 0], [0, 850, 0], { count: batch, maxRotation: 0.1, maxTranslation: 15, seed: 3 });
  const moving = drr.forward(rotation, translation, POSE);
  const target = tf.tidy(() => tf.tile(drr.forward(tf.tensor2d([[0.05, -0.03, 0.04]]), tf.tensor2d([[5, 850, -10]]), POSE), [batch, 1, 1, 1]) as tf.Tensor4D);
  tf.dispose([rotation, translation]);
  return { drr, moving, target };
}

/** `variableGrads` of the summed loss, values read back: what a registration step asks of its loss. */
function lossAndGradient(loss: (image: tf.Tensor4D, target: tf.Tensor4D) => tf.Tensor, image: tf.Variable, target: tf.Tensor4D): () => void {
  return () => {
    const { value, grads } = tf.variableGrads(() => tf.sum(loss(image as unknown as tf.Tensor4D, target)) as tf.Scalar, [image]);
    value.dataSync();
    grads[image.name].dataSync();
    value.dispose();
    tf.dispose(grads);
  };
}

async function lossRows(backend: string, subject: Subject, quick: boolean): Promise<Row[]> {
  const rows: Row[] = [];
  const cases = quick ? [[128, 1]] : [[128, 1], [200, 1], [128, 10], [200, 10]];
  for (const [size, batch] of cases) {
    const { drr, moving, target } = images(subject, size, batch);
    const image = tf.variable(moving);
    for (const threads of quick ? [getMaxThreads()] : [1, getMaxThreads()]) {
      setNumThreads(threads);
      for (const implementation of ['auto', 'reference'] as MetricImplementation[]) {
        const run = lossAndGradient(multiscaleNccLoss({ ...TUTORIAL_SCALES, implementation }), image, target);
        const t = await time(run, quick);
        const calls = await kernelCalls(run);
        rows.push({
          group: 'loss + gradient: 1 - multiscale NCC (global + 13 px), DRRs of the example CT', row: `${implementation === 'auto' ? 'fused' : 'tensor ops'}`,
          backend, threads, size, batch, implementation: implementation === 'auto' ? 'fused' : 'tensor ops', ...t, kernelCalls: calls, load1: loadavg()[0],
        });
        log(rows[rows.length - 1]);
      }
    }
    tf.dispose([image, moving, target]);
    drr.dispose();
  }
  if (backend === 'cpu' && !quick) {
    const { drr, moving, target } = images(subject, 128, 1);
    const image = tf.variable(moving);
    const unit = (x: tf.Tensor4D) => tf.tidy(() => tf.div(x, tf.max(x)) as tf.Tensor4D); // MI's bins span [0, 1]
    const [unitImage, unitTarget] = [tf.variable(unit(moving)), unit(target)];
    const others: Array<[string, (implementation: MetricImplementation) => () => void]> = [
      ['gradient NCC (11 px patches, blur 1)', (implementation) => lossAndGradient((a, b) => gradientNormalizedCrossCorrelation2d(a, b, { patchSize: 11, implementation }), image, target)],
      ['mutual information (64 bins)', (implementation) => lossAndGradient((a, b) => mutualInformation(a, b, { numBins: 64, implementation }), unitImage, unitTarget)],
    ];
    setNumThreads(getMaxThreads());
    for (const [name, make] of others) {
      for (const implementation of ['auto', 'reference'] as MetricImplementation[]) {
        const run = make(implementation);
        const t = await time(run, quick);
        rows.push({
          group: `loss + gradient: ${name}`, row: implementation === 'auto' ? 'fused' : 'tensor ops', backend, threads: getMaxThreads(), size: 128, batch: 1,
          implementation: implementation === 'auto' ? 'fused' : 'tensor ops', ...t, kernelCalls: await kernelCalls(run), load1: loadavg()[0],
        });
        log(rows[rows.length - 1]);
      }
    }
    tf.dispose([image, moving, target, unitImage, unitTarget]);
    drr.dispose();
  }
  return rows;
}

/**
 * Runs `runs` round-robin (one run of each, then again: a change of the machine's load reaches
 * every row alike), `warmup` untimed rounds then `rounds` timed ones: each row's median, and the
 * median over rounds of its difference to the first row in the same round (the paired delta).
 */
async function roundRobin(runs: Array<() => void | Promise<void>>, warmup: number, rounds: number): Promise<Array<{ medianMs: number; minMs: number; runs: number; pairedDeltaMs: number }>> {
  const times = runs.map(() => [] as number[]);
  for (let round = 0; round < warmup + rounds; round++) {
    for (const [i, run] of runs.entries()) {
      const t0 = performance.now();
      await run();
      if (round >= warmup) times[i].push(performance.now() - t0);
    }
  }
  return times.map((t) => ({ medianMs: median(t), minMs: Math.min(...t), runs: t.length, pairedDeltaMs: median(t.map((x, r) => x - times[0][r])) }));
}

async function registrationRows(backend: string, subject: Subject, quick: boolean): Promise<Row[]> {
  const rows: Row[] = [];
  const group = 'registration step: await reg.step() (Siddon 128 px, 1 - multiscale NCC, Adam)';
  for (const batch of quick ? [1] : [1, 10]) {
    const size = 128;
    const drr = new DRR(subject, { sdd: 1020, height: size, delx: 400 / size });
    const target = tf.tidy(() => drr.forward(tf.tensor2d([[0.05, -0.03, 0.04]]), tf.tensor2d([[5, 850, -10]]), POSE));
    for (const threads of quick || backend !== 'cpu' ? [getMaxThreads()] : [1, getMaxThreads()]) {
      setNumThreads(threads);
      const { rotation, translation } = perturbPoses([0, 0, 0], [0, 850, 0], { count: batch, maxRotation: 0.1, maxTranslation: 15, seed: 3 });
      // the render with its pose gradient alone (an upstream gradient of ones), for scale
      const grads = tf.grads((r: tf.Tensor, t: tf.Tensor) => drr.forward(r, t, POSE));
      const ones = tf.ones([batch, 1, size, size]);
      const render = () => {
        const g = grads([rotation, translation], ones);
        g.forEach((x) => x.dataSync());
        tf.dispose(g);
      };
      const regs = (['auto', 'reference'] as MetricImplementation[]).map(
        (implementation) => new Registration(drr, target, { rotation, translation, ...POSE, loss: multiscaleNccLoss({ ...TUTORIAL_SCALES, implementation }) }),
      );
      const steps = regs.map((reg) => async () => void (await reg.step()));
      const [warmup, rounds] = quick ? [5, 10] : batch === 1 ? [40, 100] : [3, 25];
      const timed = await roundRobin([render, ...steps], warmup, rounds);
      const calls: number[] = [];
      for (const run of [render, ...steps]) calls.push(await kernelCalls(run)); // one profile at a time
      const names: Array<[string, Row['implementation']]> = [['render + pose gradient (no loss)', 'render + pose gradient'], ['step, fused loss', 'fused'], ['step, tensor-op loss', 'tensor ops']];
      names.forEach(([row, implementation], i) => {
        rows.push({ group, row, backend, threads, size, batch, implementation, ...timed[i], kernelCalls: calls[i], load1: loadavg()[0] });
        log(rows[rows.length - 1]);
      });
      regs.forEach((reg) => reg.dispose());
      tf.dispose([rotation, translation, ones]);
    }
    target.dispose();
    drr.dispose();
  }
  return rows;
}

let maxThreads = 1;
function getMaxThreads(): number {
  return maxThreads;
}

function log(r: Row): void {
  console.log(
    `  ${r.backend.padEnd(5)} thr ${r.threads} ${String(r.size).padStart(3)} px x${String(r.batch).padEnd(2)} ${r.group.split(':')[0].padEnd(19)} ${r.row.padEnd(34)} ` +
      `median ${r.medianMs.toFixed(r.medianMs < 10 ? 3 : 1).padStart(8)} ms  min ${r.minMs.toFixed(r.minMs < 10 ? 3 : 1).padStart(8)} ms  ${String(r.runs).padStart(5)} runs  ${r.kernelCalls ?? ''} kernel calls` +
      `${r.pairedDeltaMs === undefined || r.implementation === 'render + pose gradient' ? '' : `  paired delta ${r.pairedDeltaMs >= 0 ? '+' : ''}${r.pairedDeltaMs.toFixed(2)} ms`}  load ${r.load1.toFixed(2)}`,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' }, backends: { type: 'string' }, parts: { type: 'string' }, quick: { type: 'boolean' } } });
  const quick = values.quick ?? false;
  const parts = (values.parts ?? 'loss,registration').split(',');
  const backends = (values.backends ?? 'cpu,wasm').split(',');
  tf.enableProdMode();
  if (backends.includes('wasm')) await import('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend('cpu');
  maxThreads = getNumThreads();
  const load = loadavg();
  console.log(`image metrics bench: node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'}), tfjs ${tf.version.tfjs}, threads 1 and ${maxThreads}, load average ${load.map((l) => l.toFixed(2)).join(' ')}`);
  const rows: Row[] = [];
  for (const backend of backends) {
    await tf.setBackend(backend);
    await tf.ready();
    const subject = await loadExampleCt();
    if (parts.includes('loss')) rows.push(...(await lossRows(backend, subject, quick)));
    if (parts.includes('registration')) rows.push(...(await registrationRows(backend, subject, quick)));
    subject.dispose();
  }
  setNumThreads(maxThreads);
  await tf.setBackend('cpu');
  const out = values.out ?? (quick ? null : join(here, 'metrics_results.json'));
  if (out === null) return;
  const round = (v: number) => (Number.isInteger(v) ? v : Number(v.toPrecision(4)));
  const meta = { date: new Date().toISOString(), node: process.version, tfjs: tf.version.tfjs, cpus: cpus().length, cpu: cpus()[0]?.model, threadsAll: maxThreads, loadavgStart: load.map(round), loadavgEnd: loadavg().map(round) };
  const rounded = rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? round(v) : v])));
  const lines = [...Object.entries(meta).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`), `  "rows": [\n${rounded.map((r) => `    ${JSON.stringify(r)}`).join(',\n')}\n  ]`];
  writeFileSync(out, `{\n${lines.join(',\n')}\n}\n`);
  console.log(`\nwrote ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
