/**
 * The sketch-snapshot contract, in one place: one column over one closed event-time pane from one
 * source partition. The store emits it (`schemas/sketch-snapshot.avsc` on `feature-sketches`) and
 * writes it (`feature_sketches`, clickhouse/migrations/0002_feature_sketches.sql); the drift
 * consumer reads it back from either. Both sides map through these functions only.
 */
import {
  CategoricalSketch,
  type CategoricalSketchJSON,
  type ColumnSketch,
  type ColumnSketchJSON,
  DEFAULT_MAX_CATEGORIES,
  type NumericSketchJSON,
  OTHER_CATEGORY,
} from './sketch/index.ts';
import type { RowBinaryColumn, RowBinaryRows } from './storage/row-binary.ts';
import { sql } from './storage/sql.ts';

/** `schemas/sketch-snapshot.avsc`: one column over one closed pane from one source partition. */
export interface SketchSnapshot {
  model_name: string;
  model_version: number;
  /** A feature name, or `PREDICTION_COLUMN`. */
  column: string;
  kind: 'numeric' | 'categorical';
  pane_start: Date;
  pane_end: Date;
  source_topic: string;
  source_partition: number;
  count: number;
  null_count: number;
  nonfinite_count: number;
  late_count: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  m2: number;
  compression: number;
  centroid_means: number[];
  centroid_counts: number[];
  categories: { value: string; count: number }[];
  /**
   * Whether each centroid is a point mass (sketch format 2); empty, or absent, in snapshots of
   * format-1 sketches, written before the field existed (their point masses are inferred).
   */
  centroid_point_masses?: boolean[];
}

/** The column the model output is sketched under, beside the features. */
export const PREDICTION_COLUMN = 'prediction';

/** A closed pane of one column from one source partition, as the store's panes hand it out. */
export interface SnapshotPane {
  modelName: string;
  modelVersion: number;
  column: string;
  paneStart: number;
  paneEnd: number;
  sketch: ColumnSketch;
  /** Late events of the partition since its previous closed pane. */
  lateCount: number;
}

/** The snapshot of a closed pane of `topic`'s `partition`. */
export function snapshotOf(pane: SnapshotPane, topic: string, partition: number): SketchSnapshot {
  if (pane.sketch instanceof CategoricalSketch) return categoricalSnapshotOf(pane, pane.sketch, topic, partition);
  return numericSnapshotOf(pane, pane.sketch.toJSON(), topic, partition);
}

/** The snapshot of a closed numeric pane whose sketch is `json` (built here or on a sketch thread). */
export function numericSnapshotOf(
  pane: Omit<SnapshotPane, 'sketch'>,
  json: NumericSketchJSON,
  topic: string,
  partition: number,
): SketchSnapshot {
  return {
    model_name: pane.modelName,
    model_version: pane.modelVersion,
    column: pane.column,
    kind: 'numeric',
    pane_start: new Date(pane.paneStart),
    pane_end: new Date(pane.paneEnd),
    source_topic: topic,
    source_partition: partition,
    count: json.count,
    null_count: json.nullCount,
    nonfinite_count: json.nonFiniteCount,
    late_count: pane.lateCount,
    min: json.min,
    max: json.max,
    mean: json.mean,
    m2: json.m2,
    compression: json.compression,
    centroid_means: json.means,
    centroid_counts: json.counts,
    categories: [],
    centroid_point_masses: json.pointMass ?? [],
  };
}

/**
 * A categorical pane: the tracked categories with their counts, and the mass a bounded sketch
 * lumped together (beyond `maxCategories` distinct values) as `__other__`.
 */
function categoricalSnapshotOf(
  pane: SnapshotPane,
  sketch: CategoricalSketch,
  topic: string,
  partition: number,
): SketchSnapshot {
  const categories = sketch.entries().map(([value, count]) => ({ value, count }));
  if (sketch.otherCount > 0) categories.push({ value: OTHER_CATEGORY, count: sketch.otherCount });
  return {
    model_name: pane.modelName,
    model_version: pane.modelVersion,
    column: pane.column,
    kind: 'categorical',
    pane_start: new Date(pane.paneStart),
    pane_end: new Date(pane.paneEnd),
    source_topic: topic,
    source_partition: partition,
    count: sketch.count,
    null_count: sketch.nullCount,
    nonfinite_count: 0,
    late_count: pane.lateCount,
    min: null,
    max: null,
    mean: null,
    m2: 0,
    compression: 0,
    centroid_means: [],
    centroid_counts: [],
    categories,
    centroid_point_masses: [],
  };
}

/**
 * The CategoricalSketch JSON a categorical snapshot carries (`CategoricalSketch.fromJSON`'s
 * input): its categories, the mass lumped as `__other__`, and the nulls. A snapshot does not carry
 * the sketch's error bound, so the rebuilt sketch reports 0.
 */
export function categoricalSketchJsonOf(
  s: Pick<SketchSnapshot, 'count' | 'null_count' | 'categories'>,
): CategoricalSketchJSON {
  const tracked = s.categories.filter((c) => c.value !== OTHER_CATEGORY);
  const other = s.categories.filter((c) => c.value === OTHER_CATEGORY).reduce((sum, c) => sum + c.count, 0);
  return {
    format: 1,
    maxCategories: Math.max(DEFAULT_MAX_CATEGORIES, tracked.length),
    count: s.count,
    nullCount: s.null_count,
    otherCount: other,
    maxError: 0,
    values: tracked.map((c) => c.value),
    counts: tracked.map((c) => c.count),
  };
}

/** A snapshot's sketch with its kind. */
export function columnSketchJsonOf(s: SketchSnapshot): ColumnSketchJSON {
  return s.kind === 'categorical'
    ? { kind: 'categorical', sketch: categoricalSketchJsonOf(s) }
    : { kind: 'numeric', sketch: numericSketchJsonOf(s) };
}

/** The NumericSketch JSON a numeric snapshot carries (`NumericSketch.fromJSON`'s input). */
export function numericSketchJsonOf(
  s: Pick<
    SketchSnapshot,
    | 'compression'
    | 'count'
    | 'null_count'
    | 'nonfinite_count'
    | 'min'
    | 'max'
    | 'mean'
    | 'm2'
    | 'centroid_means'
    | 'centroid_counts'
    | 'centroid_point_masses'
  >,
): NumericSketchJSON {
  const pointMass = s.centroid_point_masses ?? [];
  // Point masses for every centroid: format 2. None (a snapshot from before them): format 1.
  const format2 = pointMass.length === s.centroid_means.length;
  return {
    format: format2 ? 2 : 1,
    compression: s.compression,
    count: s.count,
    nullCount: s.null_count,
    nonFiniteCount: s.nonfinite_count,
    min: s.min,
    max: s.max,
    mean: s.mean,
    m2: s.m2,
    means: s.centroid_means,
    counts: s.centroid_counts,
    ...(format2 ? { pointMass } : {}),
  };
}

/** A `feature_sketches` row as the store inserts it. */
export type FeatureSketchRow = {
  model_name: string;
  model_version: number;
  column_name: string;
  column_kind: SketchSnapshot['kind'];
  pane_start: Date;
  pane_end: Date;
  source_topic: string;
  source_partition: number;
  count: number;
  null_count: number;
  nonfinite_count: number;
  late_count: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  m2: number;
  compression: number;
  centroid_means: number[];
  centroid_counts: number[];
  category_values: string[];
  category_counts: number[];
  /** 1 where the centroid is a point mass; empty for a format-1 sketch (migration 0007). */
  centroid_point_masses: number[];
  /** The row's version: a snapshot emitted again (after a restart) replaces the older row. */
  emitted_at: Date;
};

export function featureSketchRow(snapshot: SketchSnapshot, emittedAt: Date): FeatureSketchRow {
  return {
    model_name: snapshot.model_name,
    model_version: snapshot.model_version,
    column_name: snapshot.column,
    column_kind: snapshot.kind,
    pane_start: snapshot.pane_start,
    pane_end: snapshot.pane_end,
    source_topic: snapshot.source_topic,
    source_partition: snapshot.source_partition,
    count: snapshot.count,
    null_count: snapshot.null_count,
    nonfinite_count: snapshot.nonfinite_count,
    late_count: snapshot.late_count,
    min: snapshot.min,
    max: snapshot.max,
    mean: snapshot.mean,
    m2: snapshot.m2,
    compression: snapshot.compression,
    centroid_means: snapshot.centroid_means,
    centroid_counts: snapshot.centroid_counts,
    category_values: snapshot.categories.map((c) => c.value),
    category_counts: snapshot.categories.map((c) => c.count),
    centroid_point_masses: (snapshot.centroid_point_masses ?? []).map((p) => (p ? 1 : 0)),
    emitted_at: emittedAt,
  };
}

/** The `feature_sketches` columns `writeFeatureSketchRow` writes, in its order. */
export const FEATURE_SKETCH_COLUMNS: readonly RowBinaryColumn[] = [
  { name: 'model_name', type: 'String' },
  { name: 'model_version', type: 'UInt32' },
  { name: 'column_name', type: 'String' },
  { name: 'column_kind', type: 'String' },
  { name: 'pane_start', type: 'DateTime' },
  { name: 'pane_end', type: 'DateTime' },
  { name: 'source_topic', type: 'String' },
  { name: 'source_partition', type: 'UInt32' },
  { name: 'count', type: 'UInt64' },
  { name: 'null_count', type: 'UInt64' },
  { name: 'nonfinite_count', type: 'UInt64' },
  { name: 'late_count', type: 'UInt64' },
  { name: 'min', type: 'Nullable(Float64)' },
  { name: 'max', type: 'Nullable(Float64)' },
  { name: 'mean', type: 'Nullable(Float64)' },
  { name: 'm2', type: 'Float64' },
  { name: 'compression', type: 'Float64' },
  { name: 'centroid_means', type: 'Array(Float64)' },
  { name: 'centroid_counts', type: 'Array(Float64)' },
  { name: 'category_values', type: 'Array(String)' },
  { name: 'category_counts', type: 'Array(UInt64)' },
  { name: 'centroid_point_masses', type: 'Array(UInt8)' },
  { name: 'emitted_at', type: 'DateTime' },
];

/**
 * `featureSketchRow` as RowBinary (FEATURE_SKETCH_COLUMNS): centroids go in as their bits, with no
 * decimal text to write or for ClickHouse to parse back, so a stored sketch is the emitted one.
 */
export function writeFeatureSketchRow(out: RowBinaryRows, snapshot: SketchSnapshot, emittedAt: Date): void {
  out.string(snapshot.model_name);
  out.uint32(snapshot.model_version);
  out.string(snapshot.column);
  out.string(snapshot.kind);
  out.uint32(Math.floor(snapshot.pane_start.getTime() / 1000));
  out.uint32(Math.floor(snapshot.pane_end.getTime() / 1000));
  out.string(snapshot.source_topic);
  out.uint32(snapshot.source_partition);
  out.uint64(snapshot.count);
  out.uint64(snapshot.null_count);
  out.uint64(snapshot.nonfinite_count);
  out.uint64(snapshot.late_count);
  out.nullableFloat64(snapshot.min);
  out.nullableFloat64(snapshot.max);
  out.nullableFloat64(snapshot.mean);
  out.float64(snapshot.m2);
  out.float64(snapshot.compression);
  out.float64Array(snapshot.centroid_means);
  out.float64Array(snapshot.centroid_counts);
  out.stringArray(snapshot.categories.map((c) => c.value));
  out.uint64Array(snapshot.categories.map((c) => c.count));
  out.uint8Array((snapshot.centroid_point_masses ?? []).map((p) => (p ? 1 : 0)));
  out.uint32(Math.floor(emittedAt.getTime() / 1000));
  out.endRow();
}

/**
 * The select list that reads `feature_sketches` rows back as `StoredSketchRow`: times as Unix
 * seconds (a DateTime reads back as a wall-clock string).
 */
export const STORED_SKETCH_COLUMNS = sql`model_name, model_version, column_name, column_kind,
  toUnixTimestamp(pane_start) AS pane_start_s, toUnixTimestamp(pane_end) AS pane_end_s,
  source_topic, source_partition, count, null_count, nonfinite_count, late_count,
  min, max, mean, m2, compression, centroid_means, centroid_counts, category_values, category_counts,
  centroid_point_masses, toUnixTimestamp(emitted_at) AS emitted_at_s`;

/** A `feature_sketches` row read with `STORED_SKETCH_COLUMNS`; 64-bit integers arrive as strings. */
export type StoredSketchRow = {
  model_name: string;
  model_version: number | string;
  column_name: string;
  column_kind: string;
  pane_start_s: number | string;
  pane_end_s: number | string;
  source_topic: string;
  source_partition: number | string;
  count: number | string;
  null_count: number | string;
  nonfinite_count: number | string;
  late_count: number | string;
  min: number | null;
  max: number | null;
  mean: number | null;
  m2: number | string;
  compression: number | string;
  centroid_means: number[];
  centroid_counts: number[];
  category_values: string[];
  category_counts: (number | string)[];
  centroid_point_masses: (number | string)[];
  emitted_at_s: number | string;
};

/** The snapshot a stored row was written from (pane times in whole seconds, as ClickHouse keeps them). */
export function snapshotOfRow(row: StoredSketchRow): SketchSnapshot {
  return {
    model_name: row.model_name,
    model_version: Number(row.model_version),
    column: row.column_name,
    kind: row.column_kind === 'categorical' ? 'categorical' : 'numeric',
    pane_start: new Date(Number(row.pane_start_s) * 1000),
    pane_end: new Date(Number(row.pane_end_s) * 1000),
    source_topic: row.source_topic,
    source_partition: Number(row.source_partition),
    count: Number(row.count),
    null_count: Number(row.null_count),
    nonfinite_count: Number(row.nonfinite_count),
    late_count: Number(row.late_count),
    min: row.min,
    max: row.max,
    mean: row.mean,
    m2: Number(row.m2),
    compression: Number(row.compression),
    centroid_means: row.centroid_means,
    centroid_counts: row.centroid_counts,
    categories: row.category_values.map((value, i) => ({ value, count: Number(row.category_counts[i] ?? 0) })),
    centroid_point_masses: row.centroid_point_masses.map((p) => Number(p) === 1),
  };
}
