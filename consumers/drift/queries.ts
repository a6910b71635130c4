/**
 * The drift consumer's SQL, built with `core/storage/sql.ts` (values only as literals). Pure text
 * builders; the adapter runs them. Every statement runs on ClickHouse 18.16 and on chDB: FINAL
 * for exact answers on ReplacingMergeTree tables, `ANY INNER JOIN … USING`, `argMax`.
 */
import { predictionsTable } from '../../core/prediction-table.ts';
import { STORED_SKETCH_COLUMNS } from '../../core/sketch-snapshot.ts';
import { identifier, sql } from '../../core/storage/index.ts';

/**
 * Σ squared and absolute error of the version's predictions with event time in [start, end) that
 * have ground truth. Both tables are read FINAL (a message stored twice counts once); ground
 * truth is narrowed to the window's event ids before the join. (Current ClickHouse wants the joined
 * subqueries aliased; 18.16 accepts the aliases too.)
 */
export function realizedErrorSql(model: string, version: number, start: number, end: number): string {
  const table = identifier(predictionsTable(model));
  // event_time (whole seconds, the sorting key) narrows the scan; event_time_ms is the exact bound.
  const inWindow = sql`event_time >= ${new Date(start)} AND event_time <= ${new Date(end)}
    AND event_time_ms >= ${start} AND event_time_ms < ${end} AND model_version = ${version}`;
  return sql`SELECT count() AS labelled,
  sum((prediction - actual) * (prediction - actual)) AS sse,
  sum(abs(prediction - actual)) AS sae
FROM (
  SELECT event_id, prediction FROM ${table} FINAL WHERE ${inWindow}
) AS p ANY INNER JOIN (
  SELECT event_id, actual FROM ground_truth FINAL
  WHERE model_name = ${model} AND event_id IN (SELECT event_id FROM ${table} WHERE ${inWindow})
) AS g USING event_id`.text;
}

export type StateRow = {
  last_state: string;
  last_previous_state: string;
  last_revision: number;
  last_consecutive_drift: number;
  last_window_end_ms: number;
  last_pane_ms: number;
  last_source_partitions: string[];
};

/**
 * The newest evaluation of a version — the newest revision of its newest window: what a restart
 * resumes from. (Aliases differ from the column names: ClickHouse resolves a name to its alias
 * first, which would nest aggregates. A NULL previous_state reads as '': argMax skips NULLs.)
 */
export function lastStateSql(model: string, version: number): string {
  return sql`SELECT argMax(state, (window_end_ms, revision)) AS last_state,
  argMax(ifNull(previous_state, ''), (window_end_ms, revision)) AS last_previous_state,
  argMax(revision, (window_end_ms, revision)) AS last_revision,
  argMax(consecutive_drift, (window_end_ms, revision)) AS last_consecutive_drift,
  max(window_end_ms) AS last_window_end_ms,
  argMax(pane_ms, (window_end_ms, revision)) AS last_pane_ms,
  argMax(source_partitions, (window_end_ms, revision)) AS last_source_partitions
FROM drift_events
WHERE model_name = ${model} AND model_version = ${version}
HAVING count() > 0`.text;
}

export type RevisableRow = {
  end_ms: number;
  newest_revision: number;
  newest_partial: number;
  newest_sketch_count: number;
  newest_state: string;
  newest_previous_state: string;
  newest_consecutive_drift: number;
};

/**
 * Windows of a version ending in (after, through] whose newest revision is partial: the ones a
 * restart keeps open to revision.
 */
export function revisableSql(model: string, version: number, after: number, through: number): string {
  return sql`SELECT window_end_ms AS end_ms,
  max(revision) AS newest_revision,
  argMax(partial, revision) AS newest_partial,
  argMax(sketch_count, revision) AS newest_sketch_count,
  argMax(state, revision) AS newest_state,
  argMax(ifNull(previous_state, ''), revision) AS newest_previous_state,
  argMax(consecutive_drift, revision) AS newest_consecutive_drift
FROM drift_events
WHERE model_name = ${model} AND model_version = ${version}
  AND window_end_ms > ${after} AND window_end_ms <= ${through}
GROUP BY window_end_ms
HAVING newest_partial = 1
ORDER BY end_ms`.text;
}

/**
 * The first pane of a version's numeric sketches (seconds), leaving out panes that start more
 * than `maxSkewSeconds` after their snapshot was emitted (the drift consumer refuses those).
 */
export function firstPaneSql(model: string, version: number, maxSkewSeconds: number): string {
  return sql`SELECT toUnixTimestamp(min(pane_start)) AS first_start_s,
  toUnixTimestamp(argMin(pane_end, pane_start)) AS first_end_s
FROM feature_sketches
WHERE model_name = ${model} AND model_version = ${version} AND column_kind = 'numeric'
  AND pane_start <= emitted_at + ${Math.floor(maxSkewSeconds)}
HAVING count() > 0`.text;
}

/** Numeric pane sketches of a version with pane_end in (after, through], as the store stored them (`StoredSketchRow`). */
export function paneSketchesSql(model: string, version: number, after: number, through: number): string {
  return sql`SELECT ${STORED_SKETCH_COLUMNS}
FROM feature_sketches FINAL
WHERE model_name = ${model} AND model_version = ${version} AND column_kind = 'numeric'
  AND pane_end > ${new Date(after)} AND pane_end <= ${new Date(through)}
ORDER BY pane_start, column_name, source_topic, source_partition`.text;
}

/** The newest pane end (seconds) of a version's sketches, or of the model's newest version. */
export function newestPaneSql(model: string, version?: number): string {
  const versionFilter = version === undefined ? sql`` : sql` AND model_version = ${version}`;
  return sql`SELECT model_version, toUnixTimestamp(max(pane_end)) AS pane_end_s
FROM feature_sketches
WHERE model_name = ${model}${versionFilter}
GROUP BY model_version
ORDER BY pane_end_s DESC, model_version DESC
LIMIT 1`.text;
}
