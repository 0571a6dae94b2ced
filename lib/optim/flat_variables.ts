/**
 * A list of float32 tf.Variables seen as one flat float64 vector on the CPU: read it, write it, and evaluate a
 * scalar loss and its gradient with respect to it. Used by optimizers that do their own vector algebra (L-BFGS).
 */
import * as tf from '@tensorflow/tfjs';

export class FlatVariables {
  /** Total number of scalars over all variables. */
  readonly size: number;
  private readonly sizes: number[];

  constructor(readonly variables: readonly tf.Variable[]) {
    if (variables.length === 0) throw new Error('FlatVariables: need at least one variable');
    const names = new Set<string>();
    for (const v of variables) {
      if (!(v instanceof tf.Variable)) throw new Error('FlatVariables: every entry must be a tf.Variable');
      if (v.dtype !== 'float32') throw new Error(`FlatVariables: variable ${v.name} is ${v.dtype}, need float32`);
      if (names.has(v.name)) throw new Error(`FlatVariables: variable ${v.name} is listed twice`);
      names.add(v.name);
    }
    this.sizes = variables.map((v) => v.size);
    this.size = this.sizes.reduce((a, b) => a + b, 0);
  }

  /** The current values, concatenated in list order (row-major within each variable). */
  async read(): Promise<Float64Array> {
    const out = new Float64Array(this.size);
    let offset = 0;
    for (const v of this.variables) {
      out.set(await v.data(), offset);
      offset += v.size;
    }
    return out;
  }

  /** Writes `x` (length {@link size}) into the variables, rounding to float32. */
  write(x: Float64Array): void {
    if (x.length !== this.size) throw new Error(`FlatVariables: expected ${this.size} values, got ${x.length}`);
    let offset = 0;
    this.variables.forEach((v, i) => {
      const values = Float32Array.from(x.subarray(offset, offset + this.sizes[i]));
      tf.tidy(() => v.assign(tf.tensor(values, v.shape, 'float32')));
      offset += this.sizes[i];
    });
  }

  /**
   * The loss at the variables' current values and its gradient, flattened like {@link read}. Variables the loss
   * does not depend on get a zero gradient. Every tensor made here is disposed.
   */
  async lossAndGradient(loss: () => tf.Scalar): Promise<{ loss: number; gradient: Float64Array }> {
    const { value, grads } = tf.variableGrads(loss, this.variables as tf.Variable[]);
    try {
      if (value.size !== 1) throw new Error(`loss must be a scalar, got shape [${value.shape}]`);
      const gradient = new Float64Array(this.size);
      let offset = 0;
      for (const v of this.variables) {
        const g = grads[v.name];
        if (g != null) gradient.set(await g.data(), offset);
        offset += v.size;
      }
      return { loss: (await value.data())[0], gradient };
    } finally {
      value.dispose();
      tf.dispose(grads);
    }
  }
}
