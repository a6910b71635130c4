/**
 * `driftline report`'s window, rebuilt from the pane sketches in feature_sketches, on both
 * ClickHouse engines — the 18.16 server from the global setup and embedded chDB.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReferenceSource } from '../consumers/drift/references.ts';
import { parseConfig } from '../core/config.ts';
import { createLogger } from '../core/logger.ts';
import { migrate } from '../core/migrations.ts';
import { NumericSketch } from '../core/sketch/index.ts';
import { featureSketchRow, snapshotOf } from '../core/sketch-snapshot.ts';
import type { Storage } from '../core/storage/index.ts';
import { storageAdapters } from '../test-support/storage.ts';
import { buildModelReport } from './report.ts';

const config = parseConfig({ CLICKHOUSE_DATABASE: 'driftline_cli_report', LOG_LEVEL: 'silent' });
const logger = createLogger('silent');
/** A recent, pane-aligned time (the current hour minus 3 h), like the panes the store emits. */
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3 * 3_600_000;
const adapters = storageAdapters(config, logger);

const profile = {
  features: { x: NumericSketch.of(Array.from({ length: 2_000 }, (_, i) => i % 100)).toJSON() },
  prediction: NumericSketch.of(Array.from({ length: 2_000 }, (_, i) => (i % 50) / 10)).toJSON(),
};

/** The feature_sketches row the store writes for one 1-second pane of one column and partition. */
function sketchRow(model: string, column: string, pane: number, partition: number, values: number[], emittedAt: Date) {
  const snapshot = snapshotOf(
    {
      modelName: model,
      modelVersion: 1,
      column,
      paneStart: T0 + pane * 1_000,
      paneEnd: T0 + (pane + 1) * 1_000,
      sketch: NumericSketch.of(values),
      lateCount: 0,
    },
    `predictions.${model}`,
    partition,
  );
  return featureSketchRow(snapshot, emittedAt);
}

describe.each(adapters)('driftline report on ClickHouse $name', (adapter) => {
  let storage: Storage;
  const model = `r-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    storage = await adapter.open();
    await migrate(storage);
  });

  afterAll(async () => {
    await storage?.close();
  });

  it("evaluates the model's newest window from the pane sketches, a re-emitted one once", async () => {
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

    // The on-demand report of the newest window (panes 0–3 here).
    const registry = {
      readVersion: async () => ({ profile, metrics: { rmse: 1, mae: 0.8 } }),
    } as unknown as ReferenceSource;
    const { html, content } = await buildModelReport(storage, registry, {
      model,
      windowPanes: 5,
      evaluation: {},
      performance: { tolerance: 1.2, minLabels: 100 },
    });
    expect(content.window).toMatchObject({ model, version: 1, end: T0 + 4_000, paneCount: 4, rowCount: 24 });
    expect(html).toContain(`Drift report: ${model} v1`);
  });
});
