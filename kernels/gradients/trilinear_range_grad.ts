/**
 * The registered gradient of the fused `TrilinearRange` kernel: computed by `TrilinearRangeGrad`
 * in one pass over the rays (only the rays attaining `lo` / `hi` get one).
 */
import { engine, type GradConfig, type NamedAttrMap, type NamedTensorMap, type Tensor } from '@tensorflow/tfjs';
import { TrilinearRange, TrilinearRangeGrad } from '../kernel_names.js';

/** The gradient of `TrilinearRange` with respect to the ray endpoints. */
export const trilinearRangeGradConfig: GradConfig = {
  kernelName: TrilinearRange,
  inputsToSave: ['source', 'target'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [source, target] = saved;
    const inputs = { source, target, dy: dy as Tensor } as NamedTensorMap;
    const [dSource, dTarget] = engine().runKernel(TrilinearRangeGrad, inputs, attrs) as Tensor[];
    return { source: () => dSource, target: () => dTarget };
  },
};
