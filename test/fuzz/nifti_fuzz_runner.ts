/**
 * Runs fuzz cases in worker processes with a time and memory watchdog.
 *
 * Each worker (`nifti_fuzz_child.ts`, forked as `node --import tsx --max-old-space-size=<heap>`)
 * is given one case at a time and answers before it gets the next, so the runner always knows
 * which case is running. A case that does not answer within `caseTimeoutMs` is recorded as a
 * `hang`; a worker that exits is a `crash` (a `memory` failure when V8 ran out of heap); a worker
 * whose resident memory passes `maxRssMb` (read from /proc, so on Linux) is a `memory` failure.
 * In all three the worker is killed, and a fresh one continues at the next case.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeRecipe, recipeOf } from './nifti_fuzz_cases.js';
import type { WorkerReply, WorkerRequest } from './nifti_fuzz_child.js';
import type { CaseOutcome, FailureKind } from './nifti_fuzz_outcomes.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./nifti_fuzz_child.ts', import.meta.url));

/** Options of {@link runFuzz}; all but `cases` and `seed` have defaults. */
export interface FuzzOptions {
  cases: number;
  seed: number;
  /** First case index. Default 0. */
  start?: number;
  /** Worker processes run side by side. Default 1. */
  workers?: number;
  /** A case that runs longer is a hang. Default 10000 ms. */
  caseTimeoutMs?: number;
  /** The worker's V8 heap limit (`--max-old-space-size`). Default 512 MB. */
  maxHeapMb?: number;
  /** The worker's resident-memory limit (typed arrays live outside the heap). Default 1536 MB. */
  maxRssMb?: number;
  /** For the runner's own tests: make the worker misbehave on these cases. */
  selfTest?: Record<number, NonNullable<WorkerRequest['selfTest']>>;
  /** Called after every case. */
  onCase?: (result: CaseResult) => void;
}

/** One case's outcome, with its index and time. */
export interface CaseResult extends CaseOutcome {
  index: number;
  ms: number;
}

/** A failing case, with what is needed to replay it. */
export interface FuzzFailure extends CaseResult {
  seed: number;
  description: string;
  replay: string;
}

/** What a run found. */
export interface FuzzSummary {
  seed: number;
  start: number;
  cases: number;
  /** Cases by outcome: `rendered`, `refused`, and each failure kind. */
  counts: Record<string, number>;
  /** Refusals by the field they name. */
  refusedByField: Record<string, number>;
  failures: FuzzFailure[];
  /** Workers started (1 per worker, plus 1 per hang / crash / memory failure). */
  workersStarted: number;
  wallMs: number;
  /** The slowest case. */
  slowest: { index: number; ms: number } | null;
}

const STARTUP_TIMEOUT_MS = 120000;

/** Runs cases `start .. start + cases - 1` of `seed`; resolves with the counts and failures. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzSummary> {
  const start = options.start ?? 0;
  const workers = Math.max(1, Math.min(options.workers ?? 1, options.cases));
  const t0 = performance.now();
  const summary: FuzzSummary = { seed: options.seed, start, cases: options.cases, counts: {}, refusedByField: {}, failures: [], workersStarted: 0, wallMs: 0, slowest: null };
  let next = start;
  const end = start + options.cases;
  const record = (result: CaseResult) => {
    const key = result.outcome === 'failure' ? result.failure! : result.outcome;
    summary.counts[key] = (summary.counts[key] ?? 0) + 1;
    if (result.outcome === 'refused') summary.refusedByField[result.field!] = (summary.refusedByField[result.field!] ?? 0) + 1;
    if (result.outcome === 'failure') {
      summary.failures.push({
        ...result,
        seed: options.seed,
        description: describeRecipe(recipeOf(options.seed, result.index)),
        replay: `npm run fuzz -- --seed ${options.seed} --start ${result.index} --cases 1`,
      });
    }
    if (!summary.slowest || result.ms > summary.slowest.ms) summary.slowest = { index: result.index, ms: result.ms };
    options.onCase?.(result);
  };
  const lane = async () => {
    let worker: Worker | null = null;
    try {
      while (next < end) {
        const index = next++;
        if (!worker) {
          worker = await Worker.start(options);
          summary.workersStarted += 1;
        }
        const result = await worker.run({ seed: options.seed, index, selfTest: options.selfTest?.[index] }, options.caseTimeoutMs ?? 10000);
        record(result);
        if (result.outcome === 'failure' && (['hang', 'crash', 'memory'] as FailureKind[]).includes(result.failure!)) {
          worker.kill();
          worker = null;
        }
      }
    } finally {
      worker?.kill();
    }
  };
  await Promise.all(Array.from({ length: workers }, lane));
  summary.failures.sort((a, b) => a.index - b.index);
  summary.wallMs = Math.round(performance.now() - t0);
  return summary;
}

/** One worker process. */
class Worker {
  private stderr = '';
  private onExit: ((code: number | null, signal: string | null) => void) | null = null;
  private exited = false;

  private constructor(private readonly child: ChildProcess, private readonly maxRssMb: number) {
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4000);
    });
    child.on('exit', (code, signal) => {
      this.exited = true;
      this.onExit?.(code, signal);
    });
  }

  static async start(options: FuzzOptions): Promise<Worker> {
    const child = fork(CHILD, [], {
      cwd: ROOT,
      execArgv: ['--import', 'tsx', `--max-old-space-size=${options.maxHeapMb ?? 512}`],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    const worker = new Worker(child, options.maxRssMb ?? 1536);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fuzz worker did not start within ${STARTUP_TIMEOUT_MS} ms:\n${worker.stderr}`)), STARTUP_TIMEOUT_MS);
      child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      worker.onExit = (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`fuzz worker exited while starting (${code ?? signal}):\n${worker.stderr}`));
      };
    });
    return worker;
  }

  /** Runs one case; a hang, a crash or too much memory come back as failures. */
  run(request: WorkerRequest, timeoutMs: number): Promise<CaseResult> {
    const t0 = performance.now();
    const ms = () => Math.round(performance.now() - t0);
    return new Promise<CaseResult>((resolve) => {
      const done = (outcome: CaseOutcome) => {
        clearTimeout(timer);
        clearInterval(memoryWatch);
        this.child.off('message', onMessage);
        this.onExit = null;
        resolve({ index: request.index, ms: ms(), ...outcome });
      };
      const onMessage = (reply: WorkerReply) => {
        if ('index' in reply && reply.index === request.index) {
          const { index: _, ...outcome } = reply;
          done(outcome);
        }
      };
      const timer = setTimeout(() => done({ outcome: 'failure', failure: 'hang', message: `no answer within ${timeoutMs} ms` }), timeoutMs);
      const memoryWatch = setInterval(() => {
        const rss = residentMb(this.child.pid);
        if (rss !== null && rss > this.maxRssMb) done({ outcome: 'failure', failure: 'memory', message: `resident memory ${rss} MB > ${this.maxRssMb} MB` });
      }, 50);
      this.onExit = (code, signal) => {
        const heap = /heap out of memory|Allocation failed/i.test(this.stderr);
        const tail = this.stderr.trim().split('\n').slice(-3).join(' | ');
        done({ outcome: 'failure', failure: heap ? 'memory' : 'crash', message: `worker exited (${code ?? signal})${tail ? `: ${tail}` : ''}` });
      };
      this.child.on('message', onMessage);
      if (this.exited) this.onExit(this.child.exitCode, this.child.signalCode);
      else this.child.send(request);
    });
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

/** Resident memory of a process in MB (Linux /proc), or null where unknown. */
function residentMb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const pages = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
    return Math.round((pages * 4096) / 2 ** 20);
  } catch {
    return null;
  }
}

/** The summary as printed lines: counts by outcome, refusals by field, failures with their replay commands. */
export function formatSummary(s: FuzzSummary): string {
  const lines = [
    `nifti fuzz: seed ${s.seed}, cases ${s.start}..${s.start + s.cases - 1}, ${(s.wallMs / 1000).toFixed(1)} s, ${s.workersStarted} worker(s) started`,
    `  outcomes: ${Object.entries(s.counts).sort().map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `  refused by field: ${Object.entries(s.refusedByField).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `  slowest case: ${s.slowest ? `${s.slowest.index} (${s.slowest.ms} ms)` : '-'}`,
    `  failures: ${s.failures.length}`,
  ];
  for (const f of s.failures) {
    lines.push(`  FAIL case ${f.index} (${f.failure}): ${f.message}`, `    replay: ${f.replay}`, `    recipe: ${f.description}`);
  }
  return lines.join('\n');
}
