/**
 * Registration: steps, batching (poses independent), freezing, multiscale, restarts, stopping
 * rules, L-BFGS, errors, and no leaked tensors; on small detectors of the example CT.
 */
import * as tf from '@tensorflow/tfjs';
import { DRR } from '../../lib/drr.js';
import { loadExampleCt } from '../../lib/io/example_ct.js';
import { perturbPoses } from '../../lib/registration/perturb_poses.js';
import { poseErrors } from '../../lib/registration/pose_errors.js';
import { Registration, type RegistrationOptions, type RegistrationResult } from '../../lib/registration/registration.js';
import { convert } from '../../lib/geometry/pose.js';
import { se3Log } from '../../lib/geometry/se3.js';
import type { Subject } from '../../lib/subject.js';
import { errorsOf } from '../helpers/registration_errors.js';
import { useCpuBackend } from '../helpers/tf_setup.js';

const EULER = { parameterization: 'euler_angles' as const, convention: 'ZXY' };
const TRUE_ROTATION = [0.1, -0.05, 0.08];
const TRUE_TRANSLATION = [5, 850, -10];

let ct: Subject;
let drr: DRR;
let target: tf.Tensor4D;

beforeAll(async () => {
  await useCpuBackend();
  ct = await loadExampleCt();
  // 40 x 40 pixels of 10 mm: the tutorial's 400 mm detector, coarse
  drr = new DRR(ct, { sdd: 1020, height: 40, delx: 10 });
  target = drr.forward(tf.tensor2d([TRUE_ROTATION]), tf.tensor2d([TRUE_TRANSLATION]), EULER);
});

afterAll(() => {
  target.dispose();
  drr.dispose();
  ct.dispose();
});

/** Options with `count` starts perturbed from the truth. */
function starts(count: number, seed = 1, maxRotation = 0.05, maxTranslation = 10): RegistrationOptions {
  return { ...perturbPoses(TRUE_ROTATION, TRUE_TRANSLATION, { count, maxRotation, maxTranslation, seed }), ...EULER };
}

describe('Registration', () => {
  test('Adam steps lower the loss and the pose error of every start; numTensors stays flat; dispose frees everything', async () => {
    const options = starts(3);
    const tensorsAtStart = tf.memory().numTensors;
    const reg = new Registration(drr, target, options);
    const truth = tf.tidy(() => convert(tf.tensor2d([TRUE_ROTATION]), tf.tensor2d([TRUE_TRANSLATION]), EULER));
    const before = await errorsOf(reg, truth);
    await reg.step();
    const tensors = tf.memory().numTensors;
    const result = await reg.run({ iterations: 40 });
    expect(tf.memory().numTensors).toBe(tensors);
    const pose = reg.pose();
    const after = await poseErrors(pose, truth, 1020);
    for (let b = 0; b < 3; b++) {
      expect(result.loss[b]).toBeLessThan(result.steps[0].loss[b] * 0.5);
      expect(after.doubleGeodesicMm[b]).toBeLessThan(before.doubleGeodesicMm[b] * 0.5);
    }
    expect(result.steps).toHaveLength(40);
    expect(result.reason).toBe('iterations');
    expect(result.steps.every((s) => s.ms > 0 && s.scale === 1)).toBe(true);
    tf.dispose([pose, truth]);
    reg.dispose();
    expect(tf.memory().numTensors).toBe(tensorsAtStart);
    tf.dispose([options.rotation, options.translation as tf.Tensor]);
  });

  test('poses are independent: pose 0 moves the same alone as in a batch of three (target given once or per pose)', async () => {
    const batch = starts(3, 7);
    const alone = { ...EULER, rotation: batch.rotation.slice([0, 0], [1, 3]), translation: (batch.translation as tf.Tensor).slice([0, 0], [1, 3]) };
    const perPoseTarget = tf.tile(target, [3, 1, 1, 1]);
    const runs = [new Registration(drr, target, batch), new Registration(drr, perPoseTarget, batch), new Registration(drr, target, alone)];
    const results: RegistrationResult[] = [];
    for (const reg of runs) results.push(await reg.run({ iterations: 5 }));
    for (const r of results.slice(1)) {
      r.steps.forEach((step, i) => {
        expect(step.loss[0]).toBeCloseTo(results[0].steps[i].loss[0], 5);
        step.rotation[0].forEach((v, k) => expect(v).toBeCloseTo(results[0].steps[i].rotation[0][k], 5));
        step.translation[0].forEach((v, k) => expect(v).toBeCloseTo(results[0].steps[i].translation[0][k], 3));
      });
    }
    runs.forEach((r) => r.dispose());
    tf.dispose([perPoseTarget, batch.rotation, batch.translation as tf.Tensor, alone.rotation, alone.translation]);
  });

  test('a frozen pose stays put while the others move; a run ends when every pose is frozen', async () => {
    const options = starts(2, 3);
    const reg = new Registration(drr, target, options);
    await reg.step();
    reg.freeze(1);
    const held = (await reg.step()).rotation[1];
    const result = await reg.run({
      iterations: 10,
      onStep: (step, r) => {
        expect(step.rotation[1]).toEqual(held);
        if (step.iteration === 5) r.freeze(0);
      },
    });
    expect(result.reason).toBe('frozen');
    expect(result.steps.at(-1)?.iteration).toBe(5);
    expect(reg.frozenPoses).toEqual([true, true]);
    expect(result.steps[0].rotation[0]).not.toEqual(result.steps[2].rotation[0]);
    expect(() => reg.freeze(2)).toThrow(/freeze: index/);
    reg.dispose();
    tf.dispose([options.rotation, options.translation as tf.Tensor]);
  });

  test('multiscale: coarse steps on a rescaled detector with resampled targets, then full size; the detector is restored', async () => {
    const options = starts(1, 4);
    const reg = new Registration(drr, target, options);
    const sizes: number[][] = [];
    const result = await reg.run({
      iterations: 3,
      scales: [0.5, 1],
      onStep: (_, r) => {
        sizes.push([r.drr.detector.height, r.targets.shape[2], r.targets.shape[3]]);
      },
    });
    expect(result.steps.map((s) => s.scale)).toEqual([0.5, 0.5, 0.5, 1, 1, 1]);
    expect(sizes).toEqual([...Array(3).fill([20, 20, 20]), ...Array(3).fill([40, 40, 40])]);
    expect(drr.detector.height).toBe(40);
    expect(drr.detector.delx).toBe(10);
    reg.dispose();
    tf.dispose([options.rotation, options.translation as tf.Tensor]);
  });

  test('restarts: the start nearest the truth wins (best = lowest final loss)', async () => {
    const far = perturbPoses(TRUE_ROTATION, TRUE_TRANSLATION, { count: 2, maxRotation: 0.3, maxTranslation: 60, seed: 11 });
    const rotation = tf.concat([far.rotation.slice([0, 0], [1, 3]), tf.tensor2d([TRUE_ROTATION]), far.rotation.slice([1, 0], [1, 3])]);
    const translation = tf.concat([far.translation.slice([0, 0], [1, 3]), tf.tensor2d([TRUE_TRANSLATION]), far.translation.slice([1, 0], [1, 3])]);
    const reg = new Registration(drr, target, { rotation, translation, ...EULER });
    const result = await reg.run({ iterations: 3 });
    expect(result.best).toBe(1);
    // Adam moves every parameter by about its learning rate per step, even from the optimum
    expect(result.loss[1]).toBeLessThan(Math.min(result.loss[0], result.loss[2]) / 3);
    reg.dispose();
    tf.dispose([rotation, translation, far.rotation, far.translation]);
  });

  test('tolerance moves on once the loss stops changing; onStep can stop the run', async () => {
    const options = starts(2, 5);
    const reg = new Registration(drr, target, options);
    const byTolerance = await reg.run({ iterations: 50, tolerance: 10 });
    expect(byTolerance.reason).toBe('tolerance');
    expect(byTolerance.steps).toHaveLength(2);
    const stopped = await reg.run({ iterations: 50, onStep: (s) => (s.iteration >= 3 ? 'stop' : undefined) });
    expect(stopped.reason).toBe('stopped');
    expect(stopped.steps.map((s) => s.iteration)).toEqual([2, 3]);
    reg.dispose();
    tf.dispose([options.rotation, options.translation as tf.Tensor]);
  });

  test('L-BFGS, SGD and momentum lower the loss; SE(3) log-map poses register too', async () => {
    for (const optimizer of ['lbfgs', 'sgd', 'momentum'] as const) {
      const options = starts(2, 6);
      const learningRate = optimizer === 'lbfgs' ? undefined : { rotation: 1e-4, translation: 1e-1 };
      const reg = new Registration(drr, target, { ...options, optimizer, learningRate });
      const result = await reg.run({ iterations: 8 });
      for (let b = 0; b < 2; b++) expect(result.loss[b]).toBeLessThan(result.steps[0].loss[b]);
      reg.dispose();
      tf.dispose([options.rotation, options.translation as tf.Tensor]);
    }
    // the same start as an se(3) log (w, v): the poses are the same matrices
    const options = starts(1, 6);
    const pose = convert(options.rotation, options.translation as tf.Tensor, EULER);
    const log = tf.tidy(() => {
      const { w, v } = seLogOf(pose);
      return { w, v };
    });
    const reg = new Registration(drr, target, { rotation: log.w, translation: log.v, parameterization: 'se3_log_map' });
    const result = await reg.run({ iterations: 10 });
    expect(result.loss[0]).toBeLessThan(result.steps[0].loss[0]);
    reg.dispose();
    tf.dispose([pose, log.w, log.v, options.rotation, options.translation as tf.Tensor]);
  });

  test('clear errors for bad arguments and after dispose', async () => {
    const options = starts(2, 8);
    const make = (o: Partial<RegistrationOptions>, t: tf.Tensor = target) => () => new Registration(drr, t, { ...options, ...o } as RegistrationOptions);
    expect(make({ parameterization: 'matrix' })).toThrow(/'matrix' has no rigid parameters/);
    expect(make({ translation: tf.zeros([3, 3]) })).toThrow(/translation: expected shape \[2, 3\]/);
    expect(make({ rotation: tf.zeros([2, 4]) })).toThrow(/rotation/);
    expect(make({}, tf.zeros([1, 1, 20, 20]))).toThrow(/target: expected shape \[2 or 1, C, 40, 40\]/);
    expect(make({ optimizer: 'rmsprop' as never })).toThrow(/optimizer/);
    expect(make({ learningRate: { rotation: -1 } })).toThrow(/learningRate.rotation/);
    const reg = new Registration(drr, target, options);
    await expect(reg.run({ iterations: 0 })).rejects.toThrow(/iterations/);
    await expect(reg.run({ scales: [2] })).rejects.toThrow(/scales/);
    await expect(reg.run({ tolerance: -1 })).rejects.toThrow(/tolerance/);
    reg.dispose();
    await expect(reg.step()).rejects.toThrow(/after dispose/);
    tf.dispose([options.rotation, options.translation as tf.Tensor]);
  });
});

/** The se(3) log `(w, v)` of poses `[B, 4, 4]` (so that se3Exp(v, w) is the pose). */
function seLogOf(pose: tf.Tensor3D): { w: tf.Tensor2D; v: tf.Tensor2D } {
  const log = se3Log(pose);
  return { v: tf.slice(log, [0, 0], [-1, 3]) as tf.Tensor2D, w: tf.slice(log, [0, 3], [-1, 3]) as tf.Tensor2D };
}
