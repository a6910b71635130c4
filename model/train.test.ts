import { beforeAll, describe, expect, it } from 'vitest';
import { NumericSketch } from '../core/sketch/index.ts';
import { CALIFORNIA_HOUSING_SPEC } from './california-housing.ts';
import { type Dataset, loadCaliforniaHousing } from './dataset.ts';
import { regressionMetrics } from './metrics.ts';
import { type TrainedModel, trainModel } from './train.ts';

let data: Dataset;

beforeAll(async () => {
  data = await loadCaliforniaHousing();
});

async function train(seed: number, backend?: 'wasm' | 'cpu'): Promise<TrainedModel> {
  return trainModel({ data, maxRows: 3_000, epochs: 3, seed, ...(backend ? { backend } : {}) });
}

describe('trainModel', () => {
  it('is reproducible: the same seed gives bit-identical metrics, predictions and profile', async () => {
    const a = await train(11);
    const b = await train(11);
    const c = await train(12);
    try {
      for (const key of ['rmse', 'mae', 'r2', 'finalLoss'] as const) expect(a.metrics[key]).toBe(b.metrics[key]);
      const rows = data.x.slice(5_000, 5_100);
      expect(a.predictor.predict(rows)).toEqual(b.predictor.predict(rows));
      expect(JSON.stringify(a.profile)).toBe(JSON.stringify(b.profile));
      expect(a.preprocessing).toEqual(b.preprocessing);
      expect(c.metrics.rmse).not.toBe(a.metrics.rmse);
    } finally {
      for (const m of [a, b, c]) m.predictor.dispose();
    }
  });

  it('is reproducible on the cpu backend too, and within float32 rounding of wasm', async () => {
    const cpu1 = await train(13, 'cpu');
    const cpu2 = await train(13, 'cpu');
    const wasm = await train(13, 'wasm');
    try {
      expect(cpu1.metrics.rmse).toBe(cpu2.metrics.rmse);
      expect(Math.abs(cpu1.metrics.rmse - wasm.metrics.rmse)).toBeLessThan(1e-5);
    } finally {
      for (const m of [cpu1, cpu2, wasm]) m.predictor.dispose();
    }
  });

  it('records metrics, split sizes and settings, and profiles the training split', async () => {
    const model = await train(14);
    try {
      expect(model.metrics).toMatchObject({
        evaluatedOn: 'holdout',
        rows: { train: 2_400, holdout: 600 },
        seed: 14,
        epochs: 3,
        hyperparameters: { hidden: [64, 32], batchSize: 256 },
      });
      expect(model.metrics.rmse).toBeGreaterThan(0);
      expect(model.metrics.r2).toBeLessThanOrEqual(1);
      const profile = model.profile;
      expect(profile).toMatchObject({ model: 'california-housing', source: 'training-split', rows: 2_400 });
      expect(Object.keys(profile.features)).toEqual(model.spec.features.map((f) => f.name));
      const medInc = NumericSketch.fromJSON(profile.features.MedInc);
      expect(medInc.count).toBe(2_400);
      expect(medInc.nullCount).toBe(0);
      expect(NumericSketch.fromJSON(profile.prediction).count).toBe(2_400);
      expect(NumericSketch.fromJSON(profile.target).max).toBeLessThanOrEqual(5.00001);
    } finally {
      model.predictor.dispose();
    }
  });

  it('reports each epoch and rejects bad settings', async () => {
    const seen: number[] = [];
    const model = await trainModel({ data, maxRows: 500, epochs: 2, onEpoch: (p) => seen.push(p.epoch) });
    model.predictor.dispose();
    expect(seen).toEqual([1, 2]);
    await expect(trainModel({ data, epochs: 0 })).rejects.toThrow(RangeError);
  });
});

describe('trainModel with an explicit split (retraining)', () => {
  it('trains on the given rows and measures on the given holdout, under the given spec', async () => {
    const train = { featureNames: data.featureNames, x: data.x.slice(0, 800), y: data.y.slice(0, 800) };
    const holdout = { featureNames: data.featureNames, x: data.x.slice(800, 1000), y: data.y.slice(800, 1000) };
    const spec = { ...CALIFORNIA_HOUSING_SPEC, model: 'split-test' };
    const trained = await trainModel({ split: { train, holdout }, spec, epochs: 2 });
    try {
      expect(trained.metrics.rows).toEqual({ train: 800, holdout: 200 });
      expect(trained.profile.rows).toBe(800);
      expect(trained.spec.model).toBe('split-test');
      const predicted = trained.predictor.predict(holdout.x);
      expect(trained.metrics.rmse).toBeCloseTo(regressionMetrics(holdout.y, predicted).rmse, 9);
    } finally {
      trained.predictor.dispose();
    }
  });
});
