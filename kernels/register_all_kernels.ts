/**
 * Registers every tfdrr kernel with its backends (cpu and wasm) and every kernel gradient (once,
 * however often this module is imported).
 */
import { getGradient, getKernel, registerGradient, registerKernel, type GradConfig, type KernelConfig } from '@tensorflow/tfjs';
import { siddonKernelConfigs } from './glue/siddon.js';
import { trilinearKernelConfigs } from './glue/trilinear.js';
import { siddonGradConfig } from './gradients/siddon_grad.js';
import { trilinearGradConfig } from './gradients/trilinear_grad.js';

const kernelConfigs: KernelConfig[] = [...siddonKernelConfigs, ...trilinearKernelConfigs];
const gradConfigs: GradConfig[] = [siddonGradConfig, trilinearGradConfig];

for (const config of kernelConfigs) {
  if (getKernel(config.kernelName, config.backendName) == null) registerKernel(config);
}
for (const config of gradConfigs) {
  if (getGradient(config.kernelName) == null) registerGradient(config);
}
