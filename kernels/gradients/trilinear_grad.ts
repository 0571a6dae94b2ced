/**
 * The registered gradient of the fused `Trilinear` kernel: analytic, computed by the gradient
 * kernels (`TrilinearGradRays`, `TrilinearGradDensity`), so backprop never sees the samples.
 *
 * Organised as `siddon_grad.ts`: the tape calls this function once per backward pass, then the
 * closure of each input on the path to the differentiated variables. The ray gradient (both
 * endpoints and the range, one pass over the samples) is computed here; the density gradient, a
 * full-volume scatter, only when its closure asks. (A density-only backward therefore also pays
 * one pass over the samples.)
 */
import { engine, zerosLike, type GradConfig, type NamedAttrMap, type NamedTensorMap, type Tensor } from '@tensorflow/tfjs';
import { Trilinear, TrilinearGradDensity, TrilinearGradRays } from '../kernel_names.js';

/** The gradient of `Trilinear` with respect to its inputs (the mask's is 0). */
export const trilinearGradConfig: GradConfig = {
  kernelName: Trilinear,
  inputsToSave: ['density', 'source', 'target', 'range', 'mask'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [density, source, target, range, mask] = saved;
    const inputs = { density, source, target, range, mask, dy: dy as Tensor } as NamedTensorMap;
    const [dSource, dTarget, dRange] = engine().runKernel(TrilinearGradRays, inputs, attrs) as Tensor[];
    return {
      density: () => engine().runKernel(TrilinearGradDensity, inputs, attrs) as Tensor,
      source: () => dSource,
      target: () => dTarget,
      range: () => dRange,
      // the labels are piecewise constant: no gradient
      mask: () => zerosLike(mask),
    };
  },
};
