import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../core/random.ts';
import { driftEventSchema } from '../../core/schemas.ts';
import { NumericSketch } from '../../core/sketch/index.ts';
import { PREDICTION_COLUMN } from '../../core/sketch-snapshot.ts';
import { encodeJsonEachRow } from '../../core/storage/json-each-row.ts';
import { evaluateWindow, realizedPerformance, referenceOf } from './evaluation.ts';
import { buildDriftEvent, driftEventId, driftEventRow, reportFileName } from './event.ts';
import { INITIAL_STATE, revise, step } from './state.ts';
import type { Window } from './windows.ts';

const T0 = Date.UTC(2026, 0, 1);

function normal(random: () => number, mean: number, sd: number): number {
  const u = 1 - random();
  const v = random();
  return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function sample(n: number, mean: number, sd: number, seed: number): number[] {
  const random = mulberry32(seed);
  return Array.from({ length: n }, () => normal(random, mean, sd));
}

const reference = referenceOf(
  'm',
  3,
  {
    features: {
      a: NumericSketch.of(sample(5_000, 0, 1, 1)).toJSON(),
      b: NumericSketch.of(sample(5_000, 10, 2, 2)).toJSON(),
      c: NumericSketch.of(sample(5_000, 5, 1, 3)).toJSON(),
    },
    prediction: NumericSketch.of(sample(5_000, 1, 0.5, 4)).toJSON(),
  },
  { rmse: 0.5, mae: 0.4 },
);

function windowWith(columns: Record<string, number[]>): Window {
  return {
    model: 'm',
    version: 3,
    start: T0,
    end: T0 + 5_000,
    paneMs: 1_000,
    paneCount: 5,
    rowCount: 1_000,
    sources: ['predictions.m:0', 'predictions.m:1'],
    columns: new Map(Object.entries(columns).map(([name, values]) => [name, NumericSketch.of(values)])),
    completion: 'all_sources',
    sourcesExpected: 2,
    sketchCount: 40,
    partial: false,
    revision: 0,
    original: undefined,
  };
}

describe('window evaluation', () => {
  it('compares every reference column, the prediction included, and marks what drifted', () => {
    const window = windowWith({
      a: sample(1_000, 1, 1, 11), // shifted by 1 σ
      b: sample(1_000, 10, 2, 12),
      [PREDICTION_COLUMN]: sample(1_000, 1.5, 0.5, 14), // shifted by 1 σ
      extra: sample(1_000, 0, 1, 15), // not in the profile: not evaluated
    });
    const { result, sketches } = evaluateWindow(reference, window);
    expect(result.columns.map((c) => [c.column, c.verdict])).toEqual([
      ['a', 'drift'],
      ['b', 'ok'],
      ['c', 'insufficient_data'], // no values in the window
      ['prediction', 'drift'],
    ]);
    expect(result.columns.every((c) => c.method === 'wasserstein')).toBe(true); // reference > 1,000 values
    expect(result.state).toBe('drift'); // 2 of 3 evaluated columns ≥ 0.5
    expect([...sketches.keys()]).toEqual(['a', 'b', 'c', 'prediction']);
    expect(evaluateWindow(reference, window, { driftShare: 0.7 }).result.state).toBe('ok');
  });

  it('judges realized error against the holdout RMSE times the tolerance, once enough labels exist', () => {
    const holdout = { rmse: 0.5, mae: 0.4 };
    const options = { tolerance: 1.2, minLabels: 100 };
    expect(realizedPerformance({ labelled: 0, sse: 0, sae: 0 }, holdout, options)).toMatchObject({
      labelled_count: 0,
      rmse: null,
      mae: null,
      verdict: 'insufficient_labels',
    });
    expect(realizedPerformance({ labelled: 99, sse: 99, sae: 99 }, holdout, options)).toMatchObject({
      rmse: 1,
      verdict: 'insufficient_labels',
    });
    // RMSE 0.6 = 0.5 × 1.2 exactly: not above the bound.
    expect(realizedPerformance({ labelled: 100, sse: 36, sae: 50 }, holdout, options)).toMatchObject({
      rmse: 0.6,
      mae: 0.5,
      verdict: 'ok',
      holdout_rmse: 0.5,
      tolerance: 1.2,
    });
    expect(realizedPerformance({ labelled: 100, sse: 37, sae: 50 }, holdout, options).verdict).toBe('degraded');
  });
});

describe('drift events', () => {
  const window = windowWith({
    a: sample(1_000, 1, 1, 11),
    b: sample(1_000, 10, 2, 12),
    c: sample(1_000, 5, 1, 13),
    [PREDICTION_COLUMN]: sample(1_000, 1.5, 0.5, 14),
  });
  const evaluation = evaluateWindow(reference, window, { driftShare: 0.5 });
  const event = buildDriftEvent({
    window,
    windowPanes: 5,
    reference,
    evaluation,
    step: step({ state: 'drift', consecutiveDrift: 2 }, evaluation.result.state, 3),
    retrainAfter: 3,
    performance: realizedPerformance({ labelled: 500, sse: 500, sae: 400 }, reference.holdout, {
      tolerance: 1.2,
      minLabels: 100,
    }),
    reportPath: null,
    evaluatedAt: new Date(T0 + 9_000),
  });

  it('carries the window, every column result, drifted features apart from the prediction, and the state', () => {
    expect(event).toMatchObject({
      event_id: driftEventId('m', 3, T0 + 5_000),
      model_name: 'm',
      model_version: 3,
      window_start: new Date(T0),
      window_end: new Date(T0 + 5_000),
      pane_ms: 1_000,
      window_panes: 5,
      pane_count: 5,
      row_count: 1_000,
      completion: 'all_sources',
      drifted_columns: ['a', 'prediction'],
      drifted_features: ['a'],
      prediction_drifted: true,
      evaluated_count: 4,
      drifted_count: 2,
      share_of_drifted_columns: 0.5,
      drift_share: 0.5,
      state: 'drift',
      previous_state: 'drift',
      transition: false,
      consecutive_drift: 3,
      retrain_after: 3,
      retrain_recommended: true,
      performance: { labelled_count: 500, rmse: 1, verdict: 'degraded' },
    });
    const a = event.columns.find((c) => c.column === 'a');
    expect(a).toMatchObject({ is_prediction: false, kind: 'numerical', method: 'wasserstein', drifted: true });
    expect(a?.statistic).toBe(a?.wasserstein_norm);
    expect(a?.current_mean).toBeCloseTo(1, 1);
    expect(a?.reference_std).toBeCloseTo(1, 1);
    expect(a?.p_value).toBeNull();
    expect(a?.chi2).toBeNull();
    expect(event.columns.find((c) => c.column === PREDICTION_COLUMN)?.is_prediction).toBe(true);
  });

  it('encodes with schemas/drift-event.avsc and decodes unchanged', () => {
    class TimestampMillis extends avro.types.LogicalType {
      override _fromValue(value: unknown) {
        return new Date(Number(value));
      }
      override _toValue(value: unknown) {
        return value instanceof Date ? value.getTime() : value;
      }
    }
    const type = avro.Type.forSchema(driftEventSchema() as avro.Schema, {
      logicalTypes: { 'timestamp-millis': TimestampMillis },
    });
    const first = { ...event, previous_state: null, report_path: 'reports/m-v3-20260101T000005Z.html' };
    for (const value of [event, first]) expect(type.fromBuffer(type.toBuffer(value))).toEqual(value);
  });

  it('becomes a drift_events row with parallel per-column arrays and nulls where a side was empty', () => {
    const empty = evaluateWindow(reference, windowWith({ a: sample(1_000, 0, 1, 21) }));
    const row = driftEventRow(
      buildDriftEvent({
        window,
        windowPanes: 5,
        reference,
        evaluation: empty,
        step: step(INITIAL_STATE, empty.result.state, 3),
        retrainAfter: 3,
        performance: realizedPerformance({ labelled: 0, sse: 0, sae: 0 }, reference.holdout, {
          tolerance: 1.2,
          minLabels: 100,
        }),
        reportPath: null,
        evaluatedAt: new Date(T0),
      }),
    );
    expect(row.column_names).toEqual(['a', 'b', 'c', 'prediction']);
    expect(row.column_verdicts).toEqual(['ok', 'insufficient_data', 'insufficient_data', 'insufficient_data']);
    expect((row.column_statistics as (number | null)[]).slice(1)).toEqual([null, null, null]);
    expect(row).toMatchObject({ previous_state: null, transition: false, rmse: null, window_end_ms: T0 + 5_000 });
    expect(() => encodeJsonEachRow([row])).not.toThrow();
    expect(JSON.parse(row.columns_json as string)).toHaveLength(4);
  });

  it('derives the event id from model, version, window end and revision only', () => {
    const id = driftEventId('m', 3, T0);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(driftEventId('m', 3, T0)).toBe(id);
    expect(driftEventId('m', 3, T0, 0)).toBe(id);
    expect(driftEventId('m', 3, T0, 1)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(
      new Set([
        id,
        driftEventId('m', 3, T0 + 1_000),
        driftEventId('m', 4, T0),
        driftEventId('n', 3, T0),
        driftEventId('m', 3, T0, 1),
        driftEventId('m', 3, T0, 2),
      ]).size,
    ).toBe(6);
  });

  it('names reports after model, version and window end, without colons', () => {
    expect(reportFileName('california-housing', 2, Date.UTC(2026, 0, 1, 0, 0, 15))).toBe(
      'california-housing-v2-20260101T000015Z.html',
    );
    expect(reportFileName('m', 1, Date.UTC(2026, 0, 1, 0, 0, 15, 500))).toBe('m-v1-20260101T000015.500Z.html');
  });

  it('marks a partial window and a revision: own event id, state against the first evaluation, new fields in the row', () => {
    const partial = { ...window, completion: 'grace_panes' as const, partial: true, sources: ['predictions.m:0'] };
    const first = buildDriftEvent({
      window: partial,
      windowPanes: 5,
      reference,
      evaluation,
      step: step({ state: 'ok', consecutiveDrift: 0 }, 'drift', 3),
      retrainAfter: 3,
      performance: event.performance,
      reportPath: null,
      evaluatedAt: new Date(T0 + 9_000),
    });
    expect(first).toMatchObject({
      event_id: driftEventId('m', 3, T0 + 5_000),
      completion: 'grace_panes',
      partial: true,
      revision: 0,
      sources_expected: 2,
      sketch_count: 40,
    });
    const okNow = evaluateWindow(reference, windowWith({ a: sample(1_000, 0, 1, 31), b: sample(1_000, 10, 2, 32) }));
    const revised = buildDriftEvent({
      window: { ...window, revision: 1, sketchCount: 60, original: { state: 'drift', consecutiveDrift: 1 } },
      windowPanes: 5,
      reference,
      evaluation: okNow,
      step: revise({ state: 'drift', consecutiveDrift: 1 }, okNow.result.state, 3),
      retrainAfter: 3,
      performance: event.performance,
      reportPath: null,
      evaluatedAt: new Date(T0 + 19_000),
    });
    expect(revised).toMatchObject({
      event_id: driftEventId('m', 3, T0 + 5_000, 1),
      window_end: new Date(T0 + 5_000),
      partial: false,
      revision: 1,
      sketch_count: 60,
      state: 'ok',
      previous_state: 'drift',
      transition: true,
      consecutive_drift: 1,
      retrain_recommended: false,
    });
    expect(revised.event_id).not.toBe(first.event_id);
    expect(driftEventRow(revised)).toMatchObject({
      partial: false,
      revision: 1,
      sources_expected: 2,
      sketch_count: 60,
    });
    expect(driftEventRow(first)).toMatchObject({ partial: true, revision: 0 });
  });

  it('reads events written before partial windows existed with the new fields at their defaults', () => {
    // Without logical types: timestamps as plain longs (schema resolution is what is tested).
    const current = driftEventSchema() as { fields: { name: string }[] };
    const added = ['sources_expected', 'partial', 'revision', 'sketch_count'];
    const old = avro.Type.forSchema({
      ...current,
      fields: current.fields.filter((f) => !added.includes(f.name)),
    } as avro.Schema);
    const reader = avro.Type.forSchema(current as avro.Schema);
    const { sources_expected, partial, revision, sketch_count, ...rest } = event;
    const written = {
      ...rest,
      window_start: rest.window_start.getTime(),
      window_end: rest.window_end.getTime(),
      evaluated_at: rest.evaluated_at.getTime(),
    };
    expect(reader.fromBuffer(old.toBuffer(written), reader.createResolver(old))).toEqual({
      ...written,
      sources_expected: 0,
      partial: false,
      revision: 0,
      sketch_count: 0,
    });
  });
});
