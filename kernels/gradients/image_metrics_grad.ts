/**
 * The registered gradients of the fused image similarity kernels (`MultiscaleNcc`, `GradientNcc`,
 * `MutualInformation`): analytic, computed by kernels, so backprop records no tensor ops.
 *
 * With respect to `x1`: when the forward found its gradient (`withGradient`, asked for by the op
 * while a tape records), one product per pixel (`ImageScaleGradient`); else the metric's gradient
 * kernel. With respect to `x2`: the same gradient kernel with the images swapped (every one of
 * these scores is symmetric in its two images). Each closure runs only when its input is on the
 * path to the differentiated variables, so a registration, whose targets are constants, pays for
 * `x1` alone.
 */
import { engine, type GradConfig, type NamedAttrMap, type NamedTensorMap, type Tensor } from '@tensorflow/tfjs';
import { GradientNcc, GradientNccGrad, ImageScaleGradient, MultiscaleNcc, MultiscaleNccGrad, MutualInformation, MutualInformationGrad } from '../kernel_names.js';

/** The gradient config of the metric kernel `kernelName`, whose gradient kernel is `gradKernel`. */
function imageMetricGradConfig(kernelName: string, gradKernel: string): GradConfig {
  return {
    kernelName,
    inputsToSave: ['x1', 'x2'],
    // the second output, present with `withGradient`: saved when there
    outputsToSave: [false, true],
    gradFunc: (dys: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const [x1, x2, gradient] = saved;
      const dy = Array.isArray(dys) ? dys[0] : dys;
      const run = (a: Tensor, b: Tensor) => engine().runKernel(gradKernel, { x1: a, x2: b, dy } as NamedTensorMap, attrs) as Tensor;
      return {
        x1: () => (gradient !== undefined ? (engine().runKernel(ImageScaleGradient, { gradient, dy } as NamedTensorMap) as Tensor) : run(x1, x2)),
        x2: () => run(x2, x1),
      };
    },
  };
}

export const multiscaleNccGradConfig = imageMetricGradConfig(MultiscaleNcc, MultiscaleNccGrad);
export const gradientNccGradConfig = imageMetricGradConfig(GradientNcc, GradientNccGrad);
export const mutualInformationGradConfig = imageMetricGradConfig(MutualInformation, MutualInformationGrad);
