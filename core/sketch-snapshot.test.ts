import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { loadSchema } from './schemas.ts';
import { CategoricalSketch, NumericSketch } from './sketch/index.ts';
import {
  featureSketchRow,
  numericSketchJsonOf,
  type SnapshotPane,
  type StoredSketchRow,
  snapshotOf,
  snapshotOfRow,
} from './sketch-snapshot.ts';

const pane = (sketch: SnapshotPane['sketch']): SnapshotPane => ({
  modelName: 'm',
  modelVersion: 2,
  column: 'c',
  paneStart: 60_000,
  paneEnd: 120_000,
  sketch,
  lateCount: 3,
});

/** What ClickHouse gives back for a row read with STORED_SKETCH_COLUMNS: seconds, 64-bit integers as strings. */
function stored(row: ReturnType<typeof featureSketchRow>): StoredSketchRow {
  return {
    ...row,
    pane_start_s: row.pane_start.getTime() / 1000,
    pane_end_s: row.pane_end.getTime() / 1000,
    count: String(row.count),
    null_count: String(row.null_count),
    nonfinite_count: String(row.nonfinite_count),
    late_count: String(row.late_count),
    category_counts: row.category_counts.map(String),
    centroid_point_masses: row.centroid_point_masses.map(String),
    emitted_at_s: row.emitted_at.getTime() / 1000,
  };
}

describe('snapshots', () => {
  it('a numeric snapshot carries the sketch, which rebuilds exactly', () => {
    const sketch = NumericSketch.of([1, 2, 3, null, Number.NaN, 10]);
    const snap = snapshotOf(pane(sketch), 'predictions.m', 1);
    expect(snap).toMatchObject({ kind: 'numeric', count: 4, null_count: 1, nonfinite_count: 1, late_count: 3 });
    expect(snap.pane_start).toEqual(new Date(60_000));
    expect(NumericSketch.fromJSON(numericSketchJsonOf(snap)).toJSON()).toEqual(sketch.toJSON());
  });

  it('a categorical snapshot carries the category counts', () => {
    const sketch = CategoricalSketch.of(['a', 'b', 'a', null]);
    const snap = snapshotOf(pane(sketch), 'predictions.m', 0);
    expect(snap).toMatchObject({ kind: 'categorical', count: 3, null_count: 1, centroid_means: [] });
    expect(snap.categories).toEqual([
      { value: 'a', count: 2 },
      { value: 'b', count: 1 },
    ]);
  });

  it('a feature_sketches row reads back as the snapshot it was written from', () => {
    const numeric = snapshotOf(pane(NumericSketch.of([1, 2, 3, null])), 'predictions.m', 1);
    const categorical = snapshotOf(pane(CategoricalSketch.of(['a', 'b', 'a'])), 'predictions.m', 0);
    for (const snap of [numeric, categorical]) {
      expect(snapshotOfRow(stored(featureSketchRow(snap, new Date(200_000))))).toEqual(snap);
    }
  });

  it('a snapshot written before point masses (format 1) decodes with the current schema and rebuilds', () => {
    const current = loadSchema('sketch-snapshot.avsc') as unknown as avro.schema.RecordType;
    const before = { ...current, fields: current.fields.filter((f) => f.name !== 'centroid_point_masses') };
    const oldType = avro.Type.forSchema(before as avro.Schema);
    const newType = avro.Type.forSchema(current as avro.Schema);
    const sketch = NumericSketch.of([1, 2, 2, 3, 9]);
    const { centroid_point_masses: _, ...snap } = snapshotOf(pane(sketch), 'predictions.m', 1);
    // Times as plain longs: no logical-type hooks needed for what this test reads.
    const old = { ...snap, pane_start: snap.pane_start.getTime(), pane_end: snap.pane_end.getTime() };
    const decoded = newType.fromBuffer(oldType.toBuffer(old), newType.createResolver(oldType)) as Parameters<
      typeof numericSketchJsonOf
    >[0];
    expect(decoded.centroid_point_masses).toEqual([]);
    const json = numericSketchJsonOf(decoded);
    expect(json.format).toBe(1);
    // Format 1 infers point masses: here every centroid is one value (count 1, or on the integer lattice).
    expect(NumericSketch.fromJSON(json).toJSON()).toEqual(sketch.toJSON());
  });

  it('a feature_sketches row from before migration 0007 reads as a format-1 sketch', () => {
    const snap = snapshotOf(pane(NumericSketch.of([1.5, 2.25, 2.25])), 'predictions.m', 1);
    const row = { ...stored(featureSketchRow(snap, new Date(200_000))), centroid_point_masses: [] };
    const json = numericSketchJsonOf(snapshotOfRow(row));
    expect(json).toMatchObject({ format: 1, means: [1.5, 2.25], counts: [1, 2] });
    expect(json.pointMass).toBeUndefined();
  });
});
