/**
 * WGSL programs of the multiscale NCC (`TfdrrMultiscaleNcc`, `TfdrrMultiscaleNccGrad` on webgpu),
 * the definitions of kernels/shared/ncc_impl.ts in f32:
 *
 * - `NccMomentsProgram`: one workgroup per channel slice (S = B C of them): the slice means, then
 *   the global NCC of the centred slices and its gradient coefficients, two passes each reduced in
 *   workgroup memory. Output `[S, 5]`: mean1, mean2, ncc, alpha, gamma (the centred slices have
 *   mean 0, so beta is 0).
 * - `NccPatchProgram` (one per patch size p): one invocation per patch, its mean then its centred
 *   moments summed over the p x p window (two passes over the window, so a flat patch far from the
 *   slice mean loses nothing to cancellation). Output `[4, S, ho, wo]`: the planes ncc, alpha,
 *   beta, gamma of every patch.
 * - `NccScoreProgram`: one workgroup per image: `sum_k w_k mean_{c, patches} ncc_k` into `[B]`.
 * - `NccGradProgram`: one invocation per pixel: the sum over the patches (and the slice) holding
 *   it of `(alpha d + beta + 2 gamma a)`, weighted, times `dy[b]`, into `[B, C, H, W]`. (The
 *   centring's own gradient, subtracting the result's mean, is 0 in exact arithmetic and is left
 *   out here; the cpu kernel applies it.)
 *
 * The patch sizes, weights and eps are compiled in (each combination has its own `shaderKey`);
 * the image shapes come from tfjs's shape uniforms. A window whose denominator is 0 counts as 0.
 */
import type { WebGPUProgramLike } from './webgpu_program_util.js';
import { WORKGROUP_SIZE, computeFlatDispatch, flatDispatchLayout } from './webgpu_program_util.js';

/** Invocations per workgroup of the reducing programs (a power of two). */
const REDUCE_WORKGROUP = 64;

/** A WGSL f32 literal of `x`. */
function f32(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`ncc webgpu: ${x} is not a finite f32`);
  const s = Math.fround(x).toExponential(9);
  return s.includes('e') ? s.replace('e+', 'e') : s;
}

/** WGSL: `nccTerms(cov, va, vd, eps) -> vec4<f32>(ncc, alpha, dNcc/dva, 0)`; zeros where the denominator is 0. */
const TERMS_WGSL = `
fn nccTerms(cov : f32, va : f32, vd : f32, eps : f32) -> vec4<f32> {
  let ea = max(va, 0.0) + eps;
  let ed = max(vd, 0.0) + eps;
  let denom = sqrt(ea * ed);
  if (!(denom > 0.0)) { return vec4<f32>(0.0); }
  let alpha = 1.0 / denom;
  let ncc = cov * alpha;
  var gamma = 0.0;
  if (va > 0.0) { gamma = -0.5 * ncc / ea; }
  return vec4<f32>(ncc, alpha, gamma, 0.0);
}
`;

/** WGSL: a tree sum of `partial` (workgroup memory of `REDUCE_WORKGROUP` vec4s) into `partial[0]`. */
const REDUCE_WGSL = `
var<workgroup> partial : array<vec4<f32>, ${REDUCE_WORKGROUP}>;

fn reducePartial(t : i32) {
  workgroupBarrier();
  for (var stride = ${REDUCE_WORKGROUP / 2}; stride > 0; stride = stride / 2) {
    if (t < stride) { partial[t] = partial[t] + partial[t + stride]; }
    workgroupBarrier();
  }
}
`;

/** Slice means and the global NCC terms: one workgroup per slice. */
export class NccMomentsProgram implements WebGPUProgramLike {
  readonly variableNames = ['x1', 'x2'];
  readonly outputShape: number[];
  readonly shaderKey: string;
  readonly dispatchLayout = flatDispatchLayout();
  readonly dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [REDUCE_WORKGROUP, 1, 1];

  /** @param slices S = B C. */
  constructor(slices: number, private readonly eps: number) {
    this.outputShape = [slices, 5];
    this.dispatch = [slices, 1, 1];
    this.shaderKey = `tfdrrNccMoments_${f32(eps)}`;
  }

  getUserCode(): string {
    return `
${TERMS_WGSL}
${REDUCE_WGSL}

fn main(index : i32) {
  let s = i32(workgroupId.x);
  let t = i32(localId.x);
  let n = uniforms.x1Shape.z * uniforms.x1Shape.w;
  let off = s * n;
  var s1 = 0.0;
  var s2 = 0.0;
  for (var k = t; k < n; k = k + ${REDUCE_WORKGROUP}) {
    s1 = s1 + x1[off + k];
    s2 = s2 + x2[off + k];
  }
  partial[t] = vec4<f32>(s1, s2, 0.0, 0.0);
  reducePartial(t);
  let m1 = partial[0].x / f32(n);
  let m2 = partial[0].y / f32(n);
  workgroupBarrier();
  var saa = 0.0;
  var sdd = 0.0;
  var sad = 0.0;
  for (var k = t; k < n; k = k + ${REDUCE_WORKGROUP}) {
    let a = x1[off + k] - m1;
    let d = x2[off + k] - m2;
    saa = saa + a * a;
    sdd = sdd + d * d;
    sad = sad + a * d;
  }
  partial[t] = vec4<f32>(saa, sdd, sad, 0.0);
  reducePartial(t);
  if (t == 0) {
    let inv = 1.0 / f32(n);
    let terms = nccTerms(partial[0].z * inv, partial[0].x * inv, partial[0].y * inv, ${f32(this.eps)});
    result[s * 5] = m1;
    result[s * 5 + 1] = m2;
    result[s * 5 + 2] = terms.x;
    result[s * 5 + 3] = terms.y;
    result[s * 5 + 4] = terms.z;
  }
}
`;
  }
}

/** Every p x p patch's NCC and gradient coefficients: one invocation per patch. */
export class NccPatchProgram implements WebGPUProgramLike {
  readonly variableNames = ['x1', 'x2', 'moments'];
  readonly outputShape: number[];
  readonly shaderKey: string;
  readonly dispatchLayout = flatDispatchLayout();
  readonly dispatch: [number, number, number];
  readonly workgroupSize = WORKGROUP_SIZE;

  /** @param slices S = B C; `h`, `w` the image size; `p` the patch side (at most min(h, w)). */
  constructor(slices: number, h: number, w: number, private readonly p: number, private readonly eps: number) {
    const patches = slices * (h - p + 1) * (w - p + 1);
    this.outputShape = [4, slices, h - p + 1, w - p + 1];
    this.dispatch = computeFlatDispatch(patches);
    this.shaderKey = `tfdrrNccPatch_${p}_${f32(eps)}`;
  }

  getUserCode(): string {
    const p = this.p;
    return `
${TERMS_WGSL}

fn main(index : i32) {
  let h = uniforms.x1Shape.z;
  let w = uniforms.x1Shape.w;
  let ho = h - ${p} + 1;
  let wo = w - ${p} + 1;
  let per = ho * wo;
  let total = uniforms.x1Shape.x * uniforms.x1Shape.y * per;
  if (index >= total) { return; }
  let s = index / per;
  let i = (index % per) / wo;
  let j = index % wo;
  let m1 = moments[s * 5];
  let m2 = moments[s * 5 + 1];
  let base = s * h * w + i * w + j;
  let inv = 1.0 / f32(${p * p});
  var sa = 0.0;
  var sd = 0.0;
  for (var u = 0; u < ${p}; u = u + 1) {
    let row = base + u * w;
    for (var v = 0; v < ${p}; v = v + 1) {
      sa = sa + (x1[row + v] - m1);
      sd = sd + (x2[row + v] - m2);
    }
  }
  let ma = sa * inv;
  let md = sd * inv;
  var saa = 0.0;
  var sdd = 0.0;
  var sad = 0.0;
  for (var u = 0; u < ${p}; u = u + 1) {
    let row = base + u * w;
    for (var v = 0; v < ${p}; v = v + 1) {
      let a = x1[row + v] - m1 - ma;
      let d = x2[row + v] - m2 - md;
      saa = saa + a * a;
      sdd = sdd + d * d;
      sad = sad + a * d;
    }
  }
  let terms = nccTerms(sad * inv, saa * inv, sdd * inv, ${f32(this.eps)});
  let plane = total;
  result[index] = terms.x;
  result[plane + index] = terms.y;
  result[2 * plane + index] = -md * terms.y - 2.0 * ma * terms.z;
  result[3 * plane + index] = terms.z;
}
`;
  }
}

/** A scale of the multiscale NCC as the programs take it: patch side (0: the whole slice), weight, and (patches) its maps' input name. */
export interface NccProgramScale {
  patch: number;
  weight: number;
}

/** The input names of the maps of the patch scales, in order (`maps0`, `maps1`, ...). */
function mapNames(scales: readonly NccProgramScale[]): string[] {
  return scales.filter((s) => s.patch > 0).map((_, k) => `maps${k}`);
}

/** The shader key part of the scales. */
function scalesKey(scales: readonly NccProgramScale[]): string {
  return scales.map((s) => `${s.patch}:${f32(s.weight)}`).join(',');
}

/** `[B]` scores: one workgroup per image sums the weighted patch NCCs and slice NCCs of its channels. */
export class NccScoreProgram implements WebGPUProgramLike {
  readonly variableNames: string[];
  readonly outputShape: number[];
  readonly shaderKey: string;
  readonly dispatchLayout = flatDispatchLayout();
  readonly dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [REDUCE_WORKGROUP, 1, 1];
  readonly uniforms = 'channels : i32,';

  constructor(batch: number, private readonly scales: readonly NccProgramScale[]) {
    this.variableNames = ['moments', ...mapNames(scales)];
    this.outputShape = [batch];
    this.dispatch = [batch, 1, 1];
    this.shaderKey = `tfdrrNccScore_${scalesKey(scales)}`;
  }

  getUserCode(): string {
    let k = 0;
    const patchSums = this.scales
      .map((s) => {
        if (s.patch === 0) return '';
        const name = `maps${k++}`;
        return `
  {
    let per = uniforms.${name}Shape.z * uniforms.${name}Shape.w;
    let first = b * c * per;
    var sum = 0.0;
    for (var e = t; e < c * per; e = e + ${REDUCE_WORKGROUP}) { sum = sum + ${name}[first + e]; }
    acc = acc + ${f32(s.weight)} * sum / f32(c * per);
  }`;
      })
      .join('');
    const globals = this.scales
      .filter((s) => s.patch === 0)
      .map((s) => `for (var ch = 0; ch < c; ch = ch + 1) { total = total + ${f32(s.weight)} * moments[(b * c + ch) * 5 + 2] / f32(c); }`)
      .join('\n    ');
    return `
${REDUCE_WGSL}

fn main(index : i32) {
  let b = i32(workgroupId.x);
  let t = i32(localId.x);
  let c = uniforms.channels;
  _ = moments[0];   // bound even when no scale is global
  var acc = 0.0;
  ${patchSums}
  partial[t] = vec4<f32>(acc, 0.0, 0.0, 0.0);
  reducePartial(t);
  if (t == 0) {
    var total = partial[0].x;
    ${globals}
    result[b] = total;
  }
}
`;
  }
}

/** `dx1 = dy[b] d score[b] / d x1`: one invocation per pixel. */
export class NccGradProgram implements WebGPUProgramLike {
  readonly variableNames: string[];
  readonly outputShape: number[];
  readonly shaderKey: string;
  readonly dispatchLayout = flatDispatchLayout();
  readonly dispatch: [number, number, number];
  readonly workgroupSize = WORKGROUP_SIZE;
  readonly size = true;

  constructor(shape: readonly number[], private readonly scales: readonly NccProgramScale[]) {
    this.variableNames = ['x1', 'x2', 'moments', 'dy', ...mapNames(scales)];
    this.outputShape = [...shape];
    this.dispatch = computeFlatDispatch(shape.reduce((a, b) => a * b, 1));
    this.shaderKey = `tfdrrNccGrad_${scalesKey(scales)}`;
  }

  getUserCode(): string {
    let k = 0;
    const terms = this.scales
      .map((s) => {
        if (s.patch === 0) {
          return `
  acc = acc + ${f32(s.weight)} / f32(n) * (moments[s * 5 + 3] * d + 2.0 * moments[s * 5 + 4] * a);`;
        }
        const name = `maps${k++}`;
        const p = s.patch;
        return `
  {
    let ho = h - ${p} + 1;
    let wo = w - ${p} + 1;
    let plane = uniforms.${name}Shape.y * ho * wo;
    let first = s * ho * wo;
    var sums = vec3<f32>(0.0);
    for (var r = max(0, i - ${p - 1}); r <= min(i, ho - 1); r = r + 1) {
      for (var q = max(0, j - ${p - 1}); q <= min(j, wo - 1); q = q + 1) {
        let e = first + r * wo + q;
        sums = sums + vec3<f32>(${name}[plane + e], ${name}[2 * plane + e], ${name}[3 * plane + e]);
      }
    }
    acc = acc + ${f32(s.weight)} / f32(ho * wo * ${p * p}) * (sums.x * d + sums.y + 2.0 * sums.z * a);
  }`;
      })
      .join('');
    return `
fn main(index : i32) {
  if (index >= uniforms.size) { return; }
  let c = uniforms.x1Shape.y;
  let h = uniforms.x1Shape.z;
  let w = uniforms.x1Shape.w;
  let n = h * w;
  let s = index / n;
  let i = (index % n) / w;
  let j = index % w;
  let a = x1[index] - moments[s * 5];
  let d = x2[index] - moments[s * 5 + 1];
  var acc = 0.0;
  ${terms}
  result[index] = dy[s / c] * acc / f32(c);
}
`;
  }
}
