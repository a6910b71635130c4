/**
 * The predictions table of a model: one column per feature, generated from the features of its
 * Avro schema. A feature added later (optional, per the registry's BACKWARD rule) adds a
 * Nullable column; ClickHouse 18.16 has no `ADD COLUMN IF NOT EXISTS`, so existing columns are
 * looked up in `system.columns` first.
 */
import type { FeatureSpec } from './feature-spec.ts';
import { identifier, type Storage, sql } from './storage/index.ts';

/** A fixed column of every predictions table, with its type as system.columns spells it. */
export interface FixedColumn {
  readonly name: string;
  readonly type: string;
}

/** The fixed columns before the features, in table order. */
export const LEADING_PREDICTION_COLUMNS: readonly FixedColumn[] = [
  { name: 'event_id', type: 'String' },
  { name: 'model_name', type: 'String' },
  { name: 'model_version', type: 'UInt32' },
  { name: 'event_time', type: "DateTime('UTC')" },
  { name: 'event_time_ms', type: 'UInt64' },
];

/** The fixed columns after the features, in table order. */
export const TRAILING_PREDICTION_COLUMNS: readonly FixedColumn[] = [
  { name: 'prediction', type: 'Float64' },
  { name: 'latency_ms', type: 'Float64' },
  { name: 'entity_id', type: 'Nullable(String)' },
  { name: 'segment', type: 'Nullable(String)' },
  { name: 'kafka_partition', type: 'UInt32' },
  { name: 'kafka_offset', type: 'UInt64' },
  { name: 'ingested_at', type: "DateTime('UTC')" },
  { name: 'late', type: 'UInt8' },
];

/** Columns every predictions table has, besides the features: name → type. */
export const FIXED_PREDICTION_COLUMN_TYPES: ReadonlyMap<string, string> = new Map(
  [...LEADING_PREDICTION_COLUMNS, ...TRAILING_PREDICTION_COLUMNS].map((c) => [c.name, c.type]),
);

export function predictionsTable(model: string): string {
  return `predictions_${model.replace(/-/g, '_')}`;
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
  const clash = features.find((f) => FIXED_PREDICTION_COLUMN_TYPES.has(f.name));
  if (clash) throw new Error(`feature name ${clash.name} clashes with a fixed column of the predictions table`);
  // Column types come from featureColumnType's closed set; names are validated identifiers.
  const columns = [
    ...LEADING_PREDICTION_COLUMNS.map((c) => `${c.name} ${c.type}`),
    ...features.map((f) => `${identifier(f.name).text} ${featureColumnType(f)}`),
    ...TRAILING_PREDICTION_COLUMNS.map((c) => `${c.name} ${c.type}`),
  ];
  return [
    `CREATE TABLE IF NOT EXISTS ${identifier(predictionsTable(model)).text} (`,
    columns.map((c) => `  ${c}`).join(',\n'),
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
