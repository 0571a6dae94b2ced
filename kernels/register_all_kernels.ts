/**
 * Registers every tfdrr kernel with its backends (cpu and wasm; Siddon and Trilinear also on
 * webgpu, where `trilinearRange` and `indexRays` keep their tensor ops) and every kernel gradient
 * (once, however often this module is imported). The webgpu kernels are registered whether or not a webgpu backend exists
 * (tf.js keeps them until one is registered); their module does not import
 * @tensorflow/tfjs-backend-webgpu.
 */
import { getGradient, getKernel, registerGradient, registerKernel, type GradConfig, type KernelConfig } from '@tensorflow/tfjs';
import { cameraRaysKernelConfigs } from './glue/camera_rays.js';
import { siddonKernelConfigs } from './glue/siddon.js';
import { trilinearKernelConfigs } from './glue/trilinear.js';
import { trilinearRangeKernelConfigs } from './glue/trilinear_range.js';
import { cameraRaysGradConfig } from './gradients/camera_rays_grad.js';
import { siddonGradConfig } from './gradients/siddon_grad.js';
import { trilinearGradConfig } from './gradients/trilinear_grad.js';
import { trilinearRangeGradConfig } from './gradients/trilinear_range_grad.js';
import { siddonWebGPUKernelConfigs } from './webgpu/siddon_webgpu.js';
import { trilinearWebGPUKernelConfigs } from './webgpu/trilinear_webgpu.js';

const kernelConfigs: KernelConfig[] = [
  ...cameraRaysKernelConfigs,
  ...siddonKernelConfigs, ...trilinearKernelConfigs, ...trilinearRangeKernelConfigs, ...siddonWebGPUKernelConfigs, ...trilinearWebGPUKernelConfigs];
const gradConfigs: GradConfig[] = [cameraRaysGradConfig, siddonGradConfig, trilinearGradConfig, trilinearRangeGradConfig];

for (const config of kernelConfigs) {
  if (getKernel(config.kernelName, config.backendName) == null) registerKernel(config);
}
for (const config of gradConfigs) {
  if (getGradient(config.kernelName) == null) registerGradient(config);
}
