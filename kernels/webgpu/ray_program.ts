/**
 * The common part of tfdrr's six WGSL programs (Siddon and Trilinear, forward and both gradients):
 * one invocation per ray, launched flat along x (`webgpu_program_util.ts`), each program compiled
 * for one `reduce` and one channel count. A program class extends `RayProgram` and adds only its
 * inputs (`variableNames`), its uniforms and its `getUserCode()`; the density gradients also set
 * `atomic`.
 */
import type { SiddonReduce } from '../kernel_names.js';
import { WORKGROUP_SIZE, computeFlatDispatch, flatDispatchLayout, type WebGPUProgramLike } from './webgpu_program_util.js';

export abstract class RayProgram implements WebGPUProgramLike {
  abstract readonly variableNames: string[];
  /** WGSL fields of the uniforms (`SIDDON_UNIFORMS`, `TRILINEAR_UNIFORMS`). */
  abstract readonly uniforms: string;
  /** Set (true) by the programs that scatter into a zeroed output with atomic adds. */
  declare readonly atomic?: boolean;
  readonly outputShape: number[];
  /** `tfdrr<kernel>_<reduce>_<channels>`: every field that changes the WGSL. */
  shaderKey: string;
  readonly dispatchLayout = flatDispatchLayout();
  readonly dispatch: [number, number, number];
  readonly workgroupSize = WORKGROUP_SIZE;
  protected readonly channels: number;
  protected readonly reduce: SiddonReduce;

  /**
   * @param kernel The kernel's name in the shader key, e.g. `'SiddonGradRays'`.
   * @param outputShape The shape of the program's output.
   * @param nRays R, the number of invocations.
   * @param channels The output channels (label values), compiled into the WGSL as `CHANNELS`.
   * @param reduce How samples combine along a ray ('sum' or 'max').
   */
  protected constructor(kernel: string, outputShape: number[], nRays: number, channels: number, reduce: SiddonReduce) {
    this.outputShape = outputShape;
    this.dispatch = computeFlatDispatch(nRays, this.workgroupSize);
    this.channels = channels;
    this.reduce = reduce;
    this.shaderKey = `tfdrr${kernel}_${reduce}_${channels}`;
  }

  abstract getUserCode(): string;

  /**
   * WGSL: the first lines of `main(index)`. They use the bindings that some variants never read
   * (tfjs binds every input, so each must be used): the labels, not read with one channel, and for
   * an atomic program the density, not read by its 'sum' pass. Then the invocations past the last
   * ray return: the bound is R (`uniforms.targetsShape.x`), not tfjs's `uniforms.size` (one
   * invocation per ray, not per output element).
   */
  protected mainPrologue(): string {
    const unread = this.atomic
      ? `_ = labels[0];   // bindings must be used (the 'sum' pass reads neither the labels nor the density)
  _ = density[0];`
      : '_ = labels[0];   // bindings must be used: one channel reads no labels';
    return `${unread}
  if (index >= uniforms.targetsShape.x) { return; }`;
  }
}
