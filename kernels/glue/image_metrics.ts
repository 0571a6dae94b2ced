/**
 * Glue of the image similarity kernels (`MultiscaleNcc`, `GradientNcc`, `MutualInformation`, their
 * gradients, and `ImageScaleGradient`) for backends with data in JS memory: one output per image
 * `[B]` (and with `withGradient` the gradient `[B, C, H, W]`), computed by the typed-array
 * implementations in kernels/shared/.
 */
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import {
  GradientNcc, GradientNccGrad, ImageScaleGradient, MultiscaleNcc, MultiscaleNccGrad, MutualInformation, MutualInformationGrad,
  type GradientNccAttrs, type MultiscaleNccAttrs, type MutualInformationAttrs,
} from '../kernel_names.js';
import { gradientNccGradImpl, gradientNccImpl } from '../shared/gradient_ncc_impl.js';
import { mutualInformationGradImpl, mutualInformationImpl } from '../shared/mutual_information_impl.js';
import { imageScaleGradientImpl, multiscaleNccGradImpl, multiscaleNccImpl, type ImageShape } from '../shared/ncc_impl.js';
import type { FloatArray } from '../shared/siddon_impl.js';
import { jsMemoryKernelConfigs, type KernelIO } from './kernel_io.js';

/** A metric's forward implementation: `out[b]`, and with `grad`, `d out[b] / d x1[b]`. */
type ForwardImpl<P> = (x1: FloatArray, x2: FloatArray, shape: ImageShape, params: P, out: FloatArray, grad: FloatArray | null) => void;
/** A metric's gradient implementation: `dx1[b] = dy[b] d out[b] / d x1[b]`. */
type GradImpl<P> = (x1: FloatArray, x2: FloatArray, dy: FloatArray, shape: ImageShape, params: P, dx1: FloatArray) => void;

function shapeOf(inputs: Record<string, TensorInfo>): ImageShape {
  return inputs.x1.shape as unknown as ImageShape;
}

/** The glue of a metric's forward: `[B]`, or `[[B], [B, C, H, W]]` with `withGradient`. */
function forwardGlue<P>(impl: ForwardImpl<P>): (io: KernelIO, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap) => TensorInfo | TensorInfo[] {
  return (io, inputs, attrs) => {
    const shape = shapeOf(inputs);
    const params = attrs as unknown as P & { withGradient?: boolean };
    if (!params.withGradient) {
      const [out] = io.outputs([[shape[0]]]);
      impl(io.values(inputs.x1), io.values(inputs.x2), shape, params, out.values, null);
      return out.info;
    }
    const [out, grad] = io.outputs([[shape[0]], [...shape]]);
    impl(io.values(inputs.x1), io.values(inputs.x2), shape, params, out.values, grad.values);
    return [out.info, grad.info];
  };
}

/** The glue of a metric's gradient kernel: `dx1` `[B, C, H, W]`. */
function gradGlue<P>(impl: GradImpl<P>): (io: KernelIO, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap) => TensorInfo {
  return (io, inputs, attrs) => {
    const shape = shapeOf(inputs);
    const [dx1] = io.outputs([[...shape]]);
    impl(io.values(inputs.x1), io.values(inputs.x2), io.values(inputs.dy), shape, attrs as unknown as P, dx1.values);
    return dx1.info;
  };
}

/** `ImageScaleGradient`: `dx[b] = dy[b] gradient[b]`. */
function imageScaleGradient(io: KernelIO, inputs: Record<string, TensorInfo>): TensorInfo {
  const shape = inputs.gradient.shape;
  const b = shape[0];
  const [dx] = io.outputs([[...shape]]);
  const perImage = b === 0 ? 0 : shape.reduce((x, y) => x * y, 1) / b;
  imageScaleGradientImpl(io.values(inputs.gradient), io.values(inputs.dy), perImage, dx.values, { first: 0, end: b });
  return dx.info;
}

export const imageMetricKernelConfigs: KernelConfig[] = [
  ...jsMemoryKernelConfigs(MultiscaleNcc, forwardGlue<MultiscaleNccAttrs>(multiscaleNccImpl)),
  ...jsMemoryKernelConfigs(MultiscaleNccGrad, gradGlue<MultiscaleNccAttrs>(multiscaleNccGradImpl)),
  ...jsMemoryKernelConfigs(GradientNcc, forwardGlue<GradientNccAttrs>(gradientNccImpl)),
  ...jsMemoryKernelConfigs(GradientNccGrad, gradGlue<GradientNccAttrs>(gradientNccGradImpl)),
  ...jsMemoryKernelConfigs(MutualInformation, forwardGlue<MutualInformationAttrs>(mutualInformationImpl)),
  ...jsMemoryKernelConfigs(MutualInformationGrad, gradGlue<MutualInformationAttrs>(mutualInformationGradImpl)),
  ...jsMemoryKernelConfigs(ImageScaleGradient, imageScaleGradient),
];
