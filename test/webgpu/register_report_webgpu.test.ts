/**
 * `tfdrr register`'s pose report on the webgpu backend in Node, where a synchronous read of GPU
 * data throws: `reportPose` reads its results asynchronously and gives the cpu backend's numbers
 * (every parameterization, within 1e-5 of its largest number: float32 on the GPU).
 */
import * as tf from '@tensorflow/tfjs';
import '../../kernels/register_all_kernels.js';
import { reportPose } from '../../lib/cli/register_output.js';
import type { Parameterization } from '../../lib/geometry/parameterizations.js';
import { expectNoWebGPUErrors, webgpuTestFile } from '../helpers/webgpu_setup.js';

const { describeWebGPU, title } = await webgpuTestFile();

describeWebGPU(`tfdrr register's pose report on webgpu (${title})`, () => {
  const names: Parameterization[] = ['euler_angles', 'axis_angle', 'quaternion', 'rotation_6d', 'rotation_9d', 'rotation_10d', 'quaternion_adjugate', 'se3_log_map', 'matrix'];
  // a rotation of 0.3 rad about (1, 2, 2)/3 and a translation, row-major 4x4
  const [x, y, z] = [1 / 3, 2 / 3, 2 / 3];
  const [c, s] = [Math.cos(0.3), Math.sin(0.3)];
  const r = [
    [c + x * x * (1 - c), x * y * (1 - c) - z * s, x * z * (1 - c) + y * s],
    [y * x * (1 - c) + z * s, c + y * y * (1 - c), y * z * (1 - c) - x * s],
    [z * x * (1 - c) - y * s, z * y * (1 - c) + x * s, c + z * z * (1 - c)],
  ];
  const pose = [...r[0], 5, ...r[1], 850, ...r[2], -10, 0, 0, 0, 1];
  const euler = { convention: 'ZXY', degrees: false };

  test('every parameterization equals the cpu report', async () => {
    await tf.setBackend('cpu');
    const cpu = await reportPose(pose, names, euler);
    await tf.setBackend('webgpu');
    const gpu = await reportPose(pose, names, euler);
    expectNoWebGPUErrors();
    for (const name of names) {
      const flat = (p: (typeof cpu)[string]) => [...p.rotation, ...(p.translation ?? [])];
      const [want, got] = [flat(cpu[name]), flat(gpu[name])];
      expect(got.length).toBe(want.length);
      const scale = Math.max(1, ...want.map(Math.abs));
      got.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThanOrEqual(1e-5 * scale));
    }
  });
});
