/**
 * The speed anchor: ../shared/bench/siddon_c.c (a tight single-threaded C Siddon, not project
 * code), compiled and run on the same volume and geometry when a C compiler and the shared folder
 * are present.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CResult {
  ms: number;
  steps: number;
  stepsPerSecond: number;
}

/** Builds and runs the C yardstick, or returns why it could not. */
export function runCYardstick(
  source: string,
  densityCOrder: Float32Array,
  shape: [number, number, number],
  spacing: [number, number, number],
  geometry: { height: number; width: number; delx: number; sdd: number; sourceDistance: number },
  reps = 20,
): CResult | string {
  if (!existsSync(source)) return `C yardstick not found at ${source}`;
  if (spawnSync('cc', ['--version']).status !== 0) return 'no C compiler (cc) on this machine';
  const dir = mkdtempSync(join(tmpdir(), 'tfdrr-bench-'));
  const exe = join(dir, 'siddon_c');
  execFileSync('cc', ['-O3', '-march=native', '-o', exe, source, '-lm']);
  // The C program reads the volume x-fastest (Fortran order); ours is C order (z fastest).
  const [nx, ny, nz] = shape;
  const fortran = new Float32Array(nx * ny * nz);
  for (let i = 0; i < nx; i++) for (let j = 0; j < ny; j++) for (let k = 0; k < nz; k++) fortran[i + nx * (j + ny * k)] = densityCOrder[(i * ny + j) * nz + k];
  const volPath = join(dir, 'volume.raw');
  writeFileSync(volPath, fortran);
  const { height, width, delx, sdd, sourceDistance } = geometry;
  const args = [volPath, nx, ny, nz, ...spacing, height, width, delx, sdd, sourceDistance, reps].map(String);
  const out = execFileSync(exe, args, { encoding: 'utf8' });
  const m = /steps=(\d+) best_ms=([\d.]+) steps_per_s=([\d.e+]+)/.exec(out);
  if (!m) return `unexpected C output: ${out.trim()}`;
  return { steps: Number(m[1]), ms: Number(m[2]), stepsPerSecond: Number(m[3]) };
}
