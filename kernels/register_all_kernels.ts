/**
 * Registers every tfdrr kernel with its backend and every kernel gradient (once, however often
 * this module is imported).
 */
import { getGradient, getKernel, registerGradient, registerKernel, type GradConfig, type KernelConfig } from '@tensorflow/tfjs';
import { siddonCpuConfig } from './cpu/siddon.js';
import { siddonGradDensityCpuConfig, siddonGradRaysCpuConfig } from './cpu/siddon_grad.js';
import { siddonGradConfig } from './gradients/siddon_grad.js';
import { trilinearCpuConfig } from './cpu/trilinear.js';
import { trilinearGradDensityCpuConfig, trilinearGradRaysCpuConfig } from './cpu/trilinear_grad.js';
import { trilinearGradConfig } from './gradients/trilinear_grad.js';

const kernelConfigs: KernelConfig[] = [siddonCpuConfig, siddonGradRaysCpuConfig, siddonGradDensityCpuConfig, trilinearCpuConfig, trilinearGradRaysCpuConfig, trilinearGradDensityCpuConfig];
const gradConfigs: GradConfig[] = [siddonGradConfig, trilinearGradConfig];

for (const config of kernelConfigs) {
  if (getKernel(config.kernelName, config.backendName) == null) registerKernel(config);
}
for (const config of gradConfigs) {
  if (getGradient(config.kernelName) == null) registerGradient(config);
}
