/**
 * The arguments of {@link DRRLayer} and what its config holds.
 *
 * Config (JSON): the detector and renderer options of `new DRR`, the pose options (parameterization,
 * Euler convention, degrees), the per-call options (`maskToChannels`, Trilinear's `nPoints`,
 * `alphamin`, `alphamax`), the output layout, whether the density trains and its constraint, and the
 * subject's geometry: the volume's shape, its affine and reorientation (doubles, which JSON holds
 * exactly) and the number of label channels. Weights: the volume, and the labelmap with
 * `maskToChannels`.
 *
 * tf.js re-cases the strings of a config it saves and loads (snake_case on `model.save`, camelCase on
 * `tf.loadLayersModel`: 'euler_angles' comes back 'eulerAngles', 'ZXY' 'zxy', 'AP' 'ap'); the
 * parameterization, Euler convention and orientation are matched back here.
 */
import * as tf from '@tensorflow/tfjs';
import { DRR_OPTION_KEYS, type DRROptions } from '../drr.js';
import { DETECTOR_OPTION_KEYS, Detector, type DetectorOptions } from '../geometry/detector.js';
import { parseEulerConvention } from '../geometry/euler_angles.js';
import { matrix4, type Matrix4 } from '../geometry/matrix4.js';
import { reorientationMatrix, type Orientation } from '../geometry/orientation.js';
import { checkParameterization, PARAMETERIZATIONS, ROTATION_SIZE, type Parameterization } from '../geometry/parameterizations.js';
import { readValuesIfCheap } from '../geometry/validation.js';
import { countLabelChannels, type Subject } from '../subject.js';
import { checkOptionKeys, optionKeys } from '../validation/options.js';

/** The arguments every tf.js layer takes (`name`, `inputShape`, `trainable`, ...). */
export type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

/** A tf.js constraint (`tf.constraints.nonNeg()`, or any registered `tf.constraints` class). */
export type DensityConstraint = ReturnType<typeof tf.constraints.nonNeg>;

/** The parameterizations a layer takes as `[B, k + 3]` rows: all but 'matrix'. */
export type LayerParameterization = Exclude<Parameterization, 'matrix'>;

/** Output layout: `[B, H, W, C]` (tf.js convolutions' default) or `[B, C, H, W]` (DiffDRR's). */
export type DataFormat = 'channelsLast' | 'channelsFirst';

/** The options of {@link DRRLayer} beyond the subject: those of `new DRR`, the pose, the output. */
export interface DRRLayerOptions extends DRROptions {
  /**
   * How an input row gives the rotation: its first `k = ROTATION_SIZE[parameterization]` numbers
   * (then the translation, 3 numbers, mm). Default 'euler_angles' (k = 3). 'matrix' is refused (a
   * 4x4 pose is no `[k + 3]` row); 'rotation_9d' takes a 3x3 matrix's rows, orthogonalized.
   */
  parameterization?: LayerParameterization;
  /** Euler convention (three axis letters), for 'euler_angles'. Default 'ZXY'. */
  convention?: string;
  /** Euler angles in degrees instead of radians. Default false. */
  degrees?: boolean;
  /** One channel per label of the subject's labelmap (see `ForwardOptions.maskToChannels`). Default false. */
  maskToChannels?: boolean;
  /** Trilinear renderer: samples per ray, an integer >= 2. Default 500. */
  nPoints?: number;
  /** Trilinear renderer: fixed ends of the sampled alpha range. Default: the rays' global min / max per call. */
  alphamin?: number;
  alphamax?: number;
  /** Output layout. Default 'channelsLast': `[B, H, W, C]`; 'channelsFirst': `[B, C, H, W]` as `DRR.forward`. */
  dataFormat?: DataFormat;
  /** The volume is a trainable weight (reconstruction). Default false: a fixed weight. */
  trainableDensity?: boolean;
  /**
   * A constraint projected onto a trainable density before each call renders it: 'nonNeg'
   * (`tf.constraints.nonNeg()`, density >= 0), any `tf.constraints` object, or its serialized form
   * `{ className, config }`. Default null: none. Needs `trainableDensity: true`.
   */
  densityConstraint?: 'nonNeg' | DensityConstraint | tf.serialization.ConfigDict | null;
}

/** The subject's geometry, given in the config when no subject is (a layer read back from JSON). */
export interface DRRLayerGeometry {
  /** The volume's shape `[X, Y, Z]` (its weight's). */
  densityShape: [number, number, number];
  /** Voxel-to-world affine, 16 numbers, row-major (`Subject.affine`). */
  affine: number[];
  /** The subject's orientation. Default 'AP'. */
  orientation?: Orientation;
  /** The reorientation matrix, 16 numbers, row-major. Default: `orientation`'s. */
  reorient?: number[];
  /** Label channels of the labelmap (max label + 1), with `maskToChannels`. Default: counted from `subject.mask`. */
  labelChannels?: number;
}

/** What `new DRRLayer(args)` takes: a subject (or its geometry, from a config), the options, the layer args. */
export interface DRRLayerArgs extends DRRLayerOptions, LayerArgs, Partial<DRRLayerGeometry> {
  /**
   * The subject rendered. Its density becomes the layer's `density` weight without a copy (the
   * weight shares the tensor's buffer; see {@link DRRLayer}); its affine, orientation and label
   * count go to the config. Omitted when the layer is made from its config (`densityShape`,
   * `affine`, ...; the weights then come from `setWeights` or `tf.loadLayersModel`).
   */
  subject?: Subject;
}

/** The keys of {@link LayerArgs}. */
export const LAYER_ARGS_KEYS = optionKeys<LayerArgs>()(['inputShape', 'batchInputShape', 'batchSize', 'dtype', 'name', 'trainable', 'weights', 'inputDType']);

/** The keys of {@link DRRLayerOptions}. */
export const DRR_LAYER_OPTION_KEYS = optionKeys<DRRLayerOptions>()([
  ...DRR_OPTION_KEYS, 'parameterization', 'convention', 'degrees', 'maskToChannels', 'nPoints', 'alphamin', 'alphamax', 'dataFormat', 'trainableDensity', 'densityConstraint',
]);

/** The keys of {@link DRRLayerGeometry}. */
export const DRR_LAYER_GEOMETRY_KEYS = optionKeys<DRRLayerGeometry>()(['densityShape', 'affine', 'orientation', 'reorient', 'labelChannels']);

/** The keys of {@link DRRLayerArgs} (`new DRRLayer` rejects any other). */
export const DRR_LAYER_ARG_KEYS = optionKeys<DRRLayerArgs>()([...DRR_LAYER_OPTION_KEYS, ...DRR_LAYER_GEOMETRY_KEYS, ...LAYER_ARGS_KEYS, 'subject']);

/** The layer's arguments, checked and with defaults. */
export interface ParsedDRRLayerArgs {
  layerArgs: LayerArgs;
  subject: Subject | undefined;
  /** The `new DRR` options as given (the DRR checks them when the layer is built). */
  drrOptions: DRROptions;
  detector: Detector;
  parameterization: LayerParameterization;
  convention: string;
  degrees: boolean;
  maskToChannels: boolean;
  nPoints: number | undefined;
  alphamin: number | undefined;
  alphamax: number | undefined;
  dataFormat: DataFormat;
  trainableDensity: boolean;
  constraint: DensityConstraint | null;
  densityShape: [number, number, number];
  affine: Matrix4;
  orientation: Orientation;
  reorient: Matrix4;
  /** Output channels: the label count with `maskToChannels`, else 1. */
  channels: number;
  labelChannels: number | undefined;
}

/** The entries of `o` whose keys are in `keys` and whose values are not undefined. */
function pick<K extends string>(o: Partial<Record<K, unknown>>, keys: readonly K[]): Partial<Record<K, unknown>> {
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]])) as Partial<Record<K, unknown>>;
}

function booleanOf(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new Error(`new DRRLayer: ${name}: expected a boolean, got ${JSON.stringify(value)}`);
  return value;
}

/** 16 finite numbers (flat or 4 rows of 4) as a row-major Matrix4. */
function matrixOf(value: unknown, name: string): Matrix4 {
  const flat = Array.isArray(value) ? value.flat() : ArrayBuffer.isView(value) ? Array.from(value as Float64Array) : null;
  if (flat === null || flat.length !== 16 || !flat.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new Error(`new DRRLayer: ${name}: expected 16 finite numbers (a row-major 4x4), got ${JSON.stringify(value)}`);
  }
  return matrix4(flat as number[]);
}

/**
 * A constraint from what `densityConstraint` accepts: 'nonNeg', a constraint object, or the
 * `{ className, config }` that {@link serializeConstraint} writes (any class registered with
 * `tf.serialization.registerClass`, as tf.js's constraints are).
 */
export function constraintOf(value: unknown): DensityConstraint | null {
  if (value === undefined || value === null) return null;
  if (value === 'nonNeg') return tf.constraints.nonNeg();
  if (value instanceof tf.serialization.Serializable && typeof (value as { apply?: unknown }).apply === 'function') return value as DensityConstraint;
  if (typeof value === 'object' && typeof (value as { className?: unknown }).className === 'string') {
    const { className, config } = value as { className: string; config?: tf.serialization.ConfigDict };
    const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
    if (entry === undefined) throw new Error(`new DRRLayer: densityConstraint: unknown class '${className}' (not registered with tf.serialization.registerClass)`);
    const [cls, fromConfig] = entry;
    const made = fromConfig(cls, config ?? {});
    if (typeof (made as { apply?: unknown }).apply !== 'function') throw new Error(`new DRRLayer: densityConstraint: class '${className}' is not a constraint (no apply method)`);
    return made as DensityConstraint;
  }
  throw new Error(`new DRRLayer: densityConstraint: expected 'nonNeg', a tf.constraints constraint, its { className, config } or null, got ${JSON.stringify(value)}`);
}

/** A constraint as JSON: `{ className, config }`. */
export function serializeConstraint(c: DensityConstraint): tf.serialization.ConfigDict {
  return { className: c.getClassName(), config: c.getConfig() };
}

/**
 * A parameterization named as tf.js writes config strings back: `model.save` snake-cases them and
 * `tf.loadLayersModel` camel-cases them ('euler_angles' comes back 'eulerAngles', 'rotation_6d'
 * 'rotation6d'); any other value is returned as is.
 */
function recased(p: unknown): unknown {
  if (typeof p !== 'string' || PARAMETERIZATIONS.includes(p as Parameterization)) return p;
  const bare = (s: string) => s.replace(/_/g, '').toLowerCase();
  return PARAMETERIZATIONS.find((known) => bare(known) === bare(p)) ?? p;
}

/** An Euler convention as tf.js writes it back (lower case: 'ZXY' comes back 'zxy'), in upper case. */
function recasedConvention(c: unknown): string {
  return (typeof c === 'string' && /^[xyz]{3}$/.test(c) ? c.toUpperCase() : c) as string;
}

/** The label channels of `subject.mask`: counted by `read()`, else from its values where they read synchronously. */
function labelChannelsOf(subject: Subject): number {
  if (!(subject.mask instanceof tf.Tensor)) throw new Error('new DRRLayer: maskToChannels: the subject has no labelmap (read it with the labelmap option)');
  if (subject.labelChannels !== undefined) return subject.labelChannels;
  const values = readValuesIfCheap(subject.mask);
  if (values === null) throw new Error(`new DRRLayer: maskToChannels: the labelmap's channel count cannot be read synchronously on the ${tf.getBackend()} backend; give labelChannels (max label + 1)`);
  return countLabelChannels(values);
}

/**
 * Checks `new DRRLayer`'s arguments: option keys (with suggestions), the layer's own options, the
 * detector, and the geometry (from the subject, or from the config's `densityShape`, `affine`,
 * ...). The other DRR options are checked by `new DRR` when the layer is built.
 *
 * @throws naming the option and its value.
 */
export function parseDRRLayerArgs(args: DRRLayerArgs): ParsedDRRLayerArgs {
  if (args === null || typeof args !== 'object') throw new Error(`new DRRLayer: expected an arguments object ({ subject, sdd, height, delx, ... }), got ${String(args)}`);
  // tf.js adds customObjects to a config it deserializes (Layer.fromConfig); nothing to do with it here
  const { customObjects: _customObjects, ...given } = args as DRRLayerArgs & { customObjects?: unknown };
  checkOptionKeys(given, DRR_LAYER_ARG_KEYS, 'new DRRLayer');
  const detector = new Detector(pick(given, DETECTOR_OPTION_KEYS) as unknown as DetectorOptions);
  const parameterization = checkParameterization(recased(given.parameterization ?? 'euler_angles'));
  if (parameterization === 'matrix') {
    throw new Error("new DRRLayer: parameterization: 'matrix' poses are [B, 4, 4], not [B, k + 3] rows; use 'rotation_9d' (a 3x3 matrix's rows, then the translation: [B, 12]), 'se3_log_map' or another parameterization (matrixToRotation converts)");
  }
  const convention = recasedConvention(given.convention ?? 'ZXY');
  parseEulerConvention(convention);
  const dataFormat = given.dataFormat ?? 'channelsLast';
  if (dataFormat !== 'channelsLast' && dataFormat !== 'channelsFirst') throw new Error(`new DRRLayer: dataFormat: expected 'channelsLast' or 'channelsFirst', got ${JSON.stringify(dataFormat)}`);
  const trainableDensity = booleanOf(given.trainableDensity, 'trainableDensity', false);
  const constraint = constraintOf(given.densityConstraint);
  if (constraint !== null && !trainableDensity) throw new Error('new DRRLayer: densityConstraint: constrains a trainable density; set trainableDensity: true');
  const renderer = given.renderer ?? 'siddon';
  for (const name of ['nPoints', 'alphamin', 'alphamax'] as const) {
    if (given[name] !== undefined && renderer !== 'trilinear') throw new Error(`new DRRLayer: ${name}: an option of the trilinear renderer; this layer uses ${JSON.stringify(renderer)}`);
    if (given[name] !== undefined && (typeof given[name] !== 'number' || !Number.isFinite(given[name]))) throw new Error(`new DRRLayer: ${name}: expected a finite number, got ${JSON.stringify(given[name])}`);
  }
  const maskToChannels = booleanOf(given.maskToChannels, 'maskToChannels', false);

  const subject = given.subject;
  let densityShape: [number, number, number];
  let affine: Matrix4;
  let orientation: Orientation;
  let reorient: Matrix4;
  let labelChannels = given.labelChannels;
  if (subject !== undefined) {
    if (subject === null || !(subject.density instanceof tf.Tensor) || subject.density.rank !== 3) throw new Error('new DRRLayer: subject: expected a Subject from read(), loadExampleCt() or makeSubject()');
    if (subject.density.isDisposed) throw new Error('new DRRLayer: subject.density has been disposed');
    const extra = DRR_LAYER_GEOMETRY_KEYS.filter((k) => k !== 'labelChannels' && given[k] !== undefined);
    if (extra.length > 0) throw new Error(`new DRRLayer: ${extra.join(', ')}: read from the subject; give either a subject or its geometry (a layer's config), not both`);
    densityShape = subject.density.shape as [number, number, number];
    affine = matrixOf(subject.affine, 'subject.affine');
    orientation = subject.orientation;
    reorient = matrixOf(subject.reorient, 'subject.reorient');
    if (maskToChannels) labelChannels ??= labelChannelsOf(subject);
  } else {
    const shape = given.densityShape;
    if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((n) => Number.isInteger(n) && n > 0)) {
      throw new Error(`new DRRLayer: expected a subject, or densityShape (three positive integers [X, Y, Z]) and affine from a layer's config; got densityShape ${JSON.stringify(shape)}`);
    }
    densityShape = [shape[0], shape[1], shape[2]];
    affine = matrixOf(given.affine, 'affine');
    orientation = given.orientation === undefined ? 'AP' : typeof given.orientation === 'string' && /^(ap|pa)$/.test(given.orientation) ? (given.orientation.toUpperCase() as Orientation) : given.orientation;
    const ofOrientation = reorientationMatrix(orientation); // throws on an unknown orientation
    reorient = given.reorient === undefined ? ofOrientation : matrixOf(given.reorient, 'reorient');
    if (maskToChannels && labelChannels === undefined) throw new Error('new DRRLayer: maskToChannels: give labelChannels (max label + 1) with a config that has no subject');
  }
  if (labelChannels !== undefined && !(Number.isInteger(labelChannels) && labelChannels >= 1)) throw new Error(`new DRRLayer: labelChannels: expected a positive integer, got ${JSON.stringify(labelChannels)}`);
  if (!maskToChannels) labelChannels = undefined;

  return {
    layerArgs: pick(given, LAYER_ARGS_KEYS) as LayerArgs,
    subject,
    drrOptions: pick(given, DRR_OPTION_KEYS) as unknown as DRROptions,
    detector,
    parameterization,
    convention,
    degrees: booleanOf(given.degrees, 'degrees', false),
    maskToChannels,
    nPoints: given.nPoints,
    alphamin: given.alphamin,
    alphamax: given.alphamax,
    dataFormat,
    trainableDensity,
    constraint,
    densityShape,
    affine,
    orientation,
    reorient,
    channels: maskToChannels ? (labelChannels as number) : 1,
    labelChannels,
  };
}

/** The input width `k + 3` of a parameterization: its rotation's numbers, then the translation's 3. */
export function inputWidth(parameterization: LayerParameterization): number {
  return ROTATION_SIZE[parameterization] + 3;
}

/**
 * The JSON config of parsed arguments (less the base layer's entries): every option given, with
 * the pose, output and geometry entries resolved. Non-finite `alphaMin` / `alphaMax` (the
 * defaults, which JSON cannot write) are left out.
 */
export function drrLayerConfig(parsed: ParsedDRRLayerArgs): tf.serialization.ConfigDict {
  const drr = Object.entries(parsed.drrOptions).filter(([, v]) => v !== undefined && !(typeof v === 'number' && !Number.isFinite(v)));
  const config: tf.serialization.ConfigDict = {
    ...(Object.fromEntries(drr) as tf.serialization.ConfigDict),
    parameterization: parsed.parameterization,
    convention: parsed.convention,
    degrees: parsed.degrees,
    maskToChannels: parsed.maskToChannels,
    dataFormat: parsed.dataFormat,
    trainableDensity: parsed.trainableDensity,
    densityConstraint: parsed.constraint === null ? null : serializeConstraint(parsed.constraint),
    densityShape: [...parsed.densityShape],
    affine: Array.from(parsed.affine),
    orientation: parsed.orientation,
    reorient: Array.from(parsed.reorient),
  };
  for (const name of ['nPoints', 'alphamin', 'alphamax'] as const) if (parsed[name] !== undefined) config[name] = parsed[name] as number;
  if (parsed.labelChannels !== undefined) config.labelChannels = parsed.labelChannels;
  return config;
}
