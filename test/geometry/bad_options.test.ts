/** Issue #17 for the pose helpers (and initNodeWebGPU): unknown option keys are rejected with a suggestion. */
import * as tf from '@tensorflow/tfjs';
import { doubleGeodesicSE3 } from '../../lib/geometry/distances.js';
import { randomRigidTransform } from '../../lib/geometry/random_rigid_transform.js';
import { useCpuBackend } from '../helpers/tf_setup.js';

beforeAll(useCpuBackend);

test('randomRigidTransform', () => {
  expect(() => randomRigidTransform({ batchsize: 2 } as object)).toThrow(/^randomRigidTransform: unknown option 'batchsize' \(did you mean 'batchSize'\? known: batchSize, seed, maxAngle, maxTranslation\)$/);
});

test('doubleGeodesicSE3', () => {
  const pose = tf.eye(4).reshape([1, 4, 4]) as tf.Tensor3D;
  expect(() => doubleGeodesicSE3(pose, pose, 1020, { epsilon: 1e-6 } as object)).toThrow(/^doubleGeodesicSE3: unknown option 'epsilon' \(known: eps\)$/);
  pose.dispose();
});

test('initNodeWebGPU (rejected before any adapter is looked for)', async () => {
  const { initNodeWebGPU } = await import('../../lib/webgpu/node_webgpu.js');
  await expect(initNodeWebGPU({ dawnOption: ['backend=vulkan'] } as object)).rejects.toThrow(/^initNodeWebGPU: unknown option 'dawnOption' \(did you mean 'dawnOptions'\? known: dawnOptions, featureLevel\)$/);
});
