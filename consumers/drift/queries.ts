/**
 * The drift consumer's reads of ClickHouse: each statement, built with `core/storage/sql.ts`
 * (values only as literals), beside the function that runs it and turns its rows into values.
 * Every statement runs on ClickHouse 18.16 and on chDB: FINAL for exact answers on
 * ReplacingMergeTree tables, `ANY INNER JOIN … USING`, `argMax`.
 */
import { DriftlineError } from '../../core/errors.ts';
import { DEFAULT_EVENT_TIME_BOUNDS } from '../../core/event-contract.ts';
import { predictionsTable } from '../../core/prediction-table.ts';
import type { DriftStateName } from '../../core/schemas.ts';
import { STORED_SKETCH_COLUMNS, type StoredSketchRow, snapshotOfRow } from '../../core/sketch-snapshot.ts';
import { identifier, type Storage, sql } from '../../core/storage/index.ts';
import type { ErrorSums } from './evaluation.ts';
import { paneProblems, partOf, sketchProblems } from './sketch-validation.ts';
import type { RevisableWindow, SketchPart } from './windows.ts';

/**
 * Σ squared and absolute error of the version's predictions with event time in [start, end) that
 * have ground truth. Both tables are read FINAL (a message stored twice counts once); ground
 * truth is narrowed to the window's event ids before the join. (Current ClickHouse wants the joined
 * subqueries aliased; 18.16 accepts the aliases too.)
 */
function realizedErrorSql(model: string, version: number, start: number, end: number): string {
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

/** The realized error sums of a window; zero labels when the predictions table does not exist yet. */
export async function queryErrorSums(
  storage: Storage,
  model: string,
  version: number,
  start: number,
  end: number,
): Promise<ErrorSums> {
  try {
    const [row] = await storage.query<{ labelled: number; sse: number; sae: number }>(
      realizedErrorSql(model, version, start, end),
    );
    return { labelled: Number(row?.labelled ?? 0), sse: Number(row?.sse ?? 0), sae: Number(row?.sae ?? 0) };
  } catch (error) {
    // 60 UNKNOWN_TABLE: no prediction of the model was stored yet, so nothing is labelled.
    if (error instanceof DriftlineError && error.details.clickhouseCode === 60) return { labelled: 0, sse: 0, sae: 0 };
    throw error;
  }
}

type StateRow = {
  last_state: string;
  last_previous_state: string;
  last_revision: number;
  last_consecutive_drift: number;
  last_window_end_ms: number;
  last_pane_ms: number;
  last_source_partitions: string[];
};

/** A version's newest recorded evaluation (the `drift_events` row a restart resumes from). */
export interface LastState {
  state: DriftStateName;
  /** The row's previous_state (null for a version's first evaluation). */
  previousState: DriftStateName | null;
  /** 0 for a window's first evaluation, n for its n-th revision. */
  revision: number;
  consecutiveDrift: number;
  windowEndMs: number;
  paneMs: number;
  sources: string[];
}

/**
 * The newest evaluation of a version — the newest revision of its newest window: what a restart
 * resumes from. (Aliases differ from the column names: ClickHouse resolves a name to its alias
 * first, which would nest aggregates. A NULL previous_state reads as '': argMax skips NULLs.)
 */
function lastStateSql(model: string, version: number): string {
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

/** The newest recorded state of a version, or undefined before its first evaluation. */
export async function queryLastState(storage: Storage, model: string, version: number): Promise<LastState | undefined> {
  const [row] = await storage.query<StateRow>(lastStateSql(model, version));
  if (!row) return undefined;
  return {
    state: row.last_state as DriftStateName,
    previousState: row.last_previous_state === '' ? null : (row.last_previous_state as DriftStateName),
    revision: Number(row.last_revision),
    consecutiveDrift: Number(row.last_consecutive_drift),
    windowEndMs: Number(row.last_window_end_ms),
    paneMs: Number(row.last_pane_ms),
    sources: row.last_source_partitions,
  };
}

type RevisableRow = {
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
function revisableSql(model: string, version: number, after: number, through: number): string {
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

/** Windows of a version ending in (after, through] still open to revision (newest revision partial). */
export async function queryRevisable(
  storage: Storage,
  model: string,
  version: number,
  after: number,
  through: number,
): Promise<RevisableWindow[]> {
  const rows = await storage.query<RevisableRow>(revisableSql(model, version, after, through));
  return rows.map((row) => {
    const revision = Number(row.newest_revision);
    const previous = row.newest_previous_state === '' ? null : (row.newest_previous_state as DriftStateName);
    return {
      end: Number(row.end_ms),
      revision,
      sketchCount: Number(row.newest_sketch_count),
      // A revision's previous_state is what the window's first evaluation said (state.ts, revise).
      original: {
        state: revision > 0 ? previous : (row.newest_state as DriftStateName),
        consecutiveDrift: Number(row.newest_consecutive_drift),
      },
    };
  });
}

/**
 * The first pane of a version's numeric sketches (seconds), leaving out panes that start more
 * than `maxSkewSeconds` after their snapshot was emitted (the drift consumer refuses those).
 */
function firstPaneSql(model: string, version: number, maxSkewSeconds: number): string {
  return sql`SELECT toUnixTimestamp(min(pane_start)) AS first_start_s,
  toUnixTimestamp(argMin(pane_end, pane_start)) AS first_end_s
FROM feature_sketches
WHERE model_name = ${model} AND model_version = ${version} AND column_kind = 'numeric'
  AND pane_start <= emitted_at + ${Math.floor(maxSkewSeconds)}
HAVING count() > 0`.text;
}

/** Start and end (ms) of a version's first numeric pane in feature_sketches, or undefined when it has none. */
export async function queryFirstPane(
  storage: Storage,
  model: string,
  version: number,
  maxSkewMs: number,
): Promise<{ start: number; end: number } | undefined> {
  const [row] = await storage.query<{ first_start_s: number; first_end_s: number }>(
    firstPaneSql(model, version, maxSkewMs / 1000),
  );
  return row ? { start: Number(row.first_start_s) * 1000, end: Number(row.first_end_s) * 1000 } : undefined;
}

/** Numeric pane sketches of a version with pane_end in (after, through], as the store stored them (`StoredSketchRow`). */
function paneSketchesSql(model: string, version: number, after: number, through: number): string {
  return sql`SELECT ${STORED_SKETCH_COLUMNS}
FROM feature_sketches FINAL
WHERE model_name = ${model} AND model_version = ${version}
  AND pane_end > ${new Date(after)} AND pane_end <= ${new Date(through)}
ORDER BY pane_start, column_name, source_topic, source_partition`.text;
}

/**
 * Pane sketches of a version with pane end in (after, through], as window parts. Rows the drift
 * consumer would have refused on arrival (sketch-validation.ts; the pane bounded by the row's
 * `emitted_at`) are left out, so a restart rebuilds the windows from what was accepted.
 */
export async function queryPaneSketches(
  storage: Storage,
  model: string,
  version: number,
  after: number,
  through: number,
  check: { windowPanes: number; maxSkewMs: number } = {
    windowPanes: 1,
    maxSkewMs: DEFAULT_EVENT_TIME_BOUNDS.maxSkewMs,
  },
): Promise<SketchPart[]> {
  const rows = await storage.query<StoredSketchRow>(paneSketchesSql(model, version, after, through));
  const parts: SketchPart[] = [];
  for (const row of rows) {
    const snapshot = snapshotOfRow(row);
    const part = partOf(snapshot);
    const problems = [
      ...paneProblems(snapshot, { ...check, timestampMs: Number(row.emitted_at_s) * 1000 }),
      ...sketchProblems(part),
    ];
    if (problems.length === 0) parts.push(part);
  }
  return parts;
}

/** The newest pane end (seconds) of a version's sketches, or of the model's newest version. */
function newestPaneSql(model: string, version?: number): string {
  const versionFilter = version === undefined ? sql`` : sql` AND model_version = ${version}`;
  return sql`SELECT model_version, toUnixTimestamp(max(pane_end)) AS pane_end_s
FROM feature_sketches
WHERE model_name = ${model}${versionFilter}
GROUP BY model_version
ORDER BY pane_end_s DESC, model_version DESC
LIMIT 1`.text;
}

/** The version whose sketches are newest (or `version`'s) and the end (ms) of its newest pane; undefined when there is none. */
export async function queryNewestPane(
  storage: Storage,
  model: string,
  version?: number,
): Promise<{ version: number; paneEnd: number } | undefined> {
  const [row] = await storage.query<{ model_version: number; pane_end_s: number }>(newestPaneSql(model, version));
  return row ? { version: Number(row.model_version), paneEnd: Number(row.pane_end_s) * 1000 } : undefined;
}
