/**
 * Hostile NIfTI inputs for the fuzz suite, made with fast-check: every case is a JSON recipe (so
 * it can be printed and replayed) drawn from `(seed, index)` alone, then turned into bytes.
 *
 * A recipe is a small valid volume (NIfTI-1 or -2, either byte order, any supported datatype, dims
 * 1..8, an sform / qform / pixdim affine whose voxel sizes range from 1e-45 to 1e38 mm, values
 * that may hold NaN, Inf or extreme numbers, optional scaling, an optional extension chain with
 * valid or hostile `esize`s), then header mutations (a field set to NaN, Inf, 0, a huge or negative
 * int, a random double; random bytes; bit flips), then a truncation (inside the header, the flag,
 * the extensions or the data), then optionally gzip with damage (a bit flip, a truncation, a second
 * member, trailing garbage, or a 64 MiB member of zeros: a gzip bomb). About one case in ten is
 * random bytes instead (plain, behind a gzip magic, or around a NIfTI magic).
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { niftiBytes, type FixtureDatatype } from '../helpers/nifti_fixture.js';

/** Numbers a hostile header likes: special floats, range edges, powers of ten, integer limits. */
const SPECIAL = [
  NaN, Infinity, -Infinity, 0, -0, 1, -1, 0.5, 1.5, 1e-45, 1e-39, 1e-37, 1e-20, 1e-5, 1e-4, 1.00001e-4, 9.9999e3, 1e4, 1e5,
  1e10, 1e20, 1e38, 3.4e38, -3.4e38, 1e300, 2 ** 15 - 1, -(2 ** 15), 2 ** 16, 2 ** 31 - 1, -(2 ** 31), 2 ** 32, 2 ** 53, 2 ** 63,
  -(2 ** 63), 348, 352, 540, 544,
];

/** A hostile number: a special value, a random double, or a random integer. */
const hostileNumber = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SPECIAL) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.integer({ min: -70000, max: 70000 }) },
);

/** A double in [lo, hi] spread evenly (fast-check's own doubles crowd at the bounds and at 0). */
const uniform = (lo: number, hi: number) => fc.integer({ min: 0, max: 1 << 30 }).map((n) => lo + ((hi - lo) * n) / (1 << 30));

/** `arb` in `percent` % of cases, else undefined. */
const sometimes = <T>(arb: fc.Arbitrary<T>, percent: number) =>
  fc.oneof({ weight: 100 - percent, arbitrary: fc.constant(undefined) }, { weight: percent, arbitrary: arb });

/** A voxel size in mm: mostly ordinary, often at or beyond the accepted range's edges. */
const spacing = fc.oneof(
  { weight: 4, arbitrary: uniform(0.1, 10) },
  { weight: 2, arbitrary: fc.constantFrom(1e-45, 1e-39, 1e-37, 1e-10, 1e-5, 9.99e-5, 1e-4, 1e4, 1.0001e4, 1e5, 1e10, 1e20, 1e38, 0, -1, -2.5) },
  { weight: 2, arbitrary: uniform(-45, 38).map((e) => 10 ** e) },
);

/**
 * The three voxel sizes: ordinary (0.1..10 mm each), one size for all three axes (often extreme:
 * an anisotropic extreme is refused as singular before its size is looked at), or each its own.
 */
const spacings = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(uniform(0.1, 10), uniform(0.1, 10), uniform(0.1, 10)) },
  { weight: 3, arbitrary: fc.tuple(spacing, uniform(0.5, 2), uniform(0.5, 2), uniform(0.5, 2)).map(([s, a, b, c]) => [s * a, s * b, s * c]) },
  { weight: 2, arbitrary: fc.tuple(spacing, spacing, spacing) },
);

const DATATYPES: FixtureDatatype[] = ['uint8', 'int16', 'uint16', 'int32', 'float32', 'float64'];

/** How the voxel values are made. */
type ValueKind = 'ramp' | 'random' | 'constant' | 'nan' | 'inf' | 'extreme';

/** One extension record: the `esize` written, and the bytes it really occupies. */
interface ExtensionRecipe {
  esize: number;
  ecode: number;
  span: number;
}

/** Sets a named header field (the field table below) to a value. */
interface FieldMutation {
  kind: 'field';
  field: string;
  value: number;
}
interface ByteMutation {
  kind: 'byte';
  /** Position as a fraction of the header (+ flag and extensions) length. */
  at: number;
  value: number;
}
interface FlipMutation {
  kind: 'flip';
  at: number;
  bit: number;
}
type Mutation = FieldMutation | ByteMutation | FlipMutation;

/** A NIfTI-shaped case. */
export interface NiftiRecipe {
  kind: 'nifti';
  version: 1 | 2;
  littleEndian: boolean;
  datatype: FixtureDatatype;
  dims: number[];
  values: ValueKind;
  valueSeed: number;
  transform:
    | { kind: 'sform'; spacing: number[]; quaternion: number[]; offset: number[] }
    | { kind: 'qform'; spacing: number[]; quatern: number[]; qfac: number; offset: number[] }
    | { kind: 'pixdim'; spacing: number[] }
    | { kind: 'shear'; rows: number[][] }
    | { kind: 'near-singular'; spacing: number[]; flatness: number; offset: number[] };
  scaling?: { slope: number; inter: number };
  extensions?: { flag: number; records: ExtensionRecipe[]; padding: number };
  mutations: Mutation[];
  truncate?: { region: 'header' | 'flag' | 'extensions' | 'data'; at: number };
  gzip?: { damage: 'none' | 'flip' | 'truncate' | 'member' | 'garbage-member' | 'trailer' | 'bomb'; at: number; bit: number };
}

/** A case of random bytes. */
export interface RandomRecipe {
  kind: 'random';
  shape: 'plain' | 'gzip-magic' | 'nifti1-magic' | 'nifti2-magic' | 'gzipped';
  length: number;
  seed: number;
}

export type FuzzRecipe = NiftiRecipe | RandomRecipe;

const extensionRecord: fc.Arbitrary<ExtensionRecipe> = fc
  .record({
    span: fc.constantFrom(16, 32, 48, 64),
    esize: fc.oneof(
      { weight: 3, arbitrary: fc.constant(Number.NaN) }, // NaN: "the true span" (a valid record)
      { weight: 2, arbitrary: fc.constantFrom(0, -16, -8, 8, 7, 15, 17, 24, 4096, 2 ** 31 - 16, -(2 ** 31)) },
      { weight: 1, arbitrary: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) },
    ),
    ecode: fc.constantFrom(0, 2, 4, 6, 44, -1),
  })
  .map((r) => ({ ...r, esize: Number.isNaN(r.esize) ? r.span : r.esize }));

const extensions = fc.oneof(
  { weight: 4, arbitrary: fc.record({ flag: fc.constantFrom(1, 255), records: fc.array(extensionRecord, { minLength: 0, maxLength: 4 }), padding: fc.constantFrom(0, 0, 4, 16) }) },
  // many small records (valid ones beyond the limit, or a long chain ending in a bad one)
  {
    weight: 1,
    arbitrary: fc
      .record({ n: fc.constantFrom(100, 1024, 1025, 1500), last: fc.constantFrom(16, 0, -16, 8) })
      .map(({ n, last }) => ({ flag: 1, records: [...Array.from({ length: n - 1 }, () => ({ esize: 16, ecode: 0, span: 16 })), { esize: last, ecode: 0, span: 16 }], padding: 0 })),
  },
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('field' as const), field: fc.constantFrom(...fieldNames()), value: hostileNumber }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('byte' as const), at: uniform(0, 0.999999), value: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: uniform(0, 0.999999), bit: fc.integer({ min: 0, max: 7 }) }) },
);

const unitQuaternion = fc.tuple(uniform(-1, 1), uniform(-1, 1), uniform(-1, 1), uniform(-1, 1));
const offset = fc.tuple(hostileNumber, uniform(-500, 500), uniform(-500, 500));
const ordinaryOffset = fc.tuple(uniform(-500, 500), uniform(-500, 500), uniform(-500, 500));

const transform = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('sform' as const), spacing: spacings, quaternion: unitQuaternion, offset: fc.oneof(ordinaryOffset, offset) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('qform' as const),
      spacing: spacings,
      quatern: fc.oneof(unitQuaternion.map(([a, b, c, d]) => { const n = Math.hypot(a, b, c, d) || 1; return [b / n, c / n, d / n]; }), fc.tuple(uniform(-1, 1), uniform(-1, 1), uniform(-1, 1))),
      qfac: fc.constantFrom(1, -1, 0, 2),
      offset: ordinaryOffset,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('pixdim' as const), spacing: spacings }) },
  // the third column nearly in the plane of the first two: |det| / (|c0| |c1| |c2|) = 10^flatness
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('near-singular' as const), spacing: spacings, flatness: uniform(-14, -4), offset: ordinaryOffset }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('shear' as const), rows: fc.array(fc.array(fc.oneof({ weight: 4, arbitrary: uniform(-5, 5) }, { weight: 1, arbitrary: hostileNumber }), { minLength: 4, maxLength: 4 }), { minLength: 3, maxLength: 3 }) }) },
);

const niftiRecipe: fc.Arbitrary<NiftiRecipe> = fc.record(
  {
    kind: fc.constant('nifti' as const),
    version: fc.constantFrom(1 as const, 2 as const),
    littleEndian: fc.boolean(),
    datatype: fc.constantFrom(...DATATYPES),
    dims: fc.tuple(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 8 })),
    values: fc.constantFrom<ValueKind>('ramp', 'ramp', 'random', 'random', 'constant', 'nan', 'inf', 'extreme'),
    valueSeed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    transform,
    scaling: sometimes(fc.record({ slope: hostileNumber, inter: hostileNumber }), 20),
    extensions: sometimes(extensions, 30),
    mutations: fc.oneof({ weight: 1, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) }),
    truncate: sometimes(fc.record({ region: fc.constantFrom('header' as const, 'flag' as const, 'extensions' as const, 'data' as const), at: uniform(0, 0.999999) }), 12),
    gzip: sometimes(
      fc.record({
        damage: fc.constantFrom('none' as const, 'none' as const, 'flip' as const, 'truncate' as const, 'member' as const, 'garbage-member' as const, 'trailer' as const, 'bomb' as const),
        at: uniform(0, 0.999999),
        bit: fc.integer({ min: 0, max: 7 }),
      }),
      30,
    ),
  },
) as fc.Arbitrary<NiftiRecipe>;

const randomRecipe: fc.Arbitrary<RandomRecipe> = fc.record({
  kind: fc.constant('random' as const),
  shape: fc.constantFrom('plain' as const, 'gzip-magic' as const, 'nifti1-magic' as const, 'nifti2-magic' as const, 'gzipped' as const),
  length: fc.oneof(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 340, max: 560 }), fc.integer({ min: 0, max: 5000 })),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});

/** Every case: 9 in 10 NIfTI-shaped, 1 in 10 random bytes. */
export const fuzzRecipe: fc.Arbitrary<FuzzRecipe> = fc.oneof({ weight: 9, arbitrary: niftiRecipe }, { weight: 1, arbitrary: randomRecipe });

/** The recipe of case `index` of run `seed` (the same on every machine and in every process). */
export function recipeOf(seed: number, index: number): FuzzRecipe {
  const caseSeed = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) | 0;
  return fc.sample(fuzzRecipe, { seed: caseSeed, numRuns: 1 })[0];
}

/** A short text for a recipe: its JSON (numbers as JS prints them), cut at `max` characters. */
export function describeRecipe(r: FuzzRecipe, max = 600): string {
  const text = JSON.stringify(r, (_, v) => {
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
    if (r.kind === 'nifti' && Array.isArray(v) && v.length > 8 && typeof v[0] === 'object') return `[${v.length} records]`;
    return v;
  });
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

/** A small deterministic generator (mulberry32) for values and random bytes. */
function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const RANGE: Record<FixtureDatatype, [number, number]> = {
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  float32: [-3.4e38, 3.4e38],
  float64: [-1e300, 1e300],
};

function voxelValues(r: NiftiRecipe): number[] {
  const count = r.dims.reduce((a, b) => a * b, 1);
  const rand = mulberry32(r.valueSeed);
  const [lo, hi] = RANGE[r.datatype];
  const float = r.datatype === 'float32' || r.datatype === 'float64';
  const clampInt = (x: number) => (float ? x : Math.max(lo, Math.min(hi, Math.round(x))));
  return Array.from({ length: count }, (_, n) => {
    switch (r.values) {
      case 'ramp':
        return clampInt(-1000 + (2500 * n) / Math.max(1, count - 1));
      case 'random':
        return clampInt(-1200 + 3000 * rand());
      case 'constant':
        return clampInt(100);
      case 'nan':
        return float && n === count >> 1 ? NaN : clampInt(n);
      case 'inf':
        return float && n === count >> 1 ? (rand() < 0.5 ? Infinity : -Infinity) : clampInt(n);
      case 'extreme':
        return n % 2 === 0 ? lo : hi;
    }
  });
}

/** Row-major 3x4 sform rows `R diag(s)` + offset, from a (not necessarily unit) quaternion. */
function sformRows(q: number[], s: number[], offset: number[]): number[][] {
  const norm = Math.hypot(...q) || 1;
  const [a, b, c, d] = q.map((x) => x / norm);
  const R = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a - b * b + c * c - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a - b * b - c * c + d * d],
  ];
  return R.map((row, i) => [...row.map((x, j) => x * s[j]), offset[i]]);
}

/** Columns `s0 x`, `s1 y` and `s2 (cos e x + sin e ... )`: the third leans into the x-y plane, `e = 10^flatness`. */
function nearSingularRows(s: number[], flatness: number, offset: number[]): number[][] {
  const e = 10 ** flatness;
  const third = [Math.SQRT1_2 * Math.cos(e), Math.SQRT1_2 * Math.cos(e), Math.sin(e)];
  return [0, 1, 2].map((r) => [r === 0 ? s[0] : 0, r === 1 ? s[1] : 0, s[2] * third[r], offset[r]]);
}

interface Field {
  offset: number;
  type: 'i16' | 'i32' | 'i64' | 'f32' | 'f64' | 'u8';
}

/** The header fields a mutation may set, by version. */
function fieldTable(version: 1 | 2): Record<string, Field> {
  const t: Record<string, Field> = {};
  const v1 = version === 1;
  const int: Field['type'] = v1 ? 'i16' : 'i64';
  const real: Field['type'] = v1 ? 'f32' : 'f64';
  const iw = v1 ? 2 : 8;
  const rw = v1 ? 4 : 8;
  t.sizeof_hdr = { offset: 0, type: 'i32' };
  for (let n = 0; n < 8; n++) t[`dim[${n}]`] = { offset: (v1 ? 40 : 16) + iw * n, type: int };
  t.datatype = { offset: v1 ? 70 : 12, type: 'i16' };
  t.bitpix = { offset: v1 ? 72 : 14, type: 'i16' };
  for (let n = 0; n < 8; n++) t[`pixdim[${n}]`] = { offset: (v1 ? 76 : 104) + rw * n, type: real };
  t.vox_offset = { offset: v1 ? 108 : 168, type: v1 ? 'f32' : 'i64' };
  t.scl_slope = { offset: v1 ? 112 : 176, type: real };
  t.scl_inter = { offset: v1 ? 116 : 184, type: real };
  t.qform_code = { offset: v1 ? 252 : 344, type: v1 ? 'i16' : 'i32' };
  t.sform_code = { offset: v1 ? 254 : 348, type: v1 ? 'i16' : 'i32' };
  ['quatern_b', 'quatern_c', 'quatern_d', 'qoffset_x', 'qoffset_y', 'qoffset_z'].forEach((name, n) => (t[name] = { offset: (v1 ? 256 : 352) + rw * n, type: real }));
  for (let n = 0; n < 12; n++) t[`srow_${'xyz'[n >> 2]}[${n % 4}]`] = { offset: (v1 ? 280 : 400) + rw * n, type: real };
  t['extension[0]'] = { offset: v1 ? 348 : 540, type: 'u8' };
  t['esize[0]'] = { offset: v1 ? 352 : 544, type: 'i32' };
  t['esize[1]'] = { offset: v1 ? 368 : 560, type: 'i32' };
  return t;
}

/** Field names (the same for both versions). */
function fieldNames(): string[] {
  return Object.keys(fieldTable(1));
}

function setField(view: DataView, f: Field, value: number, le: boolean): void {
  if (f.offset + 8 > view.byteLength && f.type !== 'u8') return;
  const int = (bits: number) => (Number.isFinite(value) ? Math.trunc(value) : value > 0 ? 2 ** (bits - 1) - 1 : -(2 ** (bits - 1)));
  switch (f.type) {
    case 'u8':
      if (f.offset < view.byteLength) view.setUint8(f.offset, int(8) & 255);
      return;
    case 'i16':
      return view.setInt16(f.offset, int(16), le);
    case 'i32':
      return view.setInt32(f.offset, int(32), le);
    case 'i64': {
      const x = int(64);
      const big = x >= 2 ** 63 ? 2n ** 63n - 1n : x <= -(2 ** 63) ? -(2n ** 63n) : BigInt(x);
      return view.setBigInt64(f.offset, big, le);
    }
    case 'f32':
      return view.setFloat32(f.offset, value, le);
    case 'f64':
      return view.setFloat64(f.offset, value, le);
  }
}

/** The bytes of a recipe. */
export function recipeBytes(r: FuzzRecipe): Uint8Array {
  return r.kind === 'random' ? randomBytes(r) : niftiCaseBytes(r);
}

function randomBytes(r: RandomRecipe): Uint8Array {
  const rand = mulberry32(r.seed);
  const out = Uint8Array.from({ length: r.length }, () => Math.floor(rand() * 256));
  const put = (at: number, s: string) => [...s].forEach((ch, n) => at + n < out.length && (out[at + n] = ch.charCodeAt(0)));
  const le = rand() < 0.5;
  const size = (h: number) => out.length >= 4 && new DataView(out.buffer).setInt32(0, h, le);
  if (r.shape === 'gzip-magic') put(0, '\x1f\x8b\x08');
  if (r.shape === 'nifti1-magic') {
    put(344, 'n+1\0');
    size(348);
  }
  if (r.shape === 'nifti2-magic') {
    put(4, 'n+2\0\r\n\x1a\n');
    size(540);
  }
  return r.shape === 'gzipped' ? new Uint8Array(gzipSync(out)) : out;
}

function niftiCaseBytes(r: NiftiRecipe): Uint8Array {
  const H = r.version === 1 ? 348 : 540;
  const le = r.littleEndian;
  const records = r.extensions?.records ?? [];
  const extLength = records.reduce((a, e) => a + e.span, 0) + (r.extensions?.padding ?? 0);
  const extension = new Uint8Array(extLength);
  const extView = new DataView(extension.buffer);
  let p = 0;
  for (const e of records) {
    extView.setInt32(p, e.esize, le);
    extView.setInt32(p + 4, e.ecode, le);
    for (let q = p + 8; q < p + e.span; q++) extension[q] = (q * 31) & 255;
    p += e.span;
  }
  const t = r.transform;
  let bytes = niftiBytes({
    dims: r.dims,
    values: voxelValues(r),
    datatype: r.datatype,
    version: r.version,
    littleEndian: le,
    sclSlope: r.scaling?.slope ?? 1,
    sclInter: r.scaling?.inter ?? 0,
    ...(r.extensions ? { extension, extensionFlag: r.extensions.flag } : {}),
    ...(t.kind === 'sform' ? { sformCode: 1, srow: sformRows(t.quaternion, t.spacing, t.offset), pixdim: [1, ...t.spacing] } : {}),
    ...(t.kind === 'shear' ? { sformCode: 2, srow: t.rows } : {}),
    ...(t.kind === 'near-singular' ? { sformCode: 1, srow: nearSingularRows(t.spacing, t.flatness, t.offset) } : {}),
    ...(t.kind === 'qform' ? { qformCode: 1, quatern: t.quatern, qoffset: t.offset, pixdim: [t.qfac, ...t.spacing] } : {}),
    ...(t.kind === 'pixdim' ? { pixdim: [1, ...t.spacing] } : {}),
  });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fields = fieldTable(r.version);
  const headerEnd = H + 4 + extLength;
  for (const m of r.mutations) {
    if (m.kind === 'field') setField(view, fields[m.field], m.value, le);
    else if (m.kind === 'byte') bytes[Math.floor(m.at * headerEnd)] = m.value;
    else bytes[Math.floor(m.at * headerEnd)] ^= 1 << m.bit;
  }
  if (r.truncate) {
    const regions = { header: [0, H], flag: [H, H + 4], extensions: [H + 4, headerEnd], data: [headerEnd, bytes.length] } as const;
    const [lo, hi] = regions[r.truncate.region];
    if (hi > lo) bytes = bytes.slice(0, lo + Math.floor(r.truncate.at * (hi - lo)));
  }
  if (!r.gzip) return bytes;
  let gz: Uint8Array = new Uint8Array(gzipSync(bytes));
  const at = Math.floor(r.gzip.at * gz.length);
  switch (r.gzip.damage) {
    case 'flip':
      gz[at] ^= 1 << r.gzip.bit;
      break;
    case 'truncate':
      gz = gz.slice(0, at);
      break;
    case 'member':
      gz = concat(gz, gzipSync(bytes.subarray(0, at % Math.max(1, bytes.length))));
      break;
    case 'garbage-member':
      gz = concat(gz, gzipSync(Uint8Array.from({ length: 64 + (at % 4096) }, (_, n) => (n * 131 + at) & 255)));
      break;
    case 'trailer':
      gz = concat(gz, Uint8Array.from({ length: 1 + (at % 64) }, (_, n) => (n * 7 + at) & 255));
      break;
    case 'bomb':
      gz = concat(gz, bombMember());
      break;
  }
  return gz;
}

let bomb: Uint8Array | undefined;
/** A gzip member of 64 MiB of zeros (64 KB compressed), made once per process. */
function bombMember(): Uint8Array {
  bomb ??= new Uint8Array(gzipSync(new Uint8Array(64 << 20), { level: 9 }));
  return bomb;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
