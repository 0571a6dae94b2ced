/**
 * Masks and other piecewise-constant values computed from tensors that are being differentiated.
 *
 * tf.js registers no gradient for the comparison kernels (Less, Greater, Equal, NotEqual,
 * LogicalAnd, ...), so `tf.where(tf.less(x, c), a, b)` inside `tf.grad` fails with "gradient
 * function not found for Less" as soon as `x` depends on the differentiated input. Running the
 * comparison inside a custom-gradient op keeps it off the tape: its gradient is zero, which is
 * the true derivative of a piecewise-constant function away from its jumps.
 */
import * as tf from '@tensorflow/tfjs';

/** `f(x)` with a zero gradient with respect to `x` (for masks and other piecewise constants). */
export function withoutGradient<T extends tf.Tensor>(f: (x: tf.Tensor) => T, x: tf.Tensor): T {
  const shape = x.shape;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => ({
    value: f(args[0] as tf.Tensor),
    gradFunc: () => tf.zeros(shape),
  }));
  return op(x) as T;
}
