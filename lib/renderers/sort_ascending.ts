/**
 * Row-wise ascending sort with a gradient. tf.js has no gradient for TopK and an int32 tensor on
 * the tape breaks `tf.grad`, so the permutation is computed inside a `customGrad` forward (not
 * recorded on the tape) and the gradient routes `dy` back through the inverse permutation.
 */
import * as tf from '@tensorflow/tfjs';

const sortAscendingWithGrad = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const x2 = args[0] as tf.Tensor2D;
  const save = args[1] as tf.GradSaveFunc;
  const n = x2.shape[1];
  const order = tf.topk(tf.neg(x2), n, true).indices; // ascending permutation p: sorted[k] = x[p[k]]
  const inverse = tf.topk(tf.neg(tf.cast(order, 'float32')), n, true).indices; // p^-1: x[j] = sorted[p^-1[j]]
  save([inverse]);
  return {
    value: tf.gather(x2, order, 1, 1) as tf.Tensor,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.gather(dy, saved[0], 1, 1),
  };
});

/** Sorts each row of `x` `[R, M]` ascending; differentiable (the gradient follows the values). */
export function sortAscending(x: tf.Tensor2D): tf.Tensor2D {
  return sortAscendingWithGrad(x) as tf.Tensor2D;
}
