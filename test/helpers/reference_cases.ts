/**
 * DiffDRR's reference renders (../shared/reference beside the repository): the manifest, the
 * raw float32 images, and how to render a case with tfdrr.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DRR } from '../../lib/drr.js';
import { PARAMETERIZATIONS, type Parameterization } from '../../lib/geometry/parameterizations.js';
import { read } from '../../lib/io/read.js';
import type { Subject } from '../../lib/subject.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const referenceDir = resolve(repoRoot, '../shared/reference');
export const dataDir = join(repoRoot, 'data');
export const hasReferences = existsSync(join(referenceDir, 'manifest.json'));
export const missingReferences = `DiffDRR reference renders not found at ${referenceDir} (the shared folder beside the repository)`;

export interface ReferenceCase {
  name: string;
  variant: string;
  read: { path: string; labelmap: string | null; labels: number[] | null; orientation: 'AP' | 'PA' | null; bone_attenuation_multiplier: number; center_volume: boolean };
  drr: {
    sdd: number; height: number; delx: number; width: number | null; dely: number | null; x0: number; y0: number;
    reverse_x_axis: boolean; patch_size: number | null; renderer: string; renderer_kwargs: Record<string, unknown>;
  };
  forward: {
    rotation: number[][] | number[][][]; translation: number[][] | null; parameterization: string; convention: string | null;
    mask_to_channels: boolean; renderer_call_kwargs: Record<string, unknown>;
  };
  grad: unknown;
  outputs: Array<{ file: string; shape: number[] }>;
  derived: Record<string, unknown>;
}

export function loadManifest(): { cases: ReferenceCase[] } {
  return JSON.parse(readFileSync(join(referenceDir, 'manifest.json'), 'utf8'));
}

export function loadF32(file: string): Float32Array {
  const bytes = readFileSync(join(referenceDir, file));
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** Why tfdrr cannot render this case yet (the issue that brings it), or null if it can. */
export function unsupportedReason(c: ReferenceCase): string | null {
  if (!PARAMETERIZATIONS.includes(c.forward.parameterization as Parameterization)) return `parameterization '${c.forward.parameterization}' is not supported`;
  const unknown = Object.keys(c.drr.renderer_kwargs).filter((k) => k !== 'reducefn');
  if (unknown.length > 0) return `renderer options ${JSON.stringify(unknown)} are not supported`;
  return null;
}


/** DiffDRR 0.4.9 puts voxel i on [i, i+1) (voxelShift 0); the v0.6.0rc3 renderers centre it (0.5). */
export function voxelShiftOf(c: ReferenceCase): number {
  return c.variant === 'v060rc3-renderers' ? 0.5 : 0;
}

const subjects = new Map<string, Promise<Subject>>();

/** The case's subject, read once per distinct set of read() arguments. */
export function subjectOf(c: ReferenceCase): Promise<Subject> {
  const key = JSON.stringify(c.read);
  let subject = subjects.get(key);
  if (!subject) {
    subject = read(join(dataDir, c.read.path), {
      labelmap: c.read.labelmap ? join(dataDir, c.read.labelmap) : undefined,
      labels: c.read.labels ?? undefined,
      orientation: c.read.orientation,
      boneAttenuationMultiplier: c.read.bone_attenuation_multiplier,
      centerVolume: c.read.center_volume,
    });
    subjects.set(key, subject);
    subject.then((sub) => densities.set(key, { values: sub.density.dataSync() as Float32Array, shape: sub.density.shape }));
  }
  return subject;
}

const densities = new Map<string, { values: Float32Array; shape: number[] }>();

/** The case's density values (read by an earlier `renderCase` of the same subject). */
export function subjectDensity(c: ReferenceCase): { values: Float32Array; shape: number[] } {
  const key = JSON.stringify(c.read);
  const d = densities.get(key);
  if (!d) throw new Error(`subjectDensity(${c.name}): render the case first`);
  return d;
}

export async function disposeSubjects(): Promise<void> {
  densities.clear();
  for (const s of subjects.values()) (await s).dispose();
  subjects.clear();
}

/** The DRR of a case. */
export async function drrOf(c: ReferenceCase): Promise<DRR> {
  const d = c.drr;
  return new DRR(await subjectOf(c), {
    sdd: d.sdd, height: d.height, delx: d.delx, width: d.width ?? undefined, dely: d.dely ?? undefined,
    x0: d.x0, y0: d.y0, reverseXAxis: d.reverse_x_axis, patchSize: d.patch_size ?? undefined,
    voxelShift: voxelShiftOf(c), reducefn: (d.renderer_kwargs.reducefn as 'sum' | 'max' | undefined) ?? 'sum',
    renderer: d.renderer as 'siddon' | 'trilinear',
  });
}

/** Renders a case's forward call with tfdrr; `[B, C, H, W]` values. */
export async function renderCase(c: ReferenceCase): Promise<Float32Array> {
  const drr = await drrOf(c);
  const f = c.forward;
  const img = tf.tidy(() => {
    const options = { parameterization: f.parameterization as Parameterization, convention: f.convention ?? undefined, maskToChannels: f.mask_to_channels, nPoints: f.renderer_call_kwargs.n_points as number | undefined };
    return f.parameterization === 'matrix'
      ? drr.forward(tf.tensor3d(f.rotation as number[][][]), null, options)
      : drr.forward(tf.tensor2d(f.rotation as number[][]), tf.tensor2d(f.translation as number[][]), options);
  });
  const values = (await img.data()) as Float32Array;
  img.dispose();
  drr.dispose();
  return values;
}
