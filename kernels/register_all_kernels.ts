/**
 * Registers every tfdrr kernel with its backends (cpu and wasm; Siddon, Trilinear and the multiscale
 * NCC also on webgpu, where `trilinearRange`, `indexRays`, the gradient NCC and mutual information
 * keep their tensor ops) and every kernel gradient
 * (once, however often this module is imported). The webgpu kernels are registered whether or not a webgpu backend exists
 * (tf.js keeps them until one is registered); their module does not import
 * @tensorflow/tfjs-backend-webgpu.
 */
import { getGradient, getKernel, registerGradient, registerKernel, type GradConfig, type KernelConfig } from '@tensorflow/tfjs';
import { cameraRaysKernelConfigs } from './glue/camera_rays.js';
import { imageMetricKernelConfigs } from './glue/image_metrics.js';
import { siddonKernelConfigs } from './glue/siddon.js';
import { trilinearKernelConfigs } from './glue/trilinear.js';
import { trilinearRangeKernelConfigs } from './glue/trilinear_range.js';
import { cameraRaysGradConfig } from './gradients/camera_rays_grad.js';
import { gradientNccGradConfig, multiscaleNccGradConfig, mutualInformationGradConfig } from './gradients/image_metrics_grad.js';
import { siddonGradConfig } from './gradients/siddon_grad.js';
import { trilinearGradConfig } from './gradients/trilinear_grad.js';
import { trilinearRangeGradConfig } from './gradients/trilinear_range_grad.js';
import { nccWebGPUKernelConfigs } from './webgpu/ncc_webgpu.js';
import { siddonWebGPUKernelConfigs } from './webgpu/siddon_webgpu.js';
import { trilinearWebGPUKernelConfigs } from './webgpu/trilinear_webgpu.js';

const kernelConfigs: KernelConfig[] = [
  ...cameraRaysKernelConfigs, ...imageMetricKernelConfigs,
  ...siddonKernelConfigs, ...trilinearKernelConfigs, ...trilinearRangeKernelConfigs, ...siddonWebGPUKernelConfigs, ...trilinearWebGPUKernelConfigs, ...nccWebGPUKernelConfigs];
const gradConfigs: GradConfig[] = [
  cameraRaysGradConfig, siddonGradConfig, trilinearGradConfig, trilinearRangeGradConfig,
  multiscaleNccGradConfig, gradientNccGradConfig, mutualInformationGradConfig,
];

for (const config of kernelConfigs) {
  if (getKernel(config.kernelName, config.backendName) == null) registerKernel(config);
}
for (const config of gradConfigs) {
  if (getGradient(config.kernelName) == null) registerGradient(config);
}
