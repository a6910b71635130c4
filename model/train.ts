/**
 * Trains the california-housing regression: seeded split, preprocessing fitted on the training
 * split, a seeded MLP trained with Adam on MSE, holdout metrics and the reference profile.
 *
 * Reproducibility: the split, every kernel initializer and every epoch's shuffle come from the
 * seed (TF.js's own `shuffle: true` uses Math.random, so we shuffle ourselves and fit one epoch
 * at a time with `shuffle: false`; no dropout). Same seed and settings ⇒ the same weights,
 * predictions and metrics bit for bit, on the wasm backend and on the cpu backend (measured;
 * see train.test.ts). Across backends results differ in the last float32 bits (predictions
 * ~1e-6 apart, RMSE ~3e-9), and the wasm binary differs with SIMD support, so compare runs on
 * one backend and one machine type.
 */
import type { ModelSpec } from '../core/feature-spec.ts';
import type { Logger } from '../core/logger.ts';
import { mulberry32, permutation } from '../core/random.ts';
import { CALIFORNIA_HOUSING_SPEC } from './california-housing.ts';
import { type Dataset, type DatasetSplit, loadCaliforniaHousing, splitDataset, takeRows } from './dataset.ts';
import { type RegressionMetrics, regressionMetrics } from './metrics.ts';
import { buildNetwork, Predictor } from './network.ts';
import {
  DEFAULT_CLIP_QUANTILE,
  DEFAULT_LOG1P_FEATURES,
  fitPreprocessing,
  type Preprocessing,
  transformRows,
} from './preprocess.ts';
import { buildReferenceProfile, type ReferenceProfile } from './profile.ts';
import { initTf, type TfBackend, tf } from './tf.ts';

export const DEFAULT_EPOCHS = 40;
export const DEFAULT_SEED = 42;

export interface Hyperparameters {
  epochs: number;
  seed: number;
  batchSize: number;
  /** Adam's initial learning rate, cosine-decayed towards 0 over the epochs. */
  learningRate: number;
  hidden: number[];
  holdoutFraction: number;
  clipQuantile: number;
  log1p: string[];
}

export interface TrainOptions extends Partial<Hyperparameters> {
  /** Rows to train on; the shipped California housing data by default. */
  data?: Dataset;
  /** Use only the first `maxRows` rows (quick tests). */
  maxRows?: number;
  /**
   * Train on `split.train` and measure on `split.holdout` instead of a seeded random split of
   * `data` (retraining: the holdout is the newest traffic, kept out by event time).
   */
  split?: DatasetSplit;
  /** The spec the trained model carries (default: the California housing spec); its features are the rows' columns. */
  spec?: ModelSpec;
  /** Force a TF.js backend; by default the best available (see tf.ts). */
  backend?: TfBackend;
  logger?: Logger;
  onEpoch?: (progress: EpochProgress) => void;
}

export interface EpochProgress {
  epoch: number;
  epochs: number;
  /** Mean training loss (MSE on standardized inputs, target in $100k units) of the epoch. */
  loss: number;
  elapsedMs: number;
}

/** What metrics.json holds: a trained version's, or a registered one's (`evaluatedOn: 'reference'`). */
export type VersionMetrics = TrainingMetrics | ReferenceMetrics;

/**
 * A version registered for monitoring only (`driftline models register`): its predictions
 * against the targets of its reference file stand in for a holdout.
 */
export interface ReferenceMetrics extends RegressionMetrics {
  evaluatedOn: 'reference';
  /** Rows of the reference file with both a prediction and a target (as `holdout`). */
  rows: { train: 0; holdout: number };
  /** When it was registered (ISO), shown where a trained version shows its training time. */
  trainedAt: string;
  /** The reference file it was registered from. */
  reference: string;
}

/** What metrics.json holds for a version trained here. */
export interface TrainingMetrics extends RegressionMetrics {
  /** Metrics are on the holdout split. */
  evaluatedOn: 'holdout';
  rows: { train: number; holdout: number };
  seed: number;
  epochs: number;
  finalLoss: number;
  trainedAt: string;
  durationMs: number;
  backend: TfBackend;
  hyperparameters: Hyperparameters;
}

export interface TrainedModel {
  spec: ModelSpec;
  preprocessing: Preprocessing;
  metrics: TrainingMetrics;
  profile: ReferenceProfile;
  predictor: Predictor;
}

export async function trainModel(options: TrainOptions = {}): Promise<TrainedModel> {
  const started = Date.now();
  const hp: Hyperparameters = {
    epochs: options.epochs ?? DEFAULT_EPOCHS,
    seed: options.seed ?? DEFAULT_SEED,
    batchSize: options.batchSize ?? 256,
    learningRate: options.learningRate ?? 0.01,
    hidden: [...(options.hidden ?? [64, 32])],
    holdoutFraction: options.holdoutFraction ?? 0.2,
    clipQuantile: options.clipQuantile ?? DEFAULT_CLIP_QUANTILE,
    log1p: [...(options.log1p ?? DEFAULT_LOG1P_FEATURES)],
  };
  if (!Number.isSafeInteger(hp.epochs) || hp.epochs < 1) throw new RangeError(`epochs must be ≥ 1; got ${hp.epochs}`);
  if (!Number.isSafeInteger(hp.seed)) throw new RangeError(`seed must be an integer; got ${hp.seed}`);
  const logger = options.logger?.child({ component: 'train' });
  const backend = await initTf(options.backend);

  let data = options.split?.train ?? options.data ?? (await loadCaliforniaHousing());
  if (options.maxRows !== undefined) data = takeRows(data, options.maxRows);
  const spec = options.spec ?? CALIFORNIA_HOUSING_SPEC;
  const { train, holdout } = options.split ?? splitDataset(data, hp.seed, hp.holdoutFraction);
  if (train.x.length === 0 || holdout.x.length === 0)
    throw new RangeError('training and holdout rows must not be empty');
  const preprocessing = fitPreprocessing(data.featureNames, train.x, {
    clipQuantile: hp.clipQuantile,
    log1p: hp.log1p,
  });
  logger?.info({ backend, train: train.x.length, holdout: holdout.x.length, ...hp }, 'training started');

  const width = data.featureNames.length;
  const n = train.x.length;
  const inputs = transformRows(preprocessing, train.x);
  const targets = Float32Array.from(train.y);
  const network = buildNetwork({ inputs: width, hidden: hp.hidden, seed: hp.seed });
  const optimizer = tf.train.adam(hp.learningRate);
  network.compile({ optimizer, loss: 'meanSquaredError' });
  const predictor = new Predictor(network, preprocessing);

  try {
    const shuffle = mulberry32(hp.seed + 1);
    const xs = new Float32Array(n * width);
    const ys = new Float32Array(n);
    let loss = Number.NaN;
    for (let epoch = 0; epoch < hp.epochs; epoch++) {
      // Cosine decay: large steps early, small ones at the end so the last epochs settle
      // instead of bouncing (the final holdout RMSE varies ~±0.01 without it). Adam reads its
      // learning rate at every step; TF.js only declares the field protected.
      (optimizer as unknown as { learningRate: number }).learningRate =
        hp.learningRate * 0.5 * (1 + Math.cos((Math.PI * epoch) / hp.epochs));
      const order = permutation(n, shuffle);
      for (let i = 0; i < n; i++) {
        const k = order[i] as number;
        xs.set(inputs.subarray(k * width, (k + 1) * width), i * width);
        ys[i] = targets[k] as number;
      }
      const x = tf.tensor2d(xs, [n, width]);
      const y = tf.tensor2d(ys, [n, 1]);
      try {
        const history = await network.fit(x, y, { epochs: 1, batchSize: hp.batchSize, shuffle: false, verbose: 0 });
        loss = Number(history.history.loss?.[0]);
      } finally {
        x.dispose();
        y.dispose();
      }
      if (!Number.isFinite(loss)) throw new Error(`training diverged at epoch ${epoch + 1} (loss ${loss})`);
      const progress = { epoch: epoch + 1, epochs: hp.epochs, loss, elapsedMs: Date.now() - started };
      logger?.debug(progress, 'epoch done');
      options.onEpoch?.(progress);
    }

    const holdoutMetrics = regressionMetrics(holdout.y, predictor.predict(holdout.x));
    const metrics: TrainingMetrics = {
      ...holdoutMetrics,
      evaluatedOn: 'holdout',
      rows: { train: n, holdout: holdout.x.length },
      seed: hp.seed,
      epochs: hp.epochs,
      finalLoss: loss,
      trainedAt: new Date().toISOString(),
      durationMs: Date.now() - started,
      backend,
      hyperparameters: hp,
    };
    const profile = buildReferenceProfile(spec, train.x, train.y, predictor.predict(train.x));
    logger?.info(
      { rmse: metrics.rmse, mae: metrics.mae, r2: metrics.r2, durationMs: metrics.durationMs },
      'training done',
    );
    return { spec, preprocessing, metrics, profile, predictor };
  } catch (error) {
    predictor.dispose();
    throw error;
  } finally {
    // Adam's moment estimates are only needed while fitting; the saved model excludes them.
    optimizer.dispose();
  }
}
