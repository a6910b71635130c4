/**
 * The drift consumer's SQL on both ClickHouse engines — the 18.16 server from the global setup and
 * embedded chDB: realized error (FINAL, ANY INNER JOIN), the state a restart resumes from (argMax
 * over drift_events) and the pane sketches it reloads (feature_sketches FINAL).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { migrate } from '../../core/migrations.ts';
import { ensurePredictionsTable, predictionsTable } from '../../core/prediction-table.ts';
import { CategoricalSketch, NumericSketch } from '../../core/sketch/index.ts';
import { featureSketchRow, snapshotOf } from '../../core/sketch-snapshot.ts';
import type { Storage } from '../../core/storage/index.ts';
import { storageAdapters } from '../../test-support/storage.ts';
import { evaluateWindow, realizedPerformance, referenceOf } from './evaluation.ts';
import { buildDriftEvent, driftEventRow } from './event.ts';
import { queryErrorSums, queryLastState, queryPaneSketches } from './queries.ts';
import { loadVersionState } from './restore.ts';
import { revise, step } from './state.ts';
import type { Window } from './windows.ts';

const config = parseConfig({ CLICKHOUSE_DATABASE: 'driftline_drift_queries', LOG_LEVEL: 'silent' });
const logger = createLogger('silent');
/** A recent, pane-aligned time (the current hour minus 3 h), like the panes the store emits. */
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3 * 3_600_000;
const adapters = storageAdapters(config, logger);

const profile = {
  features: { x: NumericSketch.of(Array.from({ length: 2_000 }, (_, i) => i % 100)).toJSON() },
  prediction: NumericSketch.of(Array.from({ length: 2_000 }, (_, i) => (i % 50) / 10)).toJSON(),
};
const reference = referenceOf('q', 1, profile, { rmse: 1, mae: 0.8 });

function sketchRow(
  model: string,
  column: string,
  pane: number,
  partition: number,
  values: number[],
  emittedAt: Date,
  version = 1,
) {
  const json = NumericSketch.of(values).toJSON();
  return {
    model_name: model,
    model_version: version,
    column_name: column,
    column_kind: 'numeric',
    pane_start: new Date(T0 + pane * 1_000),
    pane_end: new Date(T0 + (pane + 1) * 1_000),
    source_topic: `predictions.${model}`,
    source_partition: partition,
    count: json.count,
    null_count: json.nullCount,
    nonfinite_count: json.nonFiniteCount,
    late_count: 0,
    min: json.min,
    max: json.max,
    mean: json.mean,
    m2: json.m2,
    compression: json.compression,
    centroid_means: json.means,
    centroid_counts: json.counts,
    category_values: [],
    category_counts: [],
    emitted_at: emittedAt,
  };
}

describe.each(adapters)('drift queries on ClickHouse $name', (adapter) => {
  let storage: Storage;
  const model = `q-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    storage = await adapter.open();
    await migrate(storage);
  });

  afterAll(async () => {
    await storage?.command(`DROP TABLE IF EXISTS ${predictionsTable(model)}`);
    await storage?.close();
  });

  it('sums the error of the window’s labelled predictions once each, and reads no table as no labels', async () => {
    await ensurePredictionsTable(storage, model, [{ name: 'x', type: 'double', optional: false }]);
    const prediction = (id: string, ms: number, value: number, version = 1) => ({
      event_id: id,
      model_name: model,
      model_version: version,
      event_time: new Date(ms),
      event_time_ms: ms,
      x: 1,
      prediction: value,
      latency_ms: 0.1,
      entity_id: null,
      segment: null,
      kafka_partition: 0,
      kafka_offset: 0n,
      ingested_at: new Date(),
      late: 0,
    });
    const truth = (id: string, actual: number) => ({
      event_id: id,
      model_name: model,
      actual,
      event_time: new Date(T0),
      event_time_ms: T0,
      kafka_partition: 0,
      kafka_offset: 0n,
      ingested_at: new Date(),
    });
    const table = predictionsTable(model);
    await storage.insert(table, [
      prediction('a', T0, 2),
      prediction('b', T0 + 4_999, 3),
      prediction('c', T0 + 100, 9), // no label
      prediction('d', T0 + 5_000, 9), // after the window
      prediction('e', T0 + 200, 9, 2), // another version
    ]);
    // Stored twice (a restart re-reading): FINAL counts each once.
    await storage.insert(table, [prediction('a', T0, 2)]);
    await storage.insert('ground_truth', [truth('a', 1), truth('b', 5), truth('d', 0), truth('e', 0)]);
    await storage.insert('ground_truth', [truth('a', 1)]);
    // a: error 1, b: error −2 → labelled 2, Σe² = 5, Σ|e| = 3.
    expect(await queryErrorSums(storage, model, 1, T0, T0 + 5_000)).toEqual({ labelled: 2, sse: 5, sae: 3 });
    expect(await queryErrorSums(storage, `missing-${model}`, 1, T0, T0 + 5_000)).toEqual({
      labelled: 0,
      sse: 0,
      sae: 0,
    });
  });

  /** A drift_events row of the window ending at `end`, first evaluation unless `revision` says otherwise. */
  function row(
    end: number,
    verdict: 'ok' | 'drift',
    consecutive: number,
    options: { version?: number; revision?: number; partial?: boolean; sketchCount?: number } = {},
  ) {
    const revision = options.revision ?? 0;
    const window: Window = {
      model,
      version: options.version ?? 1,
      start: end - 5_000,
      end,
      paneMs: 1_000,
      paneCount: 5,
      rowCount: 10,
      sources: [`predictions.${model}:0`, `predictions.${model}:1`],
      sourcesExpected: 2,
      sketchCount: options.sketchCount ?? 10,
      columns: new Map(),
      completion: options.partial ? 'grace_panes' : 'all_sources',
      partial: options.partial ?? false,
      revision,
      original: undefined,
    };
    const evaluation = evaluateWindow(reference, window);
    // A revision reports against its window's first evaluation (drift here) and keeps its count.
    const stepped =
      revision > 0
        ? revise({ state: 'drift', consecutiveDrift: consecutive }, verdict, 3)
        : step({ state: 'ok', consecutiveDrift: consecutive - 1 }, verdict, 3);
    return driftEventRow(
      buildDriftEvent({
        window,
        windowPanes: 5,
        reference,
        evaluation,
        step: stepped,
        retrainAfter: 3,
        performance: realizedPerformance({ labelled: 0, sse: 0, sae: 0 }, reference.holdout, {
          tolerance: 1.2,
          minLabels: 100,
        }),
        reportPath: null,
        evaluatedAt: new Date(),
      }),
    );
  }

  it('finds the newest evaluation of a version, the state a restart resumes from', async () => {
    expect(await queryLastState(storage, model, 1)).toBeUndefined();
    await storage.insert('drift_events', [row(T0 + 5_000, 'ok', 1), row(T0 + 7_000, 'drift', 2)]);
    await storage.insert('drift_events', [row(T0 + 6_000, 'drift', 1), row(T0 + 7_000, 'drift', 2)]);
    expect(await queryLastState(storage, model, 1)).toEqual({
      state: 'drift',
      previousState: 'ok',
      revision: 0,
      consecutiveDrift: 2,
      windowEndMs: T0 + 7_000,
      paneMs: 1_000,
      sources: [`predictions.${model}:0`, `predictions.${model}:1`],
    });
    expect(await queryLastState(storage, model, 2)).toBeUndefined();
  });

  it('reloads the pane sketches of a range as the store stored them, a re-emitted one once', async () => {
    const early = new Date(T0);
    const late = new Date(T0 + 60_000);
    const rows = [0, 1, 2, 3].flatMap((pane) =>
      [0, 1].flatMap((partition) => [
        sketchRow(model, 'x', pane, partition, [pane, pane + 0.5, partition], early),
        sketchRow(model, 'prediction', pane, partition, [pane / 10], early),
      ]),
    );
    await storage.insert('feature_sketches', rows);
    await storage.insert('feature_sketches', [sketchRow(model, 'x', 2, 1, [2, 2.5, 1], late)]);
    const parts = await queryPaneSketches(storage, model, 1, T0 + 1_000, T0 + 3_000);
    expect(parts.map((p) => `${(p.paneStart - T0) / 1_000}/${p.column}/${p.source}`)).toEqual([
      `1/prediction/predictions.${model}:0`,
      `1/prediction/predictions.${model}:1`,
      `1/x/predictions.${model}:0`,
      `1/x/predictions.${model}:1`,
      `2/prediction/predictions.${model}:0`,
      `2/prediction/predictions.${model}:1`,
      `2/x/predictions.${model}:0`,
      `2/x/predictions.${model}:1`,
    ]);
    const part = parts.find((p) => p.paneStart === T0 + 2_000 && p.column === 'x' && p.source.endsWith(':1'));
    expect(NumericSketch.fromJSON(part?.sketch).toJSON()).toEqual(NumericSketch.of([2, 2.5, 1]).toJSON());
  });

  it('reloads categorical pane sketches as category counts, for restores as for arrivals', async () => {
    // A bounded sketch that lumped one value into __other__: three categories kept, one lumped.
    const sketch = CategoricalSketch.of(['north', 'north', 'north', 'south', 'east', null], { maxCategories: 2 });
    const snapshot = snapshotOf(
      {
        modelName: model,
        modelVersion: 1,
        column: 'region',
        paneStart: T0 + 5_000,
        paneEnd: T0 + 6_000,
        sketch,
        lateCount: 0,
      },
      `predictions.${model}`,
      0,
    );
    await storage.insert('feature_sketches', [featureSketchRow(snapshot, new Date(T0))]);
    const parts = await queryPaneSketches(storage, model, 1, T0 + 5_000, T0 + 6_000);
    expect(parts).toHaveLength(1);
    expect(parts[0]).toMatchObject({ column: 'region', kind: 'categorical' });
    const restored = CategoricalSketch.fromJSON(parts[0]?.sketch);
    expect(restored).toMatchObject({ count: 5, nullCount: 1, otherCount: sketch.otherCount });
    expect(restored.entries()).toEqual(sketch.entries());
  });

  it('restores from the newest revision of the newest window, and keeps partial windows open to revision', async () => {
    const version = 3;
    // Window 8 s: first evaluation partial (drift, 3rd in a row), then revised to ok, still partial.
    // Window 7 s: partial, then revised complete. Window 6 s: partial, never revised.
    await storage.insert('drift_events', [
      row(T0 + 6_000, 'drift', 1, { version, partial: true, sketchCount: 8 }),
      row(T0 + 7_000, 'drift', 2, { version, partial: true, sketchCount: 8 }),
      row(T0 + 8_000, 'drift', 3, { version, partial: true, sketchCount: 8 }),
    ]);
    await storage.insert('drift_events', [
      row(T0 + 7_000, 'ok', 2, { version, revision: 1, sketchCount: 10 }),
      row(T0 + 8_000, 'ok', 3, { version, revision: 1, partial: true, sketchCount: 9 }),
    ]);
    expect(await queryLastState(storage, model, version)).toMatchObject({
      state: 'ok',
      previousState: 'drift',
      revision: 1,
      consecutiveDrift: 3,
      windowEndMs: T0 + 8_000,
    });
    const restored = await loadVersionState(storage, model, version, {
      windowPanes: 5,
      revisePanes: 5,
      maxSkewMs: 300_000,
    });
    // The running state is the first evaluation's: a revision does not step it.
    expect(restored.monitor).toEqual({ state: 'drift', consecutiveDrift: 3 });
    expect(restored.windows).toMatchObject({
      evaluatedThrough: T0 + 8_000,
      paneMs: 1_000,
      revisable: [
        { end: T0 + 6_000, revision: 0, sketchCount: 8, original: { state: 'drift', consecutiveDrift: 1 } },
        { end: T0 + 8_000, revision: 1, sketchCount: 9, original: { state: 'drift', consecutiveDrift: 3 } },
      ],
    });
  });

  it('restores a version never evaluated from its first panes, leaving out sketches refused on arrival', async () => {
    const version = 5;
    const emitted = new Date(T0 + 60_000);
    const rows = [0, 1, 2, 3].flatMap((pane) =>
      [0, 1].map((partition) => sketchRow(model, 'x', pane, partition, [pane, partition], emitted, version)),
    );
    // Pane 1 of partition 1 cannot be merged (m2 far beyond what its values allow).
    (rows[3] as { m2: number }).m2 = 1e300;
    // A far-future pane: starts long after the snapshot was emitted.
    const future = { ...sketchRow(model, 'x', 10_000, 0, [1], emitted, version) };
    await storage.insert('feature_sketches', [...rows, future]);
    const restored = await loadVersionState(storage, model, version, {
      windowPanes: 3,
      revisePanes: 3,
      maxSkewMs: 300_000,
    });
    expect(restored.monitor).toEqual({ state: null, consecutiveDrift: 0 });
    expect(restored.windows).toMatchObject({
      evaluatedThrough: Number.NEGATIVE_INFINITY,
      firstPaneStart: T0,
      paneMs: 1_000,
    });
    // The warm-up panes are the first W−1 = 2.
    expect(restored.windows?.parts.map((p) => `${(p.paneStart - T0) / 1_000}/${p.source}`)).toEqual([
      `0/predictions.${model}:0`,
      `0/predictions.${model}:1`,
      `1/predictions.${model}:0`,
    ]);
    expect(
      (await loadVersionState(storage, model, 6, { windowPanes: 3, revisePanes: 3, maxSkewMs: 300_000 })).windows,
    ).toBeUndefined();
  });
});
