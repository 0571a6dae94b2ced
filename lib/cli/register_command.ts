/**
 * `tfdrr register <target> [--ct ct.nii.gz] --out result.json ...`: 2D/3D registration of a CT (by
 * default the example CT) to a target X-ray image, with {@link Registration}.
 *
 * The detector has the target's rows and columns (`--delx`, `--dely`, `--sdd`, `--x0`, `--y0`,
 * `--no-reverse-x-axis` as for `render`); the target is read by `register_target.ts` (PNG row 0 is
 * row 0 of the DRR, as `saveImage` writes it). The initial pose takes the flags of `render`
 * (`--rotation`, `--translation`, `--parameterization` but 'matrix', `--convention`,
 * `--degrees`). Start 0 is that pose; with `--restarts N` starts 1..N-1 are copies whose rotation
 * and translation parameters are shifted by uniform amounts up to `--perturb-rotation` (units of
 * the parameters: radians, or degrees with `--degrees`) and `--perturb-translation` (mm), seeded
 * by `--seed`. All starts are optimized in one batch (loss `1 - multiscale NCC`: the global NCC and
 * 13 px patches, weighted 0.5/0.5); the start with the lowest final loss wins.
 *
 * Outputs: the result JSON (`--out`, see {@link RegisterResult}), and optionally a GIF of the
 * winner's DRR next to the target (`--gif`), the overlay of its final DRR on the target
 * (`--overlay`) and the loss curves of all starts (`--loss-curve`). Progress goes to stderr (a
 * progress bar on a terminal, else a line every ~10% of the steps; `--quiet`: none); stdout gets
 * one summary line.
 */
import * as tf from '@tensorflow/tfjs';
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DRR } from '../drr.js';
import { PARAMETERIZATIONS, type Parameterization } from '../geometry/parameterizations.js';
import { saveLossCurve } from '../image/loss_curve.js';
import { saveOverlayPng } from '../image/overlay.js';
import { perturbPoses } from '../registration/perturb_poses.js';
import { Registration, type RegistrationOptimizer, type RegistrationResult, type RegistrationStep } from '../registration/registration.js';
import {
  addOptions, backendOption, ctOptions, ctReadFromCommand, detectorFromCommand, detectorOptions, loadSubject, isNumber, numberOption,
  parseCommandArgs, parseNonNegative, parseNonNegativeInt, parsePositive, parsePositiveInt, poseFromCommand, poseOptions,
  renderingOptions, UsageError, useBackend, validateInAction,
  type BackendName, type CtReadSection, type DetectorSection,
} from './cli_options.js';
import { defaultGifEvery, GifRecorder, reportPose, round8, writeJson, type ReportedPose } from './register_output.js';
import { readTargetImage } from './register_target.js';

/** The parameterizations a registration can optimize (all but 'matrix'). */
export type OptimizableParameterization = Exclude<Parameterization, 'matrix'>;

/** Patch size (px) of the default registration loss: the detector must be at least this big at every scale. */
export const LOSS_PATCH_SIZE = 13;

/** Default `--report`. */
const DEFAULT_REPORT: Parameterization[] = ['euler_angles', 'quaternion', 'matrix'];

/** Validated options of one `tfdrr register` run. */
export interface RegisterOptions {
  /** Target image file (PNG or NIfTI). */
  target: string;
  /** CT file (`--ct`), or `null` for the example CT. */
  ct: string | null;
  /** Result JSON path. Default `'registration.json'`. */
  out: string;
  /** Arguments of `read()` / `loadExampleCt()`. */
  read: CtReadSection;
  /** Arguments of `new DRR` but the detector size (that of the target). */
  drr: DetectorSection & { renderer: 'siddon' | 'trilinear' };
  /** Trilinear samples per ray (`--n-points`); unset: the DRR default (500). */
  nPoints?: number;
  /** The initial pose (start 0). Default: Euler angles ZXY 0,0,0 (radians), translation 0,850,0. */
  pose: {
    parameterization: OptimizableParameterization;
    convention: string;
    degrees: boolean;
    rotation: number[];
    translation: number[];
  };
  /** Starts: `count` (default 1) and the perturbations of starts 1.. (default 0), seeded (default 0). */
  restarts: { count: number; perturbRotation: number; perturbTranslation: number; seed: number };
  optimization: {
    /** Steps per scale. Default 100. */
    iterations: number;
    /** Detector scales, in order. Default `[1]`. */
    scales: number[];
    /** Default 0 (run every step). */
    tolerance: number;
    /** Default 'adam'. */
    optimizer: RegistrationOptimizer;
    /** Defaults 1e-2 and 1 (not used by lbfgs). */
    learningRate: { rotation: number; translation: number };
  };
  /** Parameterizations of the reported pose. Default euler_angles, quaternion, matrix. */
  report: Parameterization[];
  /** GIF path, or null. */
  gif: string | null;
  /** Steps between GIF frames; null: {@link defaultGifEvery} (at most about 60 frames). */
  gifEvery: number | null;
  /** Overlay PNG path, or null. */
  overlay: string | null;
  /** Loss-curve SVG path, or null. */
  lossCurve: string | null;
  /** No progress output. Default false. */
  quiet: boolean;
  /** Default 'cpu'. */
  backend: BackendName;
}

/** A pose as the optimized parameters. */
export interface PoseParameters {
  rotation: number[];
  translation: number[];
}

/** What `tfdrr register` writes to the result JSON (and {@link runRegister} returns). */
export interface RegisterResult {
  command: 'tfdrr register';
  /** The target file and its size. */
  target: { path: string; height: number; width: number; description: string };
  /** The CT file, or null for the example CT. */
  ct: string | null;
  /** The full detector. */
  detector: { height: number; width: number; sdd: number; delx: number; dely: number; x0: number; y0: number; reverseXAxis: boolean };
  /** The options of the run (see {@link RegisterOptions}). */
  options: Pick<RegisterOptions, 'read' | 'pose' | 'restarts' | 'optimization' | 'report' | 'backend'> & {
    renderer: 'siddon' | 'trilinear';
    voxelShift: number;
    patchSize?: number;
    nPoints?: number;
  };
  /** Files written. */
  outputs: { json: string; gif: string | null; overlay: string | null; lossCurve: string | null };
  /** Index of the start with the lowest final loss. */
  best: number;
  /** Its final loss. */
  loss: number;
  /** Its final pose in each parameterization of `options.report` (see {@link ReportedPose}). */
  pose: Record<string, ReportedPose>;
  /** Every start: initial and final parameters (in `options.pose.parameterization`), final loss, loss per step. */
  starts: { initial: PoseParameters; final: PoseParameters; loss: number; losses: number[] }[];
  /** Steps run (over all scales). */
  steps: number;
  /** Why the run ended. */
  reason: RegistrationResult['reason'];
  timing: {
    /** Median wall time of a step (ms). */
    stepMsMedian: number;
    /** The optimization, s. */
    registrationSeconds: number;
    /** The whole command: reading, optimization, outputs, s. */
    totalSeconds: number;
  };
  /** The tfjs backend that ran. */
  backend: string;
}

// ---------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------

function parseScales(value: string): number[] {
  const scales = value.split(',').map((p) => (isNumber(p) ? Number(p) : NaN));
  if (!scales.every((s) => s > 0 && s <= 1)) throw new InvalidArgumentError('Expected comma-separated numbers in (0, 1], e.g. 0.25,0.5,1.');
  return scales;
}

function parseReport(value: string): Parameterization[] {
  const names = value.split(',').map((p) => p.trim());
  if (!names.every((n) => (PARAMETERIZATIONS as readonly string[]).includes(n))) {
    throw new InvalidArgumentError(`Expected comma-separated names among ${PARAMETERIZATIONS.join(', ')}.`);
  }
  return [...new Set(names)] as Parameterization[];
}

function parseNPoints(value: string): number {
  const n = isNumber(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 2) throw new InvalidArgumentError('Expected an integer >= 2.');
  return n;
}

/** Raw values commander collects for the register-only options. */
interface RawRegisterOptions {
  ct?: string;
  out: string;
  renderer: 'siddon' | 'trilinear';
  nPoints?: number;
  restarts: number;
  perturbRotation: number;
  perturbTranslation: number;
  seed: number;
  iterations: number;
  scales: number[];
  tolerance: number;
  optimizer: RegistrationOptimizer;
  lrRotation: number;
  lrTranslation: number;
  report: Parameterization[];
  gif?: string;
  gifEvery?: number;
  overlay?: string;
  lossCurve?: string;
  quiet?: true;
  backend: BackendName;
}

/**
 * The `register` subcommand with its argument and options, without an action (see
 * {@link parseRegisterArgs}); {@link createRegisterCommand} adds the action.
 */
export function defineRegisterCommand(): Command {
  const cmd = new Command('register')
    .description(
      'Register a CT volume to a target X-ray image: find the camera pose whose DRR matches the target ' +
        '(loss 1 - multiscale NCC), starting from --rotation/--translation, and write the result as JSON. ' +
        'The detector has the target\'s rows and columns; give its pixel spacing with --delx.',
    )
    .argument(
      '<target>',
      'target X-ray: PNG (gray; RGB/RGBA as luminance; row 0 = DRR row 0 as `tfdrr render` saves it) or ' +
        '2-D NIfTI .nii/.nii.gz (voxel (i, j) = row i, column j, as nibabel\'s array)',
    );
  return addOptions(cmd, [
    new Option('--ct <nii>', 'CT volume (.nii or .nii.gz) (default: the example CT shipped with tfdrr)'),
    new Option('-o, --out <json>', 'result JSON file').default('registration.json'),
    ...detectorOptions({ size: false }),
    new Option('--renderer <name>', 'renderer').choices(['siddon', 'trilinear']).default('siddon'),
    new Option('--n-points <n>', 'trilinear renderer: samples per ray (default: 500)').argParser(parseNPoints),
    ...renderingOptions(),
    ...poseOptions({ matrix: false }),
    ...ctOptions(),
    numberOption('--restarts <n>', 'number of starts, optimized in one batch (start 0 is the given pose)', 1, parsePositiveInt),
    numberOption('--perturb-rotation <x>', 'starts 1..n-1: uniform shift of each rotation parameter up to x (its units; degrees with --degrees)', 0, parseNonNegative),
    numberOption('--perturb-translation <mm>', 'starts 1..n-1: uniform shift of each translation parameter up to mm', 0, parseNonNegative),
    numberOption('--seed <int>', 'seed of the perturbations', 0, parseNonNegativeInt),
    numberOption('--iterations <n>', 'steps per scale', 100, parsePositiveInt),
    new Option('--scales <list>', 'detector scales in (0, 1], coarse to fine, e.g. 0.25,0.5,1').default([1], '1').argParser(parseScales),
    numberOption('--tolerance <x>', 'go to the next scale once no loss changes by more than x in a step (0: never)', 0, parseNonNegative),
    new Option('--optimizer <name>', 'optimizer').choices(['adam', 'sgd', 'momentum', 'lbfgs']).default('adam'),
    numberOption('--lr-rotation <x>', 'learning rate of the rotation parameters (adam, sgd, momentum)', 1e-2, parsePositive),
    numberOption('--lr-translation <x>', 'learning rate of the translation (adam, sgd, momentum)', 1, parsePositive),
    new Option('--report <names>', `parameterizations of the final pose in the JSON, among ${PARAMETERIZATIONS.join(', ')}`)
      .default(DEFAULT_REPORT, DEFAULT_REPORT.join(','))
      .argParser(parseReport),
    new Option('--gif <file>', 'GIF of the best start: its DRR next to the target during the run'),
    new Option('--gif-every <k>', 'steps between GIF frames (default: at most about 60 frames)').argParser(parsePositiveInt),
    new Option('--overlay <png>', 'colour overlay of the best final DRR (green) on the target (magenta)'),
    new Option('--loss-curve <svg>', 'loss of every start against the step, as SVG'),
    new Option('-q, --quiet', 'no progress output on stderr'),
    backendOption(),
  ]).showHelpAfterError('(run "tfdrr register --help" for the options)');
}

/**
 * Checks the parsed command's options against each other and builds {@link RegisterOptions}.
 *
 * @throws {@link UsageError} on a bad pose (as `render`; 'matrix' is refused), a flag that does not
 *   apply, or starts that cannot differ.
 */
export function registerOptionsFromCommand(cmd: Command): RegisterOptions {
  const o = cmd.opts<RawRegisterOptions & { parameterization: Parameterization }>();
  const explicit = (name: string) => cmd.getOptionValueSource(name) === 'cli';
  const target = cmd.processedArgs[0] as string;
  if (o.parameterization === 'matrix') {
    throw new UsageError(
      '--parameterization matrix cannot be optimized (a 4x4 matrix has no rigid parameters); start from e.g. ' +
        'euler_angles, quaternion, rotation_6d or se3_log_map (--report matrix gives the result as a 4x4 pose)',
    );
  }
  const pose = poseFromCommand(cmd);
  const ct = o.ct ?? null;
  const readSection = ctReadFromCommand(cmd, ct, '--ct');
  if (o.nPoints !== undefined && o.renderer !== 'trilinear') throw new UsageError('--n-points applies to --renderer trilinear only');
  if (o.restarts === 1) {
    for (const flag of ['perturbRotation', 'perturbTranslation'] as const) {
      if (o[flag] > 0) {
        const name = flag === 'perturbRotation' ? '--perturb-rotation' : '--perturb-translation';
        throw new UsageError(`${name} needs --restarts 2 or more (start 0 is the given pose; the perturbed starts are 1..n-1)`);
      }
    }
  } else if (o.perturbRotation === 0 && o.perturbTranslation === 0) {
    throw new UsageError(`--restarts ${o.restarts} needs --perturb-rotation or --perturb-translation (else every start is the same pose)`);
  }
  if (o.optimizer === 'lbfgs') {
    for (const flag of ['lrRotation', 'lrTranslation'] as const) {
      if (explicit(flag)) throw new UsageError(`--${flag === 'lrRotation' ? 'lr-rotation' : 'lr-translation'} does not apply to --optimizer lbfgs (it takes its step by line search)`);
    }
  }
  if (o.gifEvery !== undefined && o.gif === undefined) throw new UsageError('--gif-every needs --gif');
  return {
    target,
    ct,
    out: o.out,
    read: readSection,
    drr: { renderer: o.renderer, ...detectorFromCommand(cmd) },
    ...(o.nPoints !== undefined && { nPoints: o.nPoints }),
    pose: { ...pose, parameterization: pose.parameterization as OptimizableParameterization, translation: pose.translation as number[] },
    restarts: { count: o.restarts, perturbRotation: o.perturbRotation, perturbTranslation: o.perturbTranslation, seed: o.seed },
    optimization: {
      iterations: o.iterations,
      scales: o.scales,
      tolerance: o.tolerance,
      optimizer: o.optimizer,
      learningRate: { rotation: o.lrRotation, translation: o.lrTranslation },
    },
    report: o.report,
    gif: o.gif ?? null,
    gifEvery: o.gifEvery ?? null,
    overlay: o.overlay ?? null,
    lossCurve: o.lossCurve ?? null,
    quiet: o.quiet ?? false,
    backend: o.backend,
  };
}

/**
 * Parses `register` arguments (without the `register` word itself) into {@link RegisterOptions},
 * without printing or exiting.
 *
 * ```ts
 * parseRegisterArgs(['xray.png', '--delx', '1.5', '--rotation', '0.1,0,0', '--out', 'result.json']);
 * ```
 *
 * @throws {@link UsageError} with a one-line message on any bad argument.
 */
export function parseRegisterArgs(argv: string[]): RegisterOptions {
  return registerOptionsFromCommand(parseCommandArgs(defineRegisterCommand(), argv));
}

// ---------------------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------------------

/** The starting poses: start 0 is the given pose, starts 1..n-1 perturbed copies. */
export function startPoses(options: Pick<RegisterOptions, 'pose' | 'restarts'>): PoseParameters[] {
  const { rotation, translation } = options.pose;
  const { count, perturbRotation, perturbTranslation, seed } = options.restarts;
  const starts: PoseParameters[] = [{ rotation: [...rotation], translation: [...translation] }];
  if (count > 1) {
    const p = perturbPoses(rotation, translation, { count: count - 1, maxRotation: perturbRotation, maxTranslation: perturbTranslation, seed });
    const [r, t] = [p.rotation.arraySync(), p.translation.arraySync()];
    tf.dispose([p.rotation, p.translation]);
    for (let i = 0; i < count - 1; i++) starts.push({ rotation: r[i], translation: t[i] });
  }
  return starts;
}

/** Progress on stderr: a bar on a terminal, else a line every ~10% of the steps. */
class Progress {
  private readonly bar: cliProgress.SingleBar | null = null;
  private readonly lineEvery: number;
  private lastPrinted = 0;
  private last: RegistrationStep | null = null;

  constructor(
    private readonly total: number,
    private readonly quiet: boolean,
    private readonly multiscale: boolean,
  ) {
    this.lineEvery = Math.max(1, Math.ceil(total / 10));
    if (!quiet && process.stderr.isTTY) {
      this.bar = new cliProgress.SingleBar(
        { format: 'register [{bar}] {value}/{total} steps | loss {loss}{scale} | ETA {eta_formatted}', stream: process.stderr, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, 0, { loss: '-', scale: '' });
    }
  }

  update(step: RegistrationStep): void {
    this.last = step;
    if (this.quiet) return;
    const done = step.iteration + 1;
    if (this.bar) {
      this.bar.update(done, { loss: this.loss(step), scale: this.multiscale ? ` | scale ${step.scale}` : '' });
    } else if (done % this.lineEvery === 0) {
      this.print(step);
    }
  }

  stop(): void {
    if (this.bar) this.bar.stop();
    else if (!this.quiet && this.last && this.last.iteration + 1 !== this.lastPrinted) this.print(this.last);
  }

  private print(step: RegistrationStep): void {
    this.lastPrinted = step.iteration + 1;
    const starts = step.loss.length > 1 ? ` (best of ${step.loss.length} starts)` : '';
    const scale = this.multiscale ? ` scale ${step.scale}` : '';
    process.stderr.write(`step ${step.iteration + 1}/${this.total} loss ${this.loss(step)}${starts}${scale}\n`);
  }

  private loss(step: RegistrationStep): string {
    return Math.min(...step.loss).toPrecision(4);
  }
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Index of the smallest value (NaN counts as +infinity). */
function argmin(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) {
    if (values[i] < values[best] || Number.isNaN(values[best])) best = i;
  }
  return best;
}

/**
 * Reads the target and the CT, registers, writes the result JSON (and the GIF, overlay and loss
 * curve asked for) and returns the result. Uses the active tfjs backend (the command selects
 * `options.backend` with `useBackend` first).
 *
 * @throws {@link UsageError} if the target is too small for the loss at the smallest scale; Error
 *   if a file cannot be read or the registration fails (e.g. a pose leaves the volume).
 */
export async function runRegister(options: RegisterOptions): Promise<RegisterResult> {
  const start = performance.now();
  const image = await readTargetImage(options.target);
  const { height, width } = image;
  const smallest = Math.min(...options.optimization.scales);
  const [h, w] = [Math.trunc(height * smallest), Math.trunc(width * smallest)];
  if (h < LOSS_PATCH_SIZE || w < LOSS_PATCH_SIZE) {
    const at = smallest === 1 ? '' : ` (${w}x${h} px at scale ${smallest})`;
    throw new UsageError(
      `target ${options.target} is ${width}x${height} px${at}: the loss compares ${LOSS_PATCH_SIZE}x${LOSS_PATCH_SIZE} px patches, ` +
        `so the detector needs at least ${LOSS_PATCH_SIZE} px each way at every scale; use a larger image or larger --scales`,
    );
  }
  const bad = image.data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new Error(`target ${options.target}: non-finite value ${image.data[bad]} at row ${Math.floor(bad / width)}, column ${bad % width}`);

  const subject = await loadSubject(options.ct, options.read);
  try {
    const drr = new DRR(subject, { ...options.drr, height, width });
    const target = tf.tensor4d(image.data, [1, 1, height, width]);
    try {
      return await register(drr, target, image, options, start);
    } finally {
      target.dispose();
      drr.dispose();
    }
  } finally {
    subject.dispose();
  }
}

async function register(
  drr: DRR,
  target: tf.Tensor4D,
  image: { height: number; width: number; description: string },
  options: RegisterOptions,
  start: number,
): Promise<RegisterResult> {
  const { pose, optimization } = options;
  const starts = startPoses(options);
  const rotation = tf.tensor2d(starts.map((s) => s.rotation));
  const translation = tf.tensor2d(starts.map((s) => s.translation));
  let reg: Registration;
  try {
    reg = new Registration(drr, target, {
      rotation,
      translation,
      parameterization: pose.parameterization,
      convention: pose.convention,
      degrees: pose.degrees,
      optimizer: optimization.optimizer,
      learningRate: optimization.learningRate,
      ...(options.nPoints !== undefined && { render: { nPoints: options.nPoints } }),
    });
  } finally {
    tf.dispose([rotation, translation]);
  }
  try {
    const total = optimization.iterations * optimization.scales.length;
    const gif = options.gif === null ? null : new GifRecorder(options.gifEvery ?? defaultGifEvery(total), image.height, image.width);
    if (gif) await gif.recordStart(() => reg.render());
    const progress = new Progress(total, options.quiet, optimization.scales.length > 1);
    const runStart = performance.now();
    let result: RegistrationResult;
    try {
      result = await reg.run({
        iterations: optimization.iterations,
        scales: optimization.scales,
        tolerance: optimization.tolerance,
        onStep: async (step, r) => {
          progress.update(step);
          if (gif) await gif.recordStep(step.iteration, () => r.render());
        },
      });
    } finally {
      progress.stop();
    }
    const registrationSeconds = (performance.now() - runStart) / 1000;

    // Final losses of the final poses (the steps' losses are those before each update).
    const images = reg.render();
    try {
      const lossTensor = tf.tidy(() => reg.loss(images, reg.targets));
      const finalLoss = Array.from(await lossTensor.data());
      lossTensor.dispose();
      const best = argmin(finalLoss);
      const poses = reg.pose();
      const poseValues = Array.from(await poses.data());
      poses.dispose();
      const bestPose = poseValues.slice(16 * best, 16 * (best + 1));

      if (gif && options.gif) {
        await gif.recordFinal(result.steps.length - 1, images);
        await gif.save(best, target, options.gif);
      }
      if (options.overlay) {
        const moving = tf.slice(images, [best, 0, 0, 0], [1, 1, image.height, image.width]);
        try {
          await saveOverlayPng(moving, target, options.overlay);
        } finally {
          moving.dispose();
        }
      }
      const losses = starts.map((_, b) => result.steps.map((s) => s.loss[b]));
      if (options.lossCurve) {
        await saveLossCurve(losses, options.lossCurve, {
          title: `registration loss (best: start ${best})`,
          xLabel: 'step',
          yLabel: '1 - multiscale NCC',
          ...(starts.length <= 10 && { labels: starts.map((_, b) => (b === best ? `start ${b} (best)` : `start ${b}`)) }),
        });
      }

      const d = drr.detector;
      const json: RegisterResult = {
        command: 'tfdrr register',
        target: { path: options.target, height: image.height, width: image.width, description: image.description },
        ct: options.ct,
        detector: { height: d.height, width: d.width, sdd: d.sdd, delx: d.delx, dely: d.dely, x0: d.x0, y0: d.y0, reverseXAxis: d.reverseXAxis },
        options: {
          read: options.read,
          renderer: options.drr.renderer,
          voxelShift: options.drr.voxelShift,
          ...(options.drr.patchSize !== undefined && { patchSize: options.drr.patchSize }),
          ...(options.nPoints !== undefined && { nPoints: options.nPoints }),
          pose: options.pose,
          restarts: options.restarts,
          optimization: options.optimization,
          report: options.report,
          backend: options.backend,
        },
        outputs: { json: options.out, gif: options.gif, overlay: options.overlay, lossCurve: options.lossCurve },
        best,
        loss: round8(finalLoss[best]),
        pose: await reportPose(bestPose, options.report, { convention: pose.convention, degrees: pose.degrees }),
        starts: starts.map((s, b) => ({
          initial: { rotation: s.rotation.map(round8), translation: s.translation.map(round8) },
          final: { rotation: result.rotation[b].map(round8), translation: result.translation[b].map(round8) },
          loss: round8(finalLoss[b]),
          losses: losses[b].map(round8),
        })),
        steps: result.steps.length,
        reason: result.reason,
        timing: {
          stepMsMedian: round8(median(result.steps.map((s) => s.ms))),
          registrationSeconds: round8(registrationSeconds),
          totalSeconds: 0,
        },
        backend: tf.getBackend(),
      };
      json.timing.totalSeconds = round8((performance.now() - start) / 1000);
      await writeJson(options.out, json);
      return json;
    } finally {
      images.dispose();
    }
  } finally {
    reg.dispose();
  }
}

/** The one line printed after a registration. */
export function formatRegisterResult(r: RegisterResult): string {
  const g = (v: number) => String(Number(v.toPrecision(6)));
  const p = r.options.pose;
  const final = r.starts[r.best].final;
  const how = p.parameterization === 'euler_angles' ? `euler_angles ${p.convention}, ${p.degrees ? 'degrees' : 'radians'}` : p.parameterization;
  const starts = r.starts.length > 1 ? ` (start ${r.best} of ${r.starts.length})` : '';
  return (
    `${r.outputs.json}: best loss ${g(r.loss)}${starts}, rotation ${final.rotation.map(g).join(',')} ` +
    `translation ${final.translation.map(g).join(',')} (${how}), ${r.steps} steps in ${r.timing.registrationSeconds.toFixed(1)} s ` +
    `(${Math.round(r.timing.stepMsMedian)} ms/step, ${r.backend})`
  );
}

/** The `register` subcommand with its action: validate, select the backend, register, print one line. */
export function createRegisterCommand(): Command {
  return defineRegisterCommand().action(async (_target: string, _opts: unknown, cmd: Command) => {
    const options = validateInAction(cmd, registerOptionsFromCommand);
    await useBackend(options.backend);
    console.log(formatRegisterResult(await runRegister(options)));
  });
}
