/**
 * What one fuzz case may end as, and how an Error is sorted into the header field it names.
 *
 * Allowed: `rendered` (read() succeeded and both renderers gave finite pixels) or `refused` (an
 * `Error` whose message names the input, `<bytes>`). Everything else is a failure: an error that
 * is not a plain `Error` (a TypeError or RangeError from inside a library), a message that does not
 * name the input, a throw of a non-Error, a rendering error after read() accepted the file, NaN or
 * infinite pixels, a case that runs past the time limit (`hang`), a worker that dies (`crash`) or
 * grows past the memory limit (`memory`).
 */

export type FailureKind =
  | 'internal-error'
  | 'unnamed-error'
  | 'non-error-throw'
  | 'render-error'
  | 'non-finite-pixels'
  | 'hang'
  | 'crash'
  | 'memory';

/** One case's result, as the worker reports it. */
export interface CaseOutcome {
  outcome: 'rendered' | 'refused' | 'failure';
  /** For `refused`: the field or check that refused it (see {@link refusalField}). */
  field?: string;
  /** For `failure`. */
  failure?: FailureKind;
  /** The error message, or what went wrong. */
  message?: string;
}

/** Header fields and checks, in the order they are tried against a refusal message. */
const FIELDS: [string, RegExp][] = [
  ['gzip', /cannot decompress the gzip data/],
  ['gzip-size', /the gzip data inflates to more than/],
  ['not-nifti', /not a NIfTI file|\.hdr\/\.img pair/],
  ['file-length', /the file has \d+ bytes: a single-file NIfTI/],
  ['sizeof_hdr', /sizeof_hdr/],
  ['extension', /extension/],
  ['vox_offset', /vox_offset/],
  ['dim', /\bdim\[\d\]/],
  ['datatype', /unsupported datatype/],
  ['bitpix', /bitpix/],
  ['data-length', /data truncated/],
  ['voxel-size', /voxel size along/],
  ['affine-singular', /singular/],
  ['affine-non-finite', /non-finite entries/],
  ['srow', /srow_/],
  ['pixdim', /pixdim\[/],
  ['qform-quaternion-norm', /has norm > 1/],
  ['quatern/qoffset', /quatern_|qoffset_/],
  ['scl_inter', /scl_inter/],
  ['voxel-nan', /is NaN/],
  ['voxel-non-finite', /non-finite values|wider than float32/],
  ['constant-volume', /constant volume/],
];

/** The field a refusal names (`other` when none matches). */
export function refusalField(message: string): string {
  for (const [field, pattern] of FIELDS) if (pattern.test(message)) return field;
  return 'other';
}

/** Sorts what `read()` threw: an allowed refusal, or a failure. */
export function classifyError(e: unknown, inputName: string): CaseOutcome {
  if (!(e instanceof Error)) return { outcome: 'failure', failure: 'non-error-throw', message: String(e) };
  const message = e.message;
  if (e.name !== 'Error' || e.constructor !== Error) return { outcome: 'failure', failure: 'internal-error', message: `${e.name}: ${message}` };
  if (!message.includes(inputName)) return { outcome: 'failure', failure: 'unnamed-error', message };
  return { outcome: 'refused', field: refusalField(message), message };
}
