/**
 * The target X-ray image of `tfdrr register`: a PNG or a 2-D NIfTI image read into one gray plane,
 * row-major, row 0 first (the layout of a DRR `[1, 1, H, W]`).
 *
 * PNG (any bit depth, gray, gray + alpha, RGB, RGBA or indexed; decoded with fast-png): PNG row
 * `r`, column `c` is image row `r`, column `c`, so a DRR written by `saveImage` (and `tfdrr render`)
 * comes back with its rows and columns in place. RGB is turned into luminance
 * `0.299 R + 0.587 G + 0.114 B` (ITU-R BT.601, what PIL's `convert('L')` computes); alpha is ignored.
 * The values are the stored levels (0..255 or 0..65535): the registration loss (normalised cross
 * correlation) does not depend on the gray scale.
 *
 * NIfTI (`.nii` / `.nii.gz`, NIfTI-1 or -2, 2-D `X x Y` or 3-D `X x Y x 1`): voxel `(i, j)` is image
 * row `i`, column `j`, i.e. the image is the array nibabel returns: an image `img` of shape `[H, W]`
 * saved with `nib.save(nib.Nifti1Image(img, np.eye(4)), 'target.nii.gz')` has `H` rows and `W`
 * columns, `img[r, c]` at row `r`, column `c`. (SimpleITK/ITK put x along a row: an array saved with
 * `sitk.GetImageFromArray(img)` is read transposed; transpose it before saving.) `scl_slope` and
 * `scl_inter` are applied; the affine and the voxel sizes are ignored (the pixel spacing is
 * `--delx` / `--dely`).
 */
import { readFile } from 'node:fs/promises';
import { convertIndexedToRgb, decode, hasPngSignature, type DecodedPng } from 'fast-png';
import { gunzipNifti, readNifti } from '../io/nifti_file.js';

/** A target image: one gray plane. */
export interface TargetImage {
  /** `height * width` values, row-major, row 0 first. */
  data: Float32Array;
  /** Rows. */
  height: number;
  /** Columns. */
  width: number;
  /** What the file was, e.g. `'PNG 16-bit gray'` or `'NIfTI float32 64x48'`. */
  description: string;
}

/**
 * Reads a target image (PNG or NIfTI, told apart by their bytes; see the module comment for the
 * axes).
 *
 * @throws Error naming the file: unreadable, neither PNG nor NIfTI, not a 2-D image, or empty.
 */
export async function readTargetImage(path: string): Promise<TargetImage> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (err) {
    throw new Error(`target ${path}: cannot read the file (${(err as Error).message})`);
  }
  if (hasPngSignature(bytes)) return pngTarget(bytes, path);
  const raw = bytes[0] === 0x1f && bytes[1] === 0x8b ? await gunzip(bytes, path) : bytes;
  if (niftiVersion(raw) === null) {
    throw new Error(`target ${path}: not a PNG or NIfTI image (expected a .png, .nii or .nii.gz file)`);
  }
  return niftiTarget(raw, path);
}

/** The gray plane of a PNG. */
function pngTarget(bytes: Uint8Array, path: string): TargetImage {
  let png: DecodedPng;
  try {
    png = decode(bytes);
  } catch (err) {
    throw new Error(`target ${path}: cannot decode the PNG (${(err as Error).message})`);
  }
  const { width, height } = png;
  const n = width * height;
  if (n === 0) throw new Error(`target ${path}: the PNG is empty (${width}x${height} px)`);
  let samples: ArrayLike<number> = png.data;
  let channels = png.channels;
  let kind: string;
  if (png.palette) {
    samples = convertIndexedToRgb(png);
    channels = png.palette[0].length;
    kind = `${png.depth}-bit indexed`;
  } else if (png.depth < 8) {
    samples = unpackBits(png.data as Uint8Array, width, height, png.depth);
    kind = `${png.depth}-bit gray`;
  } else {
    kind = `${png.depth}-bit ${['', 'gray', 'gray+alpha', 'RGB', 'RGBA'][channels] ?? `${channels}-channel`}`;
  }
  const data = new Float32Array(n);
  if (channels <= 2) {
    for (let p = 0; p < n; p++) data[p] = samples[p * channels];
  } else {
    for (let p = 0; p < n; p++) {
      const k = p * channels;
      data[p] = 0.299 * samples[k] + 0.587 * samples[k + 1] + 0.114 * samples[k + 2];
    }
  }
  return { data, height, width, description: `PNG ${kind}` };
}

/** Gray samples of 1, 2 or 4 bits, packed in byte-aligned rows, one per pixel. */
function unpackBits(packed: Uint8Array, width: number, height: number, depth: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const bytesPerRow = Math.ceil((width * depth) / 8);
  const mask = (1 << depth) - 1;
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      const bit = c * depth;
      out[r * width + c] = (packed[r * bytesPerRow + (bit >> 3)] >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

/** The inflated file, bounded by what its header (read as a 3-D image) describes: see `gunzipNifti`. */
function gunzip(bytes: Uint8Array, path: string): Promise<Uint8Array> {
  const fail = (problem: string): never => {
    throw new Error(`target ${path}: ${problem}`);
  };
  return gunzipNifti(bytes, fail, (header) => {
    if (niftiVersion(header) !== null) asImageHeader(header);
  });
}

/** NIfTI version and byte order from `sizeof_hdr` (348: NIfTI-1, 540: NIfTI-2), or null. */
function niftiVersion(bytes: Uint8Array): { version: 1 | 2; littleEndian: boolean } | null {
  if (bytes.length < 348) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const littleEndian of [true, false]) {
    const size = view.getInt32(0, littleEndian);
    if (size === 348) return { version: 1, littleEndian };
    if (size === 540 && bytes.length >= 540) return { version: 2, littleEndian };
  }
  return null;
}

/**
 * Makes the header at the start of `bytes` (a NIfTI-1 or -2 header: `niftiVersion` is not null)
 * one that `readNifti` reads as an `X x Y x 1` image: a 2-D image (`dim[0] = 2`) becomes 3-D, the
 * qform/sform codes are cleared and `pixdim[1..3]` set to 1 (the affine and the voxel sizes are not
 * used, and a 2-D image's affine may be singular).
 */
function asImageHeader(bytes: Uint8Array): { version: 1 | 2 } {
  const { version, littleEndian } = niftiVersion(bytes) as { version: 1 | 2; littleEndian: boolean };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (version === 1) {
    if (view.getInt16(40, littleEndian) === 2) {
      view.setInt16(40, 3, littleEndian);
      view.setInt16(46, 1, littleEndian);
    }
    view.setInt16(252, 0, littleEndian);
    view.setInt16(254, 0, littleEndian);
    for (let a = 1; a <= 3; a++) view.setFloat32(76 + 4 * a, 1, littleEndian);
  } else {
    if (view.getBigInt64(16, littleEndian) === 2n) {
      view.setBigInt64(16, 3n, littleEndian);
      view.setBigInt64(40, 1n, littleEndian);
    }
    view.setInt32(344, 0, littleEndian);
    view.setInt32(348, 0, littleEndian);
    for (let a = 1; a <= 3; a++) view.setFloat64(104 + 8 * a, 1, littleEndian);
  }
  return { version };
}

/** The gray plane of a NIfTI image (its header adjusted by `asImageHeader` in a copy). */
async function niftiTarget(raw: Uint8Array, path: string): Promise<TargetImage> {
  const bytes = raw.slice();
  const { version } = asImageHeader(bytes);
  let volume;
  try {
    volume = await readNifti(bytes);
  } catch (err) {
    throw new Error(`target ${path}: ${(err as Error).message.replace(/^readNifti\(<bytes>\): /, '')}`);
  }
  const [x, y, z] = volume.dims;
  if (z !== 1) throw new Error(`target ${path}: expected a 2-D image (X x Y or X x Y x 1), got a ${x}x${y}x${z} volume`);
  // File order is i fastest: voxel (i, j) at i + X j; image row i, column j at i W + j (W = Y).
  const data = new Float32Array(x * y);
  for (let i = 0; i < x; i++) {
    for (let j = 0; j < y; j++) data[i * y + j] = volume.data[i + x * j];
  }
  return { data, height: x, width: y, description: `NIfTI-${version} ${volume.datatype} ${x}x${y}` };
}
