/**
 * tfdrr: differentiable digitally reconstructed radiographs (DRRs) on TensorFlow.js, with
 * DiffDRR's geometry and conventions.
 *
 * Importing the package registers tfdrr's fused kernels with every backend they support.
 */
import '../kernels/register_all_kernels.js';

export { DRR, type DRROptions, type ForwardOptions, type FromIntrinsicsOptions, type Renderer } from './drr.js';
export { read, type ReadOptions } from './io/read.js';
export { readNifti, type NiftiVolume } from './io/nifti_file.js';
export { loadExampleCt, exampleDataPath, type ExampleCtOptions } from './io/example_ct.js';
export { makeSubject, type MakeSubjectOptions, type Subject } from './subject.js';
export { Detector, DETECTOR_LENGTH_RANGE, type DetectorOptions } from './geometry/detector.js';
export { convert, makePose, type Parameterization, type ConvertOptions } from './geometry/pose.js';
export { eulerAnglesToMatrix, matrixToEulerAngles, parseEulerConvention } from './geometry/euler_angles.js';
export {
  PARAMETERIZATIONS, ROTATION_SIZE, rotationToMatrix, matrixToRotation, type RotationParameterization, type RotationOptions,
} from './geometry/parameterizations.js';
export { so3Exp, so3Log, axisAngleToMatrix, matrixToAxisAngle, axisAngleToQuaternion, quaternionToAxisAngle } from './geometry/axis_angle.js';
export {
  quaternionToMatrix, matrixToQuaternion, standardizeQuaternion, quaternionMultiply, quaternionRawMultiply, quaternionInvert, quaternionApply,
} from './geometry/quaternion.js';
export {
  quaternionAdjugateToQuaternion, quaternionAdjugateToMatrix, quaternionToQuaternionAdjugate, matrixToQuaternionAdjugate,
} from './geometry/quaternion_adjugate.js';
export { rotation6dToMatrix, matrixToRotation6d } from './geometry/rotation_6d.js';
export { rotation9dToMatrix, matrixToRotation9d } from './geometry/rotation_9d.js';
export { rotation10dToQuaternion, rotation10dToMatrix, quaternionToRotation10d, matrixToRotation10d } from './geometry/rotation_10d.js';
export { se3Exp, se3Log, se3V } from './geometry/se3.js';
export { RigidTransform, type PoseLike, type PoseParameters } from './geometry/rigid_transform.js';
export { randomRigidTransform, type RandomRigidTransformOptions } from './geometry/random_rigid_transform.js';
export { logGeodesicSE3, doubleGeodesicSE3, type DoubleGeodesic, type DoubleGeodesicOptions } from './geometry/distances.js';
export { intrinsicMatrix, parseIntrinsicMatrix, type IntrinsicOptions, type Matrix3, type ParseIntrinsicOptions, type ParsedIntrinsics } from './geometry/intrinsics.js';
export { perspectiveProjection, inverseProjection, type ProjectionGeometry } from './geometry/projection.js';
export { symmetricEigen, type SymmetricEigen, type SymmetricEigenOptions } from './linalg/symmetric_eigen.js';
export { svd3, type Svd3, type Svd3Options } from './linalg/svd3.js';
export { reorientationMatrix, type Orientation } from './geometry/orientation.js';
export { type Matrix4 } from './geometry/matrix4.js';
export { VOXEL_SIZE_RANGE_MM, checkVoxelSpacing, voxelSpacing } from './geometry/voxel_spacing.js';
export { siddon, hasFusedSiddon, type SiddonOptions } from './ops/siddon.js';
export { siddonReference } from './renderers/siddon_reference.js';
export { trilinear, hasFusedTrilinear, type TrilinearOptions } from './ops/trilinear.js';
export { trilinearRange, hasFusedTrilinearRange, type TrilinearRangeOptions } from './renderers/trilinear_range.js';
export { trilinearReference } from './renderers/trilinear_reference.js';
export { type Implementation } from './renderers/ray_renderer.js';
export { memoryLimit, setMemoryLimit, BROWSER_MEMORY_LIMIT, WASM_MEMORY_LIMIT } from './renderers/memory_limit.js';
export { imageToPngBytes, saveImage, type PngNormalization, type SaveImageOptions } from './image/save_image.js';
export { encodeGif, saveGif, type GifFrame, type GifNormalization, type GifOptions, type RawGifFrame } from './image/gif.js';
export { sideBySide, overlayImages, overlayPngBytes, saveOverlayPng, type SideBySideOptions } from './image/overlay.js';
export { lossCurveSvg, saveLossCurve, type LossCurveOptions, type LossRun } from './image/loss_curve.js';
export { Siddon, SiddonGradDensity, SiddonGradRays, Trilinear, TrilinearGradDensity, TrilinearGradRays, TrilinearRange, TrilinearRangeGrad, type SiddonAttrs, type SiddonInputs, type SiddonReduce, type TrilinearAttrs, type TrilinearInputs, type TrilinearRangeAttrs, type TrilinearRangeInputs } from '../kernels/kernel_names.js';
export {
  MultiscaleNcc, MultiscaleNccGrad, GradientNcc, GradientNccGrad, MutualInformation, MutualInformationGrad, ImageScaleGradient,
  type MultiscaleNccAttrs, type MultiscaleNccInputs, type GradientNccAttrs, type MutualInformationAttrs, type ImageMetricGradInputs, type ImageScaleGradientInputs,
} from '../kernels/kernel_names.js';
export { setNumThreads, getNumThreads, disposeThreadPool } from '../kernels/threads/index.js';
export { initNodeWebGPU, takeWebGPUErrors, type NodeWebGPUOptions, type WebGPUAdapterSummary } from './webgpu/node_webgpu.js';
export { Lbfgs, type LbfgsOptions, type LbfgsResult, type LbfgsStopReason } from './optim/lbfgs.js';
export { GroupedOptimizer, type ParameterGroup } from './optim/grouped_optimizer.js';
export {
  stepSchedule, cosineSchedule, setLearningRate, getLearningRate, type LearningRateSchedule, type StepScheduleOptions, type CosineScheduleOptions,
} from './optim/lr_schedule.js';
export { normalizedCrossCorrelation2d, normalizedCrossCorrelation2dReference, type NormalizedCrossCorrelationOptions } from './metrics/normalized_cross_correlation.js';
export {
  multiscaleNormalizedCrossCorrelation2d, multiscaleNormalizedCrossCorrelation2dReference, type MultiscaleNormalizedCrossCorrelationOptions,
} from './metrics/multiscale_normalized_cross_correlation.js';
export {
  gradientNormalizedCrossCorrelation2d, gradientNormalizedCrossCorrelation2dReference, sobelGradients, type GradientNormalizedCrossCorrelationOptions,
} from './metrics/gradient_normalized_cross_correlation.js';
export { mutualInformation, mutualInformationReference, type MutualInformationOptions } from './metrics/mutual_information.js';
export { type MetricImplementation } from './metrics/images.js';
export { multiscaleNcc, gradientNcc, mutualInformationFused, hasFusedKernel } from './ops/image_metrics.js';
export {
  Registration, type RegistrationOptions, type RegistrationOptimizer, type RegistrationResult, type RegistrationStep, type RunOptions, type StepCallback,
} from './registration/registration.js';
export { multiscaleNccLoss, type RegistrationLoss } from './registration/registration_loss.js';
export { perturbPoses, type PerturbPosesOptions } from './registration/perturb_poses.js';
export { poseErrors, type PoseErrors } from './registration/pose_errors.js';
export { resampleTarget } from './registration/target_pyramid.js';
export { DRRLayer } from './models/drr_layer.js';
export { type DRRLayerArgs, type DRRLayerOptions, type DRRLayerGeometry, type DataFormat, type DensityConstraint, type LayerParameterization } from './models/drr_layer_config.js';
export { fileSystem, FileSystemHandler } from './io/file_system_handler.js';
