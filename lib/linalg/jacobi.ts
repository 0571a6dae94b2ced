/**
 * Cyclic Jacobi rotations for small batched symmetric matrices, written as tensor ops (no data
 * read back, so they run on any backend).
 *
 * One round rotates a set of disjoint index pairs `(p, q)` at once (a round-robin ordering: for
 * n = 4, the rounds are {(0,1),(2,3)}, {(0,2),(1,3)}, {(0,3),(1,2)}; for n = 3 one pair each).
 * For a pair, with `d = a_qq - a_pp` and `r = sqrt(d^2 + 4 a_pq^2)`, the rotation
 * `J = I + (c - 1)(E_pp + E_qq) + s (E_pq - E_qp)` with
 *
 *     t = 2 sign(d) a_pq / (|d| + r)      (t = 0 when d = a_pq = 0; sign(0) = +1)
 *     c = 1 / sqrt(1 + t^2),  s = t c
 *
 * zeroes entry (p, q) of `J^T A J` (Golub & Van Loan, Algorithm 8.5.1, the smaller rotation,
 * |angle| <= pi/4). Sweeping every pair a few times converges quadratically.
 */
import * as tf from '@tensorflow/tfjs';

/** One round: disjoint pairs `(p, q)`, `p < q`. */
export type JacobiRound = Array<[number, number]>;

/** The round-robin rounds covering every pair of `0..n-1` once. */
export function jacobiRounds(n: number): JacobiRound[] {
  const players = Array.from({ length: n % 2 === 0 ? n : n + 1 }, (_, i) => i);
  const m = players.length;
  const rounds: JacobiRound[] = [];
  for (let r = 0; r < m - 1; r++) {
    const round: JacobiRound = [];
    for (let k = 0; k < m / 2; k++) {
      const a = players[k];
      const b = players[m - 1 - k];
      if (a < n && b < n) round.push(a < b ? [a, b] : [b, a]);
    }
    rounds.push(round);
    players.splice(1, 0, players.pop() as number); // rotate all but the first
  }
  return rounds;
}

/** Constants of a round: flat indices of (p,p), (q,q), (p,q) and the masks that build J. */
interface RoundConstants {
  indices: tf.Tensor1D;
  diagonalMask: tf.Tensor2D;
  skewMask: tf.Tensor2D;
}

function roundConstants(n: number, round: JacobiRound): RoundConstants {
  const k = round.length;
  const indices: number[] = [];
  for (const [p] of round) indices.push(p * n + p);
  for (const [, q] of round) indices.push(q * n + q);
  for (const [p, q] of round) indices.push(p * n + q);
  const diagonal = new Float32Array(k * n * n);
  const skew = new Float32Array(k * n * n);
  round.forEach(([p, q], i) => {
    diagonal[i * n * n + p * n + p] = 1;
    diagonal[i * n * n + q * n + q] = 1;
    skew[i * n * n + p * n + q] = 1;
    skew[i * n * n + q * n + p] = -1;
  });
  return {
    indices: tf.tensor1d(indices, 'int32'),
    diagonalMask: tf.tensor2d(diagonal, [k, n * n]),
    skewMask: tf.tensor2d(skew, [k, n * n]),
  };
}

/**
 * The rotations `J` `[B, n, n]` of one round for symmetric `a` `[B, n, n]` (only the entries
 * (p,p), (q,q), (p,q) of each pair are read).
 */
export function jacobiRotation(a: tf.Tensor3D, round: JacobiRound): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, n] = a.shape;
    const k = round.length;
    const { indices, diagonalMask, skewMask } = roundConstants(n, round);
    const picked = tf.gather(a.reshape([b, n * n]), indices, 1); // [B, 3k]
    const [app, aqq, apq] = tf.split(picked, [k, k, k], 1);
    const d = tf.sub(aqq, app);
    const r = tf.sqrt(tf.add(tf.square(d), tf.mul(4, tf.square(apq))));
    const den = tf.add(tf.abs(d), r);
    const nonzero = tf.greater(den, 0);
    const sign = tf.where(tf.greaterEqual(d, 0), tf.onesLike(d), tf.fill(d.shape, -1));
    const t = tf.where(nonzero, tf.div(tf.mul(tf.mul(2, sign), apq), tf.where(nonzero, den, tf.onesLike(den))), tf.zerosLike(den));
    const c = tf.rsqrt(tf.add(1, tf.square(t)));
    const s = tf.mul(t, c);
    const eye = tf.eye(n).reshape([1, n * n]);
    const flat = tf.add(eye, tf.add(tf.matMul(tf.sub(c, 1), diagonalMask), tf.matMul(s, skewMask)));
    return flat.reshape([b, n, n]) as tf.Tensor3D;
  });
}

/** Default number of sweeps: float32 converges in 4-5 for n <= 4; one more costs little. */
export const DEFAULT_SWEEPS = 6;
