/**
 * The browser demo (examples/web) in headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core): builds it (scripts/build_demo.mjs), serves it (scripts/serve_demo.mjs on a
 * free port), and checks through `window.tfdrrDemo` that
 * - the page runs on WebGPU (SwiftShader in headless Chromium, `--enable-unsafe-webgpu`);
 * - the hello-world DRR's pixel sum and max equal those of DRR.forward on the cpu backend in this
 *   process within 1e-4 relative (screenshot: test-output/web/demo.png);
 * - moving a slider re-renders through the live requestAnimationFrame loop and changes the image;
 * - without WebGPU (no `--enable-unsafe-webgpu`: no adapter) the page falls back to wasm, says so,
 *   and renders the same image.
 *
 * Skips, printing why, where /usr/bin/chromium is missing (.ci/run installs it with apt).
 */
import * as tf from '@tensorflow/tfjs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { disposeThreadPool } from '../../kernels/threads/index.js';
import { DRR } from '../../lib/drr.js';
import { loadExampleCt } from '../../lib/io/example_ct.js';
import { useCpuBackend } from '../helpers/tf_setup.js';

const CHROMIUM = '/usr/bin/chromium';
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCREENSHOT = join(repoRoot, 'test-output', 'web', 'demo.png');
/** The flags that give headless Chromium a WebGPU adapter (SwiftShader) without a GPU; see the WebGPU note. */
const BASE_ARGS = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const WEBGPU_ARGS = [...BASE_ARGS, '--enable-unsafe-webgpu'];

/** What `window.tfdrrDemo.render()` returns (examples/web/render.ts). */
interface RenderStats {
  sum: number;
  max: number;
  min: number;
  ms: number;
  height: number;
  width: number;
}

/** The part of examples/web/main.ts's `window.tfdrrDemo` used here. */
interface DemoHandle {
  ready: Promise<void>;
  backend: string;
  fallbacks: string[];
  last: RenderStats | null;
  render(): Promise<RenderStats>;
  setSlider(name: string, value: number): number;
  reset(): void;
}
type DemoWindow = { tfdrrDemo: DemoHandle };

const missing = existsSync(CHROMIUM) ? null : `${CHROMIUM} is missing (apt-get install chromium; .ci/run does it)`;
if (missing) console.warn(`test/web skipped: ${missing}`);
const describeBrowser = missing ? describe.skip : describe;

/** Starts scripts/serve_demo.mjs on a free port; resolves with the child and the URL it prints. */
function startServer(): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'scripts/serve_demo.mjs'), '--port', '0', '--host', '127.0.0.1'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve_demo.mjs printed no URL in 10 s: ${out}`)), 10_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /tfdrr demo: (http:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1] });
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve_demo.mjs exited with ${code}: ${out}`));
    });
  });
}

async function launch(args: string[]): Promise<{ context: BrowserContext; page: Page; profile: string; logs: string[] }> {
  const profile = mkdtempSync(join(tmpdir(), 'tfdrr-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args });
  const page = context.pages()[0] ?? (await context.newPage());
  const logs: string[] = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  return { context, page, profile, logs };
}

/** Opens the demo and waits for its first image; the page's console is in the error if it fails. */
async function openDemo(page: Page, url: string, logs: string[]): Promise<void> {
  await page.goto(url);
  try {
    await page.evaluate(() => (window as unknown as DemoWindow).tfdrrDemo.ready);
  } catch (err) {
    throw new Error(`the demo did not become ready: ${(err as Error).message}\npage console:\n${logs.join('\n')}`);
  }
}

/** Sum and max of the hello-world DRR (AP, ZXY 0,0,0, translation 0,850,0, sdd 1020, 200x200, delx 2) on the current backend. */
async function cpuHelloWorld(small: boolean): Promise<{ sum: number; max: number }> {
  const subject = await loadExampleCt({ orientation: 'AP', small });
  const drr = new DRR(subject, { sdd: 1020, height: 200, delx: 2 });
  const img = tf.tidy(() => drr.forward(tf.tensor2d([[0, 0, 0]]), tf.tensor2d([[0, 850, 0]]), { parameterization: 'euler_angles', convention: 'ZXY' }));
  const values = await img.data();
  tf.dispose(img);
  drr.dispose();
  subject.dispose();
  let sum = 0;
  let max = -Infinity;
  for (const v of values) {
    sum += v;
    max = Math.max(max, v);
  }
  return { sum, max };
}

const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describeBrowser(missing ? `browser demo: skipped, ${missing}` : 'browser demo (examples/web) in headless Chromium', () => {
  let server: { child: ChildProcess; url: string } | undefined;
  let browser: Awaited<ReturnType<typeof launch>> | undefined;
  /** DRR.forward of the hello world on the cpu backend, in this process: example_ct and example_ct_sm. */
  let cpu: { sum: number; max: number };
  let cpuSmall: { sum: number; max: number };

  beforeAll(async () => {
    const started = performance.now();
    const build = spawnSync(process.execPath, [join(repoRoot, 'scripts/build_demo.mjs')], { cwd: repoRoot, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`scripts/build_demo.mjs failed (${build.status}):\n${build.stdout}\n${build.stderr}`);
    server = await startServer();

    await useCpuBackend();
    cpu = await cpuHelloWorld(false);
    cpuSmall = await cpuHelloWorld(true);
    disposeThreadPool();

    browser = await launch(WEBGPU_ARGS);
    await openDemo(browser.page, server.url, browser.logs);
    console.log(`test/web: built, served, cpu reference and page ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }, 60_000);

  afterAll(async () => {
    await browser?.context.close();
    if (browser) rmSync(browser.profile, { recursive: true, force: true });
    server?.child.kill();
  });

  test('runs on the webgpu backend and shows it', async () => {
    const page = browser!.page;
    const { backend, fallbacks } = await page.evaluate(() => {
      const demo = (window as unknown as DemoWindow).tfdrrDemo;
      return { backend: demo.backend, fallbacks: demo.fallbacks };
    });
    expect({ backend, fallbacks }).toEqual({ backend: 'webgpu', fallbacks: [] });
    expect(await page.locator('#backend').textContent()).toMatch(/^webgpu/);
    expect(await page.locator('#fallback').isHidden()).toBe(true);
    expect(await page.locator('#error').isHidden()).toBe(true);
  });

  test('the hello-world DRR equals the Node cpu render within 1e-4 relative', async () => {
    const page = browser!.page;
    const stats = await page.evaluate(() => (window as unknown as DemoWindow).tfdrrDemo.render());
    const sumError = relative(stats.sum, cpu.sum);
    const maxError = relative(stats.max, cpu.max);
    console.log(
      `test/web: hello world on webgpu (SwiftShader): sum ${stats.sum} vs cpu ${cpu.sum} (relative error ${sumError.toExponential(2)}), ` +
        `max ${stats.max} vs ${cpu.max} (${maxError.toExponential(2)}), frame ${stats.ms.toFixed(0)} ms`,
    );
    expect([stats.height, stats.width]).toEqual([200, 200]);
    expect(cpu.sum).toBeGreaterThan(0);
    expect(sumError).toBeLessThanOrEqual(1e-4);
    expect(maxError).toBeLessThanOrEqual(1e-4);
    expect(await page.locator('#frame').textContent()).toMatch(/^\d+\.\d ms/);
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
  });

  test('moving a slider re-renders live and changes the image', async () => {
    const page = browser!.page;
    const before = await page.evaluate(() => (window as unknown as DemoWindow).tfdrrDemo.render());
    // Only the slider moves here; the requestAnimationFrame loop must notice and render on its own.
    const applied = await page.evaluate(() => (window as unknown as DemoWindow).tfdrrDemo.setSlider('rx', 30));
    expect(applied).toBe(30);
    await page.waitForFunction((previous) => {
      const last = (window as unknown as DemoWindow).tfdrrDemo.last;
      return last !== null && last.sum !== previous;
    }, before.sum, { timeout: 20_000 });
    const live = await page.evaluate(() => (window as unknown as DemoWindow).tfdrrDemo.last!);
    expect(relative(live.sum, before.sum)).toBeGreaterThan(0.01);
    expect(await page.locator('#slider-rx + output').textContent()).toMatch(/^30\.00/);
    // And an explicit render of the same settings gives the same image.
    const again = await page.evaluate(() => (window as unknown as DemoWindow).tfdrrDemo.render());
    expect(again.sum).toBe(live.sum);
  });

  test('a NIfTI file chosen with the file input is read and rendered', async () => {
    const page = browser!.page;
    await page.evaluate(() => (window as unknown as DemoWindow).tfdrrDemo.reset());
    await page.locator('#file').setInputFiles(join(repoRoot, 'data/example_ct_sm.nii.gz'));
    await page.locator('#volume', { hasText: 'example_ct_sm.nii.gz: 122 x 101 x 30 voxels' }).waitFor({ timeout: 20_000 });
    const stats = await page.evaluate(() => (window as unknown as DemoWindow).tfdrrDemo.render());
    expect(relative(stats.sum, cpuSmall.sum)).toBeLessThanOrEqual(1e-4);
    expect(relative(stats.max, cpuSmall.max)).toBeLessThanOrEqual(1e-4);
    expect(await page.locator('#error').isHidden()).toBe(true);
  });

  test('without a WebGPU adapter it falls back to wasm, says so, and renders the same image', async () => {
    const fallback = await launch(BASE_ARGS); // no --enable-unsafe-webgpu: requestAdapter() returns null
    try {
      await openDemo(fallback.page, server!.url, fallback.logs);
      const { backend, fallbacks, last } = await fallback.page.evaluate(() => {
        const demo = (window as unknown as DemoWindow).tfdrrDemo;
        return { backend: demo.backend, fallbacks: demo.fallbacks, last: demo.last };
      });
      expect(backend).toBe('wasm');
      expect(fallbacks).toHaveLength(1);
      expect(fallbacks[0]).toMatch(/^webgpu: /);
      expect(await fallback.page.locator('#fallback').isVisible()).toBe(true);
      expect(await fallback.page.locator('#fallback').textContent()).toMatch(/runs on wasm/);
      console.log(`test/web: fallback: ${fallbacks[0]}; wasm frame ${last!.ms.toFixed(0)} ms`);
      expect(relative(last!.sum, cpu.sum)).toBeLessThanOrEqual(1e-4);
    } finally {
      await fallback.context.close();
      rmSync(fallback.profile, { recursive: true, force: true });
    }
  }, 30_000);
});
