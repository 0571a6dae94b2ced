/** Glue of the Siddon kernels (forward and gradients) for backends with data in JS memory. */
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { Siddon, SiddonGradDensity, SiddonGradRays, type SiddonAttrs } from '../kernel_names.js';
import { siddonGradDensityImpl, siddonGradRaysImpl } from '../shared/siddon_grad_impl.js';
import { siddonForwardImpl, type SiddonRays } from '../shared/siddon_impl.js';
import { jsMemoryKernelConfigs, type KernelIO } from './kernel_io.js';
import { rayCounts, volumeRaysOf } from './volume_rays.js';

/** The call's arrays; the mask is read only with more than one channel. */
function siddonRaysOf(io: KernelIO, inputs: Record<string, TensorInfo>, attrs: SiddonAttrs): SiddonRays {
  return { ...volumeRaysOf(io, inputs), mask: attrs.channels > 1 ? io.values(inputs.mask) : null };
}

function siddonForward(io: KernelIO, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap): TensorInfo {
  const a = attrs as unknown as SiddonAttrs;
  const out = io.output([rayCounts(inputs).nRays, a.channels]);
  siddonForwardImpl(siddonRaysOf(io, inputs, a), a, out.values);
  return out.info;
}

function siddonGradRays(io: KernelIO, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap): TensorInfo[] {
  const a = attrs as unknown as SiddonAttrs;
  const { nRays, nSources } = rayCounts(inputs);
  const dSource = io.output([nSources, 3]);
  const dTarget = io.output([nRays, 3]);
  siddonGradRaysImpl(siddonRaysOf(io, inputs, a), a, io.values(inputs.dy), dSource.values, dTarget.values);
  return [dSource.info, dTarget.info];
}

function siddonGradDensity(io: KernelIO, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap): TensorInfo {
  const a = attrs as unknown as SiddonAttrs;
  const dDensity = io.output([...inputs.density.shape]);
  siddonGradDensityImpl(siddonRaysOf(io, inputs, a), a, io.values(inputs.dy), dDensity.values);
  return dDensity.info;
}

export const siddonKernelConfigs: KernelConfig[] = [
  ...jsMemoryKernelConfigs(Siddon, siddonForward),
  ...jsMemoryKernelConfigs(SiddonGradRays, siddonGradRays),
  ...jsMemoryKernelConfigs(SiddonGradDensity, siddonGradDensity),
];
