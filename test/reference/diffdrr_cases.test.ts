/**
 * Every DiffDRR reference case this release can render, on the cpu backend:
 * max |ours - DiffDRR| <= 1e-4 max |DiffDRR| (test/helpers/reference_render_tests.ts, which
 * test/webgpu/reference_webgpu.test.ts runs on webgpu). Cases that need a later feature are listed
 * as skipped, with the reason in the test name.
 */
import { defineReferenceRenderTests } from '../helpers/reference_render_tests.js';
import { useCpuBackend } from '../helpers/tf_setup.js';

beforeAll(useCpuBackend);

defineReferenceRenderTests({ backend: 'cpu' });
