/**
 * Issue #17, the API side: no option, tensor or size passed to the public API makes tfdrr crash
 * deep inside tf.js, return a NaN or silently zero image, or run the machine out of memory; each
 * is refused with a message naming the input, its value and what was expected.
 */
import * as tf from '@tensorflow/tfjs';
import { DRR, DRR_OPTION_KEYS, FORWARD_OPTION_KEYS, type DRROptions } from '../../lib/drr.js';
import { Detector } from '../../lib/geometry/detector.js';
import { intrinsicMatrix, parseIntrinsicMatrix } from '../../lib/geometry/intrinsics.js';
import { convert } from '../../lib/geometry/pose.js';
import { memoryLimit, setMemoryLimit } from '../../lib/renderers/memory_limit.js';
import { makeSubject, type Subject } from '../../lib/subject.js';
import { closestKey, optionKeys } from '../../lib/validation/options.js';
import { useCpuBackend } from '../helpers/tf_setup.js';

/** A 16³ random volume of 2 mm voxels centred on the origin. */
const phantom = (): Subject =>
  makeSubject({ density: tf.randomUniform([16, 16, 16], 0, 1, 'float32', 1) as tf.Tensor3D, affine: [[2, 0, 0, -15], [0, 2, 0, -15], [0, 0, 2, -15], [0, 0, 0, 1]] });

const small = { sdd: 1020, height: 8, delx: 8 } satisfies DRROptions;
const rot = () => tf.tensor2d([[0.1, -0.2, 0.3]]);
const trans = () => tf.tensor2d([[0, 850, 0]]);

let subject: Subject;
beforeAll(async () => {
  await useCpuBackend();
  subject = phantom();
});
afterAll(() => subject.dispose());
afterEach(() => setMemoryLimit(null));

/** The message of what `f` throws (fails the test if it does not throw). */
function messageOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a throw');
}

describe('detector size: checked against the memory limit before anything is allocated', () => {
  test('a 1e6 x 1e6 detector is refused with its size, the bytes it needs and the limit (was: RangeError: Invalid typed array length)', () => {
    const m = messageOf(() => new DRR(subject, { sdd: 1020, height: 1e6, delx: 2 }));
    expect(m).toMatch(/^new DRR: a 1000000 x 1000000 detector \(1000000000000 pixels\) needs about 363\.8 TiB \(400 bytes per pixel\), over the memory limit of [\d.]+ [KMGT]iB \(half of this (machine|process)'s/);
    expect(m).toMatch(/use a smaller detector \(height, width\), or raise the limit with setMemoryLimit\(bytes\)$/);
  });

  test('a 20000 x 20000 detector is refused under an 8 GiB limit (was: never refused, out of memory)', () => {
    setMemoryLimit(8 * 2 ** 30);
    const before = tf.memory().numTensors;
    expect(() => new DRR(subject, { sdd: 1020, height: 20000, delx: 0.02 })).toThrow(
      /new DRR: a 20000 x 20000 detector \(400000000 pixels\) needs about 149\.0 GiB \(400 bytes per pixel\), over the memory limit of 8\.0 GiB \(set by setMemoryLimit\)/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  test('setIntrinsics and rescaleDetector check the new detector too', () => {
    const drr = new DRR(subject, small);
    setMemoryLimit(2 ** 20);
    expect(() => drr.setIntrinsics({ height: 4096 })).toThrow(/DRR.setIntrinsics: a 4096 x 8 detector \(32768 pixels\) needs about 12\.5 MiB \(400 bytes per pixel\), over the memory limit of 1\.0 MiB/);
    expect(() => drr.rescaleDetector(1e6)).toThrow(/DRR.setIntrinsics: a 8000000 x 8000000 detector/);
    expect(drr.detector.height).toBe(8); // unchanged
    drr.dispose();
  });

  test('the default limit is half of the machine (or container) memory in Node', () => {
    setMemoryLimit(null);
    const { bytes, source } = memoryLimit();
    expect(source).toMatch(/os\.totalmem\(\)|process\.constrainedMemory\(\)/);
    expect(bytes).toBeGreaterThan(0);
    expect(() => setMemoryLimit(-1)).toThrow(/setMemoryLimit: bytes: expected a number > 0 or null, got -1/);
  });
});

describe('batch size: checked at forward time', () => {
  test('100000 poses of a 200 x 200 detector are refused with the number of rays (was: out of memory)', () => {
    const drr = new DRR(subject, { sdd: 1020, height: 200, delx: 1 });
    const r = tf.zeros([100000, 3]);
    const t = tf.zeros([100000, 3]);
    const before = tf.memory().numTensors;
    expect(() => drr.forward(r, t)).toThrow(
      /DRR.forward: 100000 poses x 40000 pixels = 4000000000 rays needs about 953\.7 GiB \(256 bytes per ray: the rays, the image and what a gradient keeps\), over the memory limit of .*; render fewer poses per call, a smaller detector \(height, width\) or a pixel subset \(pSubsample\), or raise the limit/,
    );
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([r, t]);
    drr.dispose();
  });

  test('a tight limit refuses a small batch too, and counts the reference renderer per plane', () => {
    const drr = new DRR(subject, { ...small, implementation: 'reference' });
    setMemoryLimit(2 ** 20);
    const r = tf.zeros([16, 3]);
    const t = tf.tensor2d(Array.from({ length: 16 }, () => [0, 850, 0]));
    // 16 + 16 + 16 + 5 = 53 planes per ray, 320 bytes each: 1024 x (256 + 53 x 320) bytes
    expect(() => drr.forward(r, t)).toThrow(/DRR.forward: 16 poses x 64 pixels = 1024 rays needs about 16\.8 MiB .*the tensor-op reference siddon renderer adds 320 bytes per ray and plane \(53 per ray\).*or smaller patches \(patchSize\)/);
    setMemoryLimit(32 * 2 ** 20);
    const img = drr.forward(r, t);
    expect(img.shape).toEqual([16, 1, 8, 8]);
    tf.dispose([r, t, img]);
    drr.dispose();
  });

  test('DRR.render checks the rays it is given', () => {
    const drr = new DRR(subject, small);
    setMemoryLimit(1024);
    const target = tf.zeros([2, 64, 3]) as tf.Tensor3D;
    const source = tf.zeros([2, 3]);
    expect(() => drr.render(subject.density, source, target)).toThrow(/DRR.render: 2 poses x 64 pixels = 128 rays needs about 32\.0 KiB/);
    tf.dispose([target, source]);
    drr.dispose();
  });
});

describe('disposed tensors are named (was: Cannot read properties of undefined (reading \'backend\'))', () => {
  const disposed = (t: tf.Tensor) => {
    t.dispose();
    return t;
  };

  test.each([
    ['rotation', () => [disposed(rot()), trans(), {}], /^rotation: the tensor \(shape \[1, 3\]\) has been disposed; pass a live tensor/],
    ['translation', () => [rot(), disposed(trans()), {}], /^translation: the tensor \(shape \[1, 3\]\) has been disposed/],
    ['options.density', () => [rot(), trans(), { density: disposed(tf.zeros([16, 16, 16])) }], /^density: the tensor \(shape \[16, 16, 16\]\) has been disposed/],
    ['a matrix pose', () => [disposed(tf.eye(4).reshape([1, 4, 4])), null, { parameterization: 'matrix' }], /^rotation: the tensor \(shape \[1, 4, 4\]\) has been disposed/],
  ] as Array<[string, () => unknown[], RegExp]>)('%s', (_, args, message) => {
    const drr = new DRR(subject, small);
    const [r, t, o] = args();
    expect(() => drr.forward(r as tf.Tensor, t as tf.Tensor, o as object)).toThrow(message);
    tf.dispose([r, t] as tf.Tensor[]);
    drr.dispose();
  });

  test("a subject disposed after the DRR was made, and one disposed before", () => {
    const s = phantom();
    const drr = new DRR(s, small);
    s.dispose();
    expect(() => drr.forward(rot(), trans())).toThrow(/^subject\.density: the tensor \(shape \[16, 16, 16\]\) has been disposed/);
    expect(() => new DRR(s, small)).toThrow(/^subject\.density: the tensor \(shape \[16, 16, 16\]\) has been disposed/);
    drr.dispose();
  });

  test('convert names the disposed argument too', () => {
    const r = disposed(rot());
    expect(() => convert(r, trans())).toThrow(/^rotation: the tensor \(shape \[1, 3\]\) has been disposed/);
  });
});

test('an empty batch is refused (was: a tf.js shape error)', () => {
  const drr = new DRR(subject, small);
  expect(() => drr.forward(tf.zeros([0, 3]), tf.zeros([0, 3]))).toThrow(/^rotation: expected a batch of at least one \(B >= 1\), got shape \[0, 3\]$/);
  expect(() => drr.forward(tf.zeros([0, 4, 4]), null, { parameterization: 'matrix' })).toThrow(/^rotation: expected a batch of at least one \(B >= 1\), got shape \[0, 4, 4\]$/);
  drr.dispose();
});

describe('unknown option keys are rejected, with a suggestion for a near miss (was: silently ignored)', () => {
  test.each([
    ['new DRR', () => new DRR(subject, { ...small, hieght: 32 } as DRROptions), /^new DRR: unknown option 'hieght' \(did you mean 'height'\? known: sdd, height, delx, width, dely, x0, y0, reverseXAxis, renderer, voxelShift, /],
    ['new DRR (no near key)', () => new DRR(subject, { ...small, colour: 'red' } as DRROptions), /^new DRR: unknown option 'colour' \(known: sdd, /],
    ['DRR.forward', () => new DRR(subject, small).forward(rot(), trans(), { paramaterization: 'quaternion' } as object), /^DRR\.forward: unknown option 'paramaterization' \(did you mean 'parameterization'\? known: parameterization, convention, degrees, density, maskToChannels, nPoints, alphamin, alphamax\)$/],
    ['DRR.forward (a DRR option)', () => new DRR(subject, small).forward(rot(), trans(), { alphaMin: 0 } as object), /^DRR\.forward: unknown option 'alphaMin' \(did you mean 'alphamin'\?/],
    ['DRR.fromIntrinsics', () => DRR.fromIntrinsics(subject, intrinsicMatrix(small), { height: 8, delx: 8, sdd: 1020 } as never), /^DRR\.fromIntrinsics: unknown option 'sdd' \(known: height, delx, width, dely, reverseXAxis, renderer, /],
    ['DRR.setIntrinsics', () => new DRR(subject, small).setIntrinsics({ delX: 4 } as object), /^DRR\.setIntrinsics: unknown option 'delX' \(did you mean 'delx'\?/],
    ['Detector', () => new Detector({ ...small, reverseXaxis: false } as never), /^Detector: unknown option 'reverseXaxis' \(did you mean 'reverseXAxis'\?/],
    ['intrinsicMatrix', () => intrinsicMatrix({ ...small, sd: 1 } as never), /^intrinsicMatrix: unknown option 'sd' \(did you mean 'sdd'\?/],
    ['parseIntrinsicMatrix', () => parseIntrinsicMatrix(intrinsicMatrix(small), { height: 8, delx: 8, widht: 8 } as never), /^parseIntrinsicMatrix: unknown option 'widht' \(did you mean 'width'\?/],
    ['convert', () => convert(rot(), trans(), { convension: 'XYZ' } as object), /^convert: unknown option 'convension' \(did you mean 'convention'\?/],
    ['new DRR: options not an object', () => new DRR(subject, [1020, 8, 8] as never), /^new DRR: expected an options object, got an array$/],
  ] as Array<[string, () => unknown, RegExp]>)('%s', (_, f, message) => {
    expect(f).toThrow(message);
  });

  test('the key lists are the interfaces\' keys (a missing key fails to compile)', () => {
    interface Two { a?: number; b?: number }
    // @ts-expect-error 'b' is missing from the list
    optionKeys<Two>()(['a']);
    // @ts-expect-error 'c' is not a key of Two
    optionKeys<Two>()(['a', 'b', 'c']);
    expect(optionKeys<Two>()(['a', 'b'])).toEqual(['a', 'b']);
    expect(DRR_OPTION_KEYS).toContain('implementation');
    expect(FORWARD_OPTION_KEYS).toContain('maskToChannels');
  });

  test('suggestions: one edit (a swap counts as one) per three letters, any case', () => {
    expect(closestKey('hieght', ['sdd', 'height', 'delx'])).toBe('height');
    expect(closestKey('HEIGHT', ['height'])).toBe('height');
    expect(closestKey('sd', ['sdd', 'height'])).toBe('sdd');
    expect(closestKey('wdith', ['width', 'height'])).toBe('width');
    expect(closestKey('colour', ['sdd', 'height', 'delx'])).toBeNull();
  });
});

test("a translation with parameterization 'matrix' is refused (was: silently ignored)", () => {
  const drr = new DRR(subject, small);
  const pose = tf.tensor3d([[[1, 0, 0, 0], [0, 1, 0, 850], [0, 0, 1, 0], [0, 0, 0, 1]]]);
  expect(() => drr.forward(pose, trans(), { parameterization: 'matrix' })).toThrow(
    /^translation: parameterization 'matrix' takes the whole \[B, 4, 4\] pose as the rotation argument, whose last column already holds the translation; pass null as the translation, got shape \[1, 3\]$/,
  );
  const img = drr.forward(pose, null, { parameterization: 'matrix' });
  expect(img.shape).toEqual([1, 1, 8, 8]);
  tf.dispose([pose, img]);
  drr.dispose();
});

describe('no NaN, infinite or silently zero image from the public API', () => {
  test.each([
    ['NaN in options.density', () => [rot(), trans(), { density: tf.fill([16, 16, 16], NaN) }], /^DRR\.forward: pixel \[0, 0, \d+, \d+\] of the \[1, 1, 8, 8\] image is NaN: the density \(the subject's, or options\.density\) holds NaN or infinite values/],
    ['Infinity in options.density', () => [rot(), trans(), { density: tf.fill([16, 16, 16], Infinity) }], /^DRR\.forward: pixel \[0, 0, \d+, \d+\] of the \[1, 1, 8, 8\] image is Infinity/],
    ["quaternion_adjugate values that overflow float32", () => [tf.tensor2d([[1e30, 0, 0, 0, 1e30, 0, 0, 0, 1e30, 1]]), trans(), { parameterization: 'quaternion_adjugate' }], /^rotation, translation: the 'quaternion_adjugate' parameters of pose 0 give a non-finite pose \(NaN at \[\d\]\[\d\]\): they overflow float32/],
    ["se3_log_map values that overflow float32", () => [tf.tensor2d([[1e30, 0, 0]]), tf.tensor2d([[0, 1e30, 0]]), { parameterization: 'se3_log_map' }], /^rotation, translation: the 'se3_log_map' parameters of pose 0 give a non-finite pose/],
    ['a complex rotation (was: its real part)', () => [tf.complex([[0, 0, 0]], [[1, 1, 1]]), trans(), {}], /^rotation: expected a float32 \(or int32\) tensor, got dtype complex64$/],
    ['a bool translation', () => [rot(), tf.tensor2d([[0, 1, 0]], [1, 3], 'bool'), {}], /^translation: expected a float32 \(or int32\) tensor, got dtype bool$/],
    ['a matrix pose whose last row is not (0, 0, 0, 1) (was: a distorted image)', () => [tf.tensor3d([[[1, 0, 0, 0], [0, 1, 0, 850], [0, 0, 1, 0], [0, 0, 0, 0]]]), null, { parameterization: 'matrix' }], /^rotation: parameterization 'matrix': pose 0 has last row \[0, 0, 0, 0\]; expected \[0, 0, 0, 1\]/],
    ['a singular matrix pose (was: a zero image)', () => [tf.tensor3d([[[1, 0, 0, 0], [0, 0, 0, 850], [0, 0, 0, 0], [0, 0, 0, 1]]]), null, { parameterization: 'matrix' }], /^rotation: parameterization 'matrix': the 3x3 rotation part of pose 0 is singular \(determinant 0\)/],
  ] as Array<[string, () => unknown[], RegExp]>)('%s', (_, args, message) => {
    const drr = new DRR(subject, small);
    const [r, t, o] = args();
    const before = tf.memory().numTensors;
    expect(() => drr.forward(r as tf.Tensor, t as tf.Tensor, o as object)).toThrow(message);
    expect(tf.memory().numTensors).toBe(before); // nothing left behind by the refused call
    tf.dispose([r, t, (o as { density?: tf.Tensor }).density].filter((x) => x instanceof tf.Tensor) as tf.Tensor[]);
    drr.dispose();
  });

  test('a NaN subject density is named at forward time', () => {
    const nan = tf.fill([16, 16, 16], NaN) as tf.Tensor3D;
    const s: Subject = { ...subject, density: nan }; // a Subject made by hand, not checked by read() or makeSubject
    const drr = new DRR(s, small);
    expect(() => drr.forward(rot(), trans())).toThrow(/^DRR\.forward: pixel \[0, 0, \d+, \d+\] of the \[1, 1, 8, 8\] image is NaN/);
    drr.dispose();
    nan.dispose();
  });

  test.each([
    [{ sdd: 1e300 }, /^sdd: expected a length in \[1e-6, 1e\+9\] mm \(float32 geometry\), got 1e\+300$/],
    [{ sdd: 1e-300 }, /^sdd: expected a length in \[1e-6, 1e\+9\] mm \(float32 geometry\), got 1e-300$/],
    [{ delx: 1e300 }, /^delx: expected a length in \[1e-6, 1e\+9\] mm/],
    [{ dely: 1e-12 }, /^dely: expected a length in \[1e-6, 1e\+9\] mm/],
    [{ x0: 1e300 }, /^x0: expected an offset in \[-1e\+9, 1e\+9\] mm \(float32 geometry\), got 1e\+300$/],
    [{ height: 3e6, delx: 1e3 }, /^detector: the pixel centres reach 1499999500 mm from the principal ray along x \(delx \(width - 1\) \/ 2 \+ \|x0\|\); expected at most 1e\+9 mm/],
    [{ voxelShift: 1e30 }, /^voxelShift: expected a finite number in \[0, 1\], got 1e\+30$/],
    [{ voxelShift: -0.5 }, /^voxelShift: expected a finite number in \[0, 1\], got -0.5$/],
  ])('DRR options %p (was: a NaN or zero image)', (bad, message) => {
    expect(() => new DRR(subject, { ...small, ...(bad as Partial<DRROptions>) })).toThrow(message);
  });

  test('trilinear alphamin >= alphamax is refused (was: a zero image)', () => {
    const drr = new DRR(subject, { ...small, renderer: 'trilinear' });
    expect(() => drr.forward(rot(), trans(), { alphamin: 2, alphamax: 1 })).toThrow(/^alphamin, alphamax: expected alphamin < alphamax, got 2, 1$/);
    drr.dispose();
  });
});
