/**
 * Every kernel's wasm glue survives the WebAssembly heap growing at any of its allocations. On the
 * wasm backend a tensor's array is a view of the heap; growing the heap (which `makeOutput` does
 * when the heap is full) detaches every view taken before, and a write into a detached view is
 * silently lost. Here a stand-in backend grows (and detaches) its heap at every output it makes:
 * each kernel, forward and gradients, one and two threads, must give what it gives on a heap that
 * never grows, to the bit, with no array left all zeros; and likewise when its inputs were made on
 * another backend (the cpu, where `read()` made a subject before `tf.setBackend('wasm')`), so that
 * tf.js moves them onto the heap at their first use. Before the fix the forward with ray gradients
 * (what a pose gradient runs) returned an image of zeros, or threw in `runThreaded`, and a volume
 * moved from the cpu threw `Cannot perform Construct on a detached ArrayBuffer`.
 */
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { cameraRaysKernelConfigs } from '../../kernels/glue/camera_rays.js';
import { imageMetricKernelConfigs } from '../../kernels/glue/image_metrics.js';
import { jsMemoryKernelConfigs } from '../../kernels/glue/kernel_io.js';
import { siddonKernelConfigs } from '../../kernels/glue/siddon.js';
import { trilinearKernelConfigs } from '../../kernels/glue/trilinear.js';
import { trilinearRangeKernelConfigs } from '../../kernels/glue/trilinear_range.js';
import { CameraRays, CameraRaysGrad, GradientNcc, GradientNccGrad, ImageScaleGradient, MultiscaleNcc, MultiscaleNccGrad, MutualInformation, MutualInformationGrad, Siddon, SiddonGradDensity, SiddonGradRays, SiddonScaleRayGradients, Trilinear, TrilinearGradDensity, TrilinearGradRays, TrilinearRange, TrilinearRangeGrad, TrilinearScaleRayGradients } from '../../kernels/kernel_names.js';
import { RAY_GRADIENT_WIDTH } from '../../kernels/shared/trilinear_ray_gradient.js';
import { disposeThreadPool, setNumThreads } from '../../kernels/threads/index.js';
import { resetNumThreads } from '../../kernels/threads/num_threads.js';
import { forceThreads } from '../../kernels/threads/ray_kernel_call.js';
import { randomRayCase } from '../helpers/random_rays.js';
import { seededRandom } from '../helpers/tf_setup.js';

/**
 * What the glue uses of tfjs-backend-wasm's backend, over one heap. `growing`: every allocation
 * (an output, or an input's data arriving from another backend) moves the heap to a larger buffer
 * and detaches the old one, as `WebAssembly.Memory.grow` does; otherwise the heap is allocated
 * once, large enough, and never moves. Inputs made with `elsewhere` live on another backend until
 * `dataIdMap.get` moves them here, and `typedArrayFromHeap` takes the heap's buffer before that
 * lookup, as tfjs-backend-wasm 4.22's does.
 */
class StandInHeap {
  private heap: ArrayBuffer;
  private used = 0;
  private readonly places = new Map<object, { offset: number; length: number }>();
  private readonly pending = new Map<object, ArrayLike<number>>();

  constructor(private readonly growing: boolean) {
    this.heap = new ArrayBuffer(growing ? 0 : 1 << 24);
  }

  readonly dataIdMap = {
    get: (dataId: object): { offset: number; length: number } => {
      const values = this.pending.get(dataId);
      if (values !== undefined) {
        this.pending.delete(dataId);
        this.place(dataId, values.length, this.growing);
        this.typedArrayFromHeap({ dataId, shape: [values.length], dtype: 'float32' }).set(values);
      }
      return this.places.get(dataId)!;
    },
  };

  /** A float32 tensor holding `values`: on the heap (placed without growing, as inputs made before the call), or on another backend. */
  input(values: ArrayLike<number>, shape: number[], elsewhere: boolean): TensorInfo {
    const dataId = {};
    if (elsewhere) {
      this.pending.set(dataId, values);
    } else {
      this.place(dataId, values.length, false);
      new Float32Array(this.heap, this.places.get(dataId)!.offset, values.length).set(values);
    }
    return { dataId, shape, dtype: 'float32' };
  }

  makeOutput(shape: number[]): TensorInfo {
    const dataId = {};
    this.place(dataId, shape.reduce((a, b) => a * b, 1), this.growing);
    return { dataId, shape, dtype: 'float32' };
  }

  typedArrayFromHeap(t: TensorInfo): Float32Array {
    const heap = this.heap;
    const { offset, length } = this.dataIdMap.get(t.dataId);
    return new Float32Array(heap, offset, length);
  }

  private place(dataId: object, length: number, grow: boolean): void {
    const offset = this.used;
    this.used += 4 * length;
    if (this.used > this.heap.byteLength || grow) {
      const bigger = new ArrayBuffer(Math.max(this.used, this.heap.byteLength) + 4096);
      new Uint8Array(bigger).set(new Uint8Array(this.heap));
      structuredClone(this.heap, { transfer: [this.heap] }); // detaches the old buffer and every view of it
      this.heap = bigger;
    }
    this.places.set(dataId, { offset, length });
  }
}

const shape: [number, number, number] = [6, 5, 7];
const nRays = 300;
const nSources = 3;
const c = randomRayCase(41, shape, nRays, nSources);
const rand = seededRandom(42);
const labels = Float32Array.from(c.volume, (v) => Math.floor(v * 4));
/** Points moved by `dy` along y. */
const shiftY = (points: Float32Array, dy: number) => points.map((v, i) => (i % 3 === 1 ? v + dy : v));
const randomValues = (n: number) => Float32Array.from({ length: n }, () => rand(-1, 1));

interface KernelCase {
  kernel: string;
  attrs: Record<string, unknown>;
  /** Input name -> [values, shape]. */
  inputs: Record<string, [ArrayLike<number>, number[]]>;
}

const siddonAttrs = { voxelShift: 0.5, alphaMin: -Infinity, alphaMax: Infinity, reduce: 'sum', channels: 1 };
const trilinearAttrs = { voxelShift: 0.5, nPoints: 40, reduce: 'sum', channels: 1 };
const rays = {
  density: [c.volume, shape],
  mask: [labels, shape],
  source: [c.source, [nSources, 3]],
  target: [c.target, [nRays, 3]],
} as Record<string, [ArrayLike<number>, number[]]>;
const range: [ArrayLike<number>, number[]] = [[0.1, 0.9], [2]];
const dy = (channels: number): [ArrayLike<number>, number[]] => [randomValues(nRays * channels), [nRays, channels]];

const cases: KernelCase[] = [
  { kernel: Siddon, attrs: siddonAttrs, inputs: rays },
  { kernel: Siddon, attrs: { ...siddonAttrs, rayGradients: true }, inputs: rays },
  { kernel: Siddon, attrs: { ...siddonAttrs, channels: 4 }, inputs: rays },
  { kernel: SiddonGradRays, attrs: siddonAttrs, inputs: { ...rays, dy: dy(1) } },
  { kernel: SiddonGradDensity, attrs: siddonAttrs, inputs: { ...rays, dy: dy(1) } },
  { kernel: SiddonScaleRayGradients, attrs: {}, inputs: { rayGradients: [randomValues(6 * nRays), [nRays, 6]], dy: dy(1), source: rays.source } },
  { kernel: Trilinear, attrs: trilinearAttrs, inputs: { ...rays, range } },
  { kernel: Trilinear, attrs: { ...trilinearAttrs, rayGradients: true }, inputs: { ...rays, range } },
  { kernel: TrilinearGradRays, attrs: trilinearAttrs, inputs: { ...rays, range, dy: dy(1) } },
  { kernel: TrilinearGradDensity, attrs: trilinearAttrs, inputs: { ...rays, range, dy: dy(1) } },
  {
    kernel: TrilinearScaleRayGradients,
    attrs: {},
    inputs: { rayGradients: [randomValues(RAY_GRADIENT_WIDTH * nRays), [nRays, RAY_GRADIENT_WIDTH]], dy: dy(1), source: rays.source },
  },
  { kernel: TrilinearRange, attrs: { shape, voxelShift: 0.5 }, inputs: { source: rays.source, target: rays.target } },
  // rays from 40 voxels before the volume (along y) to 40 past it, one source each: the range's ends are inside (0, 1), with a gradient
  { kernel: TrilinearRangeGrad, attrs: { shape, voxelShift: 0.5 }, inputs: { source: [shiftY(c.target, -40), [nRays, 3]], target: [shiftY(c.target, 40), [nRays, 3]], dy: [[0.7, -1.3], [2]] } },
  { kernel: CameraRays, attrs: {}, inputs: { camToIndex: [randomValues(24), [2, 3, 4]], linear: [randomValues(18), [2, 3, 3]], points: [randomValues(3 * 50), [50, 3]] } },
  {
    kernel: CameraRaysGrad,
    attrs: {},
    inputs: { linear: [randomValues(18), [2, 3, 3]], points: [randomValues(3 * 50), [50, 3]], dTarget: [randomValues(300), [2, 50, 3]], dRayLength: [randomValues(100), [2, 50]] },
  },
  ...imageMetricCases(),
];

/** The image similarity kernels on two images of 2 channels, 9 x 8 (forward, with its gradient, gradient kernel), and `ImageScaleGradient`. */
function imageMetricCases(): KernelCase[] {
  const images: [ArrayLike<number>, number[]] = [randomValues(2 * 2 * 9 * 8).map((v) => 0.5 + 0.4 * v), [2, 2, 9, 8]];
  const other: [ArrayLike<number>, number[]] = [randomValues(2 * 2 * 9 * 8).map((v) => 0.5 + 0.4 * v), [2, 2, 9, 8]];
  const pair = { x1: images, x2: other };
  const metrics: Array<[string, string, Record<string, unknown>]> = [
    [MultiscaleNcc, MultiscaleNccGrad, { patchSizes: [0, 3], patchWeights: [0.5, 0.5], eps: 1e-5 }],
    [GradientNcc, GradientNccGrad, { patchSize: 4, sigma: 1, kernelSize: 3, eps: 1e-5 }],
    [MutualInformation, MutualInformationGrad, { sigma: 0.1, numBins: 16, epsilon: 1e-10, normalize: true }],
  ];
  return [
    ...metrics.flatMap(([kernel, grad, attrs]): KernelCase[] => [
      { kernel, attrs, inputs: pair },
      { kernel, attrs: { ...attrs, withGradient: true }, inputs: pair },
      { kernel: grad, attrs, inputs: { ...pair, dy: [[0.7, -1.3], [2]] } },
    ]),
    { kernel: ImageScaleGradient, attrs: {}, inputs: { gradient: images, dy: [[0.7, -1.3], [2]] } },
  ];
}

const configs: KernelConfig[] = [...siddonKernelConfigs, ...trilinearKernelConfigs, ...trilinearRangeKernelConfigs, ...cameraRaysKernelConfigs, ...imageMetricKernelConfigs];

/** The kernel's outputs (copied out) on a stand-in heap; `elsewhere`: its inputs start on another backend. */
function runOn(heap: StandInHeap, k: KernelCase, elsewhere = false): Float32Array[] {
  const config = configs.find((x) => x.kernelName === k.kernel && x.backendName === 'wasm')!;
  const inputs: Record<string, TensorInfo> = {};
  for (const [name, [values, inputShape]] of Object.entries(k.inputs)) inputs[name] = heap.input(values, inputShape, elsewhere);
  const result = config.kernelFunc({ inputs, backend: heap as never, attrs: k.attrs as NamedAttrMap }) as TensorInfo | TensorInfo[];
  return (Array.isArray(result) ? result : [result]).map((t) => heap.typedArrayFromHeap(t).slice());
}

afterAll(() => {
  forceThreads(false);
  resetNumThreads();
  disposeThreadPool();
});

describe.each([1, 2])('%i thread(s)', (threads) => {
  beforeAll(() => {
    setNumThreads(threads);
    forceThreads(threads > 1);
  });

  test.each(cases.map((k) => [`${k.kernel}${k.attrs.rayGradients ? ' (with ray gradients)' : ''}${k.attrs.withGradient ? ' (with its gradient)' : ''}${k.attrs.channels === 4 ? ' (4 channels)' : ''}`, k] as const))(
    '%s: the heap growing at every output, and as inputs arrive from another backend, changes nothing',
    (_, k) => {
      const expected = runOn(new StandInHeap(false), k);
      for (const got of [runOn(new StandInHeap(true), k), runOn(new StandInHeap(true), k, true)]) {
        expect(got.map((a) => a.length)).toEqual(expected.map((a) => a.length));
        got.forEach((a, i) => {
          expect(expected[i].some((v) => v !== 0)).toBe(true);
          expect(Array.from(a)).toEqual(Array.from(expected[i]));
        });
      }
    },
  );
});

test('a glue that keeps a view across an allocation throws on wasm rather than losing its writes', () => {
  // two `outputs` calls: the second grows the heap under the first's array
  const [, wasm] = jsMemoryKernelConfigs('BrokenGlue', (io) => {
    const [a] = io.outputs([[4]]);
    const [b] = io.outputs([[4]]);
    // indexed writes, as the kernels make: into a detached array they are silently dropped
    for (let i = 0; i < 4; i++) {
      a.values[i] = 1;
      b.values[i] = 2;
    }
    return [a.info, b.info];
  });
  expect(wasm.backendName).toBe('wasm');
  const call = (heap: StandInHeap) => wasm.kernelFunc({ inputs: {}, backend: heap as never, attrs: {} });
  expect(() => call(new StandInHeap(false))).not.toThrow();
  expect(() => call(new StandInHeap(true))).toThrow('BrokenGlue on wasm: the WebAssembly heap grew while the kernel held a view of it');
});
