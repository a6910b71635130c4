import { describe, expect, it } from 'vitest';
import { CategoricalSketch, NumericSketch } from '../core/sketch/index.ts';
import {
  BadInput,
  bucketMs,
  type ChangeStamp,
  categoryBars,
  changedKinds,
  currentState,
  type DriftEventRow,
  distributionBins,
  parseSince,
  predictionSeriesSql,
  shapePredictionSeries,
  shapeWindows,
} from './queries.ts';

const NOW = Date.UTC(2026, 0, 5, 12);

describe('parseSince', () => {
  it('reads range names, epoch milliseconds and ISO times; defaults to the last 6 hours', () => {
    expect(parseSince(undefined, NOW)).toBe(NOW - 6 * 3_600_000);
    expect(parseSince('1h', NOW)).toBe(NOW - 3_600_000);
    expect(parseSince('7d', NOW)).toBe(NOW - 7 * 86_400_000);
    expect(parseSince('1767610800000', NOW)).toBe(1_767_610_800_000);
    expect(parseSince('2026-01-05T10:00:00Z', NOW)).toBe(Date.UTC(2026, 0, 5, 10));
  });
  it('refuses anything else naming the field', () => {
    for (const raw of ['yesterday', '1w', '-5', '12.5', '2026-01-05', "1'; DROP TABLE x"]) {
      const error = (() => {
        try {
          parseSince(raw, NOW);
        } catch (e) {
          return e;
        }
      })();
      expect(error, raw).toBeInstanceOf(BadInput);
      expect((error as BadInput).field).toBe('since');
      expect((error as BadInput).status).toBe(400);
    }
  });
});

describe('bucketMs', () => {
  it('gives about 120 points, rounded up to a readable step', () => {
    expect(bucketMs(15_000)).toBe(1_000);
    expect(bucketMs(3_600_000)).toBe(30_000);
    expect(bucketMs(6 * 3_600_000)).toBe(300_000);
    expect(bucketMs(7 * 86_400_000)).toBe(7_200_000);
    expect(bucketMs(1_000 * 86_400_000)).toBe(86_400_000);
  });
});

function eventRow(
  end: number,
  state: string,
  stats: Record<string, number | null>,
  extra: Partial<DriftEventRow> = {},
): DriftEventRow {
  const names = Object.keys(stats);
  return {
    model_version: 1,
    window_start_ms: end - 5_000,
    window_end_ms: end,
    state,
    revision: 0,
    partial: 0,
    consecutive_drift: state === 'drift' ? 1 : 0,
    retrain_recommended: 0,
    share_of_drifted_columns: state === 'drift' ? 0.5 : 0,
    drift_share: 0.25,
    drifted_features: state === 'drift' ? ['MedInc'] : [],
    prediction_drifted: 0,
    row_count: 1_000,
    column_names: names,
    column_methods: names.map(() => 'wasserstein'),
    column_verdicts: names.map((n) => ((stats[n] ?? 0) >= 0.1 ? 'drift' : 'ok')),
    column_statistics: names.map((n) => stats[n] ?? null),
    column_thresholds: names.map(() => 0.1),
    column_p_values: names.map(() => null),
    labelled_count: 0,
    rmse: null,
    mae: null,
    holdout_rmse: 0.55,
    holdout_mae: 0.4,
    performance_verdict: 'insufficient_labels',
    report_path: null,
    evaluated_at_s: end / 1000,
    ...extra,
  };
}

describe('shapeWindows', () => {
  it('gives each column of the newest window its statistic over every window, null where it was not evaluated', () => {
    const rows = [
      eventRow(1_000_000, 'ok', { MedInc: 0.02 }),
      eventRow(1_001_000, 'ok', { MedInc: 0.03, AveRooms: 0.01 }),
      eventRow(1_002_000, 'drift', { MedInc: 0.4, AveRooms: null }, { rmse: 0.9, mae: 0.7, labelled_count: 800 }),
    ];
    const view = shapeWindows(rows);
    expect(view.windows.map((w) => [w.end, w.state, w.rmse])).toEqual([
      [1_000_000, 'ok', null],
      [1_001_000, 'ok', null],
      [1_002_000, 'drift', 0.9],
    ]);
    expect(view.windows[2]?.driftedFeatures).toEqual(['MedInc']);
    expect(view.columns.map((c) => [c.column, c.verdict, c.statistic, c.statistics])).toEqual([
      ['MedInc', 'drift', 0.4, [0.02, 0.03, 0.4]],
      ['AveRooms', 'ok', null, [null, 0.01, null]],
    ]);
  });
  it('is empty without events', () => {
    expect(shapeWindows([])).toEqual({ windows: [], columns: [] });
  });
});

describe('currentState', () => {
  const row = (end: number, state: string, evaluatedS: number) => ({
    model_version: 2,
    window_end_ms: end,
    state,
    evaluated_at_s: evaluatedS,
  });
  it('is the newest window’s state, since the first evaluation of its unbroken run', () => {
    const newestFirst = [
      row(5, 'drift', 500),
      row(4, 'drift', 400),
      row(3, 'drift', 300),
      row(2, 'ok', 200),
      row(1, 'drift', 100),
    ];
    expect(currentState(newestFirst)).toEqual({ state: 'drift', version: 2, since: 300_000, windowEnd: 5 });
  });
  it('is unknown without any window', () => {
    expect(currentState([])).toEqual({ state: 'unknown', version: null, since: null, windowEnd: null });
  });
});

describe('changedKinds', () => {
  const stamp = (drift: string, deployments = 'm:1:1'): ChangeStamp => ({ drift, alerts: 'a', runs: 'r', deployments });
  it('names what moved since the last poll, nothing on the first poll', () => {
    expect(changedKinds(undefined, stamp('1/1'))).toEqual([]);
    expect(changedKinds(stamp('1/1'), stamp('1/1'))).toEqual([]);
    expect(changedKinds(stamp('1/1'), stamp('2/2', 'm:2:1'))).toEqual(['drift', 'deployments']);
  });
});

describe('predictions over time', () => {
  it('buckets by event time and reads the quantile array', () => {
    const text = predictionSeriesSql('california-housing', 1_767_600_000_500, 30_000);
    expect(text).toContain('intDiv(event_time_ms, 30000) * 30000 AS t');
    expect(text).toContain('`predictions_california_housing`');
    expect(text).toContain('event_time_ms >= 1767600000500');
    const series = shapePredictionSeries(
      [
        { t: '30000', n: '10', mean: 2, q: [1, 2, 3] },
        { t: 60_000, n: 5, mean: 2.5, q: [1.5, 2.5, 3.5] },
      ],
      30_000,
    );
    expect(series).toEqual({
      bucketMs: 30_000,
      t: [30_000, 60_000],
      count: [10, 5],
      mean: [2, 2.5],
      p10: [1, 1.5],
      p50: [2, 2.5],
      p90: [3, 3.5],
    });
  });
});

describe('distributionBins', () => {
  const normal = (n: number, mean: number, seed: number) => {
    let s = seed;
    const rand = () => {
      s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
      return (s + 1) / 2_147_483_649;
    };
    return Array.from({ length: n }, () => mean + Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand()));
  };
  it('puts both sides on common bins whose densities integrate to about one', () => {
    const reference = NumericSketch.of(normal(5_000, 0, 1)).toJSON();
    const parts = [NumericSketch.of(normal(1_000, 1, 2)).toJSON(), NumericSketch.of(normal(1_000, 1, 3)).toJSON()];
    const view = distributionBins(reference, parts, 40);
    expect(view.edges).toHaveLength(41);
    expect(view.reference).toHaveLength(40);
    expect(view.currentCount).toBe(2_000);
    expect(view.referenceCount).toBe(5_000);
    expect(view.currentMean as number).toBeGreaterThan((view.referenceMean as number) + 0.8);
    const step = (view.edges[1] as number) - (view.edges[0] as number);
    const mass = (d: number[]) => d.reduce((a, b) => a + b, 0) * step;
    expect(mass(view.reference)).toBeGreaterThan(0.97);
    expect(mass(view.reference)).toBeLessThanOrEqual(1.0001);
    expect(mass(view.current)).toBeGreaterThan(0.97);
    // The shift shows: the current density peaks to the right of the reference's.
    const peak = (d: number[]) => d.indexOf(Math.max(...d));
    expect(peak(view.current)).toBeGreaterThan(peak(view.reference));
  });
  it('draws the reference alone when no sketch arrived yet', () => {
    const view = distributionBins(NumericSketch.of([1, 2, 3, 4]).toJSON(), []);
    expect(view.current).toEqual([]);
    expect(view.reference.length).toBe(40);
    expect(view.currentMean).toBeNull();
  });
});

describe('categoryBars', () => {
  it("gives each category's share on both sides, most prominent first, the window merged from its parts", () => {
    const reference = CategoricalSketch.of(['north', 'north', 'south', 'south', 'south', 'east']).toJSON();
    const parts = [CategoricalSketch.of(['north', 'north', 'north']).toJSON(), CategoricalSketch.of(['west']).toJSON()];
    const view = categoryBars(reference, parts);
    expect(view).toEqual({
      kind: 'categorical',
      categories: ['north', 'south', 'west', 'east'],
      reference: [2 / 6, 3 / 6, 0, 1 / 6],
      current: [3 / 4, 0, 1 / 4, 0],
      referenceCount: 6,
      currentCount: 4,
    });
  });
  it('sums the categories past the twentieth into one bar', () => {
    const values = Array.from({ length: 25 }, (_, i) => `c${String(i).padStart(2, '0')}`);
    const view = categoryBars(CategoricalSketch.of(values).toJSON(), []);
    expect(view.categories).toHaveLength(21);
    expect(view.categories.at(-1)).toBe('(5 more)');
    expect(view.reference.at(-1)).toBeCloseTo(5 / 25, 12);
    expect(view.current).toEqual(view.categories.map(() => 0));
  });
});
