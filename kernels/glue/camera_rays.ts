/** Glue of the camera rays kernels (`CameraRays`, `CameraRaysGrad`) for backends with data in JS memory; O(B P), on the calling thread. */
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { CameraRays, CameraRaysGrad } from '../kernel_names.js';
import { cameraRaysGradImpl, cameraRaysImpl } from '../shared/camera_rays_impl.js';
import { jsMemoryKernelConfigs, type KernelIO } from './kernel_io.js';

function cameraRays(io: KernelIO, inputs: Record<string, TensorInfo>, _attrs: NamedAttrMap): TensorInfo[] {
  const b = inputs.camToIndex.shape[0];
  const p = inputs.points.shape[0];
  const [target, rayLength] = io.outputs([[b, p, 3], [b, p]]);
  cameraRaysImpl(io.values(inputs.camToIndex), io.values(inputs.linear), io.values(inputs.points), target.values, rayLength.values);
  return [target.info, rayLength.info];
}

function cameraRaysGrad(io: KernelIO, inputs: Record<string, TensorInfo>, _attrs: NamedAttrMap): TensorInfo[] {
  const b = inputs.linear.shape[0];
  const [dCamToIndex, dLinear] = io.outputs([[b, 3, 4], [b, 3, 3]]);
  cameraRaysGradImpl(io.values(inputs.linear), io.values(inputs.points), io.values(inputs.dTarget), io.values(inputs.dRayLength), dCamToIndex.values, dLinear.values);
  return [dCamToIndex.info, dLinear.info];
}

export const cameraRaysKernelConfigs: KernelConfig[] = [...jsMemoryKernelConfigs(CameraRays, cameraRays), ...jsMemoryKernelConfigs(CameraRaysGrad, cameraRaysGrad)];
