/**
 * Issue #17 for Registration: unknown options (top level and nested), disposed or non-finite
 * inputs, and no tensor left behind by a Registration of any optimizer (tf.js's momentum
 * optimizer keeps its learning-rate scalar after dispose()). On a tiny synthetic subject.
 */
import * as tf from '@tensorflow/tfjs';
import { DRR } from '../../lib/drr.js';
import { perturbPoses } from '../../lib/registration/perturb_poses.js';
import { Registration, type RegistrationOptimizer, type RegistrationOptions } from '../../lib/registration/registration.js';
import { makeSubject, type Subject } from '../../lib/subject.js';
import { useCpuBackend } from '../helpers/tf_setup.js';

let subject: Subject;
let drr: DRR;
let target: tf.Tensor4D;
const pose = () => ({ rotation: tf.tensor2d([[0.05, 0, -0.03]]), translation: tf.tensor2d([[2, 850, -1]]) });

beforeAll(async () => {
  await useCpuBackend();
  subject = makeSubject({ density: tf.randomUniform([16, 16, 16], 0, 1, 'float32', 2) as tf.Tensor3D, affine: [[2, 0, 0, -15], [0, 2, 0, -15], [0, 0, 2, -15], [0, 0, 0, 1]] });
  // 16 x 16 pixels: the default loss's 13 px patches fit
  drr = new DRR(subject, { sdd: 1020, height: 16, delx: 3 });
  target = drr.forward(tf.tensor2d([[0, 0, 0]]), tf.tensor2d([[0, 850, 0]]));
});
afterAll(() => {
  target.dispose();
  drr.dispose();
  subject.dispose();
});

/** Runs `f` with fresh start poses and disposes them after. */
function withPose<T>(f: (p: { rotation: tf.Tensor2D; translation: tf.Tensor2D }) => T): T {
  const p = pose();
  try {
    return f(p);
  } finally {
    tf.dispose([p.rotation, p.translation]);
  }
}

test.each(['adam', 'sgd', 'momentum', 'lbfgs'] as RegistrationOptimizer[])(
  "tf.memory().numTensors is flat over 50 Registrations with '%s' (construct, two steps, dispose; was: momentum leaked 2 per Registration)",
  async (optimizer) => {
    const p = pose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) {
      const reg = new Registration(drr, target, { ...p, optimizer, learningRate: { rotation: 1e-3, translation: 1e-1 } });
      await reg.step();
      await reg.step();
      reg.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([p.rotation, p.translation]);
  },
);

describe('unknown options are rejected with a suggestion (was: silently ignored)', () => {
  test.each([
    ['top level', { optimiser: 'sgd' }, /^new Registration: unknown option 'optimiser' \(did you mean 'optimizer'\? known: parameterization, convention, degrees, rotation, translation, loss, optimizer, learningRate, momentum, schedule, lbfgs, render\)$/],
    ['a convert option', { paramaterization: 'quaternion' }, /^new Registration: unknown option 'paramaterization' \(did you mean 'parameterization'\?/],
    ['learningRate', { learningRate: { rotaton: 0.1 } }, /^new Registration: learningRate: unknown option 'rotaton' \(did you mean 'rotation'\? known: rotation, translation\)$/],
    ['schedule', { schedule: { translations: () => 1 } }, /^new Registration: schedule: unknown option 'translations' \(did you mean 'translation'\?/],
    ['render', { render: { npoints: 100 } }, /^new Registration: render: unknown option 'npoints' \(did you mean 'nPoints'\? known: nPoints, alphamin, alphamax\)$/],
    ['lbfgs', { optimizer: 'lbfgs', lbfgs: { historysize: 5 } }, /^new Registration: lbfgs: unknown option 'historysize' \(did you mean 'historySize'\?/],
    ['lbfgs maxIterations (one per step)', { optimizer: 'lbfgs', lbfgs: { maxIterations: 5 } }, /^new Registration: lbfgs: unknown option 'maxIterations'/],
  ])('%s', (_, bad, message) => {
    withPose((p) => expect(() => new Registration(drr, target, { ...p, ...(bad as Partial<RegistrationOptions>) })).toThrow(message));
  });

  test('run', async () => {
    const p = pose();
    const reg = new Registration(drr, target, p);
    await expect(reg.run({ iteration: 3 } as object)).rejects.toThrow(/^Registration\.run: unknown option 'iteration' \(did you mean 'iterations'\? known: iterations, scales, tolerance, onStep\)$/);
    reg.dispose();
    tf.dispose([p.rotation, p.translation]);
  });

  test('perturbPoses', () => {
    expect(() => perturbPoses([0, 0, 0], [0, 850, 0], { count: 2, maxRotaton: 0.1 } as never)).toThrow(
      /^perturbPoses: unknown option 'maxRotaton' \(did you mean 'maxRotation'\? known: count, maxRotation, maxTranslation, seed\)$/,
    );
  });
});

describe('disposed, empty or non-finite inputs are named', () => {
  const disposed = <T extends tf.Tensor>(t: T) => {
    t.dispose();
    return t;
  };

  test('a disposed translation (was: Cannot read properties of undefined)', () => {
    const rotation = tf.tensor2d([[0, 0, 0]]);
    expect(() => new Registration(drr, target, { rotation, translation: disposed(tf.tensor2d([[0, 850, 0]])) })).toThrow(/^Registration: translation: the tensor \(shape \[1, 3\]\) has been disposed/);
    rotation.dispose();
  });

  test('a disposed rotation', () => {
    const translation = tf.tensor2d([[0, 850, 0]]);
    expect(() => new Registration(drr, target, { rotation: disposed(tf.tensor2d([[0, 0, 0]])), translation })).toThrow(/^rotation: the tensor \(shape \[1, 3\]\) has been disposed/);
    translation.dispose();
  });

  test('a disposed target', () => {
    const t = disposed(tf.zeros([1, 1, 16, 16]));
    withPose((p) => expect(() => new Registration(drr, t, p)).toThrow(/^Registration: target: the tensor \(shape \[1, 1, 16, 16\]\) has been disposed/));
  });

  test('an empty batch', () => {
    const [rotation, translation] = [tf.zeros([0, 3]), tf.zeros([0, 3])];
    expect(() => new Registration(drr, target, { rotation, translation })).toThrow(/^rotation: expected a batch of at least one \(B >= 1\), got shape \[0, 3\]$/);
    tf.dispose([rotation, translation]);
  });

  test('a NaN translation (was: accepted, then a NaN loss blamed on the learning rate)', () => {
    const [rotation, translation] = [tf.tensor2d([[0, 0, 0]]), tf.tensor2d([[0, NaN, 0]])];
    expect(() => new Registration(drr, target, { rotation, translation })).toThrow(/^Registration: translation: expected finite values, found NaN at flat index 1$/);
    tf.dispose([rotation, translation]);
  });

  test('a NaN target (was: accepted, then a NaN loss blamed on the learning rate)', () => {
    const t = tf.fill([1, 1, 16, 16], NaN);
    withPose((p) => expect(() => new Registration(drr, t, p)).toThrow(/^Registration: target: expected finite values, found NaN at flat index 0$/));
    t.dispose();
  });

  test.each([[1], [-0.1], [NaN]])('momentum %p (was: unchecked; 1 or more diverges, NaN gives NaN poses)', (momentum) => {
    withPose((p) => expect(() => new Registration(drr, target, { ...p, optimizer: 'momentum', momentum })).toThrow(new RegExp(`^Registration: momentum: expected a number in \\[0, 1\\), got ${momentum}$`)));
  });
});
