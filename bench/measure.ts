/**
 * Timing and memory of one bench row: the median wall time over repeated runs, and the peak
 * resident set size (RSS) and tf.js memory seen while the row ran.
 *
 * The kernels run synchronously on the main thread, so the RSS is sampled from a small worker
 * thread (every 2 ms, `process.memoryUsage.rss()` is the whole process's) into shared memory: a
 * high-water mark that also sees the peaks inside a kernel call. tf.js memory is read on the main
 * thread: by `probe()` (called by the measured function while its tensors are alive) and after
 * each run.
 */
import * as tf from '@tensorflow/tfjs';
import { Worker } from 'node:worker_threads';

/** How long and how often a row runs. */
export interface RepeatPolicy {
  /** At least this many timed runs (default 3)... */
  minRuns: number;
  /** ...and at least this much timed time, ms (default 1000)... */
  minTotalMs: number;
  /** ...but stop adding runs once the row's runs (warm-up included) have taken this long, ms. */
  capMs: number;
  /** A warm-up run taking at least this long (ms) counts as a timed run (its one-off costs are small beside it). */
  longRunMs: number;
  /** At most this many timed runs. */
  maxRuns: number;
}

export const DEFAULT_POLICY: RepeatPolicy = { minRuns: 3, minTotalMs: 1000, capMs: 25_000, longRunMs: 1000, maxRuns: 50 };

/** What {@link measure} returns. */
export interface Measurement {
  medianMs: number;
  minMs: number;
  runs: number;
  /** Peak RSS over the row (bytes). */
  peakRss: number;
  /** Peak `tf.memory().numBytes` seen (bytes). */
  peakTfBytes: number;
}

/** The peak-RSS sampler thread (a plain-JS worker, started once). */
class RssSampler {
  private readonly peakKiB = new Int32Array(new SharedArrayBuffer(4));
  private worker: Worker | null = null;

  private start(): void {
    const code = `
      const { workerData } = require('node:worker_threads');
      const peak = new Int32Array(workerData);
      setInterval(() => { const kib = Math.round(process.memoryUsage.rss() / 1024); if (kib > Atomics.load(peak, 0)) Atomics.store(peak, 0, kib); }, 2);`;
    this.worker = new Worker(code, { eval: true, workerData: this.peakKiB.buffer, execArgv: [] });
    this.worker.unref();
  }

  /** Starts a new high-water mark at the current RSS. */
  reset(): void {
    if (this.worker === null) this.start();
    Atomics.store(this.peakKiB, 0, Math.round(process.memoryUsage.rss() / 1024));
  }

  /** The high-water mark since `reset` (bytes), with the current RSS. */
  peak(): number {
    return Math.max(Atomics.load(this.peakKiB, 0) * 1024, process.memoryUsage.rss());
  }

  async dispose(): Promise<void> {
    await this.worker?.terminate();
    this.worker = null;
  }
}

const sampler = new RssSampler();

/** Ends the sampler thread. */
export function disposeSampler(): Promise<void> {
  return sampler.dispose();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * Runs `run` (which must finish its work, e.g. read or dispose its outputs, before it returns or
 * resolves) once to warm up, then repeatedly per `policy`; `probe` records tf.js memory (call it
 * while the run's tensors are alive).
 */
export async function measure(run: (probe: () => void) => void | Promise<void>, policy: RepeatPolicy = DEFAULT_POLICY): Promise<Measurement> {
  let peakTfBytes = tf.memory().numBytes;
  const probe = () => {
    peakTfBytes = Math.max(peakTfBytes, tf.memory().numBytes);
  };
  sampler.reset();
  const ms: number[] = [];
  const once = async () => {
    const t0 = performance.now();
    await run(probe);
    const dt = performance.now() - t0;
    probe();
    return dt;
  };
  const warmup = await once();
  let spent = warmup;
  if (warmup >= policy.longRunMs) ms.push(warmup);
  let total = ms.reduce((a, b) => a + b, 0);
  while (ms.length < policy.maxRuns && (ms.length < policy.minRuns || total < policy.minTotalMs) && (ms.length === 0 || spent + median(ms) <= policy.capMs)) {
    const dt = await once();
    ms.push(dt);
    total += dt;
    spent += dt;
  }
  return { medianMs: median(ms), minMs: Math.min(...ms), runs: ms.length, peakRss: sampler.peak(), peakTfBytes };
}
