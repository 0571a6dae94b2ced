import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lossCurveSvg, saveLossCurve } from '../../lib/image/loss_curve.js';

/** Checks that `svg` is well-formed XML-ish: one root <svg>, balanced tags, quoted attributes, no raw `<`/`&`. */
function expectWellFormed(svg: string): void {
  const stack: string[] = [];
  let roots = 0;
  const tag = /<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tag.exec(svg); m !== null; m = tag.exec(svg)) {
    const text = svg.slice(last, m.index);
    expect(text).not.toMatch(/[<>]|&(?!(amp|lt|gt|quot);)/);
    last = tag.lastIndex;
    const [, closing, name, , selfClosing] = m;
    if (closing) {
      expect(stack.pop()).toBe(name);
    } else if (!selfClosing) {
      if (stack.length === 0) roots++;
      stack.push(name);
    }
  }
  expect(svg.slice(last).trim()).toBe('');
  expect(stack).toEqual([]);
  expect(roots).toBe(1);
  expect(svg.trimStart().startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
}

function tickValues(svg: string, axis: 'x' | 'y'): number[] {
  const re = new RegExp(`<text class="${axis}-tick"[^>]*>([^<]*)</text>`, 'g');
  return Array.from(svg.matchAll(re), (m) => Number(m[1]));
}

function paths(svg: string): string[] {
  return Array.from(svg.matchAll(/<path class="series"[^>]* d="([^"]*)"/g), (m) => m[1]);
}

/** Whether `step` is 1, 2 or 5 times a power of ten. */
function isNiceStep(step: number): boolean {
  const magnitude = 10 ** Math.floor(Math.log10(step) + 1e-9);
  return [1, 2, 5, 10].some((f) => Math.abs(step / magnitude - f) < 1e-6);
}

/** Nice, evenly spaced ticks from at most one step below `min` to at most one step above `max` (`tight`). */
function expectNiceTicks(ticks: number[], min: number, max: number, tight = true): void {
  expect(ticks.length).toBeGreaterThanOrEqual(2);
  expect(ticks.length).toBeLessThanOrEqual(12);
  const step = ticks[1] - ticks[0];
  expect(isNiceStep(step)).toBe(true);
  ticks.forEach((t, i) => {
    expect(Math.abs(t - (ticks[0] + i * step))).toBeLessThan(step * 1e-6);
    expect(Math.abs(t / step - Math.round(t / step))).toBeLessThan(1e-6); // multiples of the step
  });
  expect(ticks[0]).toBeLessThanOrEqual(min);
  expect(ticks[ticks.length - 1]).toBeGreaterThanOrEqual(max);
  if (!tight) return;
  expect(ticks[0]).toBeGreaterThan(min - step - 1e-12);
  expect(ticks[ticks.length - 1]).toBeLessThan(max + step + 1e-12);
}

/** 10 decaying runs of different lengths. */
const restarts = Array.from({ length: 10 }, (_, r) =>
  Array.from({ length: 40 + 5 * r }, (_, i) => 0.9 * Math.exp(-i / (8 + r)) + 0.013 * r + 0.05),
);

describe('lossCurveSvg', () => {
  test('one path per run, well-formed SVG with axes, labels and the default size', () => {
    const svg = lossCurveSvg(restarts, { title: 'NCC <10 restarts> & more' });
    expectWellFormed(svg);
    expect(svg).toContain('width="640" height="400" viewBox="0 0 640 400"');
    expect(paths(svg)).toHaveLength(10);
    for (const d of paths(svg)) expect(d).toMatch(/^M[\d.]+ [\d.]+( L[\d.]+ [\d.]+)+$/);
    expect(svg).toContain('>iteration</text>');
    expect(svg).toContain('>loss</text>');
    expect(svg).toContain('>NCC &lt;10 restarts&gt; &amp; more</text>');
    // 10 distinct colours.
    const colors = Array.from(svg.matchAll(/<path class="series"[^>]* stroke="([^"]+)"/g), (m) => m[1]);
    expect(new Set(colors).size).toBe(10);
  });

  test('ticks are nice numbers covering the data range', () => {
    const all = restarts.flat();
    const svg = lossCurveSvg(restarts);
    expectNiceTicks(tickValues(svg, 'y'), Math.min(...all), Math.max(...all));
    const x = tickValues(svg, 'x');
    expectNiceTicks(x, 0, 84);
    expect(x.every(Number.isInteger)).toBe(true);

    for (const [lo, hi] of [[-3.7, 12.2], [0.0012, 0.0047], [1234, 98765], [-1e-5, 3e-5], [42, 42], [0, 0]]) {
      const ticks = tickValues(lossCurveSvg([[lo, hi, (lo + hi) / 2]]), 'y');
      expectNiceTicks(ticks, lo, hi, lo !== hi); // a constant is widened first
    }
  });

  test('logY ticks are powers of 10 covering the data range', () => {
    const runs = [[3.2, 0.5, 0.04, 0.0031], [7, 2, 0.9]];
    const svg = lossCurveSvg(runs, { logY: true, yLabel: 'NCC loss' });
    expectWellFormed(svg);
    expect(svg).toContain('>NCC loss</text>');
    const ticks = tickValues(svg, 'y');
    for (const t of ticks) expect(Math.abs(Math.log10(t) - Math.round(Math.log10(t)))).toBeLessThan(1e-9);
    expect(ticks[0]).toBeLessThanOrEqual(0.0031);
    expect(ticks[ticks.length - 1]).toBeGreaterThanOrEqual(7);
    expect(ticks.map((t) => Math.round(Math.log10(t)))).toEqual([-3, -2, -1, 0, 1]);
    // A value that is a power of ten, alone, still gets one decade.
    expect(tickValues(lossCurveSvg([[1, 1]], { logY: true }), 'y')).toEqual([1, 10]);
    // Many decades: every k-th power of ten, still powers of ten.
    const wide = tickValues(lossCurveSvg([[1e-12, 1e6]], { logY: true }), 'y');
    expect(wide.length).toBeLessThanOrEqual(10);
    for (const t of wide) expect(Number.isInteger(Math.round(Math.log10(t) * 1e9) / 1e9)).toBe(true);
    expect(wide[0]).toBeLessThanOrEqual(1e-12);
    expect(wide[wide.length - 1]).toBeGreaterThanOrEqual(1e6);
  });

  test('non-finite values break the line instead of throwing; a lone point is a dot', () => {
    const svg = lossCurveSvg([[1, 2, NaN, 3, 4, Infinity, 5, null, undefined], [NaN, NaN]]);
    expectWellFormed(svg);
    const [d, empty] = paths(svg);
    expect(d.match(/M/g)).toHaveLength(3);
    expect(d.match(/L/g)).toHaveLength(2);
    expect(d).toMatch(/h0$/); // the lone 5
    expect(empty).toBe('');
    // Nothing finite at all still draws axes.
    expectWellFormed(lossCurveSvg([[NaN]], { logY: true }));
  });

  test('a single run may be given as a plain array; labels make a legend', () => {
    const svg = lossCurveSvg([3, 2, 1], { width: 300, height: 200 });
    expect(paths(svg)).toHaveLength(1);
    expect(svg).toContain('viewBox="0 0 300 200"');
    const legend = lossCurveSvg([[1, 2], [2, 1]], { labels: ['run A', 'run <B>'] });
    expectWellFormed(legend);
    expect(legend).toContain('>run A</text>');
    expect(legend).toContain('>run &lt;B&gt;</text>');
  });

  test('errors', () => {
    expect(() => lossCurveSvg([[1, 0.1], [0.5, 0]], { logY: true })).toThrow(
      'lossCurveSvg: logY needs positive values, but series[1][1] is 0',
    );
    expect(() => lossCurveSvg([[1, -2]], { logY: true })).toThrow(/series\[0\]\[1\] is -2/);
    expect(() => lossCurveSvg([])).toThrow(/series must be a non-empty array/);
    expect(() => lossCurveSvg([[1], 2 as unknown as number[]])).toThrow('lossCurveSvg: series[1] must be an array of numbers');
    expect(() => lossCurveSvg([[1, '2' as unknown as number]])).toThrow('lossCurveSvg: series[0][1] must be a number, got string');
    expect(() => lossCurveSvg([[1]], { width: 10 })).toThrow(/width must be a number >= 160/);
    expect(() => lossCurveSvg([[1]], { height: NaN })).toThrow(/height must be a number >= 120/);
    expect(() => lossCurveSvg([[1], [2]], { labels: ['a'] })).toThrow(/labels must have one entry per run \(2\), got 1/);
    expect(() => lossCurveSvg([[1]], { colors: [] })).toThrow(/colors must be a non-empty array/);
  });
});

describe('saveLossCurve', () => {
  test('writes the SVG, creating the parent folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tfdrr-loss-'));
    try {
      const path = join(dir, 'plots', 'loss.svg');
      await saveLossCurve(restarts, path, { logY: true });
      expect(await readFile(path, 'utf8')).toBe(lossCurveSvg(restarts, { logY: true }));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
