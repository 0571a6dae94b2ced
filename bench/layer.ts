/**
 * `npm run bench:layer [-- --rounds N] [--out FILE] [--backends cpu,wasm]`: what DRRLayer costs
 * over DRR.forward, on the README's hello world (example CT, 200x200 detector of 2 mm, Siddon, one
 * pose), per backend (cpu and wasm; all threads):
 *
 * - render: `drr.forward(r, t)`, `layer.apply(x)` (the layer alone) and `model.predict(x)` of a model
 *   that holds the layer alone (target: predict within 10% of forward).
 * - training step of a pose-to-image model, input [1, 6] -> Dense(6) -> DRRLayer, MSE against a
 *   target image, Adam: `model.trainOnBatch(x, y)`; the same step written by hand (`optimizer.minimize`
 *   of the loss of `drr.forward` of the Dense layer's output: forward + pose gradient + the Dense
 *   layer + the loss + the update, the loss computed as tf.layers computes it); and forward + pose
 *   gradient alone, with the same loss (target: trainOnBatch no more than the hand-written step;
 *   tf.layers' own machinery, its checks and its execution of the model, costs about 0.35 ms a
 *   step on a Dense layer alone).
 *
 * The rows of a group run round-robin (one run of each, then again), after warm-up runs, so that a
 * change of the machine's load reaches every row alike; medians over the rounds, and the median of
 * each row's difference to the group's first row in the same round (the paired delta, the steadier
 * figure on a busy machine). Prints a table and writes bench/layer_results.json (or --out).
 */
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import '../kernels/register_all_kernels.js';
import { getNumThreads } from '../kernels/threads/index.js';
import { DRR } from '../lib/drr.js';
import { loadExampleCt } from '../lib/io/example_ct.js';
import { DRRLayer } from '../lib/models/drr_layer.js';

const here = dirname(fileURLToPath(import.meta.url));
const OPTIONS = { sdd: 1020, height: 200, delx: 2 } as const;
const POSE = { parameterization: 'euler_angles', convention: 'ZXY' } as const;

type Run = () => void | Promise<void>;

interface Row {
  backend: string;
  group: string;
  row: string;
  medianMs: number;
  minMs: number;
  runs: number;
  /** median / the group's first row's median. */
  ratio: number;
  /** Median over rounds of (this row's time - the first row's, same round): robust to load drift. */
  pairedDeltaMs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Times `runs` round-robin: `warmup` untimed rounds, then `rounds` timed ones. */
async function roundRobin(backend: string, group: string, runs: Array<[string, Run]>, rounds: number, warmup = 3): Promise<Row[]> {
  const times = runs.map(() => [] as number[]);
  for (let round = 0; round < warmup + rounds; round++) {
    for (const [i, [, run]] of runs.entries()) {
      const t0 = performance.now();
      await run();
      const dt = performance.now() - t0;
      if (round >= warmup) times[i].push(dt);
    }
  }
  const base = median(times[0]);
  return runs.map(([row], i) => ({
    backend, group, row, medianMs: median(times[i]), minMs: Math.min(...times[i]), runs: times[i].length, ratio: median(times[i]) / base,
    pairedDeltaMs: median(times[i].map((t, r) => t - times[0][r])),
  }));
}

async function benchBackend(backend: string, rounds: number): Promise<Row[]> {
  await tf.setBackend(backend);
  await tf.ready();
  const subject = await loadExampleCt();
  const drr = new DRR(subject, OPTIONS);
  const rotation = tf.tensor2d([[0, 0, 0]]);
  const translation = tf.tensor2d([[0, 850, 0]]);
  const x = tf.tensor2d([[0, 0, 0, 0, 850, 0]]);

  // render: the layer alone, and in a model
  const layer = new DRRLayer({ subject, ...OPTIONS, ...POSE, inputShape: [6] });
  const model = tf.sequential({ layers: [layer] });
  const render = await roundRobin(backend, 'render 200x200, 1 pose', [
    ['drr.forward(r, t)', () => drr.forward(rotation, translation, POSE).dispose()],
    ['layer.apply(x)', () => (layer.apply(x) as tf.Tensor).dispose()],
    ['model.predict(x)', () => (model.predict(x) as tf.Tensor).dispose()],
  ], rounds);

  // training step: input [1, 6] -> Dense(6) -> DRRLayer -> MSE vs a target image
  const start = tf.tensor1d([0.05, -0.03, 0.04, 5, 850, -10]);
  const target = tf.tidy(() => drr.forward(tf.tensor2d([[0, 0, 0]]), tf.tensor2d([[0, 850, 0]]), POSE).reshape([1, 200, 200, 1]));
  const ones = tf.ones([1, 6]);
  const net = tf.sequential({ layers: [tf.layers.dense({ inputShape: [6], units: 6, kernelInitializer: 'zeros' }), new DRRLayer({ subject, ...OPTIONS, ...POSE })] });
  net.layers[0].setWeights([tf.zeros([6, 6]), start]);
  net.compile({ optimizer: tf.train.adam(1e-4), loss: 'meanSquaredError' });
  // the same step by hand: a Dense layer's variables, the loss of drr.forward of its output
  const kernel = tf.variable(tf.zeros([6, 6]));
  const bias = tf.variable(start.clone());
  const adam = tf.train.adam(1e-4);
  // tf.layers' 'meanSquaredError' as it computes it: the mean over the last axis, then over the rest
  const mse = (img: tf.Tensor) => tf.mean(tf.mean(tf.square(tf.sub(target, img.reshape([1, 200, 200, 1]))), -1)) as tf.Scalar;
  const byHand = () => {
    const loss = adam.minimize(() => {
      const pose = tf.add(tf.matMul(ones, kernel), bias) as tf.Tensor2D;
      return mse(drr.forward(tf.slice(pose, [0, 0], [1, 3]), tf.slice(pose, [0, 3], [1, 3]), POSE));
    }, true);
    loss?.dispose();
  };
  const poseGrads = tf.grads((r: tf.Tensor, t: tf.Tensor) => mse(drr.forward(r, t, POSE)));
  const step = await roundRobin(backend, 'training step: Dense(6) -> DRR 200x200, MSE, Adam', [
    ['by hand: minimize(mse(forward(dense(x))))', byHand],
    ['model.trainOnBatch(x, y)', async () => void (await net.trainOnBatch(ones, target))],
    ['forward + pose gradient (mse)', () => tf.dispose(poseGrads([rotation, translation]))],
  ], rounds);

  tf.dispose([rotation, translation, x, start, target, ones, kernel, bias]);
  adam.dispose();
  [model, net].forEach((m) => m.dispose());
  drr.dispose();
  subject.dispose();
  return [...render, ...step];
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string' }, out: { type: 'string' }, backends: { type: 'string' } } });
  const rounds = Number(values.rounds ?? 15);
  const backends = (values.backends ?? 'cpu,wasm').split(',');
  tf.enableProdMode();
  if (backends.includes('wasm')) await import('@tensorflow/tfjs-backend-wasm');
  const load = loadavg();
  console.log(`DRRLayer bench: node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'}), tfjs ${tf.version.tfjs}, threads ${getNumThreads()}, ${rounds} rounds, load average ${load.map((l) => l.toFixed(2)).join(' ')}`);
  const rows: Row[] = [];
  for (const backend of backends) rows.push(...(await benchBackend(backend, rounds)));
  await tf.setBackend('cpu');
  const width = Math.max(...rows.map((r) => r.row.length));
  let group = '';
  for (const r of rows) {
    if (`${r.backend}|${r.group}` !== group) {
      group = `${r.backend}|${r.group}`;
      console.log(`\n${r.backend}: ${r.group}`);
    }
    const delta = r.pairedDeltaMs === 0 && r.ratio === 1 ? '' : `  paired delta ${r.pairedDeltaMs >= 0 ? '+' : ''}${r.pairedDeltaMs.toFixed(2)} ms`;
    console.log(`  ${r.row.padEnd(width)}  median ${r.medianMs.toFixed(2).padStart(8)} ms  min ${r.minMs.toFixed(2).padStart(8)} ms  ${r.ratio.toFixed(3)}x${delta}`);
  }
  const out = values.out ?? join(here, 'layer_results.json');
  const round = (v: number) => Number(v.toPrecision(4));
  const meta = { date: new Date().toISOString(), node: process.version, tfjs: tf.version.tfjs, cpus: cpus().length, cpu: cpus()[0]?.model, threads: getNumThreads(), rounds, loadavgStart: load.map(round), loadavgEnd: loadavg().map(round) };
  const rounded = rows.map((r) => ({ ...r, medianMs: round(r.medianMs), minMs: round(r.minMs), ratio: round(r.ratio), pairedDeltaMs: round(r.pairedDeltaMs) }));
  // one line per entry and per row
  const lines = [...Object.entries(meta).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`), `  "rows": [\n${rounded.map((r) => `    ${JSON.stringify(r)}`).join(',\n')}\n  ]`];
  writeFileSync(out, `{\n${lines.join(',\n')}\n}\n`);
  console.log(`\nwrote ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
