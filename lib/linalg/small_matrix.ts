/**
 * Batched 3-vector and 3x3 helpers written as tensor ops, so `tf.grad` differentiates them.
 *
 * Shapes: vectors `[B, 3]`, matrices `[B, 3, 3]` acting on column vectors. The skew ("hat")
 * matrix of `w = (x, y, z)` is `[[0, -z, y], [z, 0, -x], [-y, x, 0]]` and `vee` reads it back
 * from entries (2,1), (0,2), (1,0).
 */
import * as tf from '@tensorflow/tfjs';
import { withoutGradient } from './without_gradient.js';

/** `[B, n, n]` identities. */
export function batchEye(b: number, n: number): tf.Tensor3D {
  return tf.tidy(() => tf.tile(tf.eye(n).reshape([1, n, n]), [b, 1, 1]) as tf.Tensor3D);
}

/** The nine entries of `[B, 3, 3]` matrices, row-major, each `[B]`. */
export function entries3(m: tf.Tensor3D): tf.Tensor1D[] {
  return tf.unstack(m.reshape([-1, 9]), 1) as tf.Tensor1D[];
}

/** `[B, 3, 3]` from nine row-major entries, each `[B]`. */
export function fromEntries3(e: tf.Tensor[]): tf.Tensor3D {
  return tf.stack(e, 1).reshape([-1, 3, 3]) as tf.Tensor3D;
}

/** Sum over the last axis of `a * b` (a batched dot product), keeping dims if asked. */
export function dot(a: tf.Tensor, b: tf.Tensor, keepDims = false): tf.Tensor {
  return tf.sum(tf.mul(a, b), -1, keepDims);
}

/** Cross products of `[..., 3]` vectors. */
export function cross(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [a0, a1, a2] = tf.unstack(a, -1);
    const [b0, b1, b2] = tf.unstack(b, -1);
    return tf.stack([tf.sub(tf.mul(a1, b2), tf.mul(a2, b1)), tf.sub(tf.mul(a2, b0), tf.mul(a0, b2)), tf.sub(tf.mul(a0, b1), tf.mul(a1, b0))], -1);
  });
}

/** Skew matrices `[B, 3, 3]` of `[B, 3]` vectors (`hat(w) v = w x v`). */
export function hat(w: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => {
    const [x, y, z] = tf.unstack(w, 1);
    const zero = tf.zerosLike(x);
    return fromEntries3([zero, tf.neg(z), y, z, zero, tf.neg(x), tf.neg(y), x, zero]);
  });
}

/** The vector `(m21, m02, m10)` of `[B, 3, 3]` matrices (the inverse of {@link hat} on skew input). */
export function vee(m: tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => {
    const e = entries3(m);
    return tf.stack([e[7], e[2], e[3]], 1) as tf.Tensor2D;
  });
}

/** Determinants `[B]` of `[B, 3, 3]`. */
export function det3(m: tf.Tensor3D): tf.Tensor1D {
  return tf.tidy(() => {
    const [a, b, c, d, e, f, g, h, i] = entries3(m);
    const t0 = tf.mul(a, tf.sub(tf.mul(e, i), tf.mul(f, h)));
    const t1 = tf.mul(b, tf.sub(tf.mul(d, i), tf.mul(f, g)));
    const t2 = tf.mul(c, tf.sub(tf.mul(d, h), tf.mul(e, g)));
    return tf.add(tf.sub(t0, t1), t2) as tf.Tensor1D;
  });
}

/** Inverses of `[B, 3, 3]` through the adjugate (the caller makes sure they are invertible). */
export function inverse3(m: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const [a, b, c, d, e, f, g, h, i] = entries3(m);
    const cof = (p: tf.Tensor, q: tf.Tensor, r: tf.Tensor, s: tf.Tensor) => tf.sub(tf.mul(p, q), tf.mul(r, s));
    const adj = [
      cof(e, i, f, h), cof(c, h, b, i), cof(b, f, c, e),
      cof(f, g, d, i), cof(a, i, c, g), cof(c, d, a, f),
      cof(d, h, e, g), cof(b, g, a, h), cof(a, e, b, d),
    ];
    const det = tf.add(tf.add(tf.mul(a, adj[0]), tf.mul(b, adj[3])), tf.mul(c, adj[6])).reshape([-1, 1, 1]);
    return tf.div(fromEntries3(adj), det) as tf.Tensor3D;
  });
}

/** Transposes of `[B, n, n]`. */
export function transpose3(m: tf.Tensor3D): tf.Tensor3D {
  return tf.transpose(m, [0, 2, 1]);
}

/**
 * `sqrt(x)` for `x > 0` and 0 elsewhere, with a zero (not NaN) gradient where `x <= 0`.
 */
export function sqrtPositive(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const positive = withoutGradient((v) => tf.greater(v, 0), x);
    return tf.where(positive, tf.sqrt(tf.where(positive, x, tf.onesLike(x))), tf.zerosLike(x));
  });
}

/** Euclidean norm over the last axis; its gradient at the zero vector is 0 instead of NaN. */
export function safeNorm(x: tf.Tensor, keepDims = false): tf.Tensor {
  return tf.tidy(() => sqrtPositive(tf.sum(tf.square(x), -1, keepDims)));
}

/** `atan2(y, x)`, 0 at `(0, 0)`, with a zero (not NaN) gradient there. */
export function safeAtan2(y: tf.Tensor, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const origin = withoutGradient((xy) => tf.all(tf.equal(xy, 0), 0), tf.stack([x, y]));
    const angle = tf.atan2(tf.where(origin, tf.zerosLike(y), y), tf.where(origin, tf.onesLike(x), x));
    return tf.where(origin, tf.zerosLike(angle), angle);
  });
}
