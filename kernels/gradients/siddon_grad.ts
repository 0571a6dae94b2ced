/**
 * The registered gradient of the fused `Siddon` kernel: analytic, computed by the gradient kernels
 * (`SiddonGradRays`, `SiddonGradDensity`), so backprop never sees the traversal.
 *
 * The tape calls this function once per backward pass, then the closure of each input that lies
 * on the path to the differentiated variables. The ray gradient is computed here, in one
 * traversal for both endpoints (tensors made here belong to the backward pass's scope and are
 * freed when it ends); the density gradient, a full-volume scatter, only when its closure asks.
 * (A density-only backward therefore also pays one ray traversal.)
 */
import { engine, zerosLike, type GradConfig, type NamedAttrMap, type NamedTensorMap, type Tensor } from '@tensorflow/tfjs';
import { Siddon, SiddonGradDensity, SiddonGradRays } from '../kernel_names.js';

export const siddonGradConfig: GradConfig = {
  kernelName: Siddon,
  inputsToSave: ['density', 'source', 'target', 'mask'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [density, source, target, mask] = saved;
    const inputs = { density, source, target, mask, dy: dy as Tensor } as NamedTensorMap;
    const [dSource, dTarget] = engine().runKernel(SiddonGradRays, inputs, attrs) as Tensor[];
    return {
      density: () => engine().runKernel(SiddonGradDensity, inputs, attrs) as Tensor,
      source: () => dSource,
      target: () => dTarget,
      // the labels are piecewise constant: no gradient
      mask: () => zerosLike(mask),
    };
  },
};
