/**
 * Loss curves of registration runs as a hand-written SVG line plot: one line per run against the
 * iteration index, with axes, "nice" ticks (1, 2 or 5 times a power of ten; powers of ten on a log axis),
 * axis labels, an optional title and an optional legend.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { checkOptionKeys, optionKeys } from '../validation/options.js';

/** One loss value per iteration (index 0, 1, 2, ...); `NaN`, infinities and `null` are gaps. */
export type LossRun = readonly (number | null | undefined)[];

/** Options of {@link lossCurveSvg} and {@link saveLossCurve}. */
export interface LossCurveOptions {
  /** Picture width in pixels, at least 160. Default `640`. */
  width?: number;
  /** Picture height in pixels, at least 120. Default `400`. */
  height?: number;
  /** Title above the plot. Default: none. */
  title?: string;
  /** Label of the x axis. Default `'iteration'`. */
  xLabel?: string;
  /** Label of the y axis. Default `'loss'`. */
  yLabel?: string;
  /** Logarithmic y axis (every finite value must then be > 0). Default `false`. */
  logY?: boolean;
  /** Legend entries, one per run. Default: no legend. */
  labels?: readonly string[];
  /** Line colours (any SVG colour), cycled over the runs. Default: the 10 matplotlib "tab10" colours. */
  colors?: readonly string[];
  /** Line width in pixels. Default `1.5`. */
  lineWidth?: number;
}

/** The keys of {@link LossCurveOptions}. */
export const LOSS_CURVE_OPTION_KEYS = optionKeys<LossCurveOptions>()(['width', 'height', 'title', 'xLabel', 'yLabel', 'logY', 'labels', 'colors', 'lineWidth']);

/** matplotlib's tab10 colour cycle. */
const TAB10 = [
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd',
  '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf',
];

/** Axis extent and tick positions (in axis units: log10 of the value on a log axis). */
interface Axis {
  lo: number;
  hi: number;
  ticks: { at: number; label: string }[];
}

/**
 * Draws loss curves as an SVG document.
 *
 * ```js
 * const svg = lossCurveSvg(restarts.map((r) => r.losses), { logY: true, title: 'NCC loss, 10 restarts' });
 * ```
 *
 * Non-finite values (and `null`) are skipped: the line breaks there, and an isolated point shows as a dot.
 * Each run becomes one `<path class="series">`, also when it has no finite value (then `d` is empty).
 *
 * @param series One array of losses per run, or a single array for one run.
 * @param options Size, labels and axis scale; see {@link LossCurveOptions}.
 * @returns The SVG text (`<svg xmlns="http://www.w3.org/2000/svg" ...>...</svg>`).
 * @throws If `series` is empty or not made of number arrays, `logY` is set and a finite value is
 *   `<= 0`, or an option is invalid.
 */
export function lossCurveSvg(series: readonly LossRun[] | LossRun, options: LossCurveOptions = {}): string {
  checkOptionKeys(options, LOSS_CURVE_OPTION_KEYS, 'lossCurveSvg');
  const {
    width = 640,
    height = 400,
    title,
    xLabel = 'iteration',
    yLabel = 'loss',
    logY = false,
    labels,
    colors = TAB10,
    lineWidth = 1.5,
  } = options;
  if (!Number.isFinite(width) || width < 160) throw new Error(`lossCurveSvg: width must be a number >= 160, got ${String(width)}`);
  if (!Number.isFinite(height) || height < 120) throw new Error(`lossCurveSvg: height must be a number >= 120, got ${String(height)}`);
  if (!Number.isFinite(lineWidth) || lineWidth <= 0) throw new Error(`lossCurveSvg: lineWidth must be a positive number, got ${String(lineWidth)}`);
  if (!Array.isArray(colors) || colors.length === 0) throw new Error('lossCurveSvg: colors must be a non-empty array of SVG colours');
  const runs = asRuns(series);
  if (labels !== undefined && (!Array.isArray(labels) || labels.length !== runs.length)) {
    throw new Error(`lossCurveSvg: labels must have one entry per run (${runs.length}), got ${Array.isArray(labels) ? labels.length : String(labels)}`);
  }

  // Finite points, and their range.
  let yMin = Infinity;
  let yMax = -Infinity;
  let length = 0;
  const points = runs.map((run, r) =>
    run.map((v, i) => {
      if (v !== null && v !== undefined && typeof v !== 'number') {
        throw new Error(`lossCurveSvg: series[${r}][${i}] must be a number, got ${typeof v}`);
      }
      if (typeof v !== 'number' || !Number.isFinite(v)) return null;
      if (logY && v <= 0) throw new Error(`lossCurveSvg: logY needs positive values, but series[${r}][${i}] is ${v}`);
      yMin = Math.min(yMin, v);
      yMax = Math.max(yMax, v);
      length = Math.max(length, i + 1);
      return v;
    }),
  );
  const xAxis = linearAxis(0, Math.max(length - 1, 0), true);
  const yAxis = logY ? logAxis(yMin, yMax) : linearAxis(yMin, yMax, false);

  // Plot area.
  const left = 72;
  const right = width - 16;
  const top = title ? 40 : 16;
  const bottom = height - 48;
  const px = (x: number) => left + ((x - xAxis.lo) / (xAxis.hi - xAxis.lo)) * (right - left);
  const py = (y: number) => bottom - (((logY ? Math.log10(y) : y) - yAxis.lo) / (yAxis.hi - yAxis.lo)) * (bottom - top);
  const pyAxis = (at: number) => bottom - ((at - yAxis.lo) / (yAxis.hi - yAxis.lo)) * (bottom - top);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect class="background" x="0" y="0" width="${width}" height="${height}" fill="white"/>`);
  if (title) out.push(`<text class="title" x="${f((left + right) / 2)}" y="24" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`);

  // Grid, ticks and tick labels.
  out.push('<g class="x-axis">');
  for (const tick of xAxis.ticks) {
    const x = f(px(tick.at));
    out.push(`<line class="grid" x1="${x}" y1="${f(top)}" x2="${x}" y2="${f(bottom)}" stroke="#e5e5e5"/>`);
    out.push(`<line class="tick" x1="${x}" y1="${f(bottom)}" x2="${x}" y2="${f(bottom + 5)}" stroke="black"/>`);
    out.push(`<text class="x-tick" x="${x}" y="${f(bottom + 18)}" text-anchor="middle">${tick.label}</text>`);
  }
  out.push(`<text class="x-label" x="${f((left + right) / 2)}" y="${f(height - 10)}" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  out.push('</g>');
  out.push('<g class="y-axis">');
  for (const tick of yAxis.ticks) {
    const y = f(pyAxis(tick.at));
    out.push(`<line class="grid" x1="${f(left)}" y1="${y}" x2="${f(right)}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<line class="tick" x1="${f(left - 5)}" y1="${y}" x2="${f(left)}" y2="${y}" stroke="black"/>`);
    out.push(`<text class="y-tick" x="${f(left - 8)}" y="${y}" text-anchor="end" dominant-baseline="middle">${tick.label}</text>`);
  }
  const yMid = f((top + bottom) / 2);
  out.push(
    `<text class="y-label" x="16" y="${yMid}" text-anchor="middle" dominant-baseline="middle" ` +
      `transform="rotate(-90 16 ${yMid})">${escapeXml(yLabel)}</text>`,
  );
  out.push('</g>');
  out.push(
    `<rect class="frame" x="${f(left)}" y="${f(top)}" width="${f(right - left)}" height="${f(bottom - top)}" ` +
      'fill="none" stroke="black"/>',
  );

  // One path per run; gaps start a new sub-path, a lone point is drawn as a dot (zero-length segment).
  out.push('<g class="series-group" fill="none" stroke-linejoin="round" stroke-linecap="round">');
  points.forEach((run, r) => {
    const d: string[] = [];
    let segment: string[] = [];
    const flush = () => {
      if (segment.length === 1) segment.push('h0');
      d.push(...segment);
      segment = [];
    };
    run.forEach((v, i) => {
      if (v === null) {
        flush();
        return;
      }
      segment.push(`${segment.length === 0 ? 'M' : 'L'}${f(px(i))} ${f(py(v))}`);
    });
    flush();
    const color = escapeXml(colors[r % colors.length]);
    out.push(`<path class="series" data-run="${r}" d="${d.join(' ')}" stroke="${color}" stroke-width="${lineWidth}"/>`);
  });
  out.push('</g>');

  if (labels !== undefined) {
    out.push('<g class="legend">');
    out.push(
      `<rect x="${f(right - 158)}" y="${f(top + 4)}" width="150" height="${16 * labels.length + 4}" ` +
        'fill="white" fill-opacity="0.85" stroke="#cccccc"/>',
    );
    labels.forEach((label, r) => {
      const y = top + 14 + 16 * r;
      const color = escapeXml(colors[r % colors.length]);
      out.push(`<line x1="${f(right - 150)}" y1="${f(y)}" x2="${f(right - 126)}" y2="${f(y)}" stroke="${color}" stroke-width="${lineWidth}"/>`);
      out.push(`<text x="${f(right - 120)}" y="${f(y)}" dominant-baseline="middle">${escapeXml(String(label))}</text>`);
    });
    out.push('</g>');
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/**
 * Writes {@link lossCurveSvg}`(series, options)` to `path`, creating the parent folder if needed.
 *
 * ```js
 * await saveLossCurve(restarts.map((r) => r.losses), 'out/loss.svg', { logY: true });
 * ```
 *
 * @param series One array of losses per run, or a single array for one run.
 * @param path Output file path (overwritten), usually ending in `.svg`.
 * @param options See {@link LossCurveOptions}.
 * @throws As {@link lossCurveSvg}.
 */
export async function saveLossCurve(
  series: readonly LossRun[] | LossRun,
  path: string,
  options: LossCurveOptions = {},
): Promise<void> {
  const svg = lossCurveSvg(series, options);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, svg, 'utf8');
}

/** The runs of `series`: an array of arrays, or one array of numbers (a single run). */
function asRuns(series: readonly LossRun[] | LossRun): LossRun[] {
  if (!Array.isArray(series) || series.length === 0) {
    throw new Error('lossCurveSvg: series must be a non-empty array of runs (one number array per run)');
  }
  if (series.every((entry) => !Array.isArray(entry))) return [series as LossRun];
  return series.map((run, r) => {
    if (!Array.isArray(run)) throw new Error(`lossCurveSvg: series[${r}] must be an array of numbers, got ${String(run)}`);
    return run as LossRun;
  });
}

/** A step of 1, 2 or 5 times a power of ten, about `span / target`. */
function niceStep(span: number, target: number): number {
  const raw = span / target;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / magnitude;
  const nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
  return nice * magnitude;
}

/** Rounds away the binary noise of `k * step`. */
function clean(value: number): number {
  return Number(value.toPrecision(12));
}

/**
 * Linear axis from the nice tick at or below `min` to the nice tick at or above `max` (about 5 ticks).
 * An empty range is widened (by 10% of the value, or by 1 around 0); no data gives 0..1.
 */
function linearAxis(min: number, max: number, integer: boolean): Axis {
  if (!(min <= max)) [min, max] = [0, 1];
  if (min === max) {
    const pad = integer ? 1 : min === 0 ? 1 : Math.abs(min) * 0.1;
    [min, max] = integer ? [min, max + pad] : [min - pad, max + pad];
  }
  let step = niceStep(max - min, 5);
  if (integer) step = Math.max(1, step);
  const kLo = Math.floor(min / step + 1e-9);
  const kHi = Math.ceil(max / step - 1e-9);
  const ticks = [];
  for (let k = kLo; k <= kHi; k++) {
    const at = clean(k * step);
    ticks.push({ at, label: formatTick(at, step) });
  }
  return { lo: ticks[0].at, hi: ticks[ticks.length - 1].at, ticks };
}

/** Log axis (units: log10 of the value) from the decade at or below `min` to the one at or above `max`. */
function logAxis(min: number, max: number): Axis {
  if (!(min <= max)) [min, max] = [1, 10];
  let kLo = Math.floor(Math.log10(min) + 1e-9);
  let kHi = Math.ceil(Math.log10(max) - 1e-9);
  if (kHi === kLo) kHi += 1;
  const every = Math.max(1, Math.ceil((kHi - kLo) / 8));
  kLo = Math.floor(kLo / every) * every;
  kHi = Math.ceil(kHi / every) * every;
  const ticks = [];
  for (let k = kLo; k <= kHi; k += every) {
    ticks.push({ at: k, label: k >= -4 && k <= 5 ? String(clean(10 ** k)) : `1e${k}` });
  }
  return { lo: kLo, hi: kHi, ticks };
}

/** Tick label with as many decimals as the step needs; exponent form for very small or large values. */
function formatTick(value: number, step: number): string {
  if (value === 0) return '0';
  if (step < 1e-4 || Math.abs(value) >= 1e6) return clean(value).toExponential();
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return value.toFixed(decimals);
}

/** Pixel coordinate with at most 2 decimals. */
function f(value: number): string {
  return String(Math.round(value * 100) / 100);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
