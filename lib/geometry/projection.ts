/**
 * Perspective projection between world points (mm) and detector pixels, consistent with the
 * rendered image (DiffDRR's `drr.perspective_projection` / `drr.inverse_projection`).
 *
 * Pixel coordinates `(u, v)`: `u` runs along a row (columns), `v` down the image (rows); pixel
 * (row `i`, column `j`) covers `[j, j+1) x [i, i+1)`, its centre is `(j + 1/2, i + 1/2)`, so
 * `floor(u), floor(v)` is the pixel a projected point falls in.
 *
 *     camera point   c = (P Q)^-1 x                      (pose P, reorientation Q)
 *     (a, b, w) = K c,   u = a / w,   v = b / w          (K of intrinsics.ts)
 *     v <- height - v;   u <- width - u if reverseXAxis   (row 0 is camera +y; column 0 camera +x)
 *
 * and back: undo the flips, `c = sdd K^-1 (u, v, 1)` (the point on the detector plane),
 * `x = P Q c`.
 */
import * as tf from '@tensorflow/tfjs';
import type { Detector } from './detector.js';
import { intrinsicMatrix } from './intrinsics.js';
import { invertAffine4, type Matrix4 } from './matrix4.js';
import { RigidTransform, poseMatrix, type PoseLike } from './rigid_transform.js';
import { describeValue } from './validation.js';

/** What the projections need besides the pose: the detector and the reorientation `Q`. */
export interface ProjectionGeometry {
  detector: Detector;
  /** The subject's reorientation matrix `Q` (row-major 4x4, see `orientation.ts`). */
  reorient: Matrix4;
}

/** A row-major 4x4 as `[1, 4, 4]`. */
function constant4(m: Matrix4): tf.Tensor3D {
  return tf.tensor3d(Float32Array.from(m), [1, 4, 4]);
}

/** `[B, N, k]` from `[B, N, k]` or `[N, k]` (broadcast over the `b` poses), checked. */
function batchedPoints(points: unknown, b: number, k: number, name: string): tf.Tensor3D {
  const ok = points instanceof tf.Tensor && points.shape[points.rank - 1] === k && (points.rank === 2 || (points.rank === 3 && (points.shape[0] === b || b === 1)));
  if (!ok) throw new Error(`${name}: expected shape [${b}, N, ${k}] or [N, ${k}], got ${describeValue(points)}`);
  const p = tf.cast(points, 'float32');
  return (p.rank === 2 ? tf.tile(p.expandDims(0), [b, 1, 1]) : p) as tf.Tensor3D;
}

/** Applies `[B, 4, 4]` affine maps to points `[B, N, 3]` (broadcasting a batch of one). */
function applyAffine(m: tf.Tensor3D, points: tf.Tensor3D): tf.Tensor3D {
  const n = Math.max(m.shape[0], points.shape[0]);
  const mm = m.shape[0] === n ? m : tf.tile(m, [n, 1, 1]);
  const pp = points.shape[0] === n ? points : tf.tile(points, [n, 1, 1]);
  const linear = tf.slice(mm, [0, 0, 0], [n, 3, 3]);
  const shift = tf.slice(mm, [0, 0, 3], [n, 3, 1]).reshape([n, 1, 3]);
  return tf.add(tf.matMul(pp, linear, false, true), shift) as tf.Tensor3D;
}

/**
 * Pixel coordinates `[B, N, 2]` (`u`, `v`; convention above) of world points.
 *
 * @param pose `[B, 4, 4]` poses or a RigidTransform.
 * @param points `[B, N, 3]` world points (mm), or `[N, 3]` for every pose.
 */
export function perspectiveProjection(pose: PoseLike, points: tf.Tensor, geometry: ProjectionGeometry): tf.Tensor3D {
  const p = poseMatrix(pose);
  const { detector, reorient } = geometry;
  return tf.tidy(() => {
    const b = p.shape[0];
    const x = batchedPoints(points, b, 3, 'points');
    const worldToCamera = tf.matMul(tf.tile(constant4(invertAffine4(reorient, 'reorient')), [b, 1, 1]), new RigidTransform(p).inverse().matrix) as tf.Tensor3D;
    const c = applyAffine(worldToCamera, x);
    const k = tf.tensor2d(intrinsicMatrix(detector));
    const h = tf.matMul(c.reshape([-1, 3]), k, false, true).reshape(c.shape);
    const [a, bb, w] = tf.unstack(h, 2);
    const u = tf.div(a, w);
    const v = tf.sub(detector.height, tf.div(bb, w));
    return tf.stack([detector.reverseXAxis ? tf.sub(detector.width, u) : u, v], 2) as tf.Tensor3D;
  });
}

/**
 * World points `[B, N, 3]` (mm) on the detector plane at pixel coordinates `(u, v)`; the inverse
 * of {@link perspectiveProjection} along each ray.
 *
 * @param pose `[B, 4, 4]` poses or a RigidTransform.
 * @param pixels `[B, N, 2]` pixel coordinates, or `[N, 2]` for every pose.
 */
export function inverseProjection(pose: PoseLike, pixels: tf.Tensor, geometry: ProjectionGeometry): tf.Tensor3D {
  const p = poseMatrix(pose);
  const { detector, reorient } = geometry;
  return tf.tidy(() => {
    const b = p.shape[0];
    const px = batchedPoints(pixels, b, 2, 'pixels');
    const [uFlipped, vFlipped] = tf.unstack(px, 2);
    const u = detector.reverseXAxis ? tf.sub(detector.width, uFlipped) : uFlipped;
    const v = tf.sub(detector.height, vFlipped);
    const k = intrinsicMatrix(detector);
    // c = sdd K^-1 (u, v, 1) = (sdd (u - K02)/K00, sdd (v - K12)/K11, sdd)
    const cx = tf.mul(tf.sub(u, k[0][2]), detector.sdd / k[0][0]);
    const cy = tf.mul(tf.sub(v, k[1][2]), detector.sdd / k[1][1]);
    const c = tf.stack([cx, cy, tf.fill(cx.shape, detector.sdd)], 2) as tf.Tensor3D;
    const cameraToWorld = tf.matMul(p, tf.tile(constant4(reorient), [b, 1, 1])) as tf.Tensor3D;
    return applyAffine(cameraToWorld, c);
  });
}
