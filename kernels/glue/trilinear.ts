/** Glue of the Trilinear kernels (forward and gradients) for backends with data in JS memory. */
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { Trilinear, TrilinearGradDensity, TrilinearGradRays, type TrilinearAttrs } from '../kernel_names.js';
import { trilinearGradDensityImpl, trilinearGradRaysImpl } from '../shared/trilinear_grad_impl.js';
import { trilinearForwardImpl, type TrilinearRays, type TrilinearSampling } from '../shared/trilinear_impl.js';
import { jsMemoryKernelConfigs, type KernelIO } from './kernel_io.js';
import { rayCounts, volumeRaysOf } from './volume_rays.js';

/**
 * The call's arrays and sampling (read after the outputs are made); the mask is read only with
 * more than one channel.
 *
 * @throws Error if the range holds a non-finite value.
 */
function trilinearCallOf(io: KernelIO, inputs: Record<string, TensorInfo>, attrs: TrilinearAttrs): { rays: TrilinearRays; sampling: TrilinearSampling } {
  const [lo, hi] = io.values(inputs.range);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new Error(`trilinear: range: expected finite (lo, hi), got (${lo}, ${hi})`);
  const { voxelShift, nPoints, reduce, channels } = attrs;
  const mask = channels > 1 ? io.values(inputs.mask) : null;
  return { rays: { ...volumeRaysOf(io, inputs), mask }, sampling: { voxelShift, nPoints, lo, hi, reduce, channels } };
}

function trilinearForward(io: KernelIO, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap): TensorInfo {
  const a = attrs as unknown as TrilinearAttrs;
  const out = io.output([rayCounts(inputs).nRays, a.channels]);
  const { rays, sampling } = trilinearCallOf(io, inputs, a);
  trilinearForwardImpl(rays, sampling, out.values);
  return out.info;
}

function trilinearGradRays(io: KernelIO, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap): TensorInfo[] {
  const a = attrs as unknown as TrilinearAttrs;
  const { nRays, nSources } = rayCounts(inputs);
  const dSource = io.output([nSources, 3]);
  const dTarget = io.output([nRays, 3]);
  const dRange = io.output([2]);
  const { rays, sampling } = trilinearCallOf(io, inputs, a);
  trilinearGradRaysImpl(rays, sampling, io.values(inputs.dy), { dSource: dSource.values, dTarget: dTarget.values, dRange: dRange.values });
  return [dSource.info, dTarget.info, dRange.info];
}

function trilinearGradDensity(io: KernelIO, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap): TensorInfo {
  const a = attrs as unknown as TrilinearAttrs;
  const dDensity = io.output([...inputs.density.shape]);
  const { rays, sampling } = trilinearCallOf(io, inputs, a);
  trilinearGradDensityImpl(rays, sampling, io.values(inputs.dy), dDensity.values);
  return dDensity.info;
}

export const trilinearKernelConfigs: KernelConfig[] = [
  ...jsMemoryKernelConfigs(Trilinear, trilinearForward),
  ...jsMemoryKernelConfigs(TrilinearGradRays, trilinearGradRays),
  ...jsMemoryKernelConfigs(TrilinearGradDensity, trilinearGradDensity),
];
