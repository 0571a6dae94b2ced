/** GroupedOptimizer (one learning rate per parameter group) and learning-rate schedules. */
import * as tf from '@tensorflow/tfjs';
import { GroupedOptimizer } from '../../lib/optim/grouped_optimizer.js';
import { cosineSchedule, getLearningRate, setLearningRate, stepSchedule } from '../../lib/optim/lr_schedule.js';
import { useCpuBackend } from '../helpers/tf_setup.js';

beforeAll(useCpuBackend);

test('one SGD step is x - lr_group * grad, per group, exactly', () => {
  const rotation = tf.variable(tf.tensor1d([0.5, -0.25, 0.125]));
  const translation = tf.variable(tf.tensor1d([10, -20, 30]));
  const opt = new GroupedOptimizer([
    { variables: [rotation], optimizer: tf.train.sgd(0.5) },
    { variables: [translation], optimizer: tf.train.sgd(0.25) },
  ]);
  // loss = sum(r^2) + sum(t^2) / 2: grad r = 2 r, grad t = t.
  const cost = opt.minimize(() => tf.tidy(() => tf.add(tf.sum(tf.square(rotation)), tf.div(tf.sum(tf.square(translation)), 2)) as tf.Scalar), true);
  expect(cost!.dataSync()[0]).toBeCloseTo(0.5 ** 2 + 0.25 ** 2 + 0.125 ** 2 + (100 + 400 + 900) / 2, 3);
  cost!.dispose();
  expect(Array.from(rotation.dataSync())).toEqual([0.5 - 0.5 * 1, -0.25 - 0.5 * -0.5, 0.125 - 0.5 * 0.25]);
  expect(Array.from(translation.dataSync())).toEqual([10 - 0.25 * 10, -20 - 0.25 * -20, 30 - 0.25 * 30]);
  expect(opt.iterations).toBe(1);
  opt.dispose();
  tf.dispose([rotation, translation]);
});

test('Adam groups with different rates move by about their rates; numTensors flat over a run', () => {
  const rotation = tf.variable(tf.tensor1d([0, 0]));
  const translation = tf.variable(tf.tensor1d([0, 0]));
  const opt = new GroupedOptimizer([
    { variables: [rotation], optimizer: tf.train.adam(1e-2) },
    { variables: [translation], optimizer: tf.train.adam(1) },
  ]);
  const loss = () => tf.tidy(() => tf.add(tf.sum(tf.sub(rotation, 5)).neg(), tf.sum(tf.sub(translation, 5)).neg()) as tf.Scalar);
  opt.minimize(loss); // the first step creates Adam's slots
  // Adam's first step is lr * sign(grad) (up to epsilon): +0.01 and +1.
  expect(rotation.dataSync()[0]).toBeCloseTo(0.01, 5);
  expect(translation.dataSync()[0]).toBeCloseTo(1, 4);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 20; i++) {
    opt.minimize(loss);
    expect(tf.memory().numTensors).toBe(before);
  }
  opt.dispose();
  tf.dispose([rotation, translation]);
});

test('momentum groups and schedules through the grouped optimizer', () => {
  const a = tf.variable(tf.scalar(1));
  const b = tf.variable(tf.scalar(1));
  const opt = new GroupedOptimizer([
    { variables: [a], optimizer: tf.train.momentum(0.1, 0.9), schedule: stepSchedule({ learningRate: 0.1, stepSize: 1, gamma: 0.5 }) },
    { variables: [b], optimizer: tf.train.adam(0.3), schedule: cosineSchedule({ learningRate: 0.3, totalIterations: 4 }) },
  ]);
  const rates: number[][] = [];
  for (let i = 0; i < 3; i++) {
    opt.minimize(() => tf.tidy(() => tf.add(tf.square(a), tf.square(b)) as tf.Scalar));
    rates.push(opt.groups.map((g) => getLearningRate(g.optimizer)));
  }
  rates.forEach(([ra, rb], i) => {
    expect(ra).toBeCloseTo(0.1 * 0.5 ** i, 12);
    expect(rb).toBeCloseTo(0.15 * (1 + Math.cos((Math.PI * i) / 4)), 12);
  });
  opt.dispose();
  tf.dispose([a, b]);
});

test('step schedule: lr * gamma^floor(i / stepSize)', () => {
  const s = stepSchedule({ learningRate: 0.2, stepSize: 10, gamma: 0.5 });
  expect([0, 9, 10, 19, 20, 35].map(s)).toEqual([0.2, 0.2, 0.1, 0.1, 0.05, 0.025]);
  expect(stepSchedule({ learningRate: 1, stepSize: 3 })(7)).toBeCloseTo(0.01, 15); // default gamma 0.1
});

test('cosine schedule: lrMin + (lr - lrMin)(1 + cos(pi i / T)) / 2, held at lrMin after T', () => {
  const s = cosineSchedule({ learningRate: 1, totalIterations: 100, minLearningRate: 0.1 });
  expect(s(0)).toBeCloseTo(1, 15);
  expect(s(50)).toBeCloseTo(0.55, 15);
  expect(s(25)).toBeCloseTo(0.1 + 0.9 * (1 + Math.SQRT1_2) / 2, 15);
  expect(s(100)).toBeCloseTo(0.1, 15);
  expect(s(150)).toBeCloseTo(0.1, 15);
});

test('setLearningRate changes the step of SGD and Adam', () => {
  const x = tf.variable(tf.scalar(0));
  const sgd = tf.train.sgd(1);
  setLearningRate(sgd, 0.25);
  sgd.applyGradients([{ name: x.name, tensor: tf.scalar(2) }]);
  expect(x.dataSync()[0]).toBe(-0.5);
  const adam = tf.train.adam(1);
  setLearningRate(adam, 0.125);
  expect(getLearningRate(adam)).toBe(0.125);
  adam.applyGradients([{ name: x.name, tensor: tf.scalar(3) }]);
  expect(x.dataSync()[0]).toBeCloseTo(-0.5 - 0.125, 5);
  tf.dispose([x]);
  sgd.dispose();
  adam.dispose();
});

test('clear errors for bad groups and schedule options', () => {
  const x = tf.variable(tf.scalar(0));
  const frozen = tf.variable(tf.scalar(0), false);
  expect(() => new GroupedOptimizer([])).toThrow(/at least one group/);
  expect(() => new GroupedOptimizer([{ variables: [], optimizer: tf.train.sgd(1) }])).toThrow(/no variables/);
  expect(() => new GroupedOptimizer([{ variables: [x], optimizer: tf.train.sgd(1) }, { variables: [x], optimizer: tf.train.sgd(1) }])).toThrow(/more than one group/);
  expect(() => new GroupedOptimizer([{ variables: [frozen], optimizer: tf.train.sgd(1) }])).toThrow(/not trainable/);
  expect(() => stepSchedule({ learningRate: 1, stepSize: 0 })).toThrow(/stepSize/);
  expect(() => cosineSchedule({ learningRate: 1, totalIterations: 10, minLearningRate: 2 })).toThrow(/minLearningRate/);
  expect(() => stepSchedule({ learningRate: 1, stepSize: 2 })(-1)).toThrow(/iteration/);
  expect(() => setLearningRate(tf.train.sgd(1), NaN)).toThrow(/learningRate/);
  tf.dispose([x, frozen]);
});
