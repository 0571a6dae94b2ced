/**
 * The registered gradient of `CameraRays`: both input gradients from one `CameraRaysGrad` pass
 * over the pixels. The pixel centres are the detector's, constants: no gradient.
 */
import { engine, zerosLike, type GradConfig, type NamedTensorMap, type Tensor } from '@tensorflow/tfjs';
import { CameraRays, CameraRaysGrad } from '../kernel_names.js';

export const cameraRaysGradConfig: GradConfig = {
  kernelName: CameraRays,
  inputsToSave: ['linear', 'points'],
  gradFunc: (dys: Tensor | Tensor[], saved: Tensor[]) => {
    const [linear, points] = saved;
    const [dTarget, dRayLength] = dys as Tensor[];
    const [dCamToIndex, dLinear] = engine().runKernel(CameraRaysGrad, { linear, points, dTarget, dRayLength } as NamedTensorMap) as Tensor[];
    return {
      camToIndex: () => dCamToIndex,
      linear: () => dLinear,
      points: () => zerosLike(points),
    };
  },
};
