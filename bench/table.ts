/**
 * The bench's rows and what is printed from them: the table, the ratios between rows, and the
 * cost model (forward time against voxel steps, least squares).
 */

/** One measured row (as written to bench/results.json). */
export interface Row {
  section: string;
  case: string;
  /** 'siddon', 'siddon (reference)', 'trilinear-500', 'C -O3'. */
  renderer: string;
  mode: string;
  backend: string;
  size: number;
  batch: number;
  volume: string;
  /** Threads asked for (`setNumThreads`). */
  threads: number;
  /** Threads the row's main kernel used (fewer when a thread would get too little work), or null. */
  kernelThreads: number | null;
  runs: number;
  medianMs: number;
  minMs: number;
  rays: number;
  raysPerSecond: number;
  /** Voxel steps (Siddon) or samples inside the volume (Trilinear) of the rows' rays (the forward's, counted once per row). */
  voxelSteps: number;
  /** How `voxelSteps` was counted: 'exact', or 'every k-th ray' (scaled by k). */
  stepsCounted: string;
  voxelStepsPerSecond: number;
  peakRssMiB: number;
  peakTfMiB: number;
  note: string;
  /** The 1-minute load average when the row finished (other processes share the cores). */
  load1: number;
  /** Rows with the same key are one measurement (shown in two sections). */
  key: string;
}

const fmtMs = (ms: number) => (ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0));
const fmtRate = (x: number) => (Number.isFinite(x) && x > 0 ? x.toExponential(2) : '');
const ratio = (x: number) => `${x.toFixed(2)}x`;

/** Whether `a` and `b` render the same rays on the same backend and thread count. */
function sameCase(a: Row, b: Row): boolean {
  return a.backend === b.backend && a.volume === b.volume && a.size === b.size && a.batch === b.batch && a.threads === b.threads;
}

function add(row: Row, note: string): void {
  row.note = row.note ? `${row.note}; ${note}` : note;
}

/** Adds to the rows' notes their ratios to related rows; returns summary lines. */
export function addRatios(rows: Row[]): string[] {
  const forward = (r: Row, renderer: string) => rows.find((f) => f.mode === 'forward' && f.renderer === renderer && sameCase(f, r));
  const byKind = new Map<string, number[]>();
  const counted = new Set<string>();
  let current: Row;
  const collect = (kind: string, x: number) => {
    if (counted.has(`${kind}|${current.key}`)) return; // one measurement shown in two sections
    counted.add(`${kind}|${current.key}`);
    byKind.set(kind, [...(byKind.get(kind) ?? []), x]);
  };
  for (const r of rows) {
    current = r;
    if (r.mode === 'fwd+pose bwd' || r.mode === 'fwd+volume bwd') {
      const f = forward(r, r.renderer);
      if (f) {
        add(r, `${ratio(r.medianMs / f.medianMs)} fwd`);
        collect(`${r.renderer} ${r.mode} / forward`, r.medianMs / f.medianMs);
      }
    }
    if (r.mode === 'forward' && r.renderer.startsWith('trilinear')) {
      const f = forward(r, 'siddon');
      if (f) {
        add(r, `${ratio(r.medianMs / f.medianMs)} Siddon`);
        collect(`${r.renderer} / siddon (forward)`, r.medianMs / f.medianMs);
      }
    }
    if (r.renderer === 'siddon (reference)') {
      const f = forward(r, 'siddon');
      if (f) add(r, `the fused kernel is ${(r.medianMs / f.medianMs).toFixed(0)}x faster`);
    }
  }
  return [...byKind].map(([kind, xs]) => {
    const s = [...xs].sort((a, b) => a - b);
    return `${kind}: median ${ratio(s[Math.floor(s.length / 2)])} (${ratio(s[0])} .. ${ratio(s[s.length - 1])}, ${s.length} rows)`;
  });
}

/** A least-squares fit `ms = a + b steps`. */
export interface CostFit {
  threads: number;
  volume: string;
  rows: number;
  interceptMs: number;
  nsPerStep: number;
  r2: number;
}

function fit(points: Array<[number, number]>): { a: number; b: number; r2: number } {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const [x, y] of points) {
    sxx += (x - mx) ** 2;
    sxy += (x - mx) * (y - my);
    syy += (y - my) ** 2;
  }
  const b = sxy / sxx;
  const a = my - b * mx;
  const ssRes = points.reduce((s, [x, y]) => s + (y - a - b * x) ** 2, 0);
  return { a, b, r2: syy > 0 ? 1 - ssRes / syy : 1 };
}

/** The cost model over the fused Siddon forward rows on the cpu backend: per thread count, all volumes and each volume. */
export function costModel(rows: Row[]): CostFit[] {
  const seen = new Set<string>();
  const points = rows.filter((r) => r.renderer === 'siddon' && r.mode === 'forward' && r.backend === 'cpu' && !seen.has(r.key) && seen.add(r.key));
  const fits: CostFit[] = [];
  for (const threads of [...new Set(points.map((r) => r.threads))].sort((a, b) => a - b)) {
    for (const volume of ['all volumes', ...new Set(points.map((r) => r.volume))]) {
      const ps = points.filter((r) => r.threads === threads && (volume === 'all volumes' || r.volume === volume));
      if (ps.length < 3) continue;
      const { a, b, r2 } = fit(ps.map((r) => [r.voxelSteps, r.medianMs]));
      fits.push({ threads, volume, rows: ps.length, interceptMs: a, nsPerStep: b * 1e6, r2 });
    }
  }
  return fits;
}

export function formatCostModel(fits: CostFit[]): string[] {
  return fits.map((f) => `threads ${f.threads}, ${f.volume.padEnd(12)}: ms = ${f.interceptMs.toFixed(1)} + ${f.nsPerStep.toFixed(2)} ns x voxel steps   R² = ${f.r2.toFixed(4)}  (${f.rows} rows)`);
}

/** The table, one block per section. */
export function formatTable(rows: Row[]): string {
  const head = ['case', 'renderer', 'mode', 'size', 'batch', 'volume', 'thr', 'runs', 'median ms', 'rays/s', 'steps/s', 'RSS MiB', 'tf MiB', 'note'];
  const right = new Set(['size', 'batch', 'thr', 'runs', 'median ms', 'rays/s', 'steps/s', 'RSS MiB', 'tf MiB']);
  const cells = rows.map((r) => [
    r.case,
    r.renderer,
    r.mode,
    String(r.size),
    String(r.batch),
    r.volume,
    `${r.threads}${r.kernelThreads !== null && r.kernelThreads < r.threads ? `*${r.kernelThreads}` : ''}`,
    String(r.runs),
    fmtMs(r.medianMs),
    fmtRate(r.raysPerSecond),
    `${r.stepsCounted === 'exact' ? '' : '~'}${fmtRate(r.voxelStepsPerSecond)}`,
    r.peakRssMiB > 0 ? String(Math.round(r.peakRssMiB)) : '',
    r.peakTfMiB > 0 ? String(Math.round(r.peakTfMiB)) : '',
    r.note,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (i === head.length - 1 ? 0 : c[i].length))));
  const line = (c: string[]) => c.map((v, i) => (i === c.length - 1 ? v : right.has(head[i]) ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ').trimEnd();
  const out: string[] = [line(head)];
  let section = '';
  rows.forEach((r, i) => {
    if (r.section !== section) {
      section = r.section;
      out.push(`-- ${section}`);
    }
    out.push(line(cells[i]));
  });
  return out.join('\n');
}
