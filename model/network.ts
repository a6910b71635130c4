/** The regression network and the predictor that wraps it with its preprocessing. */
import { type Preprocessing, transformRows } from './preprocess.ts';
import { tf } from './tf.ts';
import { fileSaveHandler } from './tf-file-io.ts';

export interface NetworkOptions {
  inputs: number;
  /** Hidden layer widths (ReLU), e.g. [64, 32]; a linear output unit follows. */
  hidden: readonly number[];
  /** Seeds every kernel initializer (layer i gets seed + i), so equal seeds give equal weights. */
  seed: number;
}

export function buildNetwork({ inputs, hidden, seed }: NetworkOptions): tf.Sequential {
  const network = tf.sequential();
  hidden.forEach((units, i) => {
    network.add(
      tf.layers.dense({
        units,
        activation: 'relu',
        ...(i === 0 ? { inputShape: [inputs] } : {}),
        kernelInitializer: tf.initializers.heNormal({ seed: seed + i }),
        biasInitializer: 'zeros',
      }),
    );
  });
  network.add(
    tf.layers.dense({
      units: 1,
      ...(hidden.length === 0 ? { inputShape: [inputs] } : {}),
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + hidden.length }),
      biasInitializer: 'zeros',
    }),
  );
  return network;
}

/** Raw feature rows in, predictions out. */
export class Predictor {
  constructor(
    readonly network: tf.LayersModel,
    readonly preprocessing: Preprocessing,
  ) {}

  /**
   * Predicts a batch synchronously: one row of raw features per entry, in spec order; NaN
   * marks a missing value (imputed, see preprocess.ts). Throws a RangeError on a wrong width.
   */
  predict(batch: readonly (readonly number[])[]): Float32Array {
    if (batch.length === 0) return new Float32Array(0);
    const width = this.preprocessing.features.length;
    const input = transformRows(this.preprocessing, batch);
    const output = tf.tidy(() => this.network.predict(tf.tensor2d(input, [batch.length, width])) as tf.Tensor);
    try {
      return output.dataSync() as Float32Array;
    } finally {
      output.dispose();
    }
  }

  /** Writes the network as model.json and weights.bin into the existing directory `dir`. */
  async save(dir: string): Promise<void> {
    await this.network.save(fileSaveHandler(dir));
  }

  dispose(): void {
    this.network.dispose();
  }
}
