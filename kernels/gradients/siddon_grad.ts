/**
 * The registered gradient of the fused `Siddon` kernel: analytic, computed by the gradient kernels
 * (`SiddonGradRays`, `SiddonGradDensity`), so backprop never sees the traversal.
 *
 * The tape calls this function once per backward pass, then the closure of each input that lies
 * on the path to the differentiated variables. The ray gradient is computed here (tensors made
 * here belong to the backward pass's scope and are freed when it ends): from the per-ray gradients
 * the forward saved when it was asked for them (`rayGradients`, see the op: one channel, 'sum',
 * cpu and wasm), a product per ray; else in one traversal for both endpoints. The density gradient,
 * a full-volume scatter, only when its closure asks. (Without saved ray gradients, a density-only
 * backward therefore also pays one ray traversal.)
 */
import { engine, zerosLike, type GradConfig, type NamedAttrMap, type NamedTensorMap, type Tensor } from '@tensorflow/tfjs';
import { Siddon, SiddonGradDensity, SiddonGradRays, SiddonScaleRayGradients } from '../kernel_names.js';

export const siddonGradConfig: GradConfig = {
  kernelName: Siddon,
  inputsToSave: ['density', 'source', 'target', 'mask'],
  // the second output, present with `rayGradients`: saved when there
  outputsToSave: [false, true],
  gradFunc: (dys: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [density, source, target, mask, rayGradients] = saved;
    const dy = Array.isArray(dys) ? dys[0] : dys;
    const inputs = { density, source, target, mask, dy } as NamedTensorMap;
    const [dSource, dTarget] = (
      rayGradients !== undefined
        ? engine().runKernel(SiddonScaleRayGradients, { rayGradients, dy, source } as NamedTensorMap)
        : engine().runKernel(SiddonGradRays, inputs, attrs)
    ) as Tensor[];
    return {
      density: () => engine().runKernel(SiddonGradDensity, inputs, attrs) as Tensor,
      source: () => dSource,
      target: () => dTarget,
      // the labels are piecewise constant: no gradient
      mask: () => zerosLike(mask),
    };
  },
};
