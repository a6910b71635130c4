/**
 * The retrain cycle's SQL, built with `core/storage/sql.ts` (values only as literals); runs on
 * ClickHouse 18.16 and chDB. Labelled predictions are joined to ground truth as the drift
 * consumer's realized error is (both tables FINAL, ground truth narrowed to the window's ids,
 * `ANY INNER JOIN … USING event_id`).
 */
import { predictionsTable } from '../../core/prediction-table.ts';
import { identifier, join, sql } from '../../core/storage/index.ts';

/** States of a cycle that count for the cooldown: it trained, or it started a DAG run. */
export const COOLDOWN_STATES = ['promoted', 'rejected', 'dag_triggered'] as const;

export function tableExistsSql(table: string): string {
  return sql`SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = ${table}`.text;
}

function inWindow(since: number, until: number) {
  return sql`event_time >= ${new Date(since)} AND event_time <= ${new Date(until)}
    AND event_time_ms >= ${since} AND event_time_ms < ${until}`;
}

/** Predictions of the model (every version) with event time in [since, until) that have ground truth. */
export function labelledCountSql(model: string, since: number, until: number): string {
  const table = identifier(predictionsTable(model));
  const where = inWindow(since, until);
  return sql`SELECT count() AS labelled
FROM (
  SELECT event_id FROM ${table} FINAL WHERE ${where}
) AS p ANY INNER JOIN (
  SELECT event_id FROM ground_truth FINAL
  WHERE model_name = ${model} AND event_id IN (SELECT event_id FROM ${table} WHERE ${where})
) AS g USING event_id`.text;
}

/** The newest `limit` labelled predictions in [since, until): event time, the features in order, the actual value. */
export function labelledRowsSql(
  model: string,
  features: readonly string[],
  since: number,
  until: number,
  limit: number,
): string {
  const table = identifier(predictionsTable(model));
  const where = inWindow(since, until);
  const columns = join(features.map((f) => identifier(f)));
  return sql`SELECT event_time_ms, ${columns}, actual
FROM (
  SELECT event_id, event_time_ms, ${columns} FROM ${table} FINAL WHERE ${where}
) AS p ANY INNER JOIN (
  SELECT event_id, actual FROM ground_truth FINAL
  WHERE model_name = ${model} AND event_id IN (SELECT event_id FROM ${table} WHERE ${where})
) AS g USING event_id
ORDER BY event_time_ms DESC
LIMIT ${limit}`.text;
}

/** Start (ms) of the newest cycle of the model that trained or started a DAG run; NULL-free: 0 when none. */
export function lastCycleSql(model: string): string {
  return sql`SELECT max(started_at_ms) AS last_ms, count() AS cycles
FROM retrain_runs
WHERE model_name = ${model} AND state IN (${join([...COOLDOWN_STATES])})`.text;
}
