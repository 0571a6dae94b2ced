/**
 * Child of wasm_heap_growth.test.ts, run in a fresh Node process (`node --import tsx`):
 * `<threads> <renderer> <size> <batch>`. On the wasm backend, whose heap is still at its initial
 * size, the first call is a render and its pose gradient (`tf.valueAndGrads` of the image's sum,
 * as the README's example), so the rays, the image and the ray gradients of that call are what
 * grows the heap; two more calls follow (before the fix the first came back zeros or threw, and
 * later ones could be wrong too). The same call then runs once on the cpu backend. Prints one JSON
 * line: the heap's size before and after, and the largest differences of the wasm calls' images
 * and gradients from cpu's.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import '../../../kernels/register_all_kernels.js';
import { setNumThreads } from '../../../kernels/threads/index.js';
import { DRR, type Renderer } from '../../../lib/drr.js';
import { loadExampleCt } from '../../../lib/io/example_ct.js';

const [threads, renderer, size, batch] = process.argv.slice(2);
const B = Number(batch);
const H = Number(size);

interface CallResult {
  image: Float32Array;
  dRotation: Float32Array;
  dTranslation: Float32Array;
  heapGrew: boolean;
}

/** The size of the wasm backend's heap (0 on other backends). */
function heapBytes(): number {
  return (tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } }).wasm?.HEAPU8.buffer.byteLength ?? 0;
}

/**
 * `calls` times on the active backend: the image, d rotation and d translation of
 * `sum(drr.forward(r, t))`, and whether the heap grew during that call.
 */
async function imageAndPoseGradient(calls: number): Promise<CallResult[]> {
  const subject = await loadExampleCt({ orientation: 'AP' });
  const drr = new DRR(subject, { sdd: 1020, height: H, delx: (2 * 200) / H, renderer: renderer as Renderer });
  const rotation = tf.tensor2d(Array.from({ length: B }, (_, b) => [0.1 + 0.01 * b, -0.05, 0.08]));
  const translation = tf.tensor2d(Array.from({ length: B }, () => [5, 850, -10]));
  const pose = { parameterization: 'euler_angles', convention: 'ZXY' } as const;
  const results: CallResult[] = [];
  for (let call = 0; call < calls; call++) {
    const before = heapBytes();
    const { value, grads } = tf.valueAndGrads((r: tf.Tensor, t: tf.Tensor) => tf.sum(drr.forward(r as tf.Tensor2D, t as tf.Tensor2D, pose)))([rotation, translation]);
    const heapGrew = heapBytes() > before;
    const image = drr.forward(rotation, translation, pose);
    results.push({
      image: (await image.data()) as Float32Array,
      dRotation: (await grads[0].data()) as Float32Array,
      dTranslation: (await grads[1].data()) as Float32Array,
      heapGrew,
    });
    tf.dispose([value, ...grads, image]);
  }
  tf.dispose([rotation, translation]);
  subject.dispose();
  return results;
}

/** max |a - b| / max |b|. */
function relativeError(a: Float32Array, b: Float32Array): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Number.isFinite(a[i]) ? Math.abs(a[i] - b[i]) : Infinity);
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return err / scale;
}

tf.enableProdMode();
setNumThreads(Number(threads));
await tf.setBackend('wasm');
const initialHeap = heapBytes();
const wasm = await imageAndPoseGradient(3);
const grownHeap = heapBytes();
await tf.setBackend('cpu');
const [cpu] = await imageAndPoseGradient(1);
const worst = (error: (r: CallResult) => number) => Math.max(...wasm.map(error));
console.log(JSON.stringify({
  initialHeap,
  grownHeap,
  heapGrewDuringFirstGradient: wasm[0].heapGrew,
  imageError: worst((r) => relativeError(r.image, cpu.image)),
  rotationGradientError: worst((r) => relativeError(r.dRotation, cpu.dRotation)),
  translationGradientError: worst((r) => relativeError(r.dTranslation, cpu.dTranslation)),
}));
process.exit(0);
