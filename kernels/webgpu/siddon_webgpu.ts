/**
 * The Siddon kernels (forward and both gradients) for tf.js's `webgpu` backend, as WGSL programs
 * run by the backend's `runWebGPUProgram`. Registered statically for the backend name 'webgpu'
 * (tf.js keeps kernels of a backend that is not registered until one is): nothing here imports
 * `@tensorflow/tfjs-backend-webgpu`, which stays an optional peer dependency. The registered
 * gradient (`kernels/gradients/siddon_grad.ts`) calls these gradient kernels by name, so
 * `tf.grad` through `siddon` works on webgpu unchanged.
 *
 * Before dispatch each kernel throws the device errors recorded since the last check and checks
 * that every tensor it binds fits in one storage buffer (`webgpu_checks.ts`).
 */
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { Siddon, SiddonGradDensity, SiddonGradRays, type SiddonAttrs } from '../kernel_names.js';
import { rayGradients, runRayProgram, webgpuKernel, webgpuKernelConfig, type RayKernelArgs } from './ray_kernel_util.js';
import { SiddonGradDensityProgram } from './siddon_grad_density_program.js';
import { SiddonGradRaysProgram } from './siddon_grad_rays_program.js';
import { SiddonProgram } from './siddon_program.js';
import { siddonUniformData } from './siddon_walker_wgsl.js';

/** The inputs of the forward program, in binding order; the gradient programs add `dy`. */
const INPUTS = ['density', 'source', 'target', 'mask'];
const GRAD_INPUTS = [...INPUTS, 'dy'];

function siddonForward({ inputs, backend, attrs }: RayKernelArgs): TensorInfo {
  const a = attrs as unknown as SiddonAttrs;
  const program = new SiddonProgram(inputs.target.shape[0], a.channels, a.reduce);
  return runRayProgram(Siddon, backend, program, inputs, INPUTS, siddonUniformData(a));
}

/**
 * `[dSource [S, 3], dTarget [R, 3]]`: the program writes each ray's source contribution and target
 * gradient (`[2, R, 3]`, seen as `[2R, 3]`: source rows, then target rows); `rayGradients` sums the
 * source rows over the R/S rays of each source.
 */
function siddonGradRays({ inputs, backend, attrs }: RayKernelArgs): TensorInfo[] {
  const a = attrs as unknown as SiddonAttrs;
  const [nRays, nSources] = [inputs.target.shape[0], inputs.source.shape[0]];
  const program = new SiddonGradRaysProgram(nRays, a.channels, a.reduce);
  const both = runRayProgram(SiddonGradRays, backend, program, inputs, GRAD_INPUTS, siddonUniformData(a));
  const rows = webgpuKernel('Reshape', backend, { x: both }, { shape: [2 * nRays, 3] });
  backend.disposeData(both.dataId);
  return rayGradients(backend, rows, nRays, nSources, { source: [0, 0], target: [nRays, 0] });
}

/** `dDensity [X, Y, Z]`, scattered with atomic adds into a zeroed output. */
function siddonGradDensity({ inputs, backend, attrs }: RayKernelArgs): TensorInfo {
  const a = attrs as unknown as SiddonAttrs;
  const program = new SiddonGradDensityProgram(inputs.density.shape, inputs.target.shape[0], a.channels, a.reduce);
  return runRayProgram(SiddonGradDensity, backend, program, inputs, GRAD_INPUTS, siddonUniformData(a));
}

export const siddonWebGPUKernelConfigs: KernelConfig[] = [
  webgpuKernelConfig(Siddon, siddonForward),
  webgpuKernelConfig(SiddonGradRays, siddonGradRays),
  webgpuKernelConfig(SiddonGradDensity, siddonGradDensity),
];
