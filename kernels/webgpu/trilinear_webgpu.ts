/**
 * The Trilinear kernels (forward and both gradients) for tf.js's `webgpu` backend, as WGSL programs
 * run by the backend's `runWebGPUProgram`. Registered statically for the backend name 'webgpu'
 * (tf.js keeps kernels of a backend that is not registered until one is): nothing here imports
 * `@tensorflow/tfjs-backend-webgpu`, which stays an optional peer dependency. The registered
 * gradient (`kernels/gradients/trilinear_grad.ts`) calls these gradient kernels by name, so
 * `tf.grad` through `trilinear` (and DRR's 'trilinear' renderer) works on webgpu unchanged.
 *
 * The range `(lo, hi)` stays a tensor read by the shaders (no synchronous read; a non-finite range
 * gives NaN where the CPU kernel throws). Before dispatch each kernel throws the device errors
 * recorded since the last check and checks that every tensor it binds fits in one storage buffer
 * (`webgpu_checks.ts`).
 */
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { Trilinear, TrilinearGradDensity, TrilinearGradRays, type TrilinearAttrs } from '../kernel_names.js';
import { rayGradients, runRayProgram, webgpuKernelConfig, type RayKernelArgs } from './ray_kernel_util.js';
import { TrilinearGradDensityProgram } from './trilinear_grad_density_program.js';
import { GRAD_RAYS_COLUMNS, TrilinearGradRaysProgram } from './trilinear_grad_rays_program.js';
import { TrilinearProgram } from './trilinear_program.js';
import { trilinearUniformData } from './trilinear_sampler_wgsl.js';

/** The inputs of the forward program, in binding order; the gradient programs add `dy`. */
const INPUTS = ['density', 'source', 'target', 'range', 'mask'];
const GRAD_INPUTS = [...INPUTS, 'dy'];

function trilinearForward({ inputs, backend, attrs }: RayKernelArgs): TensorInfo {
  const a = attrs as unknown as TrilinearAttrs;
  const program = new TrilinearProgram(inputs.target.shape[0], a.channels, a.reduce);
  return runRayProgram(Trilinear, backend, program, inputs, INPUTS, trilinearUniformData(a));
}

/**
 * `[dSource [S, 3], dTarget [R, 3], dRange [2]]`: the program writes one `[8]` row per ray (source
 * contribution, target gradient, range contribution: `GRAD_RAYS_COLUMNS`); `rayGradients` sums the
 * source columns over the R/S rays of each source and the range columns over all rays.
 */
function trilinearGradRays({ inputs, backend, attrs }: RayKernelArgs): TensorInfo[] {
  const a = attrs as unknown as TrilinearAttrs;
  const [nRays, nSources] = [inputs.target.shape[0], inputs.source.shape[0]];
  const program = new TrilinearGradRaysProgram(nRays, a.channels, a.reduce);
  const rows = runRayProgram(TrilinearGradRays, backend, program, inputs, GRAD_INPUTS, trilinearUniformData(a));
  const { source, target, range } = GRAD_RAYS_COLUMNS;
  return rayGradients(backend, rows, nRays, nSources, { source: [0, source], target: [0, target], range: [0, range] });
}

/** `dDensity [X, Y, Z]`, scattered with atomic adds into a zeroed output. */
function trilinearGradDensity({ inputs, backend, attrs }: RayKernelArgs): TensorInfo {
  const a = attrs as unknown as TrilinearAttrs;
  const program = new TrilinearGradDensityProgram(inputs.density.shape, inputs.target.shape[0], a.channels, a.reduce);
  return runRayProgram(TrilinearGradDensity, backend, program, inputs, GRAD_INPUTS, trilinearUniformData(a));
}

export const trilinearWebGPUKernelConfigs: KernelConfig[] = [
  webgpuKernelConfig(Trilinear, trilinearForward),
  webgpuKernelConfig(TrilinearGradRays, trilinearGradRays),
  webgpuKernelConfig(TrilinearGradDensity, trilinearGradDensity),
];
