/**
 * Shared checks and helpers of the image similarity metrics: every metric compares two batches of
 * images `[B, C, H, W]` (channels first, as DiffDRR's) of equal shapes and returns one score per
 * image, `[B]`.
 */
import * as tf from '@tensorflow/tfjs';
import type { Implementation } from '../renderers/ray_renderer.js';

/** Throws unless `x1` and `x2` are float `[B, C, H, W]` tensors of the same shape; returns them typed. */
export function checkImagePair(x1: tf.Tensor, x2: tf.Tensor, metric: string): [tf.Tensor4D, tf.Tensor4D] {
  for (const [name, x] of [['x1', x1], ['x2', x2]] as const) {
    if (!(x instanceof tf.Tensor)) throw new Error(`${metric}: ${name}: expected a tf.Tensor [B, C, H, W]`);
    if (x.isDisposed) throw new Error(`${metric}: ${name}: the tensor (shape [${x.shape.join(', ')}]) has been disposed; pass a live tensor`);
    if (x.rank !== 4) throw new Error(`${metric}: ${name}: expected images [B, C, H, W], got shape [${x.shape.join(', ')}]`);
    if (x.dtype !== 'float32') throw new Error(`${metric}: ${name}: expected dtype float32, got ${x.dtype}`);
    if (x.size === 0) throw new Error(`${metric}: ${name}: expected non-empty images, got shape [${x.shape.join(', ')}]`);
  }
  if (x1.shape.some((n, i) => n !== x2.shape[i])) {
    throw new Error(`${metric}: x1 and x2 must have the same shape, got [${x1.shape.join(', ')}] and [${x2.shape.join(', ')}]`);
  }
  return [x1 as tf.Tensor4D, x2 as tf.Tensor4D];
}

/** Throws unless `value` is a finite number >= 0. */
export function checkNonNegative(value: number, name: string, metric: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new Error(`${metric}: ${name}: expected a finite number >= 0, got ${String(value)}`);
  }
}

/** Throws unless `patchSize` is null/undefined or an integer in `[1, min(H, W)]`. */
export function checkPatchSize(patchSize: number | null | undefined, height: number, width: number, metric: string): void {
  if (patchSize === null || patchSize === undefined) return;
  if (!Number.isInteger(patchSize) || patchSize < 1 || patchSize > Math.min(height, width)) {
    throw new Error(`${metric}: patchSize: expected null or an integer in [1, ${Math.min(height, width)}] (min(H, W)), got ${String(patchSize)}`);
  }
}

/**
 * Which implementation computes a metric: 'auto', the fused kernel where the active backend has
 * it, else the tensor ops; 'fused', the kernel; 'reference', the tensor ops (the kernels' oracles).
 */
export type MetricImplementation = Implementation;

/** `implementation` (default 'auto'), checked. */
export function checkImplementation(implementation: unknown, metric: string): MetricImplementation {
  const value = implementation ?? 'auto';
  if (value !== 'auto' && value !== 'fused' && value !== 'reference') {
    throw new Error(`${metric}: implementation: expected 'auto', 'fused' or 'reference', got ${JSON.stringify(implementation)}`);
  }
  return value;
}

/** Whether a metric with `implementation` runs the fused kernel `kernelName` on the active backend ('fused': always, the op says when it is missing). */
export function usesFusedMetric(implementation: MetricImplementation, kernelName: string): boolean {
  return implementation === 'fused' || (implementation === 'auto' && tf.getKernel(kernelName, tf.getBackend()) != null);
}
