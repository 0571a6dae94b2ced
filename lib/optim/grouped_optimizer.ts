/**
 * Parameter groups with their own tf.train optimizers, e.g. separate learning rates for rotation and translation:
 *
 * ```ts
 * const opt = new GroupedOptimizer([
 *   { variables: [rotation], optimizer: tf.train.adam(1e-2) },
 *   { variables: [translation], optimizer: tf.train.adam(1e0) },
 * ]);
 * for (let i = 0; i < 100; i++) opt.minimize(() => loss(rotation, translation));
 * ```
 *
 * `minimize` computes the gradient of the loss with respect to every group's variables once
 * (`tf.variableGrads`) and hands each group's gradients to its optimizer (`applyGradients`).
 */
import * as tf from '@tensorflow/tfjs';
import { setLearningRate, type LearningRateSchedule } from './lr_schedule.js';
import { checkOptionKeys, optionKeys } from '../validation/options.js';

/** One group of variables updated by one optimizer. */
export interface ParameterGroup {
  /** Variables of the group (required, non-empty, trainable, in no other group). */
  variables: tf.Variable[];
  /** Any tf.train optimizer (required); owned by the group: {@link GroupedOptimizer.dispose} disposes it. */
  optimizer: tf.Optimizer;
  /** Learning rate per iteration; when given, set on the optimizer before every step. Default none. */
  schedule?: LearningRateSchedule;
}

/** The keys of {@link ParameterGroup}. */
export const PARAMETER_GROUP_KEYS = optionKeys<ParameterGroup>()(['variables', 'optimizer', 'schedule']);

/**
 * Disposes a tf.train optimizer and every tensor it still holds in its own fields. tf.js 4.22's
 * `MomentumOptimizer.dispose()` frees its momentum scalar and accumulators but not the
 * learning-rate scalar `c` its parent `SGDOptimizer` made (its override does not call
 * `super.dispose()`), so each momentum optimizer would leak one tensor. The other tf.train
 * optimizers leave nothing behind; the sweep costs them nothing.
 */
export function disposeOptimizer(optimizer: tf.Optimizer): void {
  optimizer.dispose();
  for (const value of Object.values(optimizer)) {
    if (value instanceof tf.Tensor && !value.isDisposed) value.dispose();
  }
}

export class GroupedOptimizer {
  readonly groups: readonly ParameterGroup[];
  private readonly variables: tf.Variable[];
  private iteration = 0;

  constructor(groups: ParameterGroup[]) {
    if (!Array.isArray(groups) || groups.length === 0) throw new Error('GroupedOptimizer: need at least one group');
    const seen = new Set<string>();
    groups.forEach((group, i) => {
      checkOptionKeys(group, PARAMETER_GROUP_KEYS, `GroupedOptimizer: group ${i}`);
      if (!(group.optimizer instanceof tf.Optimizer)) throw new Error(`GroupedOptimizer: group ${i} has no tf.train optimizer`);
      if (!Array.isArray(group.variables) || group.variables.length === 0) {
        throw new Error(`GroupedOptimizer: group ${i} has no variables`);
      }
      for (const v of group.variables) {
        if (!(v instanceof tf.Variable)) throw new Error(`GroupedOptimizer: group ${i} holds something that is not a tf.Variable`);
        if (!v.trainable) throw new Error(`GroupedOptimizer: variable ${v.name} (group ${i}) is not trainable`);
        if (seen.has(v.name)) throw new Error(`GroupedOptimizer: variable ${v.name} is in more than one group`);
        seen.add(v.name);
      }
    });
    this.groups = groups.map((g) => ({ ...g, variables: [...g.variables] }));
    this.variables = this.groups.flatMap((g) => g.variables);
  }

  /** Number of steps taken (the iteration passed to the schedules next). */
  get iterations(): number {
    return this.iteration;
  }

  /**
   * One step: gradients of `loss` once, then each group's optimizer on its variables. Returns the loss (the
   * caller disposes it) when `returnCost` is true, else null.
   */
  minimize(loss: () => tf.Scalar, returnCost = false): tf.Scalar | null {
    const { value, grads } = tf.variableGrads(loss, this.variables);
    try {
      this.applyGradients(grads);
    } finally {
      tf.dispose(grads);
    }
    if (returnCost) return value;
    value.dispose();
    return null;
  }

  /** Applies gradients keyed by variable name (as `tf.variableGrads` returns them); variables without one stay put. */
  applyGradients(grads: tf.NamedTensorMap): void {
    for (const group of this.groups) {
      if (group.schedule) setLearningRate(group.optimizer, group.schedule(this.iteration));
      // Every variable is listed, in a fixed order, because tf.train optimizers index their slots by position;
      // they skip an entry whose tensor is missing.
      const named = group.variables.map((v) => ({ name: v.name, tensor: grads[v.name] as tf.Tensor }));
      if (named.some((n) => n.tensor != null)) group.optimizer.applyGradients(named);
    }
    this.iteration++;
  }

  /** Disposes every group's optimizer (its slot variables, see {@link disposeOptimizer}); the parameter variables are left alone. */
  dispose(): void {
    for (const group of this.groups) disposeOptimizer(group.optimizer);
  }
}
