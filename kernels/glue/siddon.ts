/**
 * Glue of the Siddon kernels (forward and gradients) for backends with data in JS memory. Each call
 * runs through `runRayKernelCall`, which splits its rays across the kernel threads when that pays.
 */
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { Siddon, SiddonGradDensity, SiddonGradRays, SiddonScaleRayGradients, type SiddonAttrs } from '../kernel_names.js';
import { scaleRayGradientsImpl } from '../shared/scale_ray_gradients.js';
import type { FloatArray, SiddonRays } from '../shared/siddon_impl.js';
import type { RayKernelArrays, RayKernelName } from '../threads/kernel_tasks.js';
import { runRayKernelCall } from '../threads/ray_kernel_call.js';
import { jsMemoryKernelConfigs, type KernelIO } from './kernel_io.js';
import { rayCounts, volumeRaysOf } from './volume_rays.js';

/** The call's arrays; the mask is read only with more than one channel. */
function siddonRaysOf(io: KernelIO, inputs: Record<string, TensorInfo>, attrs: SiddonAttrs): SiddonRays {
  return { ...volumeRaysOf(io, inputs), mask: attrs.channels > 1 ? io.values(inputs.mask) : null };
}

/** Runs `kernel` on the call's inputs (read now: after the outputs are made) into `outputs`. */
function run(kernel: RayKernelName, io: KernelIO, inputs: Record<string, TensorInfo>, attrs: SiddonAttrs, dy: FloatArray | null, outputs: Partial<RayKernelArrays>): void {
  const rays = siddonRaysOf(io, inputs, attrs);
  runRayKernelCall({
    spec: { kernel, params: attrs, shape: rays.shape, nRays: rays.nRays, raysPerSource: rays.raysPerSource },
    arrays: { density: rays.density, mask: rays.mask, source: rays.source, target: rays.target, dy, out: null, rayGradients: null, dSource: null, dTarget: null, dRange: null, dDensity: null, ...outputs },
    volumeKeys: { density: inputs.density.dataId, mask: rays.mask === null ? null : inputs.mask.dataId },
  });
}

function siddonForward(io: KernelIO, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap): TensorInfo | TensorInfo[] {
  const a = attrs as unknown as SiddonAttrs;
  const nRays = rayCounts(inputs).nRays;
  if (!a.rayGradients) {
    const [out] = io.outputs([[nRays, a.channels]]);
    run('siddonForward', io, inputs, a, null, { out: out.values });
    return out.info;
  }
  const [out, rayGradients] = io.outputs([[nRays, a.channels], [nRays, 6]]);
  run('siddonForward', io, inputs, a, null, { out: out.values, rayGradients: rayGradients.values });
  return [out.info, rayGradients.info];
}

/** `SiddonScaleRayGradients`: O(R), on the calling thread. */
function siddonScaleRayGradients(io: KernelIO, inputs: Record<string, TensorInfo>): TensorInfo[] {
  const nRays = inputs.rayGradients.shape[0];
  const nSources = inputs.source.shape[0];
  const [dSource, dTarget] = io.outputs([[nSources, 3], [nRays, 3]]);
  scaleRayGradientsImpl(io.values(inputs.rayGradients), 6, io.values(inputs.dy), nRays / nSources, dSource.values, dTarget.values);
  return [dSource.info, dTarget.info];
}

function siddonGradRays(io: KernelIO, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap): TensorInfo[] {
  const a = attrs as unknown as SiddonAttrs;
  const { nRays, nSources } = rayCounts(inputs);
  const [dSource, dTarget] = io.outputs([[nSources, 3], [nRays, 3]]);
  run('siddonGradRays', io, inputs, a, io.values(inputs.dy), { dSource: dSource.values, dTarget: dTarget.values });
  return [dSource.info, dTarget.info];
}

function siddonGradDensity(io: KernelIO, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap): TensorInfo {
  const a = attrs as unknown as SiddonAttrs;
  const [dDensity] = io.outputs([[...inputs.density.shape]]);
  run('siddonGradDensity', io, inputs, a, io.values(inputs.dy), { dDensity: dDensity.values });
  return dDensity.info;
}

export const siddonKernelConfigs: KernelConfig[] = [
  ...jsMemoryKernelConfigs(Siddon, siddonForward),
  ...jsMemoryKernelConfigs(SiddonGradRays, siddonGradRays),
  ...jsMemoryKernelConfigs(SiddonGradDensity, siddonGradDensity),
  ...jsMemoryKernelConfigs(SiddonScaleRayGradients, siddonScaleRayGradients),
];
