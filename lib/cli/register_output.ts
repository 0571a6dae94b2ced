/**
 * Outputs of `tfdrr register` besides the result JSON's bookkeeping: the final pose in several
 * parameterizations ({@link reportPose}), the GIF of a run ({@link GifRecorder}) and the JSON file.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { matrixToRotation, type Parameterization, type RotationParameterization } from '../geometry/parameterizations.js';
import { se3Log } from '../geometry/se3.js';
import { saveGif } from '../image/gif.js';
import { sideBySide } from '../image/overlay.js';
import { resampleTarget } from '../registration/target_pyramid.js';

/**
 * A pose in one parameterization: `convert(rotation, translation, { parameterization, convention,
 * degrees })` gives it back (with `[1, k]` / `[1, 3]` tensors; for 'matrix' a `[1, 4, 4]` tensor
 * of the 16 numbers and no translation).
 */
export interface ReportedPose {
  /** The rotation parameters; for 'matrix' the 4x4 pose, row-major (16 numbers). */
  rotation: number[];
  /** The translation parameter (mm); for 'se3_log_map' the `v` of `se3Exp(v, w)`; null for 'matrix'. */
  translation: number[] | null;
  /** Euler convention ('euler_angles' only). */
  convention?: string;
  /** Euler angles in degrees ('euler_angles' only). */
  degrees?: boolean;
}

/** Rounds to 8 significant digits (the poses and losses are float32). */
export function round8(v: number): number {
  return Number(v.toPrecision(8));
}

/**
 * The pose `[4, 4]` (16 numbers, row-major) in each parameterization of `names`:
 * - 'matrix': the 16 numbers;
 * - 'se3_log_map': `(v, w) = se3Log(pose)`, rotation `w`, translation `v`;
 * - the rotation parameterizations: `matrixToRotation(R)` (canonical form, e.g. Euler angles in
 *   `matrixToEulerAngles`' ranges, quaternion with `w >= 0`) and the translation parameter
 *   `t = Rᵀ p` (`p` the pose's translation column), since `convert` builds `[R, R t]`.
 */
export async function reportPose(
  pose: readonly number[],
  names: readonly Parameterization[],
  euler: { convention: string; degrees: boolean },
): Promise<Record<string, ReportedPose>> {
  if (pose.length !== 16) throw new Error(`reportPose: expected 16 numbers, got ${pose.length}`);
  const m = (r: number, c: number) => pose[4 * r + c];
  // read with data(): on webgpu in Node a synchronous read of GPU data throws
  const read = async (make: () => tf.Tensor): Promise<number[]> => {
    const t = tf.tidy(make);
    const values = Array.from(await t.data());
    t.dispose();
    return values;
  };
  const rotationOf = (name: RotationParameterization): Promise<number[]> =>
    read(() => matrixToRotation(tf.tensor3d([0, 1, 2].map((i) => [0, 1, 2].map((j) => m(i, j))).flat(), [1, 3, 3]), name, euler));
  // t = R^T p in float64
  const t = [0, 1, 2].map((j) => m(0, j) * m(0, 3) + m(1, j) * m(1, 3) + m(2, j) * m(2, 3));
  const out: Record<string, ReportedPose> = {};
  for (const name of names) {
    if (name === 'matrix') {
      out[name] = { rotation: pose.map(round8), translation: null };
    } else if (name === 'se3_log_map') {
      const xi = await read(() => se3Log(tf.tensor3d(Array.from(pose), [1, 4, 4])));
      out[name] = { rotation: xi.slice(3).map(round8), translation: xi.slice(0, 3).map(round8) };
    } else if (name === 'euler_angles') {
      out[name] = { rotation: (await rotationOf(name)).map(round8), translation: t.map(round8), convention: euler.convention, degrees: euler.degrees };
    } else {
      out[name] = { rotation: (await rotationOf(name)).map(round8), translation: t.map(round8) };
    }
  }
  return out;
}

/** Default `--gif-every`: the smallest step count that keeps the GIF at 60 frames or fewer for `steps` steps. */
export function defaultGifEvery(steps: number): number {
  return Math.max(1, Math.ceil(steps / 59));
}

/**
 * Records the DRRs of every start at some steps of a registration, as 8-bit gray levels of the
 * full detector size, and writes the frames of one start as a GIF at the end: each frame is
 * `sideBySide(moving, target)` (both normalised on their own).
 *
 * Frames: the starting poses ({@link recordStart}), the poses after steps `every - 1`,
 * `2 every - 1`, ... ({@link recordStep}), and the final poses unless the last step was recorded
 * ({@link recordFinal}): `1 + ceil(steps / every)` frames.
 */
export class GifRecorder {
  /** Per recorded frame: the levels of every start, `[B][H * W]`. */
  private readonly frames: Uint8Array[][] = [];
  private lastRecordedStep = -1;

  constructor(
    readonly every: number,
    readonly height: number,
    readonly width: number,
  ) {
    if (!(Number.isInteger(every) && every >= 1)) throw new Error(`GifRecorder: every: expected a positive integer, got ${every}`);
  }

  /** Number of frames recorded. */
  get frameCount(): number {
    return this.frames.length;
  }

  /** Records `render()` (the DRRs `[B, C, h, w]` of the starting poses). */
  async recordStart(render: () => tf.Tensor4D): Promise<void> {
    await this.record(render);
  }

  /** Records `render()` if step `iteration` (from 0) is one of the recorded steps. */
  async recordStep(iteration: number, render: () => tf.Tensor4D): Promise<void> {
    if ((iteration + 1) % this.every !== 0) return;
    await this.record(render);
    this.lastRecordedStep = iteration;
  }

  /** Records the final DRRs (full size) unless step `lastIteration` was recorded. */
  async recordFinal(lastIteration: number, images: tf.Tensor4D): Promise<void> {
    if (lastIteration === this.lastRecordedStep) return;
    await this.record(() => images.clone());
    this.lastRecordedStep = lastIteration;
  }

  /** Writes the frames of start `index`, side by side with `target` `[1, 1, H, W]`. */
  async save(index: number, target: tf.Tensor, path: string, delayMs = 100): Promise<void> {
    const frames = this.frames.map((levels) =>
      tf.tidy(() => sideBySide(tf.tensor2d(Float32Array.from(levels[index]), [this.height, this.width]), target)),
    );
    try {
      await saveGif(frames, path, { delayMs, normalization: { min: 0, max: 1 } });
    } finally {
      tf.dispose(frames);
    }
  }

  private async record(render: () => tf.Tensor4D): Promise<void> {
    const full = tf.tidy(() => {
      const img = render();
      const gray = img.shape[1] === 1 ? img : (tf.sum(img, 1, true) as tf.Tensor4D);
      return resampleTarget(gray, this.height, this.width);
    });
    let values: Float32Array;
    try {
      values = (await full.data()) as Float32Array;
    } finally {
      full.dispose();
    }
    const n = this.height * this.width;
    const batch = values.length / n;
    const levels: Uint8Array[] = [];
    for (let b = 0; b < batch; b++) {
      const plane = values.subarray(b * n, (b + 1) * n);
      let min = Infinity;
      let max = -Infinity;
      for (const v of plane) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
      const scale = max > min ? 255 / (max - min) : 0;
      const out = new Uint8Array(n);
      for (let p = 0; p < n; p++) out[p] = Math.round((plane[p] - min) * scale);
      levels.push(out);
    }
    this.frames.push(levels);
  }
}

/** Writes `value` as {@link formatJson} (and a final newline), creating the parent folder if needed. */
export async function writeJson(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${formatJson(value)}\n`, 'utf8');
}

/**
 * JSON indented by two spaces, like `JSON.stringify(value, null, 2)`, but with arrays of numbers
 * (and other non-objects) on one line, so loss trajectories and poses stay readable.
 */
export function formatJson(value: unknown, indent = ''): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object')) return `[${value.map((v) => JSON.stringify(v ?? null)).join(', ')}]`;
    return `[\n${value.map((v) => inner + formatJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${formatJson(v, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
