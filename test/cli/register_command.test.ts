import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { decode, encode } from 'fast-png';
import { parseRegisterArgs, runRegister, type RegisterOptions, type RegisterResult } from '../../lib/cli/register_command.js';
import { readTargetImage } from '../../lib/cli/register_target.js';
import { UsageError } from '../../lib/cli/cli_options.js';
import { DRR } from '../../lib/drr.js';
import { PARAMETERIZATIONS, type Parameterization } from '../../lib/geometry/parameterizations.js';
import { convert } from '../../lib/geometry/pose.js';
import { saveImage } from '../../lib/image/save_image.js';
import { loadExampleCt } from '../../lib/io/example_ct.js';
import { poseErrors } from '../../lib/registration/pose_errors.js';
import { parseGif } from '../helpers/gif_frames.js';
import { niftiBytes } from '../helpers/nifti_fixture.js';
import { useCpuBackend } from '../helpers/tf_setup.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The options of `tfdrr register target.png` with every default. */
const DEFAULTS: RegisterOptions = {
  target: 'target.png',
  ct: null,
  out: 'registration.json',
  read: { orientation: 'AP', boneAttenuationMultiplier: 1, centerVolume: true },
  drr: { renderer: 'siddon', sdd: 1020, delx: 2, x0: 0, y0: 0, reverseXAxis: true, voxelShift: 0.5 },
  pose: { parameterization: 'euler_angles', convention: 'ZXY', degrees: false, rotation: [0, 0, 0], translation: [0, 850, 0] },
  restarts: { count: 1, perturbRotation: 0, perturbTranslation: 0, seed: 0 },
  optimization: { iterations: 100, scales: [1], tolerance: 0, optimizer: 'adam', learningRate: { rotation: 1e-2, translation: 1 } },
  report: ['euler_angles', 'quaternion', 'matrix'],
  gif: null,
  gifEvery: null,
  overlay: null,
  lossCurve: null,
  quiet: false,
  backend: 'cpu',
};

/** The UsageError message `parseRegisterArgs(argv)` throws. */
function usageError(argv: string[]): string {
  try {
    parseRegisterArgs(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`parseRegisterArgs(${JSON.stringify(argv)}) did not throw`);
}

describe('parseRegisterArgs', () => {
  test('defaults', () => {
    expect(parseRegisterArgs(['target.png'])).toEqual(DEFAULTS);
  });

  test('every option is mapped', () => {
    const o = parseRegisterArgs([
      'x.nii.gz', '--ct', 'ct.nii.gz', '-o', 'r.json', '--sdd', '900', '--delx', '1.5', '--dely', '2', '--x0', '-3', '--y0', '4',
      '--no-reverse-x-axis', '--renderer', 'trilinear', '--n-points', '300', '--voxel-shift', '0', '--patch-size', '16',
      '--rotation', '10,-5,3', '--translation', '1,840,2', '--convention', 'XYZ', '--degrees',
      '--orientation', 'PA', '--bone-attenuation-multiplier', '2', '--no-center-volume', '--labelmap', 'seg.nii.gz', '--labels', '5,30',
      '--restarts', '4', '--perturb-rotation', '2', '--perturb-translation', '10', '--seed', '7',
      '--iterations', '50', '--scales', '0.25,0.5,1', '--tolerance', '1e-5', '--optimizer', 'momentum', '--lr-rotation', '0.05', '--lr-translation', '2',
      '--report', 'se3_log_map,matrix,se3_log_map', '--gif', 'run.gif', '--gif-every', '3', '--overlay', 'o.png', '--loss-curve', 'l.svg',
      '--quiet', '--backend', 'wasm',
    ]);
    expect(o).toEqual({
      target: 'x.nii.gz',
      ct: 'ct.nii.gz',
      out: 'r.json',
      read: { orientation: 'PA', boneAttenuationMultiplier: 2, centerVolume: false, labelmap: 'seg.nii.gz', labels: [5, 30] },
      drr: { renderer: 'trilinear', sdd: 900, delx: 1.5, dely: 2, x0: -3, y0: 4, reverseXAxis: false, voxelShift: 0, patchSize: 16 },
      nPoints: 300,
      pose: { parameterization: 'euler_angles', convention: 'XYZ', degrees: true, rotation: [10, -5, 3], translation: [1, 840, 2] },
      restarts: { count: 4, perturbRotation: 2, perturbTranslation: 10, seed: 7 },
      optimization: { iterations: 50, scales: [0.25, 0.5, 1], tolerance: 1e-5, optimizer: 'momentum', learningRate: { rotation: 0.05, translation: 2 } },
      report: ['se3_log_map', 'matrix'],
      gif: 'run.gif',
      gifEvery: 3,
      overlay: 'o.png',
      lossCurve: 'l.svg',
      quiet: true,
      backend: 'wasm',
    } satisfies RegisterOptions);
  });

  test('other parameterizations take their number of parameters', () => {
    const o = parseRegisterArgs(['t.png', '--parameterization', 'quaternion', '--rotation', '1,0,0,0', '--optimizer', 'lbfgs']);
    expect(o.pose).toEqual({ parameterization: 'quaternion', convention: 'ZXY', degrees: false, rotation: [1, 0, 0, 0], translation: [0, 850, 0] });
    expect(o.optimization.optimizer).toBe('lbfgs');
  });

  test.each([
    [['t.png', '--parameterization', 'matrix', '--rotation', '1,0,0,0,0,1,0,850,0,0,1,0,0,0,0,1'], /^--parameterization matrix cannot be optimized/],
    [['t.png', '--parameterization', 'matrix'], /^--parameterization matrix cannot be optimized/],
    [['t.png', '--rotation', '0,0'], '--rotation: euler_angles needs 3 numbers, got 2 (0,0)'],
    [['t.png', '--translation', '0,850'], '--translation: needs 3 numbers, got 2 (0,850)'],
    [['t.png', '--parameterization', 'rotation_6d'], '--rotation: rotation_6d needs 6 numbers, got 3 (0,0,0)'],
    [['t.png', '--parameterization', 'axis_angle', '--degrees'], '--degrees applies to --parameterization euler_angles only, not axis_angle'],
    [['t.png', '--convention', 'XXY'], /^--convention: expected 3 letters/],
    [['t.png', '--scales', '0.5,2'], "option '--scales <list>' argument '0.5,2' is invalid. Expected comma-separated numbers in (0, 1], e.g. 0.25,0.5,1."],
    [['t.png', '--scales', '0,1'], /argument '0,1' is invalid\. Expected comma-separated numbers in \(0, 1\]/],
    [['t.png', '--scales', ''], /argument '' is invalid\. Expected comma-separated numbers in \(0, 1\]/],
    [['t.png', '--report', 'euler_angles,quaternions'], `option '--report <names>' argument 'euler_angles,quaternions' is invalid. Expected comma-separated names among ${PARAMETERIZATIONS.join(', ')}.`],
    [['t.png', '--iterations', '0'], "option '--iterations <n>' argument '0' is invalid. Expected a positive integer."],
    [['t.png', '--tolerance', '-1'], "option '--tolerance <x>' argument '-1' is invalid. Expected a number >= 0."],
    [['t.png', '--lr-rotation', '0'], "option '--lr-rotation <x>' argument '0' is invalid. Expected a number > 0."],
    [['t.png', '--seed', '1.5'], "option '--seed <int>' argument '1.5' is invalid. Expected an integer >= 0."],
    [['t.png', '--optimizer', 'rmsprop'], "option '--optimizer <name>' argument 'rmsprop' is invalid. Allowed choices are adam, sgd, momentum, lbfgs."],
    [['t.png', '--renderer', 'trilinear', '--n-points', '1'], "option '--n-points <n>' argument '1' is invalid. Expected an integer >= 2."],
    [['t.png', '--n-points', '100'], '--n-points applies to --renderer trilinear only'],
    [['t.png', '--perturb-rotation', '0.1'], /^--perturb-rotation needs --restarts 2 or more/],
    [['t.png', '--perturb-translation', '5'], /^--perturb-translation needs --restarts 2 or more/],
    [['t.png', '--restarts', '3'], '--restarts 3 needs --perturb-rotation or --perturb-translation (else every start is the same pose)'],
    [['t.png', '--optimizer', 'lbfgs', '--lr-translation', '2'], /^--lr-translation does not apply to --optimizer lbfgs/],
    [['t.png', '--gif-every', '2'], '--gif-every needs --gif'],
    [['t.png', '--labelmap', 'seg.nii.gz'], '--labelmap needs --ct (the example CT has no labelmap of the same grid)'],
    [['t.png', '--height', '64'], "unknown option '--height'"],
    [[], "missing required argument 'target'"],
  ] as [string[], string | RegExp][])('%j fails with a clear message', (argv, message) => {
    const got = usageError(argv);
    if (typeof message === 'string') expect(got).toBe(message);
    else expect(got).toMatch(message);
  });
});

describe('readTargetImage', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tfdrr-target-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('PNG: 16-bit gray as stored, RGBA as luminance, rows in place', async () => {
    const gray = join(dir, 'gray.png');
    writeFileSync(gray, encode({ width: 3, height: 2, depth: 16, channels: 1, data: new Uint16Array([0, 1, 2, 1000, 2000, 65535]) }));
    const g = await readTargetImage(gray);
    expect([g.height, g.width, g.description]).toEqual([2, 3, 'PNG 16-bit gray']);
    expect(Array.from(g.data)).toEqual([0, 1, 2, 1000, 2000, 65535]);

    const rgba = join(dir, 'rgba.png');
    writeFileSync(rgba, encode({ width: 2, height: 1, depth: 8, channels: 4, data: new Uint8Array([255, 0, 0, 9, 10, 20, 30, 255]) }));
    const c = await readTargetImage(rgba);
    expect([c.height, c.width]).toEqual([1, 2]);
    expect(c.data[0]).toBeCloseTo(0.299 * 255, 4);
    expect(c.data[1]).toBeCloseTo(0.299 * 10 + 0.587 * 20 + 0.114 * 30, 4);
  });

  test.each([
    ['2-D', [3, 2]],
    ['X x Y x 1', [3, 2, 1]],
  ])('NIfTI %s: voxel (i, j) is row i, column j', async (_name, dims) => {
    // file order (i fastest): (0,0) (1,0) (2,0) (0,1) (1,1) (2,1)
    const path = join(dir, `t${dims.length}.nii.gz`);
    writeFileSync(path, niftiBytes({ dims, values: [1, 2, 3, 4, 5, 6], gzip: true, sformCode: 1, srow: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]] }));
    const t = await readTargetImage(path);
    expect([t.height, t.width]).toEqual([3, 2]);
    expect(Array.from(t.data)).toEqual([1, 4, 2, 5, 3, 6]);
  });

  test('NIfTI: the voxel sizes are ignored, whatever they are', async () => {
    const path = join(dir, 'tiny_pixels.nii');
    writeFileSync(path, niftiBytes({ dims: [3, 2], values: [1, 2, 3, 4, 5, 6], pixdim: [1, 1e-9, NaN, 0] }));
    expect(Array.from((await readTargetImage(path)).data)).toEqual([1, 4, 2, 5, 3, 6]);
  });

  test('a gzip bomb (a 3x2 image header over 64 MiB of zeros) is refused without inflating it', async () => {
    const image = niftiBytes({ dims: [3, 2], values: [1, 2, 3, 4, 5, 6] });
    const bomb = new Uint8Array(image.length + (64 << 20));
    bomb.set(image);
    const path = join(dir, 'bomb.nii.gz');
    writeFileSync(path, gzipSync(bomb));
    await expect(readTargetImage(path)).rejects.toThrow(`target ${path}: the gzip data inflates to more than`);
  });

  test('a volume, a file that is neither PNG nor NIfTI, and a missing file are refused', async () => {
    const volume = join(dir, 'v.nii');
    writeFileSync(volume, niftiBytes({ dims: [2, 2, 2] }));
    await expect(readTargetImage(volume)).rejects.toThrow(/expected a 2-D image \(X x Y or X x Y x 1\), got a 2x2x2 volume/);
    const text = join(dir, 'x.txt');
    writeFileSync(text, 'hello');
    await expect(readTargetImage(text)).rejects.toThrow(/not a PNG or NIfTI image/);
    await expect(readTargetImage(join(dir, 'missing.png'))).rejects.toThrow(/missing\.png: cannot read the file/);
  });
});

/** The true pose of the target: Euler ZXY (0.1, -0.05, 0.08) rad, translation (5, 850, -10) mm. */
const TRUTH = { rotation: [0.1, -0.05, 0.08], translation: [5, 850, -10] };
/** The start: about 3 degrees and 5 mm off. */
const START = { rotation: [0.13, -0.08, 0.11], translation: [8, 846, -10] };
const convertOptions = { parameterization: 'euler_angles', convention: 'ZXY' } as const;

/** Errors of Euler ZXY parameters against {@link TRUTH}. */
async function errorsOf(rotation: number[], translation: number[]) {
  const [estimate, truth] = [
    convert(tf.tensor2d([rotation]), tf.tensor2d([translation]), convertOptions),
    convert(tf.tensor2d([TRUTH.rotation]), tf.tensor2d([TRUTH.translation]), convertOptions),
  ];
  const e = await poseErrors(estimate, truth, 1020);
  tf.dispose([estimate, truth]);
  return { rotationDegrees: e.rotationDegrees[0], translationMm: e.translationMm[0] };
}

describe('runRegister (example CT, cpu)', () => {
  let dir: string;
  let targetPath: string;
  beforeAll(async () => {
    await useCpuBackend();
    dir = mkdtempSync(join(tmpdir(), 'tfdrr-register-'));
    targetPath = join(dir, 'target.png');
    const subject = await loadExampleCt({ orientation: 'AP' });
    const drr = new DRR(subject, { sdd: 1020, height: 64, delx: 6.25 });
    const img = drr.forward(tf.tensor2d([TRUTH.rotation]), tf.tensor2d([TRUTH.translation]), convertOptions);
    await saveImage(img, targetPath, { bitDepth: 16 });
    tf.dispose([img]);
    drr.dispose();
    subject.dispose();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('registers a DRR of a known pose from a start 3 degrees and 5 mm off', async () => {
    const options = parseRegisterArgs([
      targetPath, '--delx', '6.25', '--rotation', START.rotation.join(','), '--translation', START.translation.join(','),
      '--iterations', '60', '--restarts', '2', '--perturb-rotation', '0.02', '--perturb-translation', '3', '--seed', '1',
      '--report', PARAMETERIZATIONS.join(','), '--quiet',
      '--out', join(dir, 'out', 'result.json'), '--gif', join(dir, 'run.gif'), '--overlay', join(dir, 'final.png'), '--loss-curve', join(dir, 'loss.svg'),
    ]);
    const tensorsBefore = tf.memory().numTensors;
    const result: RegisterResult = await runRegister(options);
    expect(tf.memory().numTensors).toBe(tensorsBefore);

    // The JSON file holds the result.
    const json = JSON.parse(readFileSync(join(dir, 'out', 'result.json'), 'utf8'));
    expect(json).toEqual(JSON.parse(JSON.stringify(result)));
    expect(json.target).toEqual({ path: targetPath, height: 64, width: 64, description: 'PNG 16-bit gray' });
    expect(json.detector).toEqual({ height: 64, width: 64, sdd: 1020, delx: 6.25, dely: 6.25, x0: 0, y0: 0, reverseXAxis: true });
    expect(json.ct).toBeNull();
    expect([json.steps, json.reason, json.starts.length]).toEqual([60, 'iterations', 2]);
    expect(json.starts[0].initial).toEqual(START);
    for (const s of json.starts) expect(s.losses).toHaveLength(60);
    expect(json.best).toBe(json.starts[0].loss <= json.starts[1].loss ? 0 : 1);
    expect(json.loss).toBe(json.starts[json.best].loss);
    expect(json.timing.stepMsMedian).toBeGreaterThan(0);
    expect(json.timing.totalSeconds).toBeGreaterThanOrEqual(json.timing.registrationSeconds);

    // The best pose is much closer to the truth than the start.
    const before = await errorsOf(START.rotation, START.translation);
    const best = json.starts[json.best].final;
    const after = await errorsOf(best.rotation, best.translation);
    expect(before.rotationDegrees).toBeGreaterThan(2.5);
    expect(before.translationMm).toBeCloseTo(5, 3);
    expect(after.rotationDegrees).toBeLessThan(before.rotationDegrees / 5);
    expect(after.translationMm).toBeLessThan(before.translationMm / 5);
    // Measured (cpu): 0.084 degrees and 0.27 mm, final loss 3.6e-4 (start 0.058).
    expect(after.rotationDegrees).toBeLessThan(0.3);
    expect(after.translationMm).toBeLessThan(1);
    expect(json.loss).toBeLessThan(json.starts[0].losses[0] / 20);

    // Every reported parameterization gives the same pose back (measured: rotation entries within
    // 4e-7, translations within 2e-4 mm, float32 at 850 mm).
    expect(Object.keys(json.pose).sort()).toEqual([...PARAMETERIZATIONS].sort());
    const matrix = json.pose.matrix.rotation as number[];
    for (const name of PARAMETERIZATIONS) {
      const p = json.pose[name];
      const pose = name === 'matrix'
        ? convert(tf.tensor3d(p.rotation, [1, 4, 4]), null, { parameterization: 'matrix' })
        : convert(tf.tensor2d([p.rotation]), tf.tensor2d([p.translation]), { parameterization: name as Parameterization, convention: p.convention, degrees: p.degrees });
      const values = Array.from(pose.dataSync());
      pose.dispose();
      const rotationErr = Math.max(...[0, 1, 2].flatMap((r) => [0, 1, 2].map((c) => Math.abs(values[4 * r + c] - matrix[4 * r + c]))));
      const translationErr = Math.max(...[3, 7, 11].map((k) => Math.abs(values[k] - matrix[k])));
      expect({ name, rotationErr: rotationErr < 1e-4, translationErr: translationErr < 1e-3 }).toEqual({ name, rotationErr: true, translationErr: true });
    }
    expect(json.pose.euler_angles).toMatchObject({ convention: 'ZXY', degrees: false });

    // The GIF: the start, every 2nd step (60 steps, at most 60 frames), side by side with the target.
    const gif = parseGif(readFileSync(join(dir, 'run.gif')));
    expect(gif.frames).toHaveLength(1 + 30);
    expect([gif.width, gif.height]).toEqual([64 + 2 + 64, 64]);

    const overlay = decode(readFileSync(join(dir, 'final.png')));
    expect([overlay.width, overlay.height, overlay.channels]).toEqual([64, 64, 3]);
    const svg = readFileSync(join(dir, 'loss.svg'), 'utf8');
    expect(svg.match(/class="series"/g)).toHaveLength(2);
  });

  test('a target smaller than the loss patches at the smallest scale is refused', async () => {
    const small = join(dir, 'small.png');
    writeFileSync(small, encode({ width: 12, height: 20, depth: 8, channels: 1, data: new Uint8Array(240).map((_, i) => i) }));
    await expect(runRegister({ ...parseRegisterArgs([small]), quiet: true })).rejects.toThrow(
      new UsageError(`target ${small} is 12x20 px: the loss compares 13x13 px patches, so the detector needs at least 13 px each way at every scale; use a larger image or larger --scales`),
    );
    await expect(runRegister({ ...parseRegisterArgs([targetPath, '--scales', '0.15,1']), quiet: true })).rejects.toThrow(/is 64x64 px \(9x9 px at scale 0\.15\)/);
  });
});

/** The built CLI, spawned (needs `node scripts/build.mjs` first). */
const builtCli = join(root, 'dist/esm/lib/cli/main.js');
if (!existsSync(builtCli)) console.warn(`tfdrr register CLI test SKIPPED: ${builtCli} is missing (run node scripts/build.mjs)`);
const describeBuilt = existsSync(builtCli) ? describe : describe.skip;

describeBuilt('tfdrr register (built CLI)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tfdrr-register-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const cli = (args: string[]) => spawnSync(process.execPath, [builtCli, ...args], { cwd: dir, encoding: 'utf8', timeout: 300000 });

  test('a tiny run: exit 0, progress lines on stderr, one summary line on stdout', () => {
    const target = join(dir, 'target.png');
    const render = cli(['render', '--height', '32', '--delx', '12.5', '--rotation', '0.1,-0.05,0.08', '--translation', '5,850,-10', '--bit-depth', '16', '--out', target]);
    expect(render.status).toBe(0);
    const r = cli(['register', target, '--delx', '12.5', '--rotation', '0.12,-0.07,0.1', '--translation', '5,846,-10', '--iterations', '5']);
    expect(r.status).toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([1, 2, 3, 4, 5].map((i) => expect.stringMatching(new RegExp(`^step ${i}/5 loss [\\d.e-]+$`))));
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^registration\.json: best loss [\d.e-]+, rotation [-\d.e]+,[-\d.e]+,[-\d.e]+ translation [-\d.e]+,[-\d.e]+,[-\d.e]+ \(euler_angles ZXY, radians\), 5 steps in [\d.]+ s \(\d+ ms\/step, cpu\)$/,
    );
    const json = JSON.parse(readFileSync(join(dir, 'registration.json'), 'utf8'));
    expect([json.steps, json.target.width, json.target.height]).toEqual([5, 32, 32]);
  });

  test('a bad argument: exit 1, one error line', () => {
    const r = cli(['register', 'target.png', '--parameterization', 'matrix', '--quiet']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^error: --parameterization matrix cannot be optimized/);
    expect(lines.filter((l) => l.startsWith('error:'))).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
