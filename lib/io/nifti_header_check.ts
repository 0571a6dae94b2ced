/**
 * Checks a single-file NIfTI-1 / NIfTI-2 header (and its extension chain) against the file's
 * length and sane ranges before any other code reads it, so that a hostile or damaged file is
 * refused with a message naming the field, its value and what was expected, instead of hanging,
 * allocating gigabytes or failing deep inside nifti-reader-js.
 *
 * Rules (`H` = header size, 348 for NIfTI-1, 540 for NIfTI-2; `L` = the file's length):
 * - the magic (`'n+1\0'` at 344, `'n+2\0'` at 4) gives the version; `sizeof_hdr` (bytes 0-3) must
 *   be `H`, read little- or big-endian: the order that gives `H` is the file's byte order;
 * - `L >= H + 4` (the header and the 4 extension-flag bytes);
 * - `vox_offset`: an integer with `H + 4 <= vox_offset <= L` (NIfTI-1 stores it as a float32);
 * - `dim[0]` in 3..7, `dim[1..3] >= 1`, `dim[4..dim[0]] = 1` (a 3-D volume); NIfTI-2's int64
 *   dims must be safe integers;
 * - `datatype`: one of {@link NIFTI_DATATYPES}, and `bitpix` its size in bits;
 * - the data, `dim[1] dim[2] dim[3]` voxels from `vox_offset`, must lie inside the file (so a
 *   mutated dimension is refused against `L` before anything is allocated);
 * - extensions, when `extension[0]` (byte `H`) is non-zero: a chain of `(esize, ecode, data)`
 *   records from `H + 4`, read in the header's byte order while 8 bytes remain before
 *   `vox_offset`. An `esize` of 0 ends the chain (what follows up to `vox_offset` is padding, as
 *   nifti-reader-js reads it); any other `esize` must be a positive multiple of 16 whose record
 *   ends at or before `vox_offset`; at most {@link MAX_EXTENSIONS} records;
 * - the transform fields tfdrr uses must be finite: `srow_x/y/z` when `sform_code` is 1..5;
 *   `quatern_b/c/d`, `qoffset_x/y/z` and `pixdim[1..3]` when the qform gives the affine;
 *   `pixdim[1..3]` when neither does. (Fields tfdrr does not use are not checked: nibabel reads
 *   such files as well.) The voxel sizes themselves are checked on the affine
 *   (`geometry/voxel_spacing.ts`).
 * - `scl_slope` / `scl_inter` follow nibabel: a slope that is 0 or not finite means "no scaling"
 *   (both ignored, not an error); a finite non-zero slope needs a finite intercept
 *   (`nifti_file.ts`, `scaledValues`).
 *
 * Extensions are validated and then never read: `readNifti` hands nifti-reader-js only the `H`
 * header bytes, so its extension walker (which follows a negative `esize` forever, and fails on a
 * zero one or on a NIfTI-2 flag with no room for extensions) never runs, whatever a check here
 * might miss. Clearing the flag in a copy would do the same, but a header-only buffer also keeps
 * it from reading past the header at all. tfdrr does not use extensions.
 *
 * The checks that need the header alone also give the file's required length
 * ({@link niftiRequiredLength}), so that a gzipped file is inflated with a bound on its output.
 */

/** A voxel datatype `readNifti` accepts: its name and bytes per voxel. */
export interface NiftiDatatypeInfo {
  name: 'uint8' | 'int16' | 'uint16' | 'int32' | 'float32' | 'float64';
  bytes: number;
}

/** The supported NIfTI datatype codes (2, 4, 512, 8, 16, 64). */
export const NIFTI_DATATYPES: Readonly<Record<number, NiftiDatatypeInfo>> = {
  2: { name: 'uint8', bytes: 1 },
  4: { name: 'int16', bytes: 2 },
  512: { name: 'uint16', bytes: 2 },
  8: { name: 'int32', bytes: 4 },
  16: { name: 'float32', bytes: 4 },
  64: { name: 'float64', bytes: 8 },
};

/** The most extension records a header may chain (real files carry a handful). */
export const MAX_EXTENSIONS = 1024;

/** What the checks established, for the reader to use. */
export interface NiftiLayout {
  version: 1 | 2;
  littleEndian: boolean;
  /** 348 (NIfTI-1) or 540 (NIfTI-2). */
  headerBytes: number;
  /** Where the voxel data starts. */
  voxOffset: number;
  /** `dim[1..3]`. */
  dims: [number, number, number];
  /** The datatype code, one of {@link NIFTI_DATATYPES}. */
  datatypeCode: number;
  /** Number of extension records (0 when the flag is clear). */
  extensionCount: number;
}

/** Byte offsets of the fields checked here (NIfTI-1: int16 dims, float32 reals; NIfTI-2: int64, float64). */
const LAYOUT = {
  1: { header: 348, dim: 40, datatype: 70, bitpix: 72, pixdim: 76, voxOffset: 108, qformCode: 252, sformCode: 254, quatern: 256, srow: 280, int: 2, real: 4 },
  2: { header: 540, dim: 16, datatype: 12, bitpix: 14, pixdim: 104, voxOffset: 168, qformCode: 344, sformCode: 348, quatern: 352, srow: 400, int: 8, real: 8 },
} as const;

const SUPPORTED = Object.entries(NIFTI_DATATYPES)
  .map(([code, t]) => `${t.name} (${code})`)
  .join(', ');

/**
 * Checks the header of a single-file NIfTI (uncompressed bytes) as the module comment says.
 *
 * @param bytes The whole file, decompressed.
 * @param fail Throws an Error for a problem (the caller prefixes the file name).
 * @returns The version, byte order, data offset, dims and datatype the reader may rely on.
 */
export function checkNiftiHeader(bytes: Uint8Array, fail: (problem: string) => never): NiftiLayout {
  const header = checkHeaderFields(bytes, fail);
  const { version, headerBytes: H, voxOffset, dims, datatypeCode, littleEndian } = header;
  const L = bytes.length;
  if (voxOffset > L) fail(`vox_offset ${voxOffset} is past the end of the file (${L} bytes)`);
  // The data must fit in the file (float products: exact below 2^53, and any overflow is > L anyway).
  const type = NIFTI_DATATYPES[datatypeCode];
  const byteCount = header.dataBytes;
  if (byteCount > L - voxOffset) {
    fail(`data truncated: ${dims.join('x')} ${type.name} voxels need ${byteCount} bytes from offset ${voxOffset}, the file has ${L - voxOffset}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const extensionCount = view.getUint8(H) === 0 ? 0 : checkExtensions(view, H + 4, voxOffset, littleEndian, fail);
  return { version, littleEndian, headerBytes: H, voxOffset, dims, datatypeCode, extensionCount };
}

/**
 * The length a file with this header needs, `vox_offset` + the data's bytes, from its first
 * {@link HEADER_PROBE_BYTES} bytes (all of them when the file is shorter): the checks of
 * {@link checkNiftiHeader} that do not depend on the rest of the file. Lets a gzipped file be
 * decompressed with a bound on its output (a small `.nii.gz` can otherwise inflate to gigabytes).
 */
export function niftiRequiredLength(head: Uint8Array, fail: (problem: string) => never): number {
  const { voxOffset, dataBytes } = checkHeaderFields(head, fail);
  return voxOffset + dataBytes;
}

/** Enough bytes for either header and its extension flag. */
export const HEADER_PROBE_BYTES = 544;

/** The checks that need the header alone (the module comment's rules, but for the file's length). */
function checkHeaderFields(bytes: Uint8Array, fail: (problem: string) => never): Omit<NiftiLayout, 'extensionCount'> & { dataBytes: number } {
  const version = niftiVersion(bytes, fail);
  const at = LAYOUT[version];
  const H = at.header;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const littleEndian = byteOrder(view, version, fail);
  const L = bytes.length;
  if (L < H + 4) {
    fail(`the file has ${L} bytes: a single-file NIfTI-${version} needs at least ${H + 4} (the ${H}-byte header and the 4 extension-flag bytes)`);
  }
  const int = (offset: number, name: string): number => {
    if (at.int === 2) return view.getInt16(offset, littleEndian);
    const v = view.getBigInt64(offset, littleEndian);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
      return fail(`${name} = ${v} is out of range (expected |${name}| <= 2^53 - 1)`);
    }
    return Number(v);
  };
  const real = (offset: number): number => (at.real === 4 ? view.getFloat32(offset, littleEndian) : view.getFloat64(offset, littleEndian));

  // vox_offset: after the header and the extension flag (inside the file: checkNiftiHeader).
  const minOffset = H + 4;
  const voxOffset = version === 1 ? real(at.voxOffset) : int(at.voxOffset, 'vox_offset');
  if (!(voxOffset >= minOffset) || !Number.isInteger(voxOffset)) {
    fail(`vox_offset ${voxOffset} is invalid for a single-file NIfTI-${version} (must be an integer >= ${minOffset})`);
  }

  // dim: a 3-D volume.
  const dim = Array.from({ length: 8 }, (_, n) => int(at.dim + at.int * n, `dim[${n}]`));
  const ndim = dim[0];
  if (!(ndim >= 3 && ndim <= 7)) fail(`dim[0] = ${ndim}: expected a 3-D volume (dim[0] between 3 and 7)`);
  for (let a = 1; a <= 3; a++) {
    if (!(dim[a] >= 1)) fail(`dim[${a}] = ${dim[a]}: every spatial dimension must be >= 1`);
  }
  for (let a = 4; a <= ndim; a++) {
    if (dim[a] !== 1) fail(`dim[${a}] = ${dim[a]}: only 3-D volumes are supported (dimensions 4..${ndim} must be 1)`);
  }

  // datatype and bitpix.
  const datatypeCode = view.getInt16(at.datatype, littleEndian);
  const type = NIFTI_DATATYPES[datatypeCode] ?? fail(`unsupported datatype code ${datatypeCode}; supported: ${SUPPORTED}`);
  const bitpix = view.getInt16(at.bitpix, littleEndian);
  if (bitpix !== 8 * type.bytes) {
    fail(`bitpix ${bitpix} does not match datatype ${type.name} (${datatypeCode}), which has ${8 * type.bytes} bits per voxel`);
  }
  const dims: [number, number, number] = [dim[1], dim[2], dim[3]];

  // Transform fields that the affine will be built from.
  const finite = (name: string, value: number) => {
    if (!Number.isFinite(value)) fail(`${name} = ${value}: expected a finite number`);
  };
  const validCode = (c: number) => c >= 1 && c <= 5;
  const sformCode = version === 1 ? view.getInt16(at.sformCode, littleEndian) : view.getInt32(at.sformCode, littleEndian);
  const qformCode = version === 1 ? view.getInt16(at.qformCode, littleEndian) : view.getInt32(at.qformCode, littleEndian);
  if (validCode(sformCode)) {
    ['x', 'y', 'z'].forEach((row, r) => {
      for (let c = 0; c < 4; c++) finite(`srow_${row}[${c}]`, real(at.srow + at.real * (4 * r + c)));
    });
  } else {
    for (let a = 1; a <= 3; a++) finite(`pixdim[${a}]`, real(at.pixdim + at.real * a));
    if (validCode(qformCode)) {
      ['quatern_b', 'quatern_c', 'quatern_d', 'qoffset_x', 'qoffset_y', 'qoffset_z'].forEach((name, n) => finite(name, real(at.quatern + at.real * n)));
    }
  }
  const dataBytes = dims[0] * dims[1] * dims[2] * type.bytes;
  return { version, littleEndian, headerBytes: H, voxOffset, dims, datatypeCode, dataBytes };
}

/** 1 or 2 from the magic string; anything else is an error. */
function niftiVersion(b: Uint8Array, fail: (p: string) => never): 1 | 2 {
  const ascii = (at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));
  if (b.length >= 348 && ascii(344, 4) === 'n+1\0') return 1;
  if (b.length >= 540 && ascii(4, 4) === 'n+2\0') return 2;
  if (b.length >= 348 && (ascii(344, 4) === 'ni1\0' || ascii(4, 4) === 'ni2\0')) {
    return fail('this is the header of a .hdr/.img pair; only single-file .nii / .nii.gz is supported');
  }
  if (b.length < 348) return fail(`not a NIfTI file: ${b.length} bytes, shorter than a NIfTI-1 header (348)`);
  if (b.length < 540 && ascii(4, 4) === 'n+2\0') {
    return fail(`the file has ${b.length} bytes: a single-file NIfTI-2 needs at least 544 (the 540-byte header and the 4 extension-flag bytes)`);
  }
  return fail("not a NIfTI file: no 'n+1' magic at byte 344 and no 'n+2' magic at byte 4");
}

/** True for little-endian: the order in which `sizeof_hdr` reads as the header size. */
function byteOrder(view: DataView, version: 1 | 2, fail: (p: string) => never): boolean {
  const H = LAYOUT[version].header;
  if (view.getInt32(0, true) === H) return true;
  if (view.getInt32(0, false) === H) return false;
  return fail(`sizeof_hdr = ${view.getInt32(0, true)} (bytes 0-3, little-endian; ${view.getInt32(0, false)} big-endian): expected ${H} for a NIfTI-${version} header`);
}

/** Walks the extension chain from `start` (see the module comment); returns the number of records. */
function checkExtensions(view: DataView, start: number, voxOffset: number, littleEndian: boolean, fail: (p: string) => never): number {
  let count = 0;
  for (let p = start; p + 8 <= voxOffset; ) {
    const esize = view.getInt32(p, littleEndian);
    if (esize === 0) break;
    const where = `extension ${count} at byte ${p}`;
    if (!(esize >= 16) || esize % 16 !== 0) fail(`${where}: esize ${esize} is invalid (expected a positive multiple of 16)`);
    if (p + esize > voxOffset) fail(`${where}: esize ${esize} runs past vox_offset ${voxOffset} (the record would end at byte ${p + esize})`);
    count += 1;
    if (count > MAX_EXTENSIONS) fail(`more than ${MAX_EXTENSIONS} extensions before vox_offset ${voxOffset}`);
    p += esize;
  }
  return count;
}
