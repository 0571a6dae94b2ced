import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { niftiToCOrder, readNifti } from '../../lib/io/nifti_file.js';
import { niftiBytes, type FixtureDatatype } from '../helpers/nifti_fixture.js';

const dataPath = (name: string) => fileURLToPath(new URL(`../../data/${name}.nii.gz`, import.meta.url));

function minMax(a: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let n = 0; n < a.length; n++) {
    lo = Math.min(lo, a[n]);
    hi = Math.max(hi, a[n]);
  }
  return [lo, hi];
}

function expectMatrixClose(m: ArrayLike<number>, rows: number[][], digits = 5) {
  const flat = rows.length === 3 ? [...rows.flat(), 0, 0, 0, 1] : rows.flat();
  expect(m).toHaveLength(16);
  flat.forEach((x, n) => expect(m[n]).toBeCloseTo(x, digits));
}

describe('readNifti on the example data', () => {
  test('example_ct.nii.gz: shape, datatype, value range and sform affine', async () => {
    const path = dataPath('example_ct');
    const v = await readNifti(path);
    expect(v.dims).toEqual([122, 101, 112]);
    expect(v.datatype).toBe('int32');
    expect(v.data).toBeInstanceOf(Float32Array);
    expect(v.data.length).toBe(122 * 101 * 112);
    expect(minMax(v.data)).toEqual([-1207, 3382]);
    expect(v.affineSource).toBe('sform');
    expect(v.source).toBe(path);
    // float32 header values, exactly
    expect(Array.from(v.affine)).toEqual([
      3, 0, 0, Math.fround(-177.95633),
      0, 3, 0, Math.fround(11.319),
      0, 0, 3, Math.fround(94.30176),
      0, 0, 0, 1,
    ]);
  });

  test('bytes (Uint8Array and ArrayBuffer, gzipped) give the same volume as the path', async () => {
    const path = dataPath('example_ct_sm');
    const fromPath = await readNifti(path);
    const gz = await readFile(path);
    const fromBytes = await readNifti(new Uint8Array(gz));
    const ab = gz.buffer.slice(gz.byteOffset, gz.byteOffset + gz.byteLength) as ArrayBuffer;
    const fromBuffer = await readNifti(ab);
    expect(fromBytes.source).toBe('<bytes>');
    for (const v of [fromBytes, fromBuffer]) {
      expect(v.dims).toEqual(fromPath.dims);
      expect(Array.from(v.affine)).toEqual(Array.from(fromPath.affine));
      expect(v.data).toEqual(fromPath.data);
    }
  });

  test('example_ct_sm is int16 -1100..1207 and example_seg uint8 0..117, same shape and affine', async () => {
    const ct = await readNifti(dataPath('example_ct_sm'));
    const seg = await readNifti(dataPath('example_seg'));
    expect(ct.dims).toEqual([122, 101, 30]);
    expect(ct.datatype).toBe('int16');
    expect(minMax(ct.data)).toEqual([-1100, 1207]);
    expect(seg.dims).toEqual([122, 101, 30]);
    expect(seg.datatype).toBe('uint8');
    expect(minMax(seg.data)).toEqual([0, 117]);
    expect(Array.from(seg.affine)).toEqual(Array.from(ct.affine));
  });
});

describe('readNifti on synthetic files', () => {
  const cases: [FixtureDatatype, number[]][] = [
    ['uint8', [0, 1, 127, 255, 3, 200]],
    ['int16', [-32768, -1, 0, 1, 1234, 32767]],
    ['uint16', [0, 1, 40000, 65535, 7, 512]],
    ['int32', [-2147483648, -1, 0, 16777216, 2147483, 99]],
    ['float32', [-1.5, 0, 0.25, 3.4e38, -1e-20, 7]],
    ['float64', [-1.5, 0, 0.1, 1e300, -2, 7]],
  ];
  for (const [datatype, values] of cases) {
    for (const littleEndian of [true, false]) {
      for (const version of [1, 2] as const) {
        test(`${datatype} round-trips (${littleEndian ? 'little' : 'big'}-endian, NIfTI-${version})`, async () => {
          const bytes = niftiBytes({ dims: [3, 2, 1], datatype, values, littleEndian, version, gzip: version === 2 });
          const v = await readNifti(bytes);
          expect(v.datatype).toBe(datatype);
          expect(v.dims).toEqual([3, 2, 1]);
          expect(Array.from(v.data)).toEqual(values.map(Math.fround));
        });
      }
    }
  }

  test('scl_slope and scl_inter are applied (value = slope * raw + inter)', async () => {
    const v = await readNifti(niftiBytes({ dims: [2, 2, 1], datatype: 'int16', values: [0, 1, -3, 10], sclSlope: 2, sclInter: -5 }));
    expect(Array.from(v.data)).toEqual([-5, -3, -11, 15]);
    const frac = await readNifti(niftiBytes({ dims: [2, 1, 1], datatype: 'uint8', values: [1, 3], sclSlope: 0.5, sclInter: 0.25 }));
    expect(Array.from(frac.data)).toEqual([0.75, 1.75]);
  });

  test('a zero or NaN scl_slope means no scaling at all (intercept ignored too)', async () => {
    for (const sclSlope of [0, NaN]) {
      const v = await readNifti(niftiBytes({ dims: [2, 1, 1], datatype: 'int16', values: [4, -4], sclSlope, sclInter: 100 }));
      expect(Array.from(v.data)).toEqual([4, -4]);
    }
  });

  test('sform (sform_code > 0) is used and preferred over the qform', async () => {
    const srow = [[0, -2, 0, 10], [1.5, 0, 0, -20], [0, 0, 4, 30.5]];
    const v = await readNifti(niftiBytes({ dims: [2, 2, 2], sformCode: 1, srow, qformCode: 1, quatern: [0, 0, 1], qoffset: [7, 8, 9] }));
    expect(v.affineSource).toBe('sform');
    expectMatrixClose(v.affine, srow, 12);
  });

  test('qform only: R(quaternion) diag(px, py, qfac pz) + qoffset', async () => {
    // 90 degrees about z: (a, b, c, d) = (cos 45, 0, 0, sin 45), R = [[0,-1,0],[1,0,0],[0,0,1]];
    // pixdim (2, 3, 4) with qfac -1: columns scaled by (2, 3, -4).
    const s = Math.SQRT1_2;
    for (const version of [1, 2] as const) {
      const v = await readNifti(niftiBytes({
        dims: [2, 3, 4], version, qformCode: 1, quatern: [0, 0, s], qoffset: [10, -20, 30], pixdim: [-1, 2, 3, 4],
      }));
      expect(v.affineSource).toBe('qform');
      expectMatrixClose(v.affine, [[0, -3, 0, 10], [2, 0, 0, -20], [0, 0, -4, 30]], 5);
    }
  });

  test('qform with b = 1 (180 degrees about x, a = 0) and qfac 1', async () => {
    const v = await readNifti(niftiBytes({ dims: [2, 2, 2], qformCode: 2, quatern: [1, 0, 0], qoffset: [1, 2, 3], pixdim: [1, 0.5, 0.5, 2] }));
    expectMatrixClose(v.affine, [[0.5, 0, 0, 1], [0, -0.5, 0, 2], [0, 0, -2, 3]], 12);
  });

  test('qform with a general quaternion matches the NIfTI formula', async () => {
    // unit quaternion (a, b, c, d) = (0.5, 0.5, 0.5, 0.5): rotation by 120 degrees about (1,1,1),
    // R maps x->y, y->z, z->x: R = [[0,0,1],[1,0,0],[0,1,0]].
    const v = await readNifti(niftiBytes({ dims: [2, 2, 2], qformCode: 1, quatern: [0.5, 0.5, 0.5], pixdim: [1, 1, 2, 3] }));
    expectMatrixClose(v.affine, [[0, 0, 3, 0], [1, 0, 0, 0], [0, 2, 0, 0]], 6);
  });

  test("pixdim fallback (no sform, no qform) is nibabel's base affine: x flipped, centred", async () => {
    // dims (4, 5, 6), pixdim (2, 3, 4): diag(-2, 3, 4), translation -((N-1)/2) * (-2, 3, 4) = (3, -6, -10)
    const v = await readNifti(niftiBytes({ dims: [4, 5, 6], pixdim: [1, 2, 3, 4] }));
    expect(v.affineSource).toBe('pixdim');
    expectMatrixClose(v.affine, [[-2, 0, 0, 3], [0, 3, 0, -6], [0, 0, 4, -10]], 12);
  });

  test('pixdim fallback uses |pixdim| and treats 0 as 1 (nibabel header fixes)', async () => {
    const v = await readNifti(niftiBytes({ dims: [3, 3, 3], pixdim: [1, -2, 0, 1] }));
    expectMatrixClose(v.affine, [[-2, 0, 0, 2], [0, 1, 0, -1], [0, 0, 1, -1]], 12);
  });

  test('transform codes outside 1..5 are ignored (nibabel resets them to 0)', async () => {
    const v = await readNifti(niftiBytes({ dims: [3, 3, 3], sformCode: 9, srow: [[5, 0, 0, 0], [0, 5, 0, 0], [0, 0, 5, 0]], qformCode: -1 }));
    expect(v.affineSource).toBe('pixdim');
  });

  test('a 4th dimension of size 1 is accepted', async () => {
    const v = await readNifti(niftiBytes({ dims: [2, 3, 2, 1], datatype: 'int16' }));
    expect(v.dims).toEqual([2, 3, 2]);
    expect(v.data.length).toBe(12);
  });

  test('plain and gzipped bytes read the same', async () => {
    const f = { dims: [3, 4, 5], datatype: 'int16' as const, sformCode: 1, srow: [[2, 0, 0, 1], [0, 2, 0, 2], [0, 0, 2, 3]] };
    const plain = await readNifti(niftiBytes(f));
    const gz = await readNifti(niftiBytes({ ...f, gzip: true }));
    expect(gz.data).toEqual(plain.data);
    expect(Array.from(gz.affine)).toEqual(Array.from(plain.affine));
  });
});

describe('niftiToCOrder', () => {
  test('C-order index [i, j, k] holds the file value at i + X (j + Y k)', () => {
    const dims = [3, 4, 5] as const;
    const [X, Y, Z] = dims;
    const file = Float32Array.from({ length: X * Y * Z }, (_, n) => n * 10 + 1);
    const c = niftiToCOrder(file, dims);
    for (let i = 0; i < X; i++) {
      for (let j = 0; j < Y; j++) {
        for (let k = 0; k < Z; k++) expect(c[(i * Y + j) * Z + k]).toBe(file[i + X * (j + Y * k)]);
      }
    }
  });

  test('rejects a length that does not fill the shape', () => {
    expect(() => niftiToCOrder(new Float32Array(5), [2, 2, 2])).toThrow(/5 values do not fill shape \[2, 2, 2\]/);
  });
});
