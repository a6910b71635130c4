/**
 * Pure mappings of the store consumer: decoded events to ClickHouse rows and sketch inputs.
 * (Closed panes become snapshots and `feature_sketches` rows in core/sketch-snapshot.ts.)
 */
import { DriftlineError, ErrorCode } from '../../core/errors.ts';
import type { FeatureSpec } from '../../core/feature-spec.ts';
import type { MessageOrigin } from '../../core/kafka/avro.ts';
import {
  type FixedColumn,
  LEADING_PREDICTION_COLUMNS,
  TRAILING_PREDICTION_COLUMNS,
} from '../../core/prediction-table.ts';
import type { GroundTruth, PredictionEvent } from '../../core/schemas.ts';
import {
  type RowBinaryColumn,
  type RowBinaryRows,
  type RowBinaryType,
  rowBinaryType,
} from '../../core/storage/row-binary.ts';
import { MAX_DATETIME_SECONDS } from '../../core/storage/sql.ts';
import type { SketchInput } from './panes.ts';

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
export function sketchInput(
  event: PredictionEvent,
  categorical: ReadonlySet<string>,
  columnNames?: readonly string[],
): SketchInput {
  return {
    modelName: event.model_name,
    modelVersion: event.model_version,
    eventTime: event.event_time.getTime(),
    columns: event.features,
    prediction: event.prediction,
    categorical,
    columnNames,
  };
}

/** How rows of one writer schema are written to its model's predictions table. */
export interface PredictionLayout {
  readonly table: string;
  /** Every column the insert names, in the order each row writes them. */
  readonly columns: readonly RowBinaryColumn[];
  /** The writer schema's features, typed as their table columns; other features take their defaults. */
  readonly features: readonly RowBinaryColumn[];
  /** Their names: the keys of every event the schema decodes. */
  readonly featureNames: readonly string[];
}

/** The fixed columns as RowBinary writes them (DateTime('UTC') is a DateTime's UInt32). */
const asRowBinary = (c: FixedColumn): RowBinaryColumn => ({
  name: c.name,
  type: rowBinaryType(c.type) as RowBinaryType,
});
const LEADING = LEADING_PREDICTION_COLUMNS.map(asRowBinary);
const TRAILING = TRAILING_PREDICTION_COLUMNS.map(asRowBinary);

/**
 * The layout of `features` in `table`, whose columns have `tableTypes` (from system.columns):
 * feature columns take the table's type (a feature added later is Nullable there).
 */
export function predictionLayout(
  table: string,
  features: readonly FeatureSpec[],
  tableTypes: ReadonlyMap<string, string>,
): PredictionLayout {
  const typed = (name: string): RowBinaryType => {
    const declared = tableTypes.get(name);
    const type = declared === undefined ? undefined : rowBinaryType(declared);
    if (type === undefined) {
      throw new DriftlineError(
        ErrorCode.STORAGE_QUERY_FAILED,
        declared === undefined
          ? `column ${name} is missing from ${table}`
          : `column ${name} of ${table} has type ${declared}, which the store does not write`,
        { details: { table, column: name, type: declared ?? null } },
      );
    }
    return type;
  };
  for (const column of [...LEADING, ...TRAILING]) {
    if (typed(column.name) !== column.type) {
      throw new DriftlineError(
        ErrorCode.STORAGE_QUERY_FAILED,
        `column ${column.name} of ${table} has type ${tableTypes.get(column.name)}, expected ${column.type}`,
        { details: { table, column: column.name } },
      );
    }
  }
  const featureColumns = features.map((f) => ({ name: f.name, type: typed(f.name) }));
  return {
    table,
    columns: [...LEADING, ...featureColumns, ...TRAILING],
    features: featureColumns,
    featureNames: featureColumns.map((c) => c.name),
  };
}

/** DateTime holds 1970 to 2106: a time outside it cannot be stored (the event is dead-lettered). */
export function assertStorableTime(time: Date): void {
  const seconds = Math.floor(time.getTime() / 1000);
  if (!(seconds >= 0 && seconds <= MAX_DATETIME_SECONDS)) {
    throw new DriftlineError(
      ErrorCode.SQL_VALUE_INVALID,
      `event_time ${time.getTime()} ms is outside DateTime's range`,
      {
        details: { column: 'event_time' },
      },
    );
  }
}

/**
 * Writes the row `predictionRow` describes, as RowBinary in `layout`. Checks first and writes
 * after, so a refused event leaves no half row behind.
 */
export function writePredictionRow(
  out: RowBinaryRows,
  layout: PredictionLayout,
  event: PredictionEvent,
  partition: number,
  offset: string,
  late: boolean,
  ingestedAtMs: number,
): void {
  assertStorableTime(event.event_time);
  const time = event.event_time.getTime();
  const seconds = Math.floor(time / 1000);
  out.string(event.event_id);
  out.string(event.model_name);
  out.uint32(event.model_version);
  out.uint32(seconds);
  out.uint64(time);
  const features = event.features;
  for (const column of layout.features) out.value(column.type, features[column.name]);
  out.float64(event.prediction);
  out.float64(event.latency_ms);
  out.nullableString(event.entity_id);
  out.nullableString(event.segment);
  out.uint32(partition);
  out.uint64Decimal(offset);
  out.uint32(Math.floor(ingestedAtMs / 1000));
  out.uint8(late ? 1 : 0);
  out.endRow();
}
