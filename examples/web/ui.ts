/**
 * The demo's controls: pose sliders (three Euler angles in degrees, ZXY as DiffDRR's hello world,
 * three translations in mm) and detector settings (rows/columns, pixel spacing, source-to-detector
 * distance), each a range input with its value printed next to it.
 */

/** One slider. */
export interface SliderSpec {
  name: SliderName;
  label: string;
  min: number;
  max: number;
  step: number;
  /** DiffDRR's hello world: AP, ZXY 0,0,0, translation 0,850,0, sdd 1020, 200x200, delx 2. */
  value: number;
  unit: string;
  group: 'pose' | 'detector';
}

export type SliderName = 'rz' | 'rx' | 'ry' | 'tx' | 'ty' | 'tz' | 'height' | 'delx' | 'sdd';

/** The Euler angles are in the order of the 'ZXY' convention: rotation = [rz, rx, ry]. */
export const SLIDERS: readonly SliderSpec[] = [
  { name: 'rz', label: 'rotation Z', min: -180, max: 180, step: 0.5, value: 0, unit: '°', group: 'pose' },
  { name: 'rx', label: 'rotation X', min: -180, max: 180, step: 0.5, value: 0, unit: '°', group: 'pose' },
  { name: 'ry', label: 'rotation Y', min: -180, max: 180, step: 0.5, value: 0, unit: '°', group: 'pose' },
  { name: 'tx', label: 'translation x', min: -300, max: 300, step: 1, value: 0, unit: 'mm', group: 'pose' },
  { name: 'ty', label: 'translation y', min: 400, max: 1300, step: 1, value: 850, unit: 'mm', group: 'pose' },
  { name: 'tz', label: 'translation z', min: -300, max: 300, step: 1, value: 0, unit: 'mm', group: 'pose' },
  { name: 'height', label: 'height = width', min: 16, max: 512, step: 1, value: 200, unit: 'px', group: 'detector' },
  { name: 'delx', label: 'delx', min: 0.25, max: 8, step: 0.05, value: 2, unit: 'mm', group: 'detector' },
  { name: 'sdd', label: 'sdd', min: 500, max: 2000, step: 5, value: 1020, unit: 'mm', group: 'detector' },
];

export type Params = Record<SliderName, number>;

export function defaultParams(): Params {
  return Object.fromEntries(SLIDERS.map((s) => [s.name, s.value])) as Params;
}

export function isSliderName(name: string): name is SliderName {
  return SLIDERS.some((s) => s.name === name);
}

/** The sliders on the page. */
export class Controls {
  readonly params: Params = defaultParams();
  private readonly inputs = new Map<SliderName, { input: HTMLInputElement; output: HTMLOutputElement }>();

  /**
   * Builds the sliders into `poseRoot` and `detectorRoot`; `onChange(name)` runs after each user
   * or programmatic change.
   */
  constructor(poseRoot: HTMLElement, detectorRoot: HTMLElement, private readonly onChange: (name: SliderName) => void) {
    for (const spec of SLIDERS) {
      const row = document.createElement('label');
      row.className = 'slider';
      const title = document.createElement('span');
      title.textContent = spec.label;
      const input = document.createElement('input');
      Object.assign(input, { type: 'range', name: spec.name, min: String(spec.min), max: String(spec.max), step: String(spec.step), value: String(spec.value) });
      input.id = `slider-${spec.name}`;
      const output = document.createElement('output');
      output.htmlFor.add(input.id);
      row.append(title, input, output);
      (spec.group === 'pose' ? poseRoot : detectorRoot).append(row);
      this.inputs.set(spec.name, { input, output });
      input.addEventListener('input', () => this.apply(spec.name, Number(input.value)));
      this.show(spec);
    }
  }

  /**
   * Sets a slider (clamped to its range, as the range input would) and returns the value applied.
   *
   * @throws Error for an unknown name or a non-finite value.
   */
  set(name: string, value: number): number {
    if (!isSliderName(name)) throw new Error(`setSlider: unknown slider '${name}' (known: ${SLIDERS.map((s) => s.name).join(', ')})`);
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`setSlider(${name}): expected a finite number, got ${String(value)}`);
    const spec = SLIDERS.find((s) => s.name === name)!;
    const clamped = Math.min(spec.max, Math.max(spec.min, value));
    this.inputs.get(name)!.input.value = String(clamped);
    this.apply(name, clamped);
    return clamped;
  }

  /** Back to DiffDRR's hello world. */
  reset(): void {
    for (const spec of SLIDERS) this.set(spec.name, spec.value);
  }

  private apply(name: SliderName, value: number): void {
    this.params[name] = value;
    this.show(SLIDERS.find((s) => s.name === name)!);
    this.onChange(name);
  }

  private show(spec: SliderSpec): void {
    const value = this.params[spec.name];
    this.inputs.get(spec.name)!.output.value = `${spec.step < 1 ? value.toFixed(2) : value} ${spec.unit}`;
  }
}
