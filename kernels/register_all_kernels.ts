/** Registers every tfdrr kernel with its backend (once, however often this module is imported). */
import { getKernel, registerKernel, type KernelConfig } from '@tensorflow/tfjs';
import { siddonCpuConfig } from './cpu/siddon.js';

const kernelConfigs: KernelConfig[] = [siddonCpuConfig];

for (const config of kernelConfigs) {
  if (getKernel(config.kernelName, config.backendName) == null) registerKernel(config);
}
