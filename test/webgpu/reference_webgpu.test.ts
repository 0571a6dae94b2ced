/**
 * Every DiffDRR reference case and gradient reference on tf.js's webgpu backend (WGSL, Dawn in
 * Node on lavapipe), through the same tests and tolerances as on cpu
 * (test/helpers/reference_render_tests.ts, test/helpers/reference_gradient_tests.ts): renders
 * within 1e-4 x max of DiffDRR, outlier pixels only where the float64 replay explains them (our
 * webgpu pixel equal to the replay within 1e-5 x max); pose gradients within the gradient
 * tolerances; density gradients within a wider bound, because webgpu's float32 ray geometry
 * rounds differently from cpu's (see `webgpu.densityGradientTolerance`), with the Siddon
 * density-gradient kernel itself pinned to cpu's on the same rays (the last test). Every result is
 * awaited and checked for device errors.
 *
 * Skips (printing why) where no WebGPU adapter or no reference folder is available.
 */
import * as tf from '@tensorflow/tfjs';
import '../../kernels/register_all_kernels.js';
import { convert } from '../../lib/geometry/pose.js';
import { cameraTargets, indexRays } from '../../lib/geometry/rays.js';
import { siddon, type SiddonOptions } from '../../lib/ops/siddon.js';
import { disposeSubjects, drrOf, hasReferences, loadF32, loadManifest, missingReferences, subjectDensity, subjectOf } from '../helpers/reference_cases.js';
import { DEFAULT_DENSITY_GRADIENT_TOLERANCE, defineReferenceGradientTests } from '../helpers/reference_gradient_tests.js';
import { defineReferenceRenderTests, type ReferenceBackend } from '../helpers/reference_render_tests.js';
import { expectNoWebGPUErrors, webgpuTestFile } from '../helpers/webgpu_setup.js';

const { setup, title } = await webgpuTestFile();
if (!hasReferences) console.warn(`test/webgpu/reference_webgpu skipped: ${missingReferences}`);

const webgpu: ReferenceBackend = {
  backend: 'webgpu',
  detail: setup.ok ? title : undefined,
  unavailable: setup.ok ? null : setup.reason,
  check: expectNoWebGPUErrors,
  // measured on lavapipe: d sum / d density 9.3e-4 x max, 67 voxels over 1e-4 x max (cpu 2.4e-4, 27)
  densityGradientTolerance: {
    max: 1.5e-3,
    voxelsOver1e4: 120,
    why: "the ray endpoints come from float32 matMuls on the GPU, a few ulps off cpu's, which moves the length of rays nearly parallel to a voxel face between neighbouring voxels; the kernel itself is checked against cpu's on cpu's rays (the 'with cpu's rays' test)",
  },
};
defineReferenceRenderTests(webgpu);
defineReferenceGradientTests(webgpu);

/**
 * The webgpu Siddon density-gradient kernel without the ray geometry: cpu computes the rays of
 * grad_density_siddon once as DRR.forward does (index-space source and targets, ray lengths in mm,
 * by `indexRays`; the camera-frame targets rebuilt from the detector as the DRR constructor does),
 * and cpu and webgpu each take d loss / d density of `sum(siddon(density, source, target) x
 * rayLength)` (weighted for weighted_sum) from the same float32 arrays, with the options the DRR
 * passes. The two must agree within 1e-4 x max; webgpu's must also meet the default (cpu)
 * tolerance against DiffDRR.
 */
const densityCase = hasReferences ? loadManifest().cases.find((c) => c.name === 'grad_density_siddon') : undefined;
(setup.ok && densityCase ? describe : describe.skip)(`Siddon density gradient on webgpu${setup.ok ? ` (${title})` : ''} with cpu's rays`, () => {
  afterAll(disposeSubjects);

  test.each(['sum', 'weighted_sum'] as const)("grad_density_siddon: d %s / d density equals cpu's within 1e-4 x max", async (loss) => {
    const c = densityCase!;
    const f = c.forward;
    await tf.setBackend('cpu');
    const subject = await subjectOf(c);
    const density = subjectDensity(c);
    const drr = await drrOf(c);
    const rays = tf.tidy(() => {
      const pose = convert(tf.tensor2d(f.rotation as number[][]), tf.tensor2d(f.translation as number[][]), { convention: f.convention ?? 'ZXY' });
      const { source, target, rayLength } = indexRays(pose, cameraTargets(drr.detector.targets()), subject.reorient, drr.affineInverse);
      return { source, target, rayLength };
    });
    const [b, p] = rays.rayLength.shape;
    const [source, target, rayLength] = (await Promise.all([rays.source.data(), rays.target.data(), rays.rayLength.data()])) as Float32Array[];
    tf.dispose(rays);
    const options: SiddonOptions = { voxelShift: drr.voxelShift, reduce: drr.reducefn, alphaMin: drr.alphaMin, alphaMax: drr.alphaMax };
    drr.dispose();
    const weights = loss === 'sum' ? null : loadF32(c.outputs[1].file);

    const gradientOn = async (backend: 'cpu' | 'webgpu'): Promise<Float32Array> => {
      await tf.setBackend(backend);
      const gradient = tf.tidy(() => {
        const src = tf.tensor2d(source, [b, 3]);
        const tgt = tf.tensor2d(target, [b * p, 3]);
        const len = tf.tensor2d(rayLength, [b, p]);
        const w = weights && tf.tensor2d(weights, [b, p]);
        const lossOf = (d: tf.Tensor) => {
          const img = tf.mul(siddon(d as tf.Tensor3D, src, tgt, options).reshape([b, p]), len);
          return tf.sum(w ? tf.mul(img, w) : img);
        };
        return tf.grad(lossOf)(tf.tensor3d(density.values, density.shape as [number, number, number]));
      });
      const values = (await gradient.data()) as Float32Array;
      gradient.dispose();
      return values;
    };
    const cpu = await gradientOn('cpu');
    const gpu = await gradientOn('webgpu');
    expectNoWebGPUErrors();

    expect(gpu.length).toBe(cpu.length);
    let scale = 0;
    let diff = 0;
    for (let i = 0; i < cpu.length; i++) {
      scale = Math.max(scale, Math.abs(cpu[i]));
      diff = Math.max(diff, Math.abs(gpu[i] - cpu[i]));
    }
    // and against DiffDRR, with cpu's rays: the default (cpu) tolerance
    const expected = loadF32((c.grad as Record<string, { file: string }>)[loss].file);
    let refScale = 0;
    for (const v of expected) refScale = Math.max(refScale, Math.abs(v));
    const vsDiffdrr = (ours: Float32Array) => {
      let maxErr = 0;
      let over = 0;
      for (let i = 0; i < expected.length; i++) {
        const e = Math.abs(ours[i] - expected[i]);
        maxErr = Math.max(maxErr, e);
        if (e > 1e-4 * refScale) over++;
      }
      return { maxErr, over };
    };
    const [ofGpu, ofCpu] = [vsDiffdrr(gpu), vsDiffdrr(cpu)];
    console.log(
      `webgpu grad_density_siddon d ${loss} / d density on cpu's rays: max|webgpu - cpu| / max|cpu| = ${(diff / scale).toExponential(2)}; ` +
        `vs DiffDRR: webgpu ${(ofGpu.maxErr / refScale).toExponential(2)} x max (${ofGpu.over} voxels over 1e-4 x max), cpu ${(ofCpu.maxErr / refScale).toExponential(2)} (${ofCpu.over})`,
    );
    expect(diff).toBeLessThanOrEqual(1e-4 * scale);
    expect(ofGpu.maxErr).toBeLessThanOrEqual(DEFAULT_DENSITY_GRADIENT_TOLERANCE.max * refScale);
    expect(ofGpu.over).toBeLessThanOrEqual(DEFAULT_DENSITY_GRADIENT_TOLERANCE.voxelsOver1e4);
  });
});
