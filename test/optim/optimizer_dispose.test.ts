/**
 * Issue #17 for the optimizers: disposing leaves no tensor behind (tf.js 4.22's
 * MomentumOptimizer.dispose() keeps its learning-rate scalar), and unknown option keys are
 * rejected with a suggestion.
 */
import * as tf from '@tensorflow/tfjs';
import { GroupedOptimizer, disposeOptimizer } from '../../lib/optim/grouped_optimizer.js';
import { Lbfgs } from '../../lib/optim/lbfgs.js';
import { cosineSchedule, stepSchedule } from '../../lib/optim/lr_schedule.js';
import { useCpuBackend } from '../helpers/tf_setup.js';

beforeAll(useCpuBackend);

const makers: Array<[string, () => tf.Optimizer]> = [
  ['sgd', () => tf.train.sgd(0.1)],
  ['momentum', () => tf.train.momentum(0.1, 0.9)],
  ['nesterov momentum', () => tf.train.momentum(0.1, 0.9, true)],
  ['adam', () => tf.train.adam(0.1)],
  ['adamax', () => tf.train.adamax(0.1)],
  ['adagrad', () => tf.train.adagrad(0.1)],
  ['adadelta', () => tf.train.adadelta(0.1)],
  ['rmsprop', () => tf.train.rmsprop(0.1, 0.9, 0.5, 1e-7, true)],
];

test.each(makers)('a GroupedOptimizer of %s leaves no tensor after dispose (was: momentum kept its learning-rate scalar)', (_, make) => {
  const r = tf.variable(tf.tensor1d([0.5, -0.25]));
  const t = tf.variable(tf.tensor1d([10, -20]));
  const before = tf.memory().numTensors;
  for (let i = 0; i < 10; i++) {
    const opt = new GroupedOptimizer([
      { variables: [r], optimizer: make(), schedule: (k) => 0.1 / (k + 1) },
      { variables: [t], optimizer: make() },
    ]);
    for (let k = 0; k < 3; k++) opt.minimize(() => tf.add(tf.sum(tf.square(r)), tf.sum(tf.square(t))) as tf.Scalar);
    opt.dispose();
  }
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([r, t]);
});

test("disposeOptimizer frees what tf.js's own dispose() keeps of a momentum optimizer", () => {
  const before = tf.memory().numTensors;
  const plain = tf.train.momentum(0.1, 0.9);
  plain.dispose();
  expect(tf.memory().numTensors).toBe(before + 1); // tf.js 4.22: the -learningRate scalar stays
  tf.dispose(Object.values(plain).filter((v) => v instanceof tf.Tensor && !v.isDisposed) as tf.Tensor[]);
  disposeOptimizer(tf.train.momentum(0.1, 0.9));
  expect(tf.memory().numTensors).toBe(before);
});

describe('unknown option keys are rejected with a suggestion (was: silently ignored)', () => {
  test.each([
    ['Lbfgs', () => new Lbfgs([], { maxIteration: 3 } as object), /^Lbfgs: unknown option 'maxIteration' \(did you mean 'maxIterations'\? known: historySize, maxIterations, /],
    ['stepSchedule', () => stepSchedule({ learningRate: 1, stepSize: 2, gama: 0.5 } as never), /^stepSchedule: unknown option 'gama' \(did you mean 'gamma'\? known: learningRate, stepSize, gamma\)$/],
    ['cosineSchedule', () => cosineSchedule({ learningRate: 1, totalIterations: 10, minLearningrate: 0 } as never), /^cosineSchedule: unknown option 'minLearningrate' \(did you mean 'minLearningRate'\?/],
    ['GroupedOptimizer group', () => new GroupedOptimizer([{ variables: [], optimizer: tf.train.sgd(1), shedule: () => 1 } as never]), /^GroupedOptimizer: group 0: unknown option 'shedule' \(did you mean 'schedule'\? known: variables, optimizer, schedule\)$/],
  ] as Array<[string, () => unknown, RegExp]>)('%s', (_, f, message) => {
    expect(f).toThrow(message);
  });
});
