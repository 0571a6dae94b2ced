/**
 * Glue of the Trilinear kernels (forward and gradients) for backends with data in JS memory. Each
 * call runs through `runRayKernelCall`, which splits its rays across the kernel threads when that
 * pays.
 */
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { Trilinear, TrilinearGradDensity, TrilinearGradRays, TrilinearScaleRayGradients, type TrilinearAttrs } from '../kernel_names.js';
import { scaleRayGradientsImpl } from '../shared/scale_ray_gradients.js';
import type { FloatArray } from '../shared/siddon_impl.js';
import type { TrilinearRays, TrilinearSampling } from '../shared/trilinear_impl.js';
import { RAY_GRADIENT_WIDTH } from '../shared/trilinear_ray_gradient.js';
import type { RayKernelArrays, RayKernelName } from '../threads/kernel_tasks.js';
import { runRayKernelCall } from '../threads/ray_kernel_call.js';
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
  const { voxelShift, nPoints, reduce, channels, rayGradients } = attrs;
  const mask = channels > 1 ? io.values(inputs.mask) : null;
  return { rays: { ...volumeRaysOf(io, inputs), mask }, sampling: { voxelShift, nPoints, lo, hi, reduce, channels, rayGradients: rayGradients === true } };
}

/** Runs `kernel` on the call's inputs (read now: after the outputs are made) into `outputs`. */
function run(kernel: RayKernelName, io: KernelIO, inputs: Record<string, TensorInfo>, attrs: TrilinearAttrs, withDy: boolean, outputs: Partial<RayKernelArrays>): void {
  const { rays, sampling } = trilinearCallOf(io, inputs, attrs);
  const mask = rays.mask ?? null;
  const dy: FloatArray | null = withDy ? io.values(inputs.dy) : null;
  runRayKernelCall({
    spec: { kernel, params: sampling, shape: rays.shape, nRays: rays.nRays, raysPerSource: rays.raysPerSource },
    arrays: { density: rays.density, mask, source: rays.source, target: rays.target, dy, out: null, rayGradients: null, dSource: null, dTarget: null, dRange: null, dDensity: null, ...outputs },
    volumeKeys: { density: inputs.density.dataId, mask: mask === null ? null : inputs.mask.dataId },
  });
}

function trilinearForward(io: KernelIO, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap): TensorInfo | TensorInfo[] {
  const a = attrs as unknown as TrilinearAttrs;
  const nRays = rayCounts(inputs).nRays;
  if (!a.rayGradients) {
    const [out] = io.outputs([[nRays, a.channels]]);
    run('trilinearForward', io, inputs, a, false, { out: out.values });
    return out.info;
  }
  const [out, rayGradients] = io.outputs([[nRays, a.channels], [nRays, RAY_GRADIENT_WIDTH]]);
  run('trilinearForward', io, inputs, a, false, { out: out.values, rayGradients: rayGradients.values });
  return [out.info, rayGradients.info];
}

/** `TrilinearScaleRayGradients`: O(R), on the calling thread. */
function trilinearScaleRayGradients(io: KernelIO, inputs: Record<string, TensorInfo>): TensorInfo[] {
  const nRays = inputs.rayGradients.shape[0];
  const nSources = inputs.source.shape[0];
  const [dSource, dTarget, dRange] = io.outputs([[nSources, 3], [nRays, 3], [2]]);
  scaleRayGradientsImpl(io.values(inputs.rayGradients), RAY_GRADIENT_WIDTH, io.values(inputs.dy), nRays / nSources, dSource.values, dTarget.values, dRange.values);
  return [dSource.info, dTarget.info, dRange.info];
}

function trilinearGradRays(io: KernelIO, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap): TensorInfo[] {
  const a = attrs as unknown as TrilinearAttrs;
  const { nRays, nSources } = rayCounts(inputs);
  const [dSource, dTarget, dRange] = io.outputs([[nSources, 3], [nRays, 3], [2]]);
  run('trilinearGradRays', io, inputs, a, true, { dSource: dSource.values, dTarget: dTarget.values, dRange: dRange.values });
  return [dSource.info, dTarget.info, dRange.info];
}

function trilinearGradDensity(io: KernelIO, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap): TensorInfo {
  const a = attrs as unknown as TrilinearAttrs;
  const [dDensity] = io.outputs([[...inputs.density.shape]]);
  run('trilinearGradDensity', io, inputs, a, true, { dDensity: dDensity.values });
  return dDensity.info;
}

export const trilinearKernelConfigs: KernelConfig[] = [
  ...jsMemoryKernelConfigs(Trilinear, trilinearForward),
  ...jsMemoryKernelConfigs(TrilinearGradRays, trilinearGradRays),
  ...jsMemoryKernelConfigs(TrilinearScaleRayGradients, trilinearScaleRayGradients),
  ...jsMemoryKernelConfigs(TrilinearGradDensity, trilinearGradDensity),
];
