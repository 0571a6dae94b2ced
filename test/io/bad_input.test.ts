import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { exampleDataPath, loadExampleCt, type ExampleDataName } from '../../lib/io/example_ct.js';
import { huToDensity } from '../../lib/io/hu_to_density.js';
import { readNifti } from '../../lib/io/nifti_file.js';
import { read, type ReadOptions } from '../../lib/io/read.js';
import { tempFolder } from '../helpers/temp_folder.js';
import { niftiBytes, type NiftiFixture } from '../helpers/nifti_fixture.js';

const dataPath = (name: string) => fileURLToPath(new URL(`../../data/${name}.nii.gz`, import.meta.url));

const folder = tempFolder('tfdrr-bad-input-');
const file = folder.file;

async function fixtureFile(name: string, f: NiftiFixture): Promise<string> {
  return file(name, niftiBytes(f));
}

/** Asserts that reading `path` rejects with a message naming the file and matching `problem`. */
async function expectReadError(path: string, problem: RegExp) {
  const err = await readNifti(path).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(err).toBeInstanceOf(Error);
  expect(err!.message).toContain(path);
  expect(err!.message).toMatch(problem);
}

describe('readNifti rejects bad files with the file name and the problem', () => {
  test('missing file', async () => {
    await expectReadError(folder.path('does_not_exist.nii.gz'), /cannot read the file.*ENOENT/);
  });

  test('not NIfTI (bad magic)', async () => {
    const bytes = niftiBytes({ dims: [2, 2, 2], magic: 'abc\0' });
    await expectReadError(await file('bad_magic.nii', bytes), /not a NIfTI file: no 'n\+1' magic/);
  });

  test('not NIfTI (a text file, shorter than a header)', async () => {
    await expectReadError(await file('hello.nii', new TextEncoder().encode('hello')), /not a NIfTI file: 5 bytes/);
  });

  test('.hdr/.img pair header', async () => {
    await expectReadError(await fixtureFile('pair.hdr', { dims: [2, 2, 2], magic: 'ni1\0' }), /\.hdr\/\.img pair/);
  });

  test('truncated gzip', async () => {
    const gz = await readFile(dataPath('example_ct_sm'));
    const path = await file('truncated.nii.gz', new Uint8Array(gz.subarray(0, gz.length >> 1)));
    await expectReadError(path, /cannot decompress the gzip data, truncated or corrupt/);
  });

  test('truncated data', async () => {
    const bytes = niftiBytes({ dims: [4, 4, 4], datatype: 'int16' });
    await expectReadError(await file('short.nii', bytes.subarray(0, bytes.length - 10)), /data truncated: 4x4x4 int16 voxels need 128 bytes from offset 352, the file has 118/);
  });

  test('unsupported datatype names the code and the supported list', async () => {
    for (const [code, bytes] of [[32, 8], [256, 1], [768, 4]]) {
      const path = await fixtureFile(`type${code}.nii`, { dims: [2, 2, 2], datatype: code, bytesPerVoxel: bytes });
      await expectReadError(path, new RegExp(`unsupported datatype code ${code}; supported: uint8 \\(2\\), int16 \\(4\\), int32 \\(8\\), float32 \\(16\\), float64 \\(64\\), uint16 \\(512\\)`));
    }
  });

  test('zero or negative dimension', async () => {
    await expectReadError(await fixtureFile('zero.nii', { dims: [2, 0, 2], values: [] }), /dim\[2\] = 0: every spatial dimension must be >= 1/);
    await expectReadError(await fixtureFile('negative.nii', { dims: [2, 2, -3], values: [] }), /dim\[3\] = -3: every spatial dimension must be >= 1/);
  });

  test('not 3-D: a 2-D image, or a 4th dimension > 1', async () => {
    await expectReadError(await fixtureFile('image2d.nii', { dims: [2, 2] }), /dim\[0\] = 2: expected a 3-D volume/);
    await expectReadError(await fixtureFile('series.nii', { dims: [2, 2, 2, 3] }), /dim\[4\] = 3: only 3-D volumes are supported/);
  });

  test('non-finite sform', async () => {
    const path = await fixtureFile('nan_sform.nii', { dims: [2, 2, 2], sformCode: 1, srow: [[1, 0, 0, NaN], [0, 1, 0, 0], [0, 0, 1, 0]] });
    await expectReadError(path, /srow_x\[3\] = NaN: expected a finite number/);
  });

  test('singular sform', async () => {
    const path = await fixtureFile('singular_sform.nii', { dims: [2, 2, 2], sformCode: 2, srow: [[1, 0, 0, 0], [2, 0, 0, 0], [0, 0, 1, 0]] });
    await expectReadError(path, /invalid sform affine: the 3x3 part is singular/);
  });

  test('non-finite pixdim in the pixdim fallback', async () => {
    await expectReadError(await fixtureFile('nan_pixdim.nii', { dims: [2, 2, 2], pixdim: [1, 1, NaN, 1] }), /pixdim\[2\] = NaN: expected a finite number/);
  });

  test('qform quaternion with norm > 1', async () => {
    const path = await fixtureFile('bad_quaternion.nii', { dims: [2, 2, 2], qformCode: 1, quatern: [1, 1, 0] });
    await expectReadError(path, /qform quaternion \(quatern_b, quatern_c, quatern_d\) = \(1, 1, 0\) has norm > 1/);
  });

  test('vox_offset inside the header', async () => {
    await expectReadError(await fixtureFile('offset.nii', { dims: [2, 2, 2], voxOffset: 100 }), /vox_offset 100 is invalid/);
  });

  test('valid scl_slope with a non-finite scl_inter', async () => {
    await expectReadError(await fixtureFile('inter.nii', { dims: [2, 2, 2], sclSlope: 2, sclInter: Infinity }), /scl_slope 2 is valid but scl_inter is Infinity/);
  });

  test('bytes input is named <bytes>; a non-bytes argument is rejected', async () => {
    await expect(readNifti(new Uint8Array(10))).rejects.toThrow(/^readNifti\(<bytes>\): not a NIfTI file/);
    await expect(readNifti(42 as unknown as string)).rejects.toThrow(/expected a file path, a Uint8Array or an ArrayBuffer/);
  });
});

describe('read rejects bad options and mismatched labelmaps', () => {
  const ct = () => dataPath('example_ct_sm');
  const reject = (options: ReadOptions, message: RegExp) => expect(read(ct(), options)).rejects.toThrow(message);

  test('labelmap shape differs: names both files and both shapes', async () => {
    const seg = await fixtureFile('small_seg.nii', { dims: [3, 4, 5], datatype: 'uint8' });
    const err = await read(ct(), { labelmap: seg }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(`read: labelmap ${seg} has shape [3, 4, 5] but the volume ${ct()} has shape [122, 101, 30]`);
  });

  test('labelmap axis orientation differs from the volume', async () => {
    const volume = await fixtureFile('ras.nii', { dims: [2, 2, 2], sformCode: 1 });
    const seg = await fixtureFile('las_seg.nii', { dims: [2, 2, 2], datatype: 'uint8', sformCode: 1, srow: [[-1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]] });
    await expect(read(volume, { labelmap: seg })).rejects.toThrow(`read: labelmap ${seg} is oriented LAS but the volume ${volume} is oriented RAS`);
  });

  test('a labelmap with a NaN label: names the labelmap file and the voxel', async () => {
    const volume = await fixtureFile('ct_222.nii', { dims: [2, 2, 2], values: [-1000, 0, 100, 200, 300, 400, 500, 600] });
    const seg = await fixtureFile('nan_seg.nii', { dims: [2, 2, 2], values: [0, 1, 0, 1, 0, NaN, 0, 1] });
    await expect(read(volume, { labelmap: seg })).rejects.toThrow(`read: labelmap ${seg}: voxel (i, j, k) = (1, 0, 1) has label NaN; expected finite labels`);
  });

  test('a missing labelmap file is named', async () => {
    const missing = folder.path('no_seg.nii.gz');
    await reject({ labelmap: missing }, new RegExp(`readNifti\\(${missing}\\): cannot read the file`));
  });

  test('unknown orientation', async () => {
    await reject({ orientation: 'LR' as unknown as 'AP' }, /read: orientation must be 'AP', 'PA' or null, got "LR"/);
  });

  test('labels that are not integers, empty, or given without a labelmap', async () => {
    const labelmap = dataPath('example_seg');
    await reject({ labelmap, labels: [1.5] }, /read: labels must be an integer or a non-empty array of integers, got \[1.5\]/);
    await reject({ labelmap, labels: [] }, /read: labels must be an integer or a non-empty array of integers, got \[\]/);
    await reject({ labelmap, labels: '5' as unknown as number }, /read: labels must be an integer/);
    await reject({ labels: [5] }, /read: labels were given without a labelmap/);
  });

  test('boneAttenuationMultiplier not finite or not > 0', async () => {
    for (const m of [0, -1, NaN, Infinity]) {
      await reject({ boneAttenuationMultiplier: m }, /read: boneAttenuationMultiplier must be a finite number > 0/);
    }
  });

  test('centerVolume not a boolean, and unknown option names', async () => {
    await reject({ centerVolume: 'no' as unknown as boolean }, /read: centerVolume must be a boolean, got no/);
    await reject({ center_volume: false } as unknown as ReadOptions, /read: unknown option 'center_volume'/);
  });

  test('transform not 4x4, not affine, or singular', async () => {
    await reject({ transform: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] }, /read: transform must be a 4x4 matrix \(matrix4: expected 16 values/);
    await reject({ transform: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 1]] }, /read: transform must be affine with last row 0 0 0 1, got 0 0 1 1/);
    await reject({ transform: [[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]] }, /read: transform: the 3x3 part is singular/);
    await reject({ transform: [[1, 0, 0, NaN], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]] }, /read: transform: matrix has non-finite entries/);
  });

  test('a constant volume cannot be normalised', async () => {
    const path = await fixtureFile('constant.nii', { dims: [2, 2, 2], values: Array(8).fill(100) });
    await expect(read(path)).rejects.toThrow('huToDensity: cannot normalise a constant volume (every density value is 100)');
  });
});

describe('huToDensity, loadExampleCt and exampleDataPath reject bad arguments', () => {
  test('huToDensity: multiplier, NaN values and empty input', () => {
    for (const m of [0, -2, NaN, Infinity]) {
      expect(() => huToDensity(Float32Array.from([0, 1]), m)).toThrow(`boneAttenuationMultiplier: expected a finite number > 0, got ${m}`);
    }
    expect(() => huToDensity(Float32Array.from([0, NaN, 5]), 1)).toThrow('huToDensity: value 1 is NaN');
    expect(() => huToDensity(new Float32Array(0), 1)).toThrow('huToDensity: the volume is empty');
  });

  test('loadExampleCt: withLabelmap needs small, labelmap is not an option', async () => {
    await expect(loadExampleCt({ withLabelmap: true })).rejects.toThrow(/loadExampleCt: withLabelmap needs small: true/);
    await expect(loadExampleCt({ small: true, labelmap: 'x' } as unknown as Parameters<typeof loadExampleCt>[0])).rejects.toThrow(
      /loadExampleCt: labelmap is not an option here/,
    );
  });

  test('exampleDataPath: unknown name', () => {
    expect(() => exampleDataPath('example_mri' as ExampleDataName)).toThrow(
      "exampleDataPath: unknown example 'example_mri' (known: example_ct, example_ct_sm, example_seg)",
    );
  });
});
