/**
 * Hostile NIfTI headers (issue #17): the header and extension checks in front of nifti-reader-js
 * (lib/io/nifti_header_check.ts), the voxel-size range on the file's affine, and the NaN voxel
 * named with its file. Each measured bug of the issue has a test here, for NIfTI-1 and NIfTI-2 and
 * both byte orders.
 */
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { MAX_EXTENSIONS } from '../../lib/io/nifti_header_check.js';
import { readNifti } from '../../lib/io/nifti_file.js';
import { read } from '../../lib/io/read.js';
import { niftiBytes, type NiftiFixture } from '../helpers/nifti_fixture.js';
import { tempFolder } from '../helpers/temp_folder.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('../helpers/read_nifti_child.ts', import.meta.url));

const folder = tempFolder('tfdrr-hostile-nifti-');
const file = folder.file;

/** The error readNifti(path) rejects with (fails the test if it resolves). */
async function readError(path: string): Promise<Error> {
  const err = await readNifti(path).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(err).toBeInstanceOf(Error);
  expect(err!.message.startsWith(`readNifti(${path}): `)).toBe(true);
  return err!;
}

async function expectRefused(name: string, f: NiftiFixture | Uint8Array, problem: RegExp | string): Promise<void> {
  const path = await file(name, f instanceof Uint8Array ? f : niftiBytes(f));
  const err = await readError(path);
  if (typeof problem === 'string') expect(err.message).toBe(`readNifti(${path}): ${problem}`);
  else expect(err.message).toMatch(problem);
}

/** Extension records `[esize, bytes it occupies]`, written in the given byte order. */
function chain(records: [number, number][], littleEndian = true): Uint8Array {
  const out = new Uint8Array(records.reduce((a, [, span]) => a + span, 0));
  const view = new DataView(out.buffer);
  let p = 0;
  for (const [esize, span] of records) {
    view.setInt32(p, esize, littleEndian);
    view.setInt32(p + 4, 4, littleEndian); // ecode 4: AFNI
    p += span;
  }
  return out;
}

const VARIANTS = [
  { version: 1, littleEndian: true },
  { version: 1, littleEndian: false },
  { version: 2, littleEndian: true },
  { version: 2, littleEndian: false },
] as const;
const label = (v: { version: 1 | 2; littleEndian: boolean }) => `NIfTI-${v.version} ${v.littleEndian ? 'LE' : 'BE'}`;
const headerSize = (version: 1 | 2) => (version === 1 ? 348 : 540);

describe('issue #17: the measured bugs', () => {
  test('a negative esize in the extension chain (16 KB files) is refused at once, in a watched child process', async () => {
    // nifti-reader-js follows esize -16 back and forth forever (9 GB, then an abort); the child
    // process bounds a regression to a failed test.
    const paths = await Promise.all(
      VARIANTS.map((v) => file(`negative_esize_${label(v)}.nii`, niftiBytes({ dims: [16, 16, 16], datatype: 'int32', ...v, extension: chain([[16, 16], [-16, 16]], v.littleEndian) }))),
    );
    const t0 = performance.now();
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--max-old-space-size=256', CHILD, ...paths], { cwd: ROOT, encoding: 'utf8', timeout: 60000 });
    expect(child.signal).toBeNull();
    expect(child.status).toBe(0);
    const results = child.stdout.trim().split('\n').map((line) => JSON.parse(line));
    VARIANTS.forEach((v, n) => {
      const at = headerSize(v.version) + 4 + 16;
      expect(results[n]).toEqual({
        ok: false,
        name: 'Error',
        message: `readNifti(${paths[n]}): extension 1 at byte ${at}: esize -16 is invalid (expected a positive multiple of 16)`,
      });
    });
    expect(performance.now() - t0).toBeLessThan(30000);
  });

  test('esize 0 ends the extension chain (padding up to vox_offset): the volume is read', async () => {
    // was: "Cannot read properties of undefined (reading 'esize')" from nifti-reader-js
    for (const v of VARIANTS) {
      for (const records of [[[0, 16]], [[32, 32], [0, 16]]] as [number, number][][]) {
        const values = Array.from({ length: 8 }, (_, n) => n * 10);
        const vol = await readNifti(niftiBytes({ dims: [2, 2, 2], values, ...v, extension: chain(records, v.littleEndian) }));
        expect(Array.from(vol.data)).toEqual(values);
      }
    }
  });

  test('files one to three bytes longer than the header are refused naming the length (NIfTI-1: 349-351, NIfTI-2: 541-543)', async () => {
    // was: "Offset is outside the bounds of the DataView" from nifti-reader-js
    for (const v of VARIANTS) {
      const full = niftiBytes({ dims: [2, 2, 2], ...v });
      const H = headerSize(v.version);
      for (const length of [H, H + 1, H + 2, H + 3]) {
        await expectRefused(
          `short_${length}_${label(v)}.nii`,
          full.slice(0, length),
          `the file has ${length} bytes: a single-file NIfTI-${v.version} needs at least ${H + 4} (the ${H}-byte header and the 4 extension-flag bytes)`,
        );
      }
    }
  });

  test('voxel sizes of 1e-37 mm and 1e20 mm are refused, via sform, qform and pixdim, naming the affine fields', async () => {
    // was: NaN images (1e-37) and all-zero Siddon / non-zero Trilinear images (1e20)
    for (const v of VARIANTS) {
      for (const size of [1e-37, 1e20]) {
        const shown = v.version === 1 ? Math.fround(size) : size;
        const s = [size, size, size];
        const cases: [string, NiftiFixture, string][] = [
          ['sform', { dims: [2, 2, 2], ...v, sformCode: 1, srow: [[size, 0, 0, 0], [0, size, 0, 0], [0, 0, size, 0]] }, 'sform affine (srow_x, srow_y, srow_z)'],
          ['qform', { dims: [2, 2, 2], ...v, qformCode: 1, pixdim: [1, ...s] }, 'qform affine (quatern_b/c/d, qoffset_x/y/z, pixdim[1..3])'],
          ['pixdim', { dims: [2, 2, 2], ...v, pixdim: [1, ...s] }, 'pixdim affine (pixdim[1..3])'],
        ];
        for (const [kind, fixture, fields] of cases) {
          await expectRefused(
            `spacing_${size}_${kind}_${label(v)}.nii`,
            fixture,
            `${fields}: voxel size along i is ${shown} mm (the norm of column 0 of the 3x3 part); expected 0.0001 mm to 10000 mm per axis`,
          );
        }
      }
    }
  });

  test('a NaN voxel is named with its file and its (i, j, k)', async () => {
    for (const v of VARIANTS) {
      const values = Array.from({ length: 24 }, (_, n) => n * 50 - 600);
      values[1 + 2 * (2 + 3 * 1)] = NaN; // (i, j, k) = (1, 2, 1) in a 2 x 3 x 4 volume
      const path = await file(`nan_voxel_${label(v)}.nii`, niftiBytes({ dims: [2, 3, 4], values, ...v }));
      await expect(read(path)).rejects.toThrow(`read(${path}): huToDensity: voxel (i, j, k) = (1, 2, 1) is NaN`);
    }
    const bytes = niftiBytes({ dims: [2, 1, 1], values: [0, NaN] });
    await expect(read(bytes)).rejects.toThrow('read(<bytes>): huToDensity: voxel (i, j, k) = (1, 0, 0) is NaN');
  });
});

describe('huge translations', () => {
  test('a translation of 1e20 mm (NIfTI-2) or 3e38 mm (NIfTI-1) centres exactly: the volume is not moved by the rounding', async () => {
    const centredAt = async (version: 1 | 2, t: number) => {
      const subject = await read(niftiBytes({ dims: [3, 4, 5], version, sformCode: 1, srow: [[2, 0, 0, t], [0, 0, -3, -t], [0, 4, 0, t]] }));
      subject.dispose();
      return Array.from(subject.affine);
    };
    const expected = [2, 0, 0, -2, 0, 0, -3, 6, 0, 4, 0, -6, 0, 0, 0, 1];
    expect(await centredAt(2, 0)).toEqual(expected);
    expect(await centredAt(2, 1e20)).toEqual(expected);
    expect(await centredAt(1, 3e38)).toEqual(expected);
  });
});

describe('header checks', () => {
  test('sizeof_hdr must be the header size in one byte order', async () => {
    for (const v of VARIANTS) {
      const bytes = niftiBytes({ dims: [2, 2, 2], ...v });
      new DataView(bytes.buffer).setInt32(0, 1000, true);
      await expectRefused(`sizeof_${label(v)}.nii`, bytes, `sizeof_hdr = 1000 (bytes 0-3, little-endian; -402456576 big-endian): expected ${headerSize(v.version)} for a NIfTI-${v.version} header`);
    }
  });

  test('vox_offset: an integer inside the file, after the extension flag', async () => {
    await expectRefused('offset_fraction.nii', { dims: [2, 2, 2], voxOffset: 352.5 }, /vox_offset 352.5 is invalid for a single-file NIfTI-1 \(must be an integer >= 352\)/);
    await expectRefused('offset_nan.nii', { dims: [2, 2, 2], voxOffset: NaN }, /vox_offset NaN is invalid/);
    await expectRefused('offset_past_end.nii', { dims: [1, 1, 1], voxOffset: 1e9 }, 'vox_offset 1000000000 is past the end of the file (356 bytes)');
    await expectRefused('offset_past_end2.nii', { dims: [1, 1, 1], version: 2, littleEndian: false, voxOffset: 2 ** 52 }, 'vox_offset 4503599627370496 is past the end of the file (548 bytes)');
    await expectRefused('offset_unsafe2.nii', { dims: [1, 1, 1], version: 2, voxOffset: 2 ** 60 }, 'vox_offset = 1152921504606846976 is out of range (expected |vox_offset| <= 2^53 - 1)');
    await expectRefused('offset_negative2.nii', { dims: [1, 1, 1], version: 2, voxOffset: -(2 ** 40) }, /vox_offset -1099511627776 is invalid for a single-file NIfTI-2 \(must be an integer >= 544\)/);
  });

  test('huge dimensions are refused against the file length before anything is allocated', async () => {
    const v1 = niftiBytes({ dims: [1, 1, 1], datatype: 'float64' });
    for (const a of [1, 2, 3]) new DataView(v1.buffer).setInt16(40 + 2 * a, 32767, true);
    await expectRefused('huge1.nii', v1, 'data truncated: 32767x32767x32767 float64 voxels need 281449207693304 bytes from offset 352, the file has 8');
    const v2 = niftiBytes({ dims: [2, 2, 2], version: 2 });
    new DataView(v2.buffer).setBigInt64(16 + 8, 2n ** 40n, true);
    await expectRefused('huge2.nii', v2, /data truncated: 1099511627776x2x2 float32 voxels need 17592186044416 bytes from offset 544, the file has 32$/);
    new DataView(v2.buffer).setBigInt64(16 + 8, 2n ** 62n, true);
    await expectRefused('huge3.nii', v2, 'dim[1] = 4611686018427387904 is out of range (expected |dim[1]| <= 2^53 - 1)');
  });

  test('bitpix must match the datatype', async () => {
    const bytes = niftiBytes({ dims: [2, 2, 2], datatype: 'int16', littleEndian: false });
    new DataView(bytes.buffer).setInt16(72, 8, false);
    await expectRefused('bitpix.nii', bytes, 'bitpix 8 does not match datatype int16 (4), which has 16 bits per voxel');
  });

  test('extension chains: esize not a positive multiple of 16, past vox_offset, too many records', async () => {
    for (const v of VARIANTS) {
      const H = headerSize(v.version);
      const ext = (records: [number, number][]) => ({ dims: [2, 2, 2], ...v, extension: chain(records, v.littleEndian) });
      await expectRefused(`esize8_${label(v)}.nii`, ext([[8, 16]]), `extension 0 at byte ${H + 4}: esize 8 is invalid (expected a positive multiple of 16)`);
      await expectRefused(`esize24_${label(v)}.nii`, ext([[16, 16], [24, 32]]), `extension 1 at byte ${H + 20}: esize 24 is invalid (expected a positive multiple of 16)`);
      await expectRefused(`esize_min_${label(v)}.nii`, ext([[-(2 ** 31), 16]]), `extension 0 at byte ${H + 4}: esize -2147483648 is invalid (expected a positive multiple of 16)`);
      await expectRefused(
        `esize_past_${label(v)}.nii`,
        ext([[48, 32]]),
        `extension 0 at byte ${H + 4}: esize 48 runs past vox_offset ${H + 36} (the record would end at byte ${H + 52})`,
      );
    }
    const many = (n: number) => ({ dims: [1, 1, 2], extension: chain(Array.from({ length: n }, () => [16, 16] as [number, number])) });
    expect((await readNifti(niftiBytes(many(MAX_EXTENSIONS)))).dims).toEqual([1, 1, 2]);
    await expectRefused('too_many.nii', many(MAX_EXTENSIONS + 1), `more than ${MAX_EXTENSIONS} extensions before vox_offset ${352 + 16 * (MAX_EXTENSIONS + 1)}`);
  });

  test('an extension flag with no room for extensions, and valid chains, read fine', async () => {
    for (const v of VARIANTS) {
      const values = [1, 2, 3, 4, 5, 6, 7, 8];
      const flagOnly = await readNifti(niftiBytes({ dims: [2, 2, 2], values, ...v, extensionFlag: 1 }));
      expect(Array.from(flagOnly.data)).toEqual(values);
      const two = await readNifti(niftiBytes({ dims: [2, 2, 2], values, ...v, extension: chain([[32, 32], [16, 16]], v.littleEndian), gzip: true }));
      expect(Array.from(two.data)).toEqual(values);
    }
  });

  test('non-finite transform fields are named: srow with an sform, quatern / qoffset / pixdim with a qform', async () => {
    for (const v of VARIANTS) {
      const name = label(v);
      await expectRefused(`srow_inf_${name}.nii`, { dims: [2, 2, 2], ...v, sformCode: 1, srow: [[1, 0, 0, 0], [0, 1, Infinity, 0], [0, 0, 1, 0]] }, 'srow_y[2] = Infinity: expected a finite number');
      await expectRefused(`quatern_nan_${name}.nii`, { dims: [2, 2, 2], ...v, qformCode: 1, quatern: [0, NaN, 0] }, 'quatern_c = NaN: expected a finite number');
      await expectRefused(`qoffset_inf_${name}.nii`, { dims: [2, 2, 2], ...v, qformCode: 1, qoffset: [0, 0, -Infinity] }, 'qoffset_z = -Infinity: expected a finite number');
      await expectRefused(`pixdim_inf_${name}.nii`, { dims: [2, 2, 2], ...v, qformCode: 1, pixdim: [1, 1, 1, Infinity] }, 'pixdim[3] = Infinity: expected a finite number');
      // with an sform, the qform fields are not used (nibabel reads such files too)
      const sformOnly = await readNifti(niftiBytes({ dims: [2, 2, 2], ...v, sformCode: 1, qformCode: 1, quatern: [NaN, 0, 0], pixdim: [1, NaN, 1, 1] }));
      expect(sformOnly.affineSource).toBe('sform');
    }
  });

  test('a gzip bomb (64 KB that inflate to 64 MiB past a tiny volume) is refused without inflating it all', async () => {
    const small = niftiBytes({ dims: [2, 2, 2] });
    const bomb = new Uint8Array(64 << 20);
    bomb.set(small);
    const gz = new Uint8Array(gzipSync(bomb, { level: 9 }));
    expect(gz.length).toBeLessThan(100000);
    await expect(readNifti(gz)).rejects.toThrow(`readNifti(<bytes>): the gzip data inflates to more than ${384 + (1 << 24)} bytes; its header describes 384 (vox_offset + the data)`);
    // bytes past the data, up to the bound, are ignored as nibabel does
    const trailing = new Uint8Array(small.length + 1000);
    trailing.set(small);
    expect((await readNifti(new Uint8Array(gzipSync(trailing)))).dims).toEqual([2, 2, 2]);
  });

  test('property: any header byte changed, any truncation: readNifti resolves or rejects with an Error naming <bytes>', async () => {
    const bases = VARIANTS.map((v) => niftiBytes({ dims: [3, 2, 2], datatype: 'int16', ...v, extension: chain([[32, 32]], v.littleEndian) }));
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: bases.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.option(fc.nat()),
        async (b, edits, cut) => {
          let bytes = bases[b].slice();
          const headerEnd = headerSize(VARIANTS[b].version) + 36;
          for (const [at, value] of edits) bytes[at % headerEnd] = value;
          if (cut !== null) bytes = bytes.slice(0, cut % bytes.length);
          const err = await readNifti(bytes).then(
            () => null,
            (e: unknown) => e,
          );
          if (err === null) return;
          expect(err).toBeInstanceOf(Error);
          expect((err as Error).name).toBe('Error');
          expect((err as Error).message.startsWith('readNifti(<bytes>): ')).toBe(true);
        },
      ),
      { seed: 17, numRuns: 2000 },
    );
  });
});
