/**
 * The multiscale NCC kernels (`TfdrrMultiscaleNcc` forward, `TfdrrMultiscaleNccGrad`) for tf.js's
 * `webgpu` backend, as the WGSL programs of `ncc_programs.ts`: the slice moments, one patch pass
 * per patch size, then the scores or the gradient. Registered for the backend name 'webgpu' like
 * the renderers' (nothing here imports `@tensorflow/tfjs-backend-webgpu`). The forward never finds
 * its gradient on webgpu (no `ImageScaleGradient` there): the backward runs the gradient kernel.
 * `GradientNcc` and `MutualInformation` have no webgpu kernel: the metrics run their tensor ops there.
 */
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { MultiscaleNcc, MultiscaleNccGrad, type MultiscaleNccAttrs } from '../kernel_names.js';
import { NccGradProgram, NccMomentsProgram, NccPatchProgram, NccScoreProgram, type NccProgramScale } from './ncc_programs.js';
import { runRayProgram, webgpuKernelConfig, type RayKernelArgs } from './ray_kernel_util.js';
import type { WebGPUBackendLike } from './webgpu_program_util.js';

/** The most slices (B C) or images: one workgroup each along x. */
const MAX_WORKGROUPS = 65535;

/** The moments `[S, 5]` and each patch scale's maps `[4, S, ho, wo]` of a call (the caller disposes them). */
function intermediates(kernelName: string, backend: WebGPUBackendLike, inputs: RayKernelArgs['inputs'], attrs: MultiscaleNccAttrs): { moments: TensorInfo; maps: TensorInfo[]; scales: NccProgramScale[] } {
  const [b, c, h, w] = inputs.x1.shape;
  const slices = b * c;
  if (slices > MAX_WORKGROUPS) throw new Error(`${kernelName} on webgpu: at most ${MAX_WORKGROUPS} image channels (B x C) per call, got ${slices}`);
  const moments = runRayProgram(kernelName, backend, new NccMomentsProgram(slices, attrs.eps), inputs, ['x1', 'x2'], []);
  const scales = attrs.patchSizes.map((patch, k) => ({ patch, weight: attrs.patchWeights[k] }));
  const maps = scales
    .filter((s) => s.patch > 0)
    .map((s) => runRayProgram(kernelName, backend, new NccPatchProgram(slices, h, w, s.patch, attrs.eps), { ...inputs, moments }, ['x1', 'x2', 'moments'], []));
  return { moments, maps, scales };
}

function multiscaleNcc({ inputs, backend, attrs }: RayKernelArgs): TensorInfo {
  const a = attrs as unknown as MultiscaleNccAttrs;
  const { moments, maps, scales } = intermediates(MultiscaleNcc, backend, inputs, a);
  const program = new NccScoreProgram(inputs.x1.shape[0], scales);
  const named = Object.fromEntries(maps.map((m, k) => [`maps${k}`, m]));
  const out = runRayProgram(MultiscaleNcc, backend, program, { moments, ...named }, program.variableNames, [{ type: 'int32', data: [inputs.x1.shape[1]] }]);
  for (const t of [moments, ...maps]) backend.disposeData(t.dataId);
  return out;
}

function multiscaleNccGrad({ inputs, backend, attrs }: RayKernelArgs): TensorInfo {
  const a = attrs as unknown as MultiscaleNccAttrs;
  const { moments, maps, scales } = intermediates(MultiscaleNccGrad, backend, inputs, a);
  const program = new NccGradProgram(inputs.x1.shape, scales);
  const named = Object.fromEntries(maps.map((m, k) => [`maps${k}`, m]));
  const out = runRayProgram(MultiscaleNccGrad, backend, program, { ...inputs, moments, ...named }, program.variableNames, []);
  for (const t of [moments, ...maps]) backend.disposeData(t.dataId);
  return out;
}

export const nccWebGPUKernelConfigs: KernelConfig[] = [webgpuKernelConfig(MultiscaleNcc, multiscaleNcc), webgpuKernelConfig(MultiscaleNccGrad, multiscaleNccGrad)];
