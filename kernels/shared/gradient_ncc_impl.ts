/**
 * Gradient NCC (`GradientNcc`, kernels/kernel_names.ts): the NCC of the images' blurred Sobel
 * gradients, and its gradient, in double precision; shared by the cpu and wasm backends.
 *
 * Per channel slice: a separable Gaussian blur with reflect padding (torchvision's
 * `gaussian_blur`, down the columns then along the rows, as the tensor-op metric's two
 * convolutions), then the 3x3 Sobel filters with zero padding (`Gx = [[1, 0, -1], [2, 0, -2],
 * [1, 0, -1]]`, `Gy = Gx^T`, cross-correlation); the `2C` gradient slices are compared by the NCC
 * core of ncc_impl.ts with weight `1 / 2C` each. The gradient runs the same steps backwards: the
 * NCC's gradient on the Sobel slices, then the adjoint of the Sobel filters (scatter into a
 * zero-padded slice) and of the blur (scatter through the reflection).
 */
import type { FloatArray } from './siddon_impl.js';
import { exp } from './builtins.js';
import { centreInPlace, imageScaleGradientImpl, multiscaleSliceNcc, roundToFloat32, uncentreGradient, workArray, type ImageRange, type ImageShape, type NccScales } from './ncc_impl.js';

/** `GradientNccAttrs` without `withGradient`. */
export interface GradientNccParams {
  patchSize: number;
  sigma: number;
  kernelSize: number;
  eps: number;
}

/** The normalized taps of torchvision's Gaussian: `exp(-((i - (k-1)/2) / sigma)² / 2)`, summing to 1. */
export function gaussianTaps(kernelSize: number, sigma: number): Float64Array {
  const half = (kernelSize - 1) / 2;
  const taps = new Float64Array(kernelSize);
  let total = 0;
  for (let i = 0; i < kernelSize; i++) {
    const z = (i - half) / sigma;
    taps[i] = exp(-0.5 * z * z);
    total += taps[i];
  }
  for (let i = 0; i < kernelSize; i++) taps[i] /= total;
  return taps;
}

/** Index `i` of an axis of `n` reflected into `[0, n)` (`-i`, `2(n-1) - i`; one bounce: the radius is < n). */
function reflect(i: number, n: number): number {
  return i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
}

/** Whether the parameters blur (sigma > 0 and more than one tap). */
function blurs(params: GradientNccParams): boolean {
  return params.sigma > 0 && params.kernelSize > 1;
}

/**
 * `out` = the `h x w` slice `src` (from `off`) blurred down its columns then along its rows
 * (reflect padding); `tmp` holds `h w`, `row` a padded row (`w + k - 1`).
 */
function blur(src: FloatArray, off: number, h: number, w: number, taps: Float64Array, tmp: Float64Array, row: Float64Array, out: Float64Array): void {
  const k = taps.length;
  const r = (k - 1) / 2;
  for (let i = 0; i < h; i++) blurColumnsRow(src, off, i, h, w, taps, tmp);
  for (let i = 0; i < h; i++) {
    const o = i * w;
    for (let j = 0; j < w; j++) row[r + j] = tmp[o + j];
    for (let e = 1; e <= r; e++) {
      row[r - e] = tmp[o + e];
      row[r + w - 1 + e] = tmp[o + w - 1 - e];
    }
    for (let j = 0; j < w; j++) {
      let acc = 0;
      for (let v = 0; v < k; v++) acc += taps[v] * row[j + v];
      out[o + j] = acc;
    }
  }
}

/** Row `i` of the column blur: `tmp[i w + j] = sum_u taps[u] src[off + reflect(i + u - r) w + j]`. */
function blurColumnsRow(src: FloatArray, off: number, i: number, h: number, w: number, taps: Float64Array, tmp: Float64Array): void {
  const k = taps.length;
  const r = (k - 1) / 2;
  const o = i * w;
  for (let j = 0; j < w; j++) tmp[o + j] = 0;
  for (let u = 0; u < k; u++) {
    const from = off + reflect(i + u - r, h) * w;
    const t = taps[u];
    for (let j = 0; j < w; j++) tmp[o + j] += t * src[from + j];
  }
}

/**
 * The adjoint of `blur`: `out` = the gradient of the `h x w` input slice from `dOut` (`tmp` holds
 * `h w`, `row` a padded row).
 */
function blurAdjoint(dOut: Float64Array, h: number, w: number, taps: Float64Array, tmp: Float64Array, row: Float64Array, out: Float64Array): void {
  const k = taps.length;
  const r = (k - 1) / 2;
  for (let i = 0; i < h; i++) {
    const o = i * w;
    row.fill(0, 0, w + k - 1);
    for (let j = 0; j < w; j++) {
      const g = dOut[o + j];
      for (let v = 0; v < k; v++) row[j + v] += taps[v] * g;
    }
    for (let j = 0; j < w; j++) tmp[o + j] = row[r + j];
    // the padding's values came from the reflected pixels
    for (let e = 1; e <= r; e++) {
      tmp[o + e] += row[r - e];
      tmp[o + w - 1 - e] += row[r + w - 1 + e];
    }
  }
  out.fill(0, 0, h * w);
  for (let i = 0; i < h; i++) {
    for (let u = 0; u < k; u++) {
      const to = reflect(i + u - r, h) * w;
      const t = taps[u];
      for (let j = 0; j < w; j++) out[to + j] += t * tmp[i * w + j];
    }
  }
}

/**
 * The Sobel gradients of the `h x w` slice `src` (from `srcOff`; zero padding): `Gx` into
 * `out[outOff, outOff + h w)`, `Gy` into the next `h w`. `padded` holds `(h + 2)(w + 2)`.
 */
function sobel(src: FloatArray, srcOff: number, h: number, w: number, padded: Float64Array, out: Float64Array, outOff: number): void {
  const pw = w + 2;
  padded.fill(0, 0, (h + 2) * pw);
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) padded[(i + 1) * pw + j + 1] = src[srcOff + i * w + j];
  const n = h * w;
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      const t = i * pw + j; // the top-left of the 3x3 neighbourhood in `padded`
      const m = t + pw;
      const b = m + pw;
      out[outOff + i * w + j] = padded[t] - padded[t + 2] + 2 * (padded[m] - padded[m + 2]) + padded[b] - padded[b + 2];
      out[outOff + n + i * w + j] = padded[t] + 2 * padded[t + 1] + padded[t + 2] - padded[b] - 2 * padded[b + 1] - padded[b + 2];
    }
  }
}

/** The adjoint of `sobel`: `out` (`h w`) = the gradient of its input from `dGx`, `dGy` (`g[goff...]`, two slices). */
function sobelAdjoint(g: Float64Array, gOff: number, h: number, w: number, padded: Float64Array, out: Float64Array): void {
  const pw = w + 2;
  padded.fill(0, 0, (h + 2) * pw);
  const n = h * w;
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      const gx = g[gOff + i * w + j];
      const gy = g[gOff + n + i * w + j];
      const t = i * pw + j;
      const m = t + pw;
      const b = m + pw;
      padded[t] += gx + gy;
      padded[t + 1] += 2 * gy;
      padded[t + 2] += gy - gx;
      padded[m] += 2 * gx;
      padded[m + 2] -= 2 * gx;
      padded[b] += gx - gy;
      padded[b + 1] -= 2 * gy;
      padded[b + 2] -= gx + gy;
    }
  }
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) out[i * w + j] = padded[(i + 1) * pw + j + 1];
}

/** The blurred Sobel gradients of slice `off` of `x` into `out` (`2 h w`), each centred on its mean. */
function sobelSlices(x: FloatArray, off: number, h: number, w: number, params: GradientNccParams, taps: Float64Array | null, out: Float64Array): void {
  const n = h * w;
  const padded = workArray('gnccPadded', (h + 2) * (w + 2));
  if (taps !== null) {
    const blurred = workArray('gnccBlurred', n);
    blur(x, off, h, w, taps, workArray('gnccTmp', n), workArray('gnccRow', w + taps.length), blurred);
    sobel(blurred, 0, h, w, padded, out, 0);
  } else {
    sobel(x, off, h, w, padded, out, 0);
  }
  centreInPlace(out, 0, n);
  centreInPlace(out, n, n);
}

/**
 * `GradientNcc` on images `[range.first, range.end)`: `out[b]`, and with `grad`,
 * `grad[b] = d out[b] / d x1[b]`.
 */
export function gradientNccImpl(x1: FloatArray, x2: FloatArray, shape: ImageShape, params: GradientNccParams, out: FloatArray, grad: FloatArray | null, range: ImageRange = { first: 0, end: shape[0] }): void {
  const [, c, h, w] = shape;
  const n = h * w;
  const taps = blurs(params) ? gaussianTaps(params.kernelSize, params.sigma) : null;
  const scales: NccScales = { patchSizes: [params.patchSize], patchWeights: [1], eps: params.eps };
  const a = workArray('gnccA', 2 * n);
  const d = workArray('gnccD', 2 * n);
  const g = grad === null ? null : workArray('gnccG', 2 * n);
  for (let b = range.first; b < range.end; b++) {
    let total = 0;
    for (let ch = 0; ch < c; ch++) {
      const off = (b * c + ch) * n;
      sobelSlices(x1, off, h, w, params, taps, a);
      sobelSlices(x2, off, h, w, params, taps, d);
      if (g !== null) g.fill(0, 0, 2 * n);
      total += multiscaleSliceNcc(a, d, 0, h, w, scales, 1 / (2 * c), g);
      total += multiscaleSliceNcc(a, d, n, h, w, scales, 1 / (2 * c), g);
      if (grad === null || g === null) continue;
      uncentreGradient(g, 0, n);
      uncentreGradient(g, n, n);
      const dBlurred = workArray('gnccDBlurred', n);
      sobelAdjoint(g, 0, h, w, workArray('gnccPadded', (h + 2) * (w + 2)), dBlurred);
      if (taps !== null) {
        const dx = workArray('gnccDx', n);
        blurAdjoint(dBlurred, h, w, taps, workArray('gnccTmp', n), workArray('gnccRow', w + taps.length), dx);
        for (let k = 0; k < n; k++) grad[off + k] = dx[k];
      } else {
        for (let k = 0; k < n; k++) grad[off + k] = dBlurred[k];
      }
    }
    out[b] = total;
  }
}

/** `GradientNccGrad` on images `range`: `dx1[b] = dy[b] d score[b] / d x1[b]` (the gradient rounded to float32 first). */
export function gradientNccGradImpl(x1: FloatArray, x2: FloatArray, dy: FloatArray, shape: ImageShape, params: GradientNccParams, dx1: FloatArray, range: ImageRange = { first: 0, end: shape[0] }): void {
  gradientNccImpl(x1, x2, shape, params, workArray('gnccScores', shape[0]), dx1, range);
  const perImage = shape[1] * shape[2] * shape[3];
  roundToFloat32(dx1, range, perImage);
  imageScaleGradientImpl(dx1, dy, perImage, dx1, range);
}
