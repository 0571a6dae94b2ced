/** L-BFGS with strong-Wolfe line search: Rosenbrock in 2 and 10 dimensions, a convex quadratic, batching, leaks. */
import * as tf from '@tensorflow/tfjs';
import { Lbfgs } from '../../lib/optim/lbfgs.js';
import { cubicInterpolate } from '../../lib/optim/strong_wolfe.js';
import { useCpuBackend } from '../helpers/tf_setup.js';

beforeAll(useCpuBackend);

/** sum_i 100 (x_{2i+1} - x_{2i}^2)^2 + (1 - x_{2i})^2 (the extended Rosenbrock function, pairs). */
function rosenbrock(x: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const pairs = x.reshape([-1, 2]);
    const a = pairs.slice([0, 0], [-1, 1]);
    const b = pairs.slice([0, 1], [-1, 1]);
    return tf.add(tf.mul(100, tf.square(tf.sub(b, tf.square(a)))), tf.square(tf.sub(1, a))).sum() as tf.Scalar;
  });
}

const start = (n: number) => Array.from({ length: n }, (_, i) => (i % 2 === 0 ? -1.2 : 1));

test.each([2, 10])('Rosenbrock in %i dimensions from (-1.2, 1, ...) to 1e-6', async (n) => {
  const x = tf.variable(tf.tensor1d(start(n)));
  const lbfgs = new Lbfgs([x], { maxIterations: 500, maxEvaluations: 1000 });
  const result = await lbfgs.minimize(() => rosenbrock(x as tf.Tensor1D));
  const values = Array.from(await x.data());
  const error = Math.max(...values.map((v) => Math.abs(v - 1)));
  // eslint-disable-next-line no-console
  console.log(`Rosenbrock n=${n}: ${result.iterations} iterations, ${result.evaluations} evaluations, loss ${result.loss.toExponential(2)}, max|x-1| ${error.toExponential(2)}, ${result.reason}`);
  expect(result.converged).toBe(true);
  expect(result.loss).toBeLessThan(1e-6);
  expect(rosenbrock(x as tf.Tensor1D).arraySync()).toBeLessThan(1e-6);
  expect(error).toBeLessThan(1e-5);
  expect(result.iterations).toBeLessThan(n === 2 ? 60 : 120);
  x.dispose();
});

test('convex quadratic (n = 8, condition number 100) converges in few iterations', async () => {
  const diag = tf.tensor1d([1, 2, 5, 10, 20, 40, 70, 100]);
  const center = tf.tensor1d([1, -2, 3, -4, 0.5, 0.25, -1, 2]);
  const x = tf.variable(tf.zeros([8]));
  const lbfgs = new Lbfgs([x], { gradientTolerance: 1e-5 });
  const result = await lbfgs.minimize(() => tf.tidy(() => tf.mul(0.5, tf.sum(tf.mul(diag, tf.square(tf.sub(x, center))))) as tf.Scalar));
  expect(result.converged).toBe(true);
  expect(result.iterations).toBeLessThanOrEqual(30); // 28 measured; gradient descent needs hundreds
  const values = await x.data();
  const expected = await center.data();
  values.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 4));
  tf.dispose([diag, center, x]);
});

test('several variables and a batch of independent problems summed (the batched-poses case)', async () => {
  // Two "poses" (rows), each with a "rotation" and a "translation" block, and independent quadratic losses.
  const rotation = tf.variable(tf.tensor2d([[0.3, -0.2, 0.1], [-0.5, 0.4, 0.2]]));
  const translation = tf.variable(tf.tensor2d([[10, -5, 3], [-8, 2, 7]]));
  const targetR = tf.tensor2d([[0.1, 0.05, -0.08], [0.2, -0.1, 0.0]]);
  const targetT = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
  const loss = () => tf.tidy(() => {
    const perPose = tf.add(tf.sum(tf.square(tf.sub(rotation, targetR)), 1).mul(100), tf.sum(tf.square(tf.sub(translation, targetT)), 1));
    return tf.sum(perPose) as tf.Scalar; // a SUM over the batch
  });
  const result = await new Lbfgs([rotation, translation], { gradientTolerance: 1e-5 }).minimize(loss);
  expect(result.converged).toBe(true);
  (await rotation.array()).flat().forEach((v, i) => expect(v).toBeCloseTo(targetR.arraySync().flat()[i], 4));
  (await translation.array()).flat().forEach((v, i) => expect(v).toBeCloseTo(targetT.arraySync().flat()[i], 3));
  tf.dispose([rotation, translation, targetR, targetT]);
});

test('step by step (maxIterations 1) continues one run; numTensors flat', async () => {
  const x = tf.variable(tf.tensor1d(start(4)));
  const lbfgs = new Lbfgs([x], { maxIterations: 1 });
  await lbfgs.minimize(() => rosenbrock(x as tf.Tensor1D)); // warm-up
  const before = tf.memory().numTensors;
  const counts: number[] = [];
  let last = Infinity;
  for (let i = 0; i < 30; i++) {
    const r = await lbfgs.minimize(() => rosenbrock(x as tf.Tensor1D));
    expect(r.iterations).toBeLessThanOrEqual(1);
    expect(r.loss).toBeLessThanOrEqual(last);
    last = r.loss;
    counts.push(tf.memory().numTensors);
  }
  expect(counts.every((c) => c === before)).toBe(true);
  expect(last).toBeLessThan(0.1);
  x.dispose();
});

test('fixed step (lineSearch none) on a quadratic', async () => {
  const x = tf.variable(tf.tensor1d([3, -4]));
  const result = await new Lbfgs([x], { lineSearch: 'none', learningRate: 0.5, maxIterations: 200 })
    .minimize(() => tf.tidy(() => tf.sum(tf.square(x)) as tf.Scalar));
  expect(result.loss).toBeLessThan(1e-8);
  x.dispose();
});

test('cubic interpolation finds the minimizer of a cubic', () => {
  // f(t) = (t - 2)^2 (a quadratic is a cubic): from f, f' at 0 and 3.
  const f = (t: number) => (t - 2) ** 2;
  const g = (t: number) => 2 * (t - 2);
  expect(cubicInterpolate(0, f(0), g(0), 3, f(3), g(3))).toBeCloseTo(2, 10);
  expect(cubicInterpolate(3, f(3), g(3), 0, f(0), g(0))).toBeCloseTo(2, 10);
});

test('clear errors for bad options and variables', () => {
  const x = tf.variable(tf.tensor1d([1, 2]));
  expect(() => new Lbfgs([x], { historySize: 0 })).toThrow(/historySize/);
  expect(() => new Lbfgs([x], { c1: 0.9, c2: 0.5 })).toThrow(/c1/);
  expect(() => new Lbfgs([x], { learningRate: -1 })).toThrow(/learningRate/);
  expect(() => new Lbfgs([x], { lineSearch: 'armijo' as 'none' })).toThrow(/lineSearch/);
  expect(() => new Lbfgs([])).toThrow(/at least one/);
  expect(() => new Lbfgs([x, x])).toThrow(/twice/);
  const n = tf.variable(tf.tensor1d([1, 2], 'int32'));
  expect(() => new Lbfgs([n])).toThrow(/float32/);
  tf.dispose([x, n]);
});
