/**
 * The DRR as a tf.js layer: pose parameters in, rendered images out, the volume a weight, so that
 * it goes into `tf.sequential` / `tf.model`, trains under `model.fit`, and saves with `model.save`.
 * Registered with `tf.serialization.registerClass` when tfdrr is imported, so that
 * `tf.loadLayersModel` rebuilds it from its config.
 */
import * as tf from '@tensorflow/tfjs';
import { DRR } from '../drr.js';
import type { Subject } from '../subject.js';
import { drrLayerConfig, inputWidth, parseDRRLayerArgs, type DRRLayerArgs, type ParsedDRRLayerArgs } from './drr_layer_config.js';

type Shape = tf.Shape;
type Kwargs = Parameters<tf.layers.Layer['call']>[1];
type Initializer = ReturnType<typeof tf.initializers.zeros>;
type DisposeResult = ReturnType<tf.layers.Layer['dispose']>;

/** The one tensor of `inputs` (a layer with one input). */
function exactlyOneTensor(inputs: tf.Tensor | tf.Tensor[], where: string): tf.Tensor {
  if (!Array.isArray(inputs)) return inputs;
  if (inputs.length !== 1) throw new Error(`${where}: expected one input tensor [B, k + 3], got ${inputs.length}`);
  return inputs[0];
}

/** The one shape of `shapes`. */
function exactlyOneShape(shapes: Shape | Shape[], where: string): Shape {
  if (!Array.isArray(shapes[0])) return shapes as Shape;
  if (shapes.length !== 1) throw new Error(`${where}: expected one input [B, k + 3], got ${shapes.length} inputs`);
  return shapes[0] as Shape;
}

/**
 * Makes `weight.write` (what `setWeights` and `tf.loadLayersModel` call) refuse a value of another
 * shape naming the layer, the weight and the config entry, where tf.js says "Shape mismatch: [a]
 * vs. [b]".
 */
function explainShapeMismatch(weight: tf.LayerVariable, layerName: string): void {
  const write = weight.write.bind(weight);
  weight.write = (value: tf.Tensor) => {
    if (!tf.util.arraysEqual(value.shape, weight.shape as number[])) {
      throw new Error(`DRRLayer '${layerName}': weight '${weight.originalName}' has the shape [${weight.shape.join(', ')}] of the config's densityShape; got a value of shape [${value.shape.join(', ')}] (from setWeights, or a weights file of another volume)`);
    }
    return write(value);
  };
}

/**
 * A layer that renders one DRR per input pose (a `DRR` inside a `tf.layers.Layer`).
 *
 * ```ts
 * const subject = await loadExampleCt();
 * const model = tf.sequential();
 * model.add(tf.layers.dense({ inputShape: [6], units: 6 }));
 * model.add(new DRRLayer({ subject, sdd: 1020, height: 64, delx: 6, parameterization: 'euler_angles', convention: 'ZXY' }));
 * model.compile({ optimizer: 'adam', loss: 'meanSquaredError' }); // images [B, 64, 64, 1]
 * ```
 *
 * Input `[B, k + 3]`: each row the `k = ROTATION_SIZE[parameterization]` rotation parameters, then
 * the translation (mm), as `DRR.forward(rotation, translation, { parameterization, convention })`
 * takes them. Output: `[B, H, W, C]` (`dataFormat: 'channelsLast'`, default; the layout of tf.js's
 * convolutions) or `[B, C, H, W]` ('channelsFirst', `DRR.forward`'s); C = 1, or one channel per
 * label with `maskToChannels`. The image is `DRR.forward`'s, to the bit (channels last is a
 * reshape for C = 1, a transpose otherwise), and so are its gradients.
 *
 * Weights: `density`, the volume `[X, Y, Z]`, fixed by default, trained with `trainableDensity:
 * true`; `mask`, the labelmap, fixed, with `maskToChannels` only. Config: the detector, renderer
 * and pose options and the subject's geometry (see `drr_layer_config.ts`), so `model.save` and
 * `tf.loadLayersModel` round-trip the layer, and a loaded model renders the same images.
 *
 * Memory: the volume is held once. The `density` weight is made from the subject's density tensor
 * without a copy: they share one buffer (a `tf.clone` taken at construction, so the subject may
 * be disposed any time after `new DRRLayer`). Once the weight is assigned (a training step,
 * `setWeights`, a loaded model) it has a buffer of its own, and the subject's is freed when the
 * subject is disposed. Rendering makes no copy beyond the kernels' own, as for any `DRR.forward`
 * (the worker threads' shared copy of the volume, cached by buffer: made once while the weight is
 * unchanged, again after each training step). `dispose()` (or `model.dispose()`) frees the weights
 * and the DRR's detector tensors.
 *
 * Constraint: tf.js's `model.fit` does not apply layer constraints (tfjs issues 3345, 3979), so the
 * layer does: before a call renders a trainable density with `densityConstraint`, it projects
 * the weight onto the constraint when the weight has changed since the last projection (after
 * the last training step, call {@link DRRLayer.applyDensityConstraint} before reading or saving the
 * weight). `setWeights` and loading apply it too (tf.js's `LayerVariable.write`).
 *
 * Backends: cpu, wasm and webgpu (whatever `DRR.forward` runs on). The DRR is made when the layer
 * is built (by its first `apply`, `model.add` or `tf.model`): the options `new DRR` checks (renderer,
 * voxelShift, patchSize, ...) are refused then; the detector, pose and layer options at construction.
 */
export class DRRLayer extends tf.layers.Layer {
  /** The name tf.js serializes the layer under (`tf.serialization.registerClass`). */
  static className = 'DRRLayer';

  private readonly parsed: ParsedDRRLayerArgs;
  /** The subject's density (a clone sharing its buffer), until `build` makes it the weight. */
  private initialDensity: tf.Tensor3D | null;
  private initialMask: tf.Tensor3D | null;
  private densityWeight: tf.LayerVariable | null;
  private maskWeight: tf.LayerVariable | null;
  private drr: DRR | null;
  /** The density buffer (a `dataId`) the constraint was last projected to. */
  private projectedData: object | null;

  /**
   * @param args a subject and the `new DRR` options (`sdd`, `height`, `delx`, ...), the pose
   *   (`parameterization`, `convention`, `degrees`), the output (`dataFormat`, `maskToChannels`),
   *   `trainableDensity` and `densityConstraint`, and any tf.js layer argument (`name`,
   *   `inputShape`, ...); or the layer's config (`getConfig()`), with no subject.
   * @throws on an unknown argument (naming the nearest known one), an invalid value, a 'matrix'
   *   parameterization, or a subject whose density has been disposed.
   */
  constructor(args: DRRLayerArgs) {
    const parsed = parseDRRLayerArgs(args);
    super(parsed.layerArgs);
    this.parsed = parsed;
    const { subject } = parsed;
    this.initialDensity = subject ? tf.keep(tf.clone(subject.density)) : null;
    this.initialMask = subject && parsed.maskToChannels ? tf.keep(tf.cast(subject.mask as tf.Tensor3D, 'float32')) : null;
    this.densityWeight = null;
    this.maskWeight = null;
    this.drr = null;
    this.projectedData = null;
  }

  /** The input width, `k + 3`. */
  get inputWidth(): number {
    return inputWidth(this.parsed.parameterization);
  }

  /** Throws unless `shape` is `[B, k + 3]` (B and k + 3 may be null in a symbolic shape). */
  private checkInputShape(shape: Shape, where: string): void {
    const width = this.inputWidth;
    if (shape.length !== 2 || (shape[1] !== null && shape[1] !== width)) {
      const k = width - 3;
      throw new Error(`${where} (layer '${this.name}'): expected input [B, ${width}] (${k} '${this.parsed.parameterization}' rotation parameters, then the translation's 3), got [${shape.map(String).join(', ')}]`);
    }
  }

  /** An initializer that hands over `tensor` (addWeight disposes it once the weight holds its buffer), else zeros. */
  private static takeOver(take: () => tf.Tensor | null): Initializer {
    // tf.js's Initializer class is not exported; addWeight calls apply(shape, dtype) only
    return { apply: (shape: number[], dtype?: tf.DataType) => take() ?? tf.zeros(shape, dtype ?? 'float32') } as unknown as Initializer;
  }

  /** Makes the weights (`density`, and `mask` with `maskToChannels`) and the DRR that renders them. */
  override build(inputShape: Shape | Shape[]): void {
    this.checkInputShape(exactlyOneShape(inputShape, 'DRRLayer.build'), 'DRRLayer.build');
    const p = this.parsed;
    if (this.densityWeight === null) {
      const init = DRRLayer.takeOver(() => {
        const t = this.initialDensity;
        this.initialDensity = null;
        return t;
      });
      this.densityWeight = this.addWeight('density', p.densityShape, 'float32', init, undefined, p.trainableDensity, p.constraint ?? undefined, () => init);
      explainShapeMismatch(this.densityWeight, this.name);
    }
    if (p.maskToChannels && this.maskWeight === null) {
      const init = DRRLayer.takeOver(() => {
        const t = this.initialMask;
        this.initialMask = null;
        return t;
      });
      this.maskWeight = this.addWeight('mask', p.densityShape, 'float32', init, undefined, false, undefined, () => init);
      explainShapeMismatch(this.maskWeight, this.name);
    }
    const subject: Subject = {
      density: this.densityWeight.read() as tf.Tensor3D,
      affine: p.affine,
      orientation: p.orientation,
      reorient: p.reorient,
      ...(this.maskWeight ? { mask: this.maskWeight.read() as tf.Tensor3D, labelChannels: p.labelChannels } : {}),
      dispose: () => undefined, // the weights are freed with the layer
    };
    this.drr?.dispose();
    this.drr = new DRR(subject, p.drrOptions);
    this.built = true;
  }

  /** `[B, H, W, C]` (channels last) or `[B, C, H, W]` for an input `[B, k + 3]`. */
  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = exactlyOneShape(inputShape, 'DRRLayer.computeOutputShape');
    this.checkInputShape(shape, 'DRRLayer.computeOutputShape');
    const { height, width } = this.parsed.detector;
    const c = this.parsed.channels;
    return this.parsed.dataFormat === 'channelsLast' ? [shape[0], height, width, c] : [shape[0], c, height, width];
  }

  /** Renders the poses of `inputs` `[B, k + 3]`. */
  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = exactlyOneTensor(inputs, 'DRRLayer.call');
      this.checkInputShape(x.shape, 'DRRLayer.call');
      const drr = this.drr;
      if (drr === null || this.densityWeight === null) throw new Error(`DRRLayer.call (layer '${this.name}'): the layer is not built; call it through apply(), a model, or build() first`);
      this.applyDensityConstraint();
      const p = this.parsed;
      const [b, width] = x.shape;
      const k = width - 3;
      const rotation = tf.slice(x, [0, 0], [b, k]);
      const translation = tf.slice(x, [0, k], [b, 3]);
      const img = drr.forward(rotation, translation, {
        parameterization: p.parameterization,
        convention: p.convention,
        degrees: p.degrees,
        density: this.densityWeight.read() as tf.Tensor3D,
        ...(p.maskToChannels ? { maskToChannels: true } : {}),
        ...(p.nPoints !== undefined ? { nPoints: p.nPoints } : {}),
        ...(p.alphamin !== undefined ? { alphamin: p.alphamin } : {}),
        ...(p.alphamax !== undefined ? { alphamax: p.alphamax } : {}),
      });
      if (p.dataFormat === 'channelsFirst') return img;
      const [, c, h, w] = img.shape;
      return c === 1 ? img.reshape([b, h, w, 1]) : tf.transpose(img, [0, 2, 3, 1]);
    });
  }

  /**
   * Projects a trainable density onto its `densityConstraint` (a no-op without one, or when the
   * weight has not changed since the last projection). Each call does it before rendering; call it
   * after training to read or save the projected weight.
   */
  applyDensityConstraint(): void {
    const constraint = this.parsed.constraint;
    const weight = this.densityWeight;
    if (constraint === null || weight === null || !this.trainable) return;
    const v = weight.read() as tf.Variable; // LayerVariable.read() returns the tf.Variable it wraps
    if (v.dataId === this.projectedData) return;
    const projected = tf.tidy(() => constraint.apply(v));
    if (projected !== v) {
      v.assign(projected);
      projected.dispose();
    }
    this.projectedData = v.dataId;
  }

  /** The JSON config: the options, the subject's geometry and the base layer's (`name`, `trainable`, ...). */
  override getConfig(): tf.serialization.ConfigDict {
    return { ...drrLayerConfig(this.parsed), ...super.getConfig() };
  }

  /**
   * tf.js's `Layer.dispose` (reference counted: the weights go when the count reaches 0), and then
   * the DRR's detector tensors; a layer never built lets go of the subject's density it held.
   */
  override dispose(): DisposeResult {
    if (!this.built) {
      tf.dispose([this.initialDensity, this.initialMask].filter((t): t is tf.Tensor3D => t !== null));
      this.initialDensity = this.initialMask = null;
    }
    const result = super.dispose();
    if (result.refCountAfterDispose === 0) {
      this.drr?.dispose();
      this.drr = null;
    }
    return result;
  }
}
tf.serialization.registerClass(DRRLayer);
