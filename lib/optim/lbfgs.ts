/**
 * L-BFGS (limited-memory BFGS; Nocedal & Wright, Numerical Optimization, algorithm 7.4) for tf.js, with a
 * strong-Wolfe line search ({@link strongWolfe}), after PyTorch's `torch.optim.LBFGS`.
 *
 * The optimizer works on a list of float32 tf.Variables, flattened into one vector. The loss and its gradient
 * come from tf.js (`tf.variableGrads`, on any backend); the two-loop recursion, the history and the line search
 * run in float64 on the CPU, which costs two small reads per evaluation and nothing on the device.
 *
 * **Batched over poses.** To register B poses at once, let the variables hold all of them (for instance a
 * `[B, 3]` rotation and a `[B, 3]` translation) and let the loss be the SUM of the B independent losses. The
 * gradient of the sum with respect to pose b is the gradient of loss b, and the Hessian is block diagonal, so one
 * L-BFGS on the concatenated vector minimizes every problem. The line search chooses one step length for all
 * of them and the tolerances apply to the whole vector (max-norm: the worst pose decides). Use a sum, not a mean:
 * a mean scales every gradient by 1/B and the tolerances with it.
 *
 * Precision: tf.js computes in float32, so the loss is known to about 1e-7 relative and the variables are
 * rounded to float32 after every step; tolerances far below that stop on `lossChange` or `step` instead.
 *
 * ```ts
 * const x = tf.variable(tf.tensor1d([-1.2, 1]));
 * const lbfgs = new Lbfgs([x], { maxIterations: 200 });
 * const result = await lbfgs.minimize(() => rosenbrock(x));
 * lbfgs.dispose(); // nothing to free today; kept for symmetry with tf.Optimizer
 * ```
 */
import * as tf from '@tensorflow/tfjs';
import { FlatVariables } from './flat_variables.js';
import { dot, maxAbs, strongWolfe } from './strong_wolfe.js';
import { checkOptionKeys, optionKeys } from '../validation/options.js';

/** Options of {@link Lbfgs}. */
export interface LbfgsOptions {
  /** Number of curvature pairs (s, y) kept. Default 10. */
  historySize?: number;
  /** Most iterations per {@link Lbfgs.minimize} call. Default 100. */
  maxIterations?: number;
  /** Most loss evaluations per {@link Lbfgs.minimize} call. Default ceil(1.25 maxIterations), as in PyTorch. */
  maxEvaluations?: number;
  /** Converged once max |gradient| <= this. Default 1e-7. */
  gradientTolerance?: number;
  /** Converged once max |step| <= this or the loss changes by less than this. Default 1e-9. */
  changeTolerance?: number;
  /**
   * Initial trial step along the L-BFGS direction (the first iteration uses min(1, 1/|g|_1) times it).
   * Default 1.
   */
  learningRate?: number;
  /** `'strongWolfe'` (default) or `'none'` (a fixed step of `learningRate`). */
  lineSearch?: 'strongWolfe' | 'none';
  /** Sufficient-decrease constant of the line search. Default 1e-4. */
  c1?: number;
  /** Curvature constant of the line search. Default 0.9. */
  c2?: number;
  /** Most evaluations in one line search. Default 25. */
  maxLineSearchEvaluations?: number;
}

/** The keys of {@link LbfgsOptions}. */
export const LBFGS_OPTION_KEYS = optionKeys<LbfgsOptions>()([
  'historySize', 'maxIterations', 'maxEvaluations', 'gradientTolerance', 'changeTolerance', 'learningRate', 'lineSearch', 'c1', 'c2', 'maxLineSearchEvaluations',
]);

/** Why {@link Lbfgs.minimize} stopped. */
export type LbfgsStopReason =
  | 'gradientTolerance' | 'step' | 'lossChange' | 'directionalDerivative' | 'maxIterations' | 'maxEvaluations';

/** The outcome of {@link Lbfgs.minimize}. */
export interface LbfgsResult {
  /** Loss at the final variables. */
  loss: number;
  /** max |gradient| at the final variables. */
  gradientNorm: number;
  /** Iterations done in this call. */
  iterations: number;
  /** Loss-and-gradient evaluations done in this call. */
  evaluations: number;
  /** Loss after each iteration of this call. */
  losses: number[];
  /** True when a tolerance was met, false when a budget ran out. `directionalDerivative`: g·d > -changeTolerance, no descent left along the L-BFGS direction (converged to float32 precision). */
  converged: boolean;
  reason: LbfgsStopReason;
}

type Resolved = Required<LbfgsOptions>;

function resolveOptions(options: LbfgsOptions): Resolved {
  checkOptionKeys(options, LBFGS_OPTION_KEYS, 'Lbfgs');
  const maxIterations = options.maxIterations ?? 100;
  const r: Resolved = {
    historySize: options.historySize ?? 10,
    maxIterations,
    maxEvaluations: options.maxEvaluations ?? Math.ceil(1.25 * maxIterations),
    gradientTolerance: options.gradientTolerance ?? 1e-7,
    changeTolerance: options.changeTolerance ?? 1e-9,
    learningRate: options.learningRate ?? 1,
    lineSearch: options.lineSearch ?? 'strongWolfe',
    c1: options.c1 ?? 1e-4,
    c2: options.c2 ?? 0.9,
    maxLineSearchEvaluations: options.maxLineSearchEvaluations ?? 25,
  };
  for (const key of ['historySize', 'maxIterations', 'maxEvaluations', 'maxLineSearchEvaluations'] as const) {
    if (!(Number.isInteger(r[key]) && r[key] >= 1)) throw new Error(`Lbfgs: ${key} must be a positive integer, got ${r[key]}`);
  }
  for (const key of ['gradientTolerance', 'changeTolerance'] as const) {
    if (!(r[key] >= 0)) throw new Error(`Lbfgs: ${key} must be >= 0, got ${r[key]}`);
  }
  if (!(r.learningRate > 0 && Number.isFinite(r.learningRate))) {
    throw new Error(`Lbfgs: learningRate must be positive and finite, got ${r.learningRate}`);
  }
  if (r.lineSearch !== 'strongWolfe' && r.lineSearch !== 'none') {
    throw new Error(`Lbfgs: lineSearch must be 'strongWolfe' or 'none', got ${String(r.lineSearch)}`);
  }
  if (!(r.c1 > 0 && r.c1 < r.c2 && r.c2 < 1)) throw new Error(`Lbfgs: need 0 < c1 < c2 < 1, got c1=${r.c1}, c2=${r.c2}`);
  return r;
}

/** L-BFGS over a list of float32 tf.Variables; see the file comment for batching and precision. */
export class Lbfgs {
  readonly options: Readonly<Resolved>;
  private readonly flat: FlatVariables;
  // State kept between calls, so that repeated `minimize({maxIterations: 1})` calls continue one run.
  private readonly s: Float64Array[] = [];
  private readonly y: Float64Array[] = [];
  private readonly rho: number[] = [];
  private hDiag = 1;
  private direction: Float64Array | null = null;
  private stepLength = 0;
  private previousGradient: Float64Array | null = null;
  private last: { x: Float64Array; loss: number; gradient: Float64Array } | null = null;

  constructor(variables: tf.Variable[], options: LbfgsOptions = {}) {
    this.options = resolveOptions(options);
    this.flat = new FlatVariables(variables);
  }

  /** Forgets the curvature history, as if newly constructed. */
  reset(): void {
    this.s.length = 0;
    this.y.length = 0;
    this.rho.length = 0;
    this.hDiag = 1;
    this.direction = null;
    this.stepLength = 0;
    this.previousGradient = null;
    this.last = null;
  }

  /** Kept for symmetry with tf.Optimizer: the optimizer holds no tensors. */
  dispose(): void {
    this.reset();
  }

  /**
   * Runs up to `maxIterations` iterations on `loss` (a function of the variables returning a scalar), updating the
   * variables in place. Calling it again continues with the kept history.
   */
  async minimize(loss: () => tf.Scalar): Promise<LbfgsResult> {
    const o = this.options;
    const evaluate = async (x: Float64Array) => {
      this.flat.write(x);
      evaluations++;
      return this.flat.lossAndGradient(loss);
    };
    let evaluations = 0;
    let x = await this.flat.read();
    let f: number;
    let g: Float64Array;
    if (this.last != null && this.last.x.every((v, i) => v === x[i])) {
      ({ loss: f, gradient: g } = this.last);
    } else {
      ({ loss: f, gradient: g } = await evaluate(x));
    }
    const losses: number[] = [];
    const done = (reason: LbfgsStopReason): LbfgsResult => {
      this.last = { x, loss: f, gradient: g };
      const converged = reason === 'gradientTolerance' || reason === 'step' || reason === 'lossChange' || reason === 'directionalDerivative';
      return { loss: f, gradientNorm: maxAbs(g), iterations: losses.length, evaluations, losses, converged, reason };
    };
    if (!Number.isFinite(f)) throw new Error(`Lbfgs: the loss is ${f} at the starting point`);
    if (maxAbs(g) <= o.gradientTolerance) return done('gradientTolerance');

    for (;;) {
      const d = this.nextDirection(g);
      const t0 = this.direction == null
        ? Math.min(1, 1 / g.reduce((a, v) => a + Math.abs(v), 0)) * o.learningRate
        : o.learningRate;
      this.previousGradient = g;
      this.direction = d;
      const gtd = dot(g, d);
      if (gtd > -o.changeTolerance) return done('directionalDerivative');

      const fPrevious = f;
      let t = t0;
      if (o.lineSearch === 'strongWolfe') {
        const x0 = x;
        const along = (step: number) => evaluate(x0.map((v, i) => Math.fround(v + step * d[i])));
        const found = await strongWolfe(along, d, t0, f, g, gtd, {
          c1: o.c1, c2: o.c2, changeTolerance: o.changeTolerance, maxEvaluations: o.maxLineSearchEvaluations,
        });
        t = found.step;
        f = found.loss;
        g = found.gradient;
        x = x0.map((v, i) => Math.fround(v + t * d[i]));
        this.flat.write(x);
      } else {
        x = x.map((v, i) => Math.fround(v + t * d[i]));
        ({ loss: f, gradient: g } = await evaluate(x));
      }
      this.stepLength = t;
      losses.push(f);

      if (!Number.isFinite(f)) throw new Error(`Lbfgs: the loss became ${f}; try a smaller learningRate`);
      if (maxAbs(g) <= o.gradientTolerance) return done('gradientTolerance');
      if (maxAbs(d) * Math.abs(t) <= o.changeTolerance) return done('step');
      if (Math.abs(f - fPrevious) < o.changeTolerance) return done('lossChange');
      if (losses.length >= o.maxIterations) return done('maxIterations');
      if (evaluations >= o.maxEvaluations) return done('maxEvaluations');
    }
  }

  /** Updates the history with the last step and returns the L-BFGS direction -H g (two-loop recursion). */
  private nextDirection(g: Float64Array): Float64Array {
    const n = g.length;
    if (this.direction == null || this.previousGradient == null) return g.map((v) => -v);
    const t = this.stepLength;
    const d = this.direction;
    const prev = this.previousGradient;
    const y = g.map((v, i) => v - prev[i]);
    const s = d.map((v) => v * t);
    const ys = dot(y, s);
    if (ys > 1e-10) {
      if (this.s.length === this.options.historySize) {
        this.s.shift();
        this.y.shift();
        this.rho.shift();
      }
      this.s.push(s);
      this.y.push(y);
      this.rho.push(1 / ys);
      this.hDiag = ys / dot(y, y);
    }
    const k = this.s.length;
    const alpha = new Float64Array(k);
    const q = g.map((v) => -v);
    for (let i = k - 1; i >= 0; i--) {
      alpha[i] = dot(this.s[i], q) * this.rho[i];
      const yi = this.y[i];
      for (let j = 0; j < n; j++) q[j] -= alpha[i] * yi[j];
    }
    for (let j = 0; j < n; j++) q[j] *= this.hDiag;
    for (let i = 0; i < k; i++) {
      const beta = dot(this.y[i], q) * this.rho[i];
      const si = this.s[i];
      for (let j = 0; j < n; j++) q[j] += si[j] * (alpha[i] - beta);
    }
    return q;
  }
}
