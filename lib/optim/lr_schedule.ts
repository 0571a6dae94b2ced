/**
 * Learning-rate schedules (step and cosine) and {@link setLearningRate}, which sets the rate of any tf.train
 * optimizer.
 *
 * How the rate is set: `SGDOptimizer` and `MomentumOptimizer` have a public `setLearningRate` (it also refreshes
 * their cached `-lr` scalar), and we call it. Adam, Adamax, Adagrad, Adadelta and RMSProp keep the rate in a
 * `learningRate` field (protected in the .d.ts of tf.js 4.22) that `applyGradients` reads on every call, so we
 * write that field. Scaling the gradient instead was rejected: Adam, Adamax, RMSProp and Adagrad are invariant
 * to the gradient's scale, so a scaled gradient would not change their step.
 */
import * as tf from '@tensorflow/tfjs';
import { checkOptionKeys, optionKeys } from '../validation/options.js';

/** A learning rate as a function of the iteration (0-based). */
export type LearningRateSchedule = (iteration: number) => number;

/** Options of {@link stepSchedule}. */
export interface StepScheduleOptions {
  /** Initial learning rate (required, > 0). */
  learningRate: number;
  /** Iterations between decays (required, positive integer). */
  stepSize: number;
  /** Factor applied every `stepSize` iterations. Default 0.1 (PyTorch's StepLR). */
  gamma?: number;
}

/** Options of {@link cosineSchedule}. */
export interface CosineScheduleOptions {
  /** Initial (largest) learning rate (required, > 0). */
  learningRate: number;
  /** Iterations T of the half cosine; the rate stays at `minLearningRate` after T (required, > 0). */
  totalIterations: number;
  /** Final learning rate. Default 0. */
  minLearningRate?: number;
}

/** The keys of {@link StepScheduleOptions}. */
export const STEP_SCHEDULE_OPTION_KEYS = optionKeys<StepScheduleOptions>()(['learningRate', 'stepSize', 'gamma']);
/** The keys of {@link CosineScheduleOptions}. */
export const COSINE_SCHEDULE_OPTION_KEYS = optionKeys<CosineScheduleOptions>()(['learningRate', 'totalIterations', 'minLearningRate']);

function checkIteration(iteration: number): void {
  if (!(Number.isInteger(iteration) && iteration >= 0)) {
    throw new Error(`learning-rate schedule: iteration must be a non-negative integer, got ${iteration}`);
  }
}

/** lr * gamma^floor(i / stepSize), as PyTorch's StepLR. */
export function stepSchedule(options: StepScheduleOptions): LearningRateSchedule {
  if (options == null) throw new Error('stepSchedule: expected options with learningRate and stepSize');
  checkOptionKeys(options, STEP_SCHEDULE_OPTION_KEYS, 'stepSchedule');
  const { learningRate, stepSize, gamma = 0.1 } = options;
  if (!(learningRate > 0 && Number.isFinite(learningRate))) throw new Error(`stepSchedule: learningRate must be positive, got ${learningRate}`);
  if (!(Number.isInteger(stepSize) && stepSize >= 1)) throw new Error(`stepSchedule: stepSize must be a positive integer, got ${stepSize}`);
  if (!(gamma > 0 && Number.isFinite(gamma))) throw new Error(`stepSchedule: gamma must be positive, got ${gamma}`);
  return (iteration) => {
    checkIteration(iteration);
    return learningRate * gamma ** Math.floor(iteration / stepSize);
  };
}

/** lrMin + (lr - lrMin)(1 + cos(pi min(i, T) / T)) / 2, as PyTorch's CosineAnnealingLR over one half period. */
export function cosineSchedule(options: CosineScheduleOptions): LearningRateSchedule {
  if (options == null) throw new Error('cosineSchedule: expected options with learningRate and totalIterations');
  checkOptionKeys(options, COSINE_SCHEDULE_OPTION_KEYS, 'cosineSchedule');
  const { learningRate, totalIterations, minLearningRate = 0 } = options;
  if (!(learningRate > 0 && Number.isFinite(learningRate))) throw new Error(`cosineSchedule: learningRate must be positive, got ${learningRate}`);
  if (!(totalIterations > 0 && Number.isFinite(totalIterations))) {
    throw new Error(`cosineSchedule: totalIterations must be positive, got ${totalIterations}`);
  }
  if (!(minLearningRate >= 0 && minLearningRate <= learningRate)) {
    throw new Error(`cosineSchedule: minLearningRate must be in [0, learningRate], got ${minLearningRate}`);
  }
  return (iteration) => {
    checkIteration(iteration);
    const i = Math.min(iteration, totalIterations);
    return minLearningRate + ((learningRate - minLearningRate) * (1 + Math.cos((Math.PI * i) / totalIterations))) / 2;
  };
}

/** The learning rate a tf.train optimizer uses now. */
export function getLearningRate(optimizer: tf.Optimizer): number {
  const lr = (optimizer as unknown as { learningRate?: unknown }).learningRate;
  if (typeof lr !== 'number') throw new Error(`getLearningRate: ${optimizer.getClassName()} has no numeric learningRate`);
  return lr;
}

/** Sets the learning rate of any tf.train optimizer (see the file comment for how). */
export function setLearningRate(optimizer: tf.Optimizer, learningRate: number): void {
  if (!(learningRate >= 0 && Number.isFinite(learningRate))) {
    throw new Error(`setLearningRate: learningRate must be finite and >= 0, got ${learningRate}`);
  }
  const withSetter = optimizer as unknown as { setLearningRate?: (lr: number) => void };
  if (typeof withSetter.setLearningRate === 'function') {
    withSetter.setLearningRate(learningRate);
    return;
  }
  getLearningRate(optimizer); // throws for an optimizer without a numeric learningRate field
  (optimizer as unknown as { learningRate: number }).learningRate = learningRate;
}
