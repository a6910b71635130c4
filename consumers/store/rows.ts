/**
 * Pure mappings of the store consumer: decoded events to ClickHouse rows and sketch inputs.
 * (Closed panes become snapshots and `feature_sketches` rows in core/sketch-snapshot.ts.)
 */
import type { MessageOrigin } from '../../core/kafka/avro.ts';
import type { GroundTruth, PredictionEvent } from '../../core/schemas.ts';
import { MAX_DATETIME_SECONDS } from '../../core/storage/sql.ts';
import type { SketchInput } from './panes.ts';

/**
 * NaN and ±Infinity (a direct producer's, checked by the event contract) are stored as they are:
 * JSON has no token for them, but ClickHouse (18.16 and current) reads "nan", "inf" and "-inf"
 * into a Float64 column.
 */
export function storedFeatures(features: PredictionEvent['features']): Record<string, number | string | null> {
  let copy: Record<string, number | string | null> | undefined;
  for (const name of Object.keys(features)) {
    const value = features[name];
    if (typeof value !== 'number' || Number.isFinite(value)) continue;
    copy ??= { ...features };
    copy[name] = Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf';
  }
  return copy ?? features;
}

/**
 * A DateTime as the whole Unix seconds the insert encoder would write for it; a Date outside
 * DateTime's range stays a Date, for the encoder to refuse exactly as it refuses any other.
 */
function dateTime(date: Date): number | Date {
  const seconds = Math.floor(date.getTime() / 1000);
  return seconds >= 0 && seconds <= MAX_DATETIME_SECONDS ? seconds : date;
}

/**
 * Values already in the form the JSONEachRow encoder writes (DateTime as Unix seconds, the offset
 * as its decimal string), so the row takes the encoder's native JSON path.
 */
export function predictionRow(event: PredictionEvent, origin: MessageOrigin, late: boolean, ingestedAt: Date) {
  const time = event.event_time.getTime();
  return {
    event_id: event.event_id,
    model_name: event.model_name,
    model_version: event.model_version,
    event_time: dateTime(event.event_time),
    event_time_ms: time,
    ...storedFeatures(event.features),
    prediction: event.prediction,
    latency_ms: event.latency_ms,
    entity_id: event.entity_id,
    segment: event.segment,
    kafka_partition: origin.partition,
    kafka_offset: origin.offset,
    ingested_at: dateTime(ingestedAt),
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
    columns: event.features,
    prediction: event.prediction,
    categorical,
  };
}
