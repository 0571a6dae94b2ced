/**
 * Every DiffDRR reference case and gradient reference on tf.js's wasm backend, with one kernel
 * thread and with two, through the same tests and tolerances as on cpu
 * (test/helpers/reference_render_tests.ts, test/helpers/reference_gradient_tests.ts). The kernels
 * run in place on the WebAssembly heap (kernels/wasm/wasm_io.ts), so these also cover the heap
 * growing under a call (test/kernels/wasm_heap_detach.test.ts checks every kernel for that alone).
 */
import '@tensorflow/tfjs-backend-wasm';
import { resetNumThreads } from '../../kernels/threads/num_threads.js';
import { defineReferenceGradientTests } from '../helpers/reference_gradient_tests.js';
import { defineReferenceRenderTests } from '../helpers/reference_render_tests.js';
import { useCpuBackend } from '../helpers/tf_setup.js';

beforeAll(useCpuBackend);
afterAll(resetNumThreads);

for (const threads of [1, 2]) {
  defineReferenceRenderTests({ backend: 'wasm', threads });
  defineReferenceGradientTests({ backend: 'wasm', threads });
}
