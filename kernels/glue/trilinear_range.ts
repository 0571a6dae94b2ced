/**
 * Glue of the TrilinearRange kernels (forward and gradient) for backends with data in JS memory:
 * one pass over the rays on the calling thread (cheap next to the Trilinear kernel itself).
 */
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { TrilinearRange, TrilinearRangeGrad, type TrilinearRangeAttrs } from '../kernel_names.js';
import { trilinearRangeGradImpl, trilinearRangeImpl, type RangeRays } from '../shared/trilinear_range_impl.js';
import { jsMemoryKernelConfigs, type KernelIO } from './kernel_io.js';
import { rayCounts } from './volume_rays.js';

/** The call's rays (read after the outputs are made: see kernel_io.ts). */
function rangeRaysOf(io: KernelIO, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap): RangeRays {
  const { shape, voxelShift } = attrs as unknown as TrilinearRangeAttrs;
  const { nRays, nSources } = rayCounts(inputs);
  return { shape: [shape[0], shape[1], shape[2]], source: io.values(inputs.source), target: io.values(inputs.target), nRays, raysPerSource: nRays / nSources, voxelShift };
}

function trilinearRangeForward(io: KernelIO, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap): TensorInfo {
  const [out] = io.outputs([[2]]);
  trilinearRangeImpl(rangeRaysOf(io, inputs, attrs), out.values);
  return out.info;
}

function trilinearRangeGrad(io: KernelIO, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap): TensorInfo[] {
  const { nRays, nSources } = rayCounts(inputs);
  const [dSource, dTarget] = io.outputs([[nSources, 3], [nRays, 3]]);
  trilinearRangeGradImpl(rangeRaysOf(io, inputs, attrs), io.values(inputs.dy), { dSource: dSource.values, dTarget: dTarget.values });
  return [dSource.info, dTarget.info];
}

export const trilinearRangeKernelConfigs: KernelConfig[] = [
  ...jsMemoryKernelConfigs(TrilinearRange, trilinearRangeForward),
  ...jsMemoryKernelConfigs(TrilinearRangeGrad, trilinearRangeGrad),
];
