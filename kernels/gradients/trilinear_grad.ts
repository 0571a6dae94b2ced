/**
 * The registered gradient of the fused `Trilinear` kernel: analytic, computed by the gradient
 * kernels, so backprop never sees the samples.
 *
 * Organised as `siddon_grad.ts`: the tape calls this function once per backward pass, then the
 * closure of each input on the path to the differentiated variables. The ray gradient (both
 * endpoints and the range) is computed here: scaled from the per-ray gradients the forward saved
 * when it was asked for them (`rayGradients`, see the op: one channel, 'sum', cpu and wasm), else
 * by one pass over the samples (`TrilinearGradRays`). The density gradient, a full-volume scatter,
 * only when its closure asks.
 */
import { engine, zerosLike, type GradConfig, type NamedAttrMap, type NamedTensorMap, type Tensor } from '@tensorflow/tfjs';
import { Trilinear, TrilinearGradDensity, TrilinearGradRays, TrilinearScaleRayGradients } from '../kernel_names.js';

/** The gradient of `Trilinear` with respect to its inputs (the mask's is 0). */
export const trilinearGradConfig: GradConfig = {
  kernelName: Trilinear,
  inputsToSave: ['density', 'source', 'target', 'range', 'mask'],
  // the second output, present with `rayGradients`: saved when there
  outputsToSave: [false, true],
  gradFunc: (dys: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [density, source, target, range, mask, rayGradients] = saved;
    const dy = Array.isArray(dys) ? dys[0] : dys;
    const inputs = { density, source, target, range, mask, dy } as NamedTensorMap;
    const [dSource, dTarget, dRange] = (
      rayGradients !== undefined
        ? engine().runKernel(TrilinearScaleRayGradients, { rayGradients, dy, source } as NamedTensorMap)
        : engine().runKernel(TrilinearGradRays, inputs, attrs)
    ) as Tensor[];
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
