/**
 * Pure mappings of the store consumer: decoded events to ClickHouse rows and sketch inputs, and
 * closed panes to `SketchSnapshot` events and rows.
 */
import type { GroundTruth, PredictionEvent, SketchSnapshot } from '../../core/schemas.ts';
import { CategoricalSketch, OTHER_CATEGORY } from '../../core/sketch/index.ts';
import type { ClosedPane, SketchInput } from './panes.ts';

export interface MessageOrigin {
  topic: string;
  partition: number;
  offset: string;
}

/** The column name the prediction is sketched under, beside the features. */
export const PREDICTION_COLUMN = 'prediction';

/**
 * NaN and ±Infinity (a direct producer's, checked by the event contract) are stored as they are:
 * JSON has no token for them, but ClickHouse (18.16 and current) reads "nan", "inf" and "-inf"
 * into a Float64 column.
 */
export function storedFeatures(features: PredictionEvent['features']): Record<string, number | string | null> {
  let copy: Record<string, number | string | null> | undefined;
  for (const [name, value] of Object.entries(features)) {
    if (typeof value !== 'number' || Number.isFinite(value)) continue;
    copy ??= { ...features };
    copy[name] = Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf';
  }
  return copy ?? features;
}

export function predictionRow(event: PredictionEvent, origin: MessageOrigin, late: boolean, ingestedAt: Date) {
  const time = event.event_time.getTime();
  return {
    event_id: event.event_id,
    model_name: event.model_name,
    model_version: event.model_version,
    event_time: new Date(time),
    event_time_ms: time,
    ...storedFeatures(event.features),
    prediction: event.prediction,
    latency_ms: event.latency_ms,
    entity_id: event.entity_id,
    segment: event.segment,
    kafka_partition: origin.partition,
    kafka_offset: BigInt(origin.offset),
    ingested_at: ingestedAt,
    late: late ? 1 : 0,
  };
}

export function groundTruthRow(truth: GroundTruth, origin: MessageOrigin, ingestedAt: Date) {
  const time = truth.event_time.getTime();
  return {
    event_id: truth.event_id,
    model_name: truth.model_name,
    actual: truth.actual,
    event_time: new Date(time),
    event_time_ms: time,
    kafka_partition: origin.partition,
    kafka_offset: BigInt(origin.offset),
    ingested_at: ingestedAt,
  };
}

/**
 * Every feature and the prediction. `categorical` names the string features (from the writer
 * schema), which are summarized as bounded category counts instead of t-digests.
 */
export function sketchInput(event: PredictionEvent, categorical: ReadonlySet<string>): SketchInput {
  return {
    modelName: event.model_name,
    modelVersion: event.model_version,
    eventTime: event.event_time.getTime(),
    columns: { ...event.features, [PREDICTION_COLUMN]: event.prediction },
    categorical,
  };
}

export function snapshotOf(pane: ClosedPane, topic: string, partition: number): SketchSnapshot {
  if (pane.sketch instanceof CategoricalSketch) return categoricalSnapshotOf(pane, pane.sketch, topic, partition);
  const json = pane.sketch.toJSON();
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
  };
}

/**
 * A categorical pane: the tracked categories with their counts, and the mass a bounded sketch
 * lumped together (beyond `maxCategories` distinct values) as `__other__`.
 */
function categoricalSnapshotOf(
  pane: ClosedPane,
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
  };
}

export function snapshotRow(snapshot: SketchSnapshot, emittedAt: Date) {
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
    emitted_at: emittedAt,
  };
}

/** Rebuilds the sketch JSON (NumericSketch.fromJSON's input) from a snapshot. */
export function sketchJsonOf(snapshot: SketchSnapshot) {
  return {
    format: 1 as const,
    compression: snapshot.compression,
    count: snapshot.count,
    nullCount: snapshot.null_count,
    nonFiniteCount: snapshot.nonfinite_count,
    min: snapshot.min,
    max: snapshot.max,
    mean: snapshot.mean,
    m2: snapshot.m2,
    means: snapshot.centroid_means,
    counts: snapshot.centroid_counts,
  };
}
