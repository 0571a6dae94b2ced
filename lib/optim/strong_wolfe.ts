/**
 * Strong-Wolfe line search (Nocedal & Wright, Numerical Optimization, 2nd ed., algorithms 3.5 and 3.6) with
 * safeguarded cubic interpolation, a port of PyTorch's `torch.optim.lbfgs._strong_wolfe`. All arithmetic is
 * in float64 on the CPU; only the objective is evaluated by tf.js.
 */

/** The objective along a line: the loss and its gradient at `x + t d` (float64, length of `x`). */
export type LineObjective = (t: number) => Promise<{ loss: number; gradient: Float64Array }>;

/** Options of {@link strongWolfe}. */
export interface StrongWolfeOptions {
  /** Sufficient-decrease (Armijo) constant c1, 0 < c1 < c2 < 1. Default 1e-4. */
  c1?: number;
  /** Curvature constant c2 of the strong Wolfe condition |g(t)·d| <= c2 |g(0)·d|. Default 0.9. */
  c2?: number;
  /** Stop zooming once the bracket width times max |d| is below this. Default 1e-9. */
  changeTolerance?: number;
  /** Most objective evaluations. Default 25. */
  maxEvaluations?: number;
}

/** What {@link strongWolfe} found: the accepted step and the loss and gradient there. */
export interface StrongWolfeResult {
  step: number;
  loss: number;
  gradient: Float64Array;
  evaluations: number;
}

export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/**
 * Minimizer of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, clamped to `bounds`
 * (default: the interval between x1 and x2); the interval's midpoint when the cubic has no minimizer.
 */
export function cubicInterpolate(
  x1: number, f1: number, g1: number, x2: number, f2: number, g2: number, bounds?: [number, number],
): number {
  const [lo, hi] = bounds ?? (x1 <= x2 ? [x1, x2] : [x2, x1]);
  const d1 = g1 + g2 - (3 * (f1 - f2)) / (x1 - x2);
  const d2Square = d1 * d1 - g1 * g2;
  if (d2Square >= 0) {
    const d2 = Math.sqrt(d2Square);
    const minPos = x1 <= x2
      ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
      : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    if (Number.isFinite(minPos)) return Math.min(Math.max(minPos, lo), hi);
  }
  return (lo + hi) / 2;
}

/**
 * Finds a step t along the descent direction `d` satisfying the strong Wolfe conditions
 * f(t) <= f(0) + c1 t g(0)·d and |g(t)·d| <= c2 |g(0)·d|, starting from the trial step `t`.
 * `loss`, `gradient` are the values at t = 0; `gtd` = g(0)·d must be negative.
 * When the evaluation budget runs out, returns the best point of the bracket found so far.
 */
export async function strongWolfe(
  objective: LineObjective, d: Float64Array, t: number, loss: number, gradient: Float64Array, gtd: number,
  options: StrongWolfeOptions = {},
): Promise<StrongWolfeResult> {
  const { c1 = 1e-4, c2 = 0.9, changeTolerance = 1e-9, maxEvaluations = 25 } = options;
  if (!(c1 > 0 && c1 < c2 && c2 < 1)) throw new Error(`strongWolfe: need 0 < c1 < c2 < 1, got c1=${c1}, c2=${c2}`);
  if (!(Number.isInteger(maxEvaluations) && maxEvaluations >= 1)) {
    throw new Error(`strongWolfe: maxEvaluations must be a positive integer, got ${maxEvaluations}`);
  }
  const dNorm = maxAbs(d);
  let { loss: fNew, gradient: gNew } = await objective(t);
  let evaluations = 1;
  let gtdNew = dot(gNew, d);

  let tPrev = 0;
  let fPrev = loss;
  let gPrev = gradient;
  let gtdPrev = gtd;
  let done = false;
  let iteration = 0;
  let bracket: number[] = [];
  let bracketF: number[] = [];
  let bracketG: Float64Array[] = [];
  let bracketGtd: number[] = [];

  // Bracketing phase.
  while (iteration < maxEvaluations) {
    if (fNew > loss + c1 * t * gtd || (iteration > 1 && fNew >= fPrev)) {
      [bracket, bracketF, bracketG, bracketGtd] = [[tPrev, t], [fPrev, fNew], [gPrev, gNew], [gtdPrev, gtdNew]];
      break;
    }
    if (Math.abs(gtdNew) <= -c2 * gtd) {
      [bracket, bracketF, bracketG, bracketGtd] = [[t], [fNew], [gNew], [gtdNew]];
      done = true;
      break;
    }
    if (gtdNew >= 0) {
      [bracket, bracketF, bracketG, bracketGtd] = [[tPrev, t], [fPrev, fNew], [gPrev, gNew], [gtdPrev, gtdNew]];
      break;
    }
    const minStep = t + 0.01 * (t - tPrev);
    const maxStep = t * 10;
    const tmp = t;
    t = cubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, [minStep, maxStep]);
    [tPrev, fPrev, gPrev, gtdPrev] = [tmp, fNew, gNew, gtdNew];
    ({ loss: fNew, gradient: gNew } = await objective(t));
    evaluations++;
    gtdNew = dot(gNew, d);
    iteration++;
  }
  if (iteration === maxEvaluations) {
    [bracket, bracketF, bracketG, bracketGtd] = [[0, t], [loss, fNew], [gradient, gNew], [gtd, gtdNew]];
  }

  // Zoom phase: shrink the bracket until a point satisfies the strong Wolfe conditions.
  let insufficientProgress = false;
  let [low, high] = bracketF[0] <= bracketF[bracketF.length - 1] ? [0, 1] : [1, 0];
  while (!done && iteration < maxEvaluations) {
    if (Math.abs(bracket[1] - bracket[0]) * dNorm < changeTolerance) break;
    t = cubicInterpolate(bracket[0], bracketF[0], bracketGtd[0], bracket[1], bracketF[1], bracketGtd[1]);
    const bMax = Math.max(bracket[0], bracket[1]);
    const bMin = Math.min(bracket[0], bracket[1]);
    const eps = 0.1 * (bMax - bMin);
    if (Math.min(bMax - t, t - bMin) < eps) {
      if (insufficientProgress || t >= bMax || t <= bMin) {
        t = Math.abs(t - bMax) < Math.abs(t - bMin) ? bMax - eps : bMin + eps;
        insufficientProgress = false;
      } else {
        insufficientProgress = true;
      }
    } else {
      insufficientProgress = false;
    }
    ({ loss: fNew, gradient: gNew } = await objective(t));
    evaluations++;
    gtdNew = dot(gNew, d);
    iteration++;
    if (fNew > loss + c1 * t * gtd || fNew >= bracketF[low]) {
      [bracket[high], bracketF[high], bracketG[high], bracketGtd[high]] = [t, fNew, gNew, gtdNew];
      [low, high] = bracketF[0] <= bracketF[1] ? [0, 1] : [1, 0];
    } else {
      if (Math.abs(gtdNew) <= -c2 * gtd) {
        done = true;
      } else if (gtdNew * (bracket[high] - bracket[low]) >= 0) {
        [bracket[high], bracketF[high], bracketG[high], bracketGtd[high]] =
          [bracket[low], bracketF[low], bracketG[low], bracketGtd[low]];
      }
      [bracket[low], bracketF[low], bracketG[low], bracketGtd[low]] = [t, fNew, gNew, gtdNew];
    }
  }
  // A one-point bracket (found in the bracketing phase) has low = 0.
  if (bracket.length === 1) low = 0;
  return { step: bracket[low], loss: bracketF[low], gradient: bracketG[low], evaluations };
}
