/**
 * The predictions table of a model: one column per feature, generated from the features of its
 * Avro schema. A feature added later (optional, per the registry's BACKWARD rule) adds a
 * Nullable column; ClickHouse 18.16 has no `ADD COLUMN IF NOT EXISTS`, so existing columns are
 * looked up in `system.columns` first.
 */
import type { FeatureSpec } from './feature-spec.ts';
import { identifier, type Storage, sql } from './storage/index.ts';

/** Columns every predictions table has, besides the features. */
export const FIXED_PREDICTION_COLUMNS = [
  'event_id',
  'model_name',
  'model_version',
  'event_time',
  'event_time_ms',
  'prediction',
  'latency_ms',
  'entity_id',
  'segment',
  'kafka_partition',
  'kafka_offset',
  'ingested_at',
  'late',
] as const;

/** The fixed columns' types, as system.columns reports them for a table createPredictionsTableSql made. */
export const FIXED_PREDICTION_COLUMN_TYPES: ReadonlyMap<(typeof FIXED_PREDICTION_COLUMNS)[number], string> = new Map([
  ['event_id', 'String'],
  ['model_name', 'String'],
  ['model_version', 'UInt32'],
  ['event_time', "DateTime('UTC')"],
  ['event_time_ms', 'UInt64'],
  ['prediction', 'Float64'],
  ['latency_ms', 'Float64'],
  ['entity_id', 'Nullable(String)'],
  ['segment', 'Nullable(String)'],
  ['kafka_partition', 'UInt32'],
  ['kafka_offset', 'UInt64'],
  ['ingested_at', "DateTime('UTC')"],
  ['late', 'UInt8'],
]);

export function predictionsTable(model: string): string {
  return `predictions_${model.replace(/-/g, '_')}`;
}

const LEADING_COLUMNS = ['event_id', 'model_name', 'model_version', 'event_time', 'event_time_ms'] as const;
/** All but `late`, the last column (no comma after it). */
const TRAILING_COLUMNS = [
  'prediction',
  'latency_ms',
  'entity_id',
  'segment',
  'kafka_partition',
  'kafka_offset',
  'ingested_at',
] as const;

function fixedColumn(name: (typeof FIXED_PREDICTION_COLUMNS)[number]): string {
  return `  ${name} ${FIXED_PREDICTION_COLUMN_TYPES.get(name)},`;
}

function featureColumnType(feature: FeatureSpec): string {
  const base = feature.type === 'double' ? 'Float64' : 'String';
  return feature.optional ? `Nullable(${base})` : base;
}

/**
 * ReplacingMergeTree keyed by (event_time, event_id): the same event stored twice collapses
 * into one row (read with FINAL for exact counts before background merges). Partitioned by day
 * and ordered by time for per-model time-range queries.
 */
export function createPredictionsTableSql(model: string, features: readonly FeatureSpec[]): string {
  const clash = features.find((f) => (FIXED_PREDICTION_COLUMNS as readonly string[]).includes(f.name));
  if (clash) throw new Error(`feature name ${clash.name} clashes with a fixed column of the predictions table`);
  // Column types come from featureColumnType's closed set; names are validated identifiers.
  const featureColumns = features.map((f) => `${identifier(f.name).text} ${featureColumnType(f)}`);
  return [
    `CREATE TABLE IF NOT EXISTS ${identifier(predictionsTable(model)).text} (`,
    ...LEADING_COLUMNS.map(fixedColumn),
    ...featureColumns.map((c) => `  ${c},`),
    ...TRAILING_COLUMNS.map(fixedColumn),
    '  late UInt8',
    ') ENGINE = ReplacingMergeTree',
    'PARTITION BY toYYYYMMDD(event_time)',
    'ORDER BY (event_time, event_id)',
  ].join('\n');
}

/** Creates the table if needed and adds columns for features it lacks; returns added names. */
export async function ensurePredictionsTable(
  storage: Storage,
  model: string,
  features: readonly FeatureSpec[],
): Promise<string[]> {
  const table = predictionsTable(model);
  await storage.command(createPredictionsTableSql(model, features));
  const existing = await columnNames(storage, table);
  const added: string[] = [];
  for (const feature of features) {
    if (existing.has(feature.name)) continue;
    // Rows stored before the feature existed have no value for it: always Nullable.
    const type = featureColumnType({ ...feature, optional: true });
    try {
      await storage.command(
        `ALTER TABLE ${identifier(table).text} ADD COLUMN ${identifier(feature.name).text} ${type}`,
      );
    } catch (error) {
      // Another store instance may have added it a moment ago: that is success, not a failure.
      if (!(await columnNames(storage, table)).has(feature.name)) throw error;
      continue;
    }
    added.push(feature.name);
  }
  return added;
}

async function columnNames(storage: Storage, table: string): Promise<Set<string>> {
  return new Set((await predictionsTableColumns(storage, table)).keys());
}

/** Column name → type, as system.columns spells it (`Nullable(Float64)`, `DateTime('UTC')`). */
export async function predictionsTableColumns(storage: Storage, table: string): Promise<Map<string, string>> {
  const rows = await storage.query<{ name: string; type: string }>(
    sql`SELECT name, type FROM system.columns WHERE database = ${storage.database} AND table = ${table}`.text,
  );
  return new Map(rows.map((r) => [r.name, r.type]));
}
