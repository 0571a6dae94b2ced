/**
 * The DRR module: a CT subject, a detector and a renderer; `forward(rotation, translation)`
 * renders a batch of poses `[B, C, H, W]` (DiffDRR's `DRR`).
 */
import * as tf from '@tensorflow/tfjs';
import { Detector, type DetectorOptions } from './geometry/detector.js';
import { invertAffine4, type Matrix4 } from './geometry/matrix4.js';
import { convert, type ConvertOptions } from './geometry/pose.js';
import { indexRays, worldToIndex } from './geometry/rays.js';
import { alphaRangeOf, assertTensor } from './ops/siddon.js';
import { renderSiddon, type Implementation } from './renderers/siddon_renderer.js';
import type { Subject } from './subject.js';

/** Options of the {@link DRR} constructor: the detector plus the renderer. */
export interface DRROptions extends DetectorOptions {
  /** The renderer. Default 'siddon' (exact line integrals through the voxel grid). */
  renderer?: 'siddon';
  /**
   * Voxel `i` spans `[i - voxelShift, i + 1 - voxelShift)` in index coordinates. Default 0.5:
   * voxels centred where the affine puts them (DiffDRR 0.6, ITK/RTK). 0 reproduces DiffDRR 0.4.9.
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
  /** Render the rays in consecutive chunks of about `patchSize^2` rays (bounds memory). Default: one chunk. */
  patchSize?: number;
  /** 'auto' (default) uses the fused kernel where the backend has one, else the tensor-op reference. */
  implementation?: Implementation;
}

/** Options of {@link DRR.forward}: how the pose is given, and an optional density to render. */
export interface ForwardOptions extends ConvertOptions {
  /** Render this `[X, Y, Z]` density instead of the subject's (for example a tf.Variable). */
  density?: tf.Tensor3D;
}

/**
 * Renders digitally reconstructed radiographs of a subject.
 *
 * ```ts
 * const subject = await loadExampleCt();
 * const drr = new DRR(subject, { sdd: 1020, height: 200, delx: 2 });
 * const img = drr.forward(tf.tensor2d([[0, 0, 0]]), tf.tensor2d([[0, 850, 0]]), { parameterization: 'euler_angles', convention: 'ZXY' });
 * ```
 */
export class DRR {
  readonly subject: Subject;
  readonly detector: Detector;
  readonly renderer: 'siddon';
  readonly voxelShift: number;
  readonly alphaMin: number;
  readonly alphaMax: number;
  readonly patchSize: number | undefined;
  readonly implementation: Implementation;
  /** The subject's voxel-to-world affine and its inverse (row-major 4x4). */
  readonly affine: Matrix4;
  readonly affineInverse: Matrix4;
  private readonly targetsCam: tf.Tensor2D;

  constructor(subject: Subject, options: DRROptions) {
    if (subject == null || !(subject.density instanceof tf.Tensor)) throw new Error('subject: expected a Subject from read() or loadExampleCt()');
    assertTensor(subject.density, 'subject.density', 3);
    this.subject = subject;
    this.detector = new Detector(options);
    const renderer = options.renderer ?? 'siddon';
    if (renderer !== 'siddon') throw new Error(`renderer: expected 'siddon', got ${JSON.stringify(renderer)}`);
    this.renderer = renderer;
    this.voxelShift = options.voxelShift ?? 0.5;
    if (!Number.isFinite(this.voxelShift)) throw new Error(`voxelShift: expected a finite number, got ${options.voxelShift}`);
    ({ alphaMin: this.alphaMin, alphaMax: this.alphaMax } = alphaRangeOf(options));
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
    this.targetsCam = this.detector.targets();
  }

  /**
   * Renders one image per pose.
   *
   * @param rotation `[B, 3]` Euler angles (or `[B, 4, 4]` poses with parameterization 'matrix').
   * @param translation `[B, 3]` (null with 'matrix').
   * @returns `[B, 1, height, width]`.
   */
  forward(rotation: tf.Tensor, translation: tf.Tensor | null, options: ForwardOptions = {}): tf.Tensor4D {
    const density = options.density ?? this.subject.density;
    if (options.density !== undefined) {
      assertTensor(density, 'density', 3);
      const want = this.subject.density.shape;
      if (density.shape.some((n, i) => n !== want[i])) {
        throw new Error(`density: expected shape [${want.join(', ')}] (the subject's), got [${density.shape.join(', ')}]`);
      }
    }
    return tf.tidy(() => {
      const pose = convert(rotation, translation, options);
      const rays = indexRays(pose, this.targetsCam, this.subject.reorient, this.affineInverse);
      return this.renderIndexRays(density, rays.source, rays.target, rays.rayLength) as tf.Tensor4D;
    });
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
    return tf.tidy(() => {
      const rayLength = tf.norm(tf.sub(target, source.rank === 2 ? source.reshape([b, 1, 3]) : source), 'euclidean', 2) as tf.Tensor2D;
      return this.renderIndexRays(density, worldToIndex(source, this.affineInverse), worldToIndex(target, this.affineInverse), rayLength);
    });
  }

  /** Renders rays in index coordinates (`source` `[B, 3]` or `[B, P, 3]`), in patches if asked. */
  private renderIndexRays(density: tf.Tensor3D, source: tf.Tensor, target: tf.Tensor3D, rayLength: tf.Tensor2D): tf.Tensor {
    const [b, p] = target.shape;
    const range = { voxelShift: this.voxelShift, alphaMin: this.alphaMin, alphaMax: this.alphaMax };
    const parts = this.chunkBounds(p).map(([start, size]) => {
      const tgt = tf.slice(target, [0, start, 0], [b, size, 3]) as tf.Tensor3D;
      const src = source.rank === 3 ? tf.slice(source, [0, start, 0], [b, size, 3]) : source;
      const len = tf.slice(rayLength, [0, start], [b, size]) as tf.Tensor2D;
      return renderSiddon(density, src, tgt, len, range, this.implementation);
    });
    const img = parts.length === 1 ? parts[0] : tf.concat(parts, 1);
    const { height, width } = this.detector;
    return p === height * width ? img.reshape([b, 1, height, width]) : img.reshape([b, 1, p]);
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
    this.targetsCam.dispose();
  }
}
