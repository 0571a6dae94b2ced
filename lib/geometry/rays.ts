/**
 * From a pose to rays: camera -> world -> volume index coordinates (conventions note sections 4-5).
 *
 *     camera -> world:  M = P Q    (reorientation Q first, then the pose P)
 *     source_world     = P[:3, 3]
 *     target_world(n)  = P[:3, :3] Q target_cam(n) + P[:3, 3]
 *     index(p)         = affine^-1 p
 *
 * The forward path composes the 4x4s first (`affine^-1 P Q`, batched), then maps the pixels: in
 * one pass of the `CameraRays` kernel where the backend has it (cpu, wasm: its gradient is one
 * more pass), else with a single homogeneous matMul, which on tf.js's cpu backend is several times
 * cheaper than the broadcast adds of the point-by-point chain.
 */
import * as tf from '@tensorflow/tfjs';
import { cameraRays, hasCameraRays } from '../ops/camera_rays.js';
import type { Matrix4 } from './matrix4.js';

/** World-space rays of a batch of poses. */
export interface WorldRays {
  /** `[B, 3]` source positions (mm). */
  source: tf.Tensor2D;
  /** `[B, P, 3]` pixel-centre positions (mm). */
  target: tf.Tensor3D;
}

/** Rays of a batch of poses in the volume's index coordinates, with their lengths in mm. */
export interface IndexRays {
  /** `[B, 3]` source positions (continuous voxel index). */
  source: tf.Tensor2D;
  /** `[B, P, 3]` pixel-centre positions (continuous voxel index). */
  target: tf.Tensor3D;
  /** `[B, P]` source-to-pixel distances in world mm. */
  rayLength: tf.Tensor2D;
}

/** A row-major 4x4 as a `[1, 4, 4]` tensor. */
function batchOfOne(m: Matrix4): tf.Tensor3D {
  return tf.tensor3d(Float32Array.from(m), [1, 4, 4]);
}

/**
 * Camera-frame pixel centres `t` `[P, 3]` (for `CameraRays`), in homogeneous form `(t, 1)`
 * `[P, 4]` (for the targets) and their outer products `t ⊗ t` `[P, 9]` (for the ray lengths),
 * made once per detector.
 */
export type CameraTargets = {
  points: tf.Tensor2D;
  homogeneous: tf.Tensor2D;
  outer: tf.Tensor2D;
};

/** {@link CameraTargets} of `points` `[P, 3]` (new tensors; `points` stays the caller's). */
export function cameraTargets(points: tf.Tensor2D): CameraTargets {
  const p = points.shape[0];
  return tf.tidy(() => ({
    points: points.clone(),
    homogeneous: tf.concat([points, tf.ones([p, 1])], 1) as tf.Tensor2D,
    outer: tf.mul(points.reshape([p, 3, 1]), points.reshape([p, 1, 3])).reshape([p, 9]) as tf.Tensor2D,
  }));
}

/** The tensors of `targets`, to dispose. */
export function cameraTargetTensors(targets: CameraTargets): tf.Tensor[] {
  return [targets.points, targets.homogeneous, targets.outer];
}

/**
 * Rays in index coordinates for poses `[B, 4, 4]`: `affine^-1 P Q` applied to the camera-frame
 * pixel centres `[P, 3]` (by `CameraRays` where the backend has it, else in one homogeneous matMul).
 */
export function indexRays(pose: tf.Tensor3D, targets: CameraTargets, reorient: Matrix4, affineInverse: Matrix4): IndexRays {
  const { homogeneous, outer } = targets;
  return tf.tidy(() => {
    const b = pose.shape[0];
    const p = homogeneous.shape[0];
    const camToWorld = tf.matMul(pose, batchOfOne(reorient)); // [B, 4, 4]
    const camToIndex = tf.matMul(batchOfOne(affineInverse), camToWorld); // [B, 4, 4]
    const source = tf.slice(camToIndex, [0, 0, 3], [b, 3, 1]).reshape([b, 3]) as tf.Tensor2D;
    if (hasCameraRays()) {
      const rays = cameraRays(tf.slice(camToIndex, [0, 0, 0], [b, 3, 4]) as tf.Tensor3D, tf.slice(camToWorld, [0, 0, 0], [b, 3, 3]) as tf.Tensor3D, targets.points);
      return { source, ...rays };
    }
    const target = tf.matMul(homogeneous.reshape([1, p, 4]), tf.slice(camToIndex, [0, 0, 0], [b, 3, 4]), false, true) as tf.Tensor3D;
    // |target_world - source_world|² = |M t|² = (t ⊗ t) · vec(MᵀM) with M = (P Q)[:3, :3], t = target_cam:
    // one [B, 9] x [9, P] matMul over the detector's cached t ⊗ t (a sum over a size-3 last axis is slow
    // on webgpu, and broadcasting ops are slow on cpu)
    const linear = tf.slice(camToWorld, [0, 0, 0], [b, 3, 3]);
    const gram = tf.matMul(linear, linear, true, false).reshape([b, 9]);
    const rayLength = tf.sqrt(tf.matMul(gram, outer, false, true)) as tf.Tensor2D;
    return { source, target, rayLength };
  });
}

/** The upper-left 3x3 of a row-major 4x4 as a `[3, 3]` tensor. */
function linearPart(m: Matrix4): tf.Tensor2D {
  return tf.tensor2d([m[0], m[1], m[2], m[4], m[5], m[6], m[8], m[9], m[10]], [3, 3]);
}

/**
 * Sources and pixel targets in world mm for poses `[B, 4, 4]`, camera-frame pixel centres
 * `[P, 3]` and the reorientation `Q`.
 */
export function worldRays(pose: tf.Tensor3D, targetsCam: tf.Tensor2D, reorient: Matrix4): WorldRays {
  return tf.tidy(() => {
    const b = pose.shape[0];
    const rotation = tf.slice(pose, [0, 0, 0], [b, 3, 3]);
    const source = tf.slice(pose, [0, 0, 3], [b, 3, 1]).reshape([b, 3]) as tf.Tensor2D;
    const rq = tf.matMul(rotation, tf.tile(linearPart(reorient).reshape([1, 3, 3]), [b, 1, 1]));
    const p = targetsCam.shape[0];
    const target = tf.add(tf.matMul(tf.tile(targetsCam.reshape([1, p, 3]), [b, 1, 1]), rq, false, true), source.reshape([b, 1, 3])) as tf.Tensor3D;
    return { source, target };
  });
}

/** Maps world points `[..., 3]` to continuous index coordinates with `affineInverse`. */
export function worldToIndex<T extends tf.Tensor>(points: T, affineInverse: Matrix4): T {
  return tf.tidy(() => {
    const shape = points.shape;
    const flat = points.reshape([-1, 3]);
    const moved = tf.add(tf.matMul(flat, linearPart(affineInverse), false, true), tf.tensor1d([affineInverse[3], affineInverse[7], affineInverse[11]]));
    return moved.reshape(shape) as T;
  });
}
