/**
 * Writes synthetic single-file NIfTI bytes for tests: NIfTI-1 (348-byte header + 4-byte extension
 * flag, data at 352) or NIfTI-2 (540 + 4, data at 544), any datatype, dims, pixdim, sform, qform
 * and scaling, little- or big-endian, optionally with raw extension bytes, optionally gzipped.
 */
import { gzipSync } from 'node:zlib';

/** NIfTI datatype codes by name (plus any other code as a number, for error tests). */
export const DATATYPE_CODES = { uint8: 2, int16: 4, int32: 8, float32: 16, float64: 64, uint16: 512 } as const;

/** Datatype names the fixture can write values for. */
export type FixtureDatatype = keyof typeof DATATYPE_CODES;

/** What to write; everything but `dims` has a default. */
export interface NiftiFixture {
  /** `[X, Y, Z]` or the full `dim[1..]` list (`dim[0]` = its length). */
  dims: number[];
  /** Voxel values in file order (`i` fastest); default `0, 1, 2, ...`. */
  values?: ArrayLike<number>;
  /** Datatype name, or a raw code (then `bytesPerVoxel` bytes of zeros per voxel are written). Default `'float32'`. */
  datatype?: FixtureDatatype | number;
  /** Bytes per voxel for a raw `datatype` code. Default 4. */
  bytesPerVoxel?: number;
  /** `pixdim[0..3]` = `[qfac, px, py, pz]` (or all 8). Default `[1, 1, 1, 1]`. */
  pixdim?: number[];
  /** Default 0. */
  sformCode?: number;
  /** `srow_x, srow_y, srow_z`. Default the identity rows. */
  srow?: number[][];
  /** Default 0. */
  qformCode?: number;
  /** `[quatern_b, quatern_c, quatern_d]`. Default `[0, 0, 0]`. */
  quatern?: number[];
  /** `[qoffset_x, qoffset_y, qoffset_z]`. Default `[0, 0, 0]`. */
  qoffset?: number[];
  /** Default 1. */
  sclSlope?: number;
  /** Default 0. */
  sclInter?: number;
  /** Header version. Default 1. */
  version?: 1 | 2;
  /** Default true. */
  littleEndian?: boolean;
  /** Override `vox_offset` (the data is still written right after the header). */
  voxOffset?: number;
  /** Override the magic string (4 bytes for NIfTI-1, first 4 of 8 for NIfTI-2). */
  magic?: string;
  /**
   * Raw bytes written after the 4 extension-flag bytes (an extension chain: `esize`, `ecode`,
   * data, ...); the data and the default `vox_offset` move after them. Default none.
   */
  extension?: Uint8Array;
  /** Byte `extension[0]` of the flag. Default 1 when `extension` is given, else 0. */
  extensionFlag?: number;
  /** Gzip the result. Default false. */
  gzip?: boolean;
}

/** Builds the file bytes described by `f`. */
export function niftiBytes(f: NiftiFixture): Uint8Array {
  const v2 = f.version === 2;
  const le = f.littleEndian ?? true;
  const headerSize = v2 ? 540 : 348;
  const dataOffset = headerSize + 4 + (f.extension?.length ?? 0);
  const code = typeof f.datatype === 'number' ? f.datatype : DATATYPE_CODES[f.datatype ?? 'float32'];
  const name = typeof f.datatype === 'number' ? undefined : f.datatype ?? 'float32';
  const bpv = name ? BYTES[name] : f.bytesPerVoxel ?? 4;
  const count = f.dims.every((d) => d > 0) ? f.dims.reduce((a, b) => a * b, 1) : 0;
  const values = f.values ?? Array.from({ length: count }, (_, n) => n);
  if (values.length !== count) throw new Error(`fixture: ${values.length} values for dims ${f.dims}`);

  const out = new Uint8Array(dataOffset + count * bpv);
  const view = new DataView(out.buffer);
  const dim = [f.dims.length, ...f.dims, ...Array(7 - f.dims.length).fill(1)];
  const pix = [...(f.pixdim ?? [1, 1, 1, 1]), 0, 0, 0, 0, 0, 0, 0, 0].slice(0, 8);
  const srow = f.srow ?? [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]];
  const quatern = f.quatern ?? [0, 0, 0];
  const qoffset = f.qoffset ?? [0, 0, 0];
  const ascii = (at: number, s: string) => [...s].forEach((ch, n) => (out[at + n] = ch.charCodeAt(0)));

  view.setInt32(0, headerSize, le);
  if (v2) {
    ascii(4, f.magic ?? 'n+2\0');
    ascii(8, '\r\n\x1a\n');
    view.setInt16(12, code, le);
    view.setInt16(14, bpv * 8, le);
    dim.forEach((d, n) => view.setBigInt64(16 + 8 * n, BigInt(d), le));
    pix.forEach((p, n) => view.setFloat64(104 + 8 * n, p, le));
    view.setBigInt64(168, BigInt(f.voxOffset ?? dataOffset), le);
    view.setFloat64(176, f.sclSlope ?? 1, le);
    view.setFloat64(184, f.sclInter ?? 0, le);
    view.setInt32(344, f.qformCode ?? 0, le);
    view.setInt32(348, f.sformCode ?? 0, le);
    [...quatern, ...qoffset].forEach((q, n) => view.setFloat64(352 + 8 * n, q, le));
    srow.flat().forEach((s, n) => view.setFloat64(400 + 8 * n, s, le));
  } else {
    dim.forEach((d, n) => view.setInt16(40 + 2 * n, d, le));
    view.setInt16(70, code, le);
    view.setInt16(72, bpv * 8, le);
    pix.forEach((p, n) => view.setFloat32(76 + 4 * n, p, le));
    view.setFloat32(108, f.voxOffset ?? dataOffset, le);
    view.setFloat32(112, f.sclSlope ?? 1, le);
    view.setFloat32(116, f.sclInter ?? 0, le);
    view.setInt16(252, f.qformCode ?? 0, le);
    view.setInt16(254, f.sformCode ?? 0, le);
    [...quatern, ...qoffset].forEach((q, n) => view.setFloat32(256 + 4 * n, q, le));
    srow.flat().forEach((s, n) => view.setFloat32(280 + 4 * n, s, le));
    ascii(344, f.magic ?? 'n+1\0');
  }
  out[headerSize] = f.extensionFlag ?? (f.extension ? 1 : 0);
  if (f.extension) out.set(f.extension, headerSize + 4);
  if (name) {
    const write = WRITERS[name];
    for (let n = 0; n < count; n++) write(view, dataOffset + n * bpv, values[n], le);
  }
  return f.gzip ? new Uint8Array(gzipSync(out)) : out;
}

const BYTES: Record<FixtureDatatype, number> = { uint8: 1, int16: 2, uint16: 2, int32: 4, float32: 4, float64: 8 };

const WRITERS: Record<FixtureDatatype, (v: DataView, at: number, x: number, le: boolean) => void> = {
  uint8: (v, at, x) => v.setUint8(at, x),
  int16: (v, at, x, le) => v.setInt16(at, x, le),
  uint16: (v, at, x, le) => v.setUint16(at, x, le),
  int32: (v, at, x, le) => v.setInt32(at, x, le),
  float32: (v, at, x, le) => v.setFloat32(at, x, le),
  float64: (v, at, x, le) => v.setFloat64(at, x, le),
};
