/**
 * The dashboard's reads: each SQL statement (built with `core/storage/sql.ts`, values only as
 * literals; ClickHouse 18.16 and chDB alike) beside the pure function that shapes its rows for the
 * page. Times are milliseconds since the epoch; DateTime columns are read as `toUnixTimestamp`.
 */
import { queryNewestPane, queryPaneSketches } from '../consumers/drift/queries.ts';
import type { SketchPart } from '../consumers/drift/windows.ts';
import { numericDistribution } from '../core/drift/numeric-distribution.ts';
import { DriftlineError } from '../core/errors.ts';
import { DEFAULT_EVENT_TIME_BOUNDS } from '../core/event-contract.ts';
import { predictionsTable } from '../core/prediction-table.ts';
import { binDensities, categoryShares, centralRange } from '../core/report/histogram.ts';
import {
  CategoricalSketch,
  type CategoricalSketchJSON,
  NumericSketch,
  type NumericSketchJSON,
} from '../core/sketch/index.ts';
import { PREDICTION_COLUMN } from '../core/sketch-snapshot.ts';
import { identifier, type Storage, sql } from '../core/storage/index.ts';
import type { ReferenceProfile } from '../model/profile.ts';

/** The time ranges the page offers; every panel follows the one chosen. */
export const RANGES = {
  '1h': 3_600_000,
  '6h': 6 * 3_600_000,
  '24h': 24 * 3_600_000,
  '7d': 7 * 24 * 3_600_000,
} as const;
export type RangeName = keyof typeof RANGES;

/** A 4xx answer naming the field that was wrong. */
export class BadInput extends Error {
  constructor(
    readonly field: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/**
 * `since` as given to the API: milliseconds since the epoch, an ISO time, or a range name (`1h`,
 * `6h`, `24h`, `7d`) counted back from `now`; absent: the last 6 hours.
 */
export function parseSince(raw: unknown, now: number): number {
  if (raw === undefined || raw === '') return now - RANGES['6h'];
  if (typeof raw !== 'string') throw new BadInput('since', 'since must be a string');
  if (Object.hasOwn(RANGES, raw)) return now - RANGES[raw as RangeName];
  if (/^\d{1,15}$/.test(raw)) return Number(raw);
  const parsed = Date.parse(raw);
  if (/^\d{4}-\d\d-\d\dT/.test(raw) && Number.isFinite(parsed)) return parsed;
  throw new BadInput(
    'since',
    `since must be milliseconds since the epoch, an ISO time or one of ${Object.keys(RANGES).join(', ')}; got ${JSON.stringify(raw)}`,
  );
}

/** A time bucket giving about 120 points over the range, rounded to a readable step. */
export function bucketMs(rangeMs: number): number {
  const steps = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 21_600, 86_400].map((s) => s * 1000);
  const wanted = rangeMs / 120;
  return steps.find((s) => s >= wanted) ?? (steps.at(-1) as number);
}

/** ClickHouse "unknown table" (code 60): nothing of this kind was stored yet. */
function isUnknownTable(error: unknown): boolean {
  return error instanceof DriftlineError && error.details.clickhouseCode === 60;
}

// ---- drift events -------------------------------------------------------------------------

export interface DriftEventRow extends Record<string, unknown> {
  model_version: number;
  window_start_ms: number;
  window_end_ms: number;
  state: string;
  revision: number;
  partial: number;
  consecutive_drift: number;
  retrain_recommended: number;
  share_of_drifted_columns: number;
  drift_share: number;
  drifted_features: string[];
  prediction_drifted: number;
  row_count: number;
  column_names: string[];
  column_methods: string[];
  column_verdicts: string[];
  column_statistics: (number | null)[];
  column_thresholds: number[];
  column_p_values: (number | null)[];
  labelled_count: number;
  rmse: number | null;
  mae: number | null;
  holdout_rmse: number;
  holdout_mae: number;
  performance_verdict: string;
  report_path: string | null;
  evaluated_at_s: number;
}

export function driftEventsSql(model: string, since: number, limit = 5_000): string {
  return sql`SELECT model_version, window_start_ms, window_end_ms, state, revision, partial, consecutive_drift,
  retrain_recommended, share_of_drifted_columns, drift_share, drifted_features, prediction_drifted, row_count,
  column_names, column_methods, column_verdicts, column_statistics, column_thresholds, column_p_values,
  labelled_count, rmse, mae, holdout_rmse, holdout_mae, performance_verdict, report_path,
  toUnixTimestamp(evaluated_at) AS evaluated_at_s
FROM drift_events FINAL
WHERE model_name = ${model} AND window_end_ms >= ${since}
ORDER BY window_end_ms, model_version
LIMIT ${limit}`.text;
}

/** One window as the page draws it. */
export interface WindowPoint {
  version: number;
  start: number;
  end: number;
  state: string;
  share: number;
  driftShare: number;
  driftedFeatures: string[];
  predictionDrifted: boolean;
  rows: number;
  rmse: number | null;
  mae: number | null;
  holdoutRmse: number;
  holdoutMae: number;
  labelled: number;
  performance: string;
  report: string | null;
  evaluatedAt: number;
  partial: boolean;
  revision: number;
}

/** A column's newest verdict and its statistic over the windows (null where it was not evaluated). */
export interface ColumnSeries {
  column: string;
  method: string;
  threshold: number;
  statistic: number | null;
  pValue: number | null;
  verdict: string;
  statistics: (number | null)[];
}

export interface WindowsView {
  windows: WindowPoint[];
  /** Columns of the newest window, in its order; `statistics[i]` belongs to `windows[i]`. */
  columns: ColumnSeries[];
}

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** The page's view of a model's drift events: windows in time order and per-column series. */
export function shapeWindows(rows: readonly DriftEventRow[]): WindowsView {
  const windows = rows.map(
    (r): WindowPoint => ({
      version: num(r.model_version),
      start: num(r.window_start_ms),
      end: num(r.window_end_ms),
      state: r.state,
      share: num(r.share_of_drifted_columns),
      driftShare: num(r.drift_share),
      driftedFeatures: [...r.drifted_features],
      predictionDrifted: num(r.prediction_drifted) === 1,
      rows: num(r.row_count),
      rmse: numOrNull(r.rmse),
      mae: numOrNull(r.mae),
      holdoutRmse: num(r.holdout_rmse),
      holdoutMae: num(r.holdout_mae),
      labelled: num(r.labelled_count),
      performance: r.performance_verdict,
      report: r.report_path ?? null,
      evaluatedAt: num(r.evaluated_at_s) * 1000,
      partial: num(r.partial) === 1,
      revision: num(r.revision),
    }),
  );
  const newest = rows.at(-1);
  const columns: ColumnSeries[] = (newest?.column_names ?? []).map((column, i) => ({
    column,
    method: newest?.column_methods[i] ?? '',
    threshold: num(newest?.column_thresholds[i]),
    statistic: numOrNull(newest?.column_statistics[i]),
    pValue: numOrNull(newest?.column_p_values[i]),
    verdict: newest?.column_verdicts[i] ?? '',
    statistics: rows.map((r) => {
      const j = r.column_names.indexOf(column);
      return j < 0 ? null : numOrNull(r.column_statistics[j]);
    }),
  }));
  return { windows, columns };
}

export async function readWindows(storage: Storage, model: string, since: number): Promise<WindowsView> {
  try {
    return shapeWindows(await storage.query<DriftEventRow>(driftEventsSql(model, since)));
  } catch (error) {
    if (isUnknownTable(error)) return { windows: [], columns: [] };
    throw error;
  }
}

// ---- overview -----------------------------------------------------------------------------

export function recentStatesSql(model: string, limit = 500): string {
  return sql`SELECT model_version, window_end_ms, state, toUnixTimestamp(evaluated_at) AS evaluated_at_s
FROM drift_events FINAL
WHERE model_name = ${model}
ORDER BY window_end_ms DESC, model_version DESC
LIMIT ${limit}`.text;
}

export interface StateRow extends Record<string, unknown> {
  model_version: number;
  window_end_ms: number;
  state: string;
  evaluated_at_s: number;
}

export interface CurrentState {
  state: 'ok' | 'drift' | 'insufficient_data' | 'unknown';
  version: number | null;
  /** Wall-clock time (ms) of the first evaluation of the current run of this state; null when unknown. */
  since: number | null;
  windowEnd: number | null;
}

/**
 * The state of the newest window and since when it has been so: the evaluation time of the oldest
 * window of the unbroken run of that state that ends at the newest window (rows newest first).
 */
export function currentState(rowsNewestFirst: readonly StateRow[]): CurrentState {
  const [newest] = rowsNewestFirst;
  if (!newest) return { state: 'unknown', version: null, since: null, windowEnd: null };
  let since = num(newest.evaluated_at_s) * 1000;
  for (const row of rowsNewestFirst) {
    if (row.state !== newest.state) break;
    since = Math.min(since, num(row.evaluated_at_s) * 1000);
  }
  return {
    state: newest.state as CurrentState['state'],
    version: num(newest.model_version),
    since,
    windowEnd: num(newest.window_end_ms),
  };
}

export async function readCurrentState(storage: Storage, model: string): Promise<CurrentState> {
  try {
    return currentState(await storage.query<StateRow>(recentStatesSql(model)));
  } catch (error) {
    if (isUnknownTable(error)) return currentState([]);
    throw error;
  }
}

export function monitoredModelsSql(): string {
  return 'SELECT DISTINCT model_name FROM drift_events ORDER BY model_name';
}

/** Predictions stored in the last five minutes (by ingestion time), per minute. */
export function eventsPerMinuteSql(model: string): string {
  return sql`SELECT count() AS n FROM ${identifier(predictionsTable(model))}
WHERE ingested_at >= now() - 300`.text;
}

export async function readEventsPerMinute(storage: Storage, model: string): Promise<number> {
  try {
    const [row] = await storage.query<{ n: number }>(eventsPerMinuteSql(model));
    return num(row?.n ?? 0) / 5;
  } catch (error) {
    if (isUnknownTable(error)) return 0;
    throw error;
  }
}

// ---- predictions over time ----------------------------------------------------------------

/** Per bucket: count, mean and p10/p50/p90 (t-digest quantiles: ~3× faster than `quantiles` on a million rows). */
export function predictionSeriesSql(model: string, since: number, bucket: number): string {
  return sql`SELECT intDiv(event_time_ms, ${bucket}) * ${bucket} AS t, count() AS n, avg(prediction) AS mean,
  quantilesTDigest(0.1, 0.5, 0.9)(prediction) AS q
FROM ${identifier(predictionsTable(model))}
WHERE event_time >= ${new Date(Math.floor(since / 1000) * 1000)} AND event_time_ms >= ${since}
GROUP BY t
ORDER BY t`.text;
}

export interface PredictionSeries {
  bucketMs: number;
  t: number[];
  count: number[];
  mean: number[];
  p10: number[];
  p50: number[];
  p90: number[];
}

export function shapePredictionSeries(
  rows: readonly { t: unknown; n: unknown; mean: unknown; q: unknown }[],
  bucket: number,
): PredictionSeries {
  const out: PredictionSeries = { bucketMs: bucket, t: [], count: [], mean: [], p10: [], p50: [], p90: [] };
  for (const r of rows) {
    const q = (r.q as unknown[]).map(num);
    out.t.push(num(r.t));
    out.count.push(num(r.n));
    out.mean.push(num(r.mean));
    out.p10.push(q[0] ?? Number.NaN);
    out.p50.push(q[1] ?? Number.NaN);
    out.p90.push(q[2] ?? Number.NaN);
  }
  return out;
}

/** First and last event time of the model's predictions since `since`: the buckets follow the data, not the range. */
export function predictionSpanSql(model: string, since: number): string {
  return sql`SELECT min(event_time_ms) AS lo, max(event_time_ms) AS hi, count() AS n
FROM ${identifier(predictionsTable(model))}
WHERE event_time >= ${new Date(Math.floor(since / 1000) * 1000)} AND event_time_ms >= ${since}`.text;
}

export async function readPredictionSeries(storage: Storage, model: string, since: number): Promise<PredictionSeries> {
  try {
    const [span] = await storage.query<{ lo: number; hi: number; n: number }>(predictionSpanSql(model, since));
    if (!span || num(span.n) === 0) return shapePredictionSeries([], 1000);
    const bucket = bucketMs(Math.max(1000, num(span.hi) - num(span.lo)));
    const rows = await storage.query<{ t: number; n: number; mean: number; q: number[] }>(
      predictionSeriesSql(model, since, bucket),
    );
    return shapePredictionSeries(rows, bucket);
  } catch (error) {
    if (isUnknownTable(error)) return shapePredictionSeries([], 1000);
    throw error;
  }
}

// ---- deployments on the event-time axis --------------------------------------------------

/** A registry deployment (promote or rollback), and where it sits on the charts' event-time axis. */
export interface PlacedDeployment {
  /** Wall-clock time of the promotion or rollback, ms. */
  at: number;
  action: 'promote' | 'rollback';
  version: number;
  from: number | null;
  /**
   * Event time of the first prediction the deployed version made after it, ms; null before it
   * served any. The charts are in event time, which is wall-clock time only for live traffic (a
   * replay compresses hours into seconds), so a marker at `at` would land beside the wrong windows.
   */
  eventAt: number | null;
}

/** Deployments older than the newest this many keep `eventAt` null: one query each. */
const PLACED_DEPLOYMENTS = 20;

/**
 * The first event time among the version's predictions stored since the deployment's second:
 * a prediction the new champion made is stored after it was deployed, and the previous
 * champion's earlier traffic was stored before.
 */
export function deploymentEventTimeSql(model: string, version: number, atMs: number): string {
  return sql`SELECT min(event_time_ms) AS t, count() AS n
FROM ${identifier(predictionsTable(model))}
WHERE model_version = ${version} AND ingested_at >= ${new Date(Math.floor(atMs / 1000) * 1000)}`.text;
}

export async function placeDeployments(
  storage: Storage,
  model: string,
  history: readonly { at: string; action: 'promote' | 'rollback'; version: number; from: number | null }[],
): Promise<PlacedDeployment[]> {
  const placeFrom = history.length - PLACED_DEPLOYMENTS;
  return Promise.all(
    history.map(async (h, i): Promise<PlacedDeployment> => {
      const at = Date.parse(h.at);
      const placed = { at, action: h.action, version: h.version, from: h.from, eventAt: null };
      if (i < placeFrom) return placed;
      try {
        const [row] = await storage.query<{ t: number; n: number }>(deploymentEventTimeSql(model, h.version, at));
        return row && num(row.n) > 0 ? { ...placed, eventAt: num(row.t) } : placed;
      } catch (error) {
        if (isUnknownTable(error)) return placed;
        throw error;
      }
    }),
  );
}

// ---- retraining runs ----------------------------------------------------------------------

export interface RetrainRunRow extends Record<string, unknown> {
  run_id: string;
  model_name: string;
  trigger: string;
  state: string;
  refusal: string;
  reason: string;
  champion_version: number;
  challenger_version: number;
  champion_rmse: number | null;
  challenger_rmse: number | null;
  deployed: number;
  started_at_ms: number;
  finished_at_ms: number;
  duration_ms: number;
}

export function retrainRunsSql(model: string | undefined, since: number, limit = 100): string {
  const where = model === undefined ? sql`1` : sql`model_name = ${model}`;
  return sql`SELECT run_id, model_name, trigger, state, refusal, reason, champion_version, challenger_version,
  champion_rmse, challenger_rmse, deployed, started_at_ms, finished_at_ms, duration_ms
FROM retrain_runs
WHERE ${where} AND started_at_ms >= ${since}
ORDER BY started_at_ms DESC
LIMIT ${limit}`.text;
}

export async function readRetrainRuns(
  storage: Storage,
  model: string | undefined,
  since: number,
): Promise<RetrainRunRow[]> {
  const rows = await storage.query<RetrainRunRow>(retrainRunsSql(model, since));
  return rows.map((r) => ({
    ...r,
    champion_version: num(r.champion_version),
    challenger_version: num(r.challenger_version),
    champion_rmse: numOrNull(r.champion_rmse),
    challenger_rmse: numOrNull(r.challenger_rmse),
    deployed: num(r.deployed),
    started_at_ms: num(r.started_at_ms),
    finished_at_ms: num(r.finished_at_ms),
    duration_ms: num(r.duration_ms),
  }));
}

// ---- live changes -------------------------------------------------------------------------

/** What changed since the last poll is read off these: newest time and row count per table. */
export const CHANGE_SQL = {
  drift: 'SELECT toUnixTimestamp(max(evaluated_at)) AS t, count() AS n FROM drift_events',
  alerts: 'SELECT max(recorded_at_ms) AS t, count() AS n FROM alerts',
  runs: 'SELECT max(finished_at_ms) AS t, count() AS n FROM retrain_runs',
} as const;
export type ChangeKind = keyof typeof CHANGE_SQL | 'deployments';
export type ChangeStamp = Record<ChangeKind, string>;

/** The kinds whose stamp moved between two polls (nothing on the first poll). */
export function changedKinds(before: ChangeStamp | undefined, after: ChangeStamp): ChangeKind[] {
  if (!before) return [];
  return (Object.keys(after) as ChangeKind[]).filter((k) => before[k] !== after[k]);
}

export async function readChangeStamp(storage: Storage, deployments: string): Promise<ChangeStamp> {
  const stamp = { deployments } as ChangeStamp;
  for (const [kind, text] of Object.entries(CHANGE_SQL) as [keyof typeof CHANGE_SQL, string][]) {
    const [row] = await storage.query<{ t: unknown; n: unknown }>(text);
    stamp[kind] = `${row?.t ?? ''}/${row?.n ?? 0}`;
  }
  return stamp;
}

// ---- reference vs current distribution of one column ------------------------------------

export interface DistributionView {
  kind: 'numeric';
  /** Bin edges (bins + 1 of them) over the central 99 % of both distributions. */
  edges: number[];
  /** Density (share per unit of x) per bin; empty for a side without values. */
  reference: number[];
  current: number[];
  referenceCount: number;
  currentCount: number;
  referenceMean: number | null;
  currentMean: number | null;
}

/** Both sides' densities on common bins, from their sketches (as the HTML report draws them). */
export function distributionBins(
  reference: NumericSketchJSON | undefined,
  current: readonly NumericSketchJSON[],
  bins = 40,
): DistributionView {
  const ref = reference ? NumericSketch.fromJSON(reference) : NumericSketch.create();
  const cur = NumericSketch.create();
  for (const part of current) cur.merge(NumericSketch.fromJSON(part));
  const dr = numericDistribution(ref);
  const dc = numericDistribution(cur);
  const ds = [dr, dc].filter((d) => d !== undefined);
  const view: DistributionView = {
    kind: 'numeric',
    edges: [],
    reference: [],
    current: [],
    referenceCount: ref.count,
    currentCount: cur.count,
    referenceMean: dr?.mean ?? null,
    currentMean: dc?.mean ?? null,
  };
  if (ds.length === 0) return view;
  const [lo, hi] = centralRange(ds);
  const step = (hi - lo) / bins;
  view.edges = Array.from({ length: bins + 1 }, (_, i) => lo + i * step);
  const densities = (d: typeof dr) => (d === undefined ? [] : binDensities(d, lo, hi, bins));
  view.reference = densities(dr);
  view.current = densities(dc);
  return view;
}

/** A categorical column: each category's share on both sides (the most prominent first), as the HTML report draws them. */
export interface CategoryView {
  kind: 'categorical';
  categories: string[];
  reference: number[];
  current: number[];
  referenceCount: number;
  currentCount: number;
}

/** Category bars shown at most; the rest are summed into one "(n more)" bar. */
const CATEGORY_BARS = 20;

export function categoryBars(
  reference: CategoricalSketchJSON,
  current: readonly CategoricalSketchJSON[],
): CategoryView {
  const ref = CategoricalSketch.fromJSON(reference);
  const cur = CategoricalSketch.create();
  for (const part of current) cur.merge(CategoricalSketch.fromJSON(part));
  const rows = categoryShares(ref, cur, CATEGORY_BARS);
  return {
    kind: 'categorical',
    categories: rows.map((r) => r.label),
    reference: rows.map((r) => r.reference),
    current: rows.map((r) => r.current),
    referenceCount: ref.count,
    currentCount: cur.count,
  };
}

/**
 * The distribution of `column` (a feature or `prediction`) in the reference profile of `version`
 * and in the version's newest window of pane sketches (the newest `windowPanes` panes the store
 * sketched, every source partition merged) — what the newest drift event compared.
 */
export async function readColumnDistribution(
  storage: Storage,
  profile: Pick<ReferenceProfile, 'features' | 'categorical' | 'prediction'>,
  options: { model: string; version: number; column: string; windowPanes: number },
): Promise<(DistributionView | CategoryView) & { windowStart: number | null; windowEnd: number | null }> {
  const { model, version, column } = options;
  const numeric = column === PREDICTION_COLUMN ? profile.prediction : profile.features[column];
  const categorical = profile.categorical?.[column];
  if (numeric === undefined && categorical === undefined) {
    throw new BadInput('column', `model ${model} v${version} has no column ${JSON.stringify(column)}`, 404);
  }
  const view = (parts: readonly SketchPart[]) =>
    numeric !== undefined
      ? distributionBins(
          numeric,
          parts.flatMap((p) => (p.column === column && p.kind === 'numeric' ? [p.sketch] : [])),
        )
      : categoryBars(
          categorical as CategoricalSketchJSON,
          parts.flatMap((p) => (p.column === column && p.kind === 'categorical' ? [p.sketch] : [])),
        );
  const newest = await queryNewestPane(storage, model, version).catch((error: unknown) => {
    if (isUnknownTable(error)) return undefined;
    throw error;
  });
  if (!newest) return { ...view([]), windowStart: null, windowEnd: null };
  // The pane length is read off the newest sketches, as `driftline report` does.
  const last = await queryPaneSketches(storage, model, version, newest.paneEnd - 1000, newest.paneEnd);
  const paneMs = (last[0]?.paneEnd ?? newest.paneEnd) - (last[0]?.paneStart ?? newest.paneEnd - 1000);
  const windowStart = newest.paneEnd - options.windowPanes * paneMs;
  const parts = await queryPaneSketches(storage, model, version, windowStart, newest.paneEnd, {
    windowPanes: options.windowPanes,
    maxSkewMs: DEFAULT_EVENT_TIME_BOUNDS.maxSkewMs,
  });
  return { ...view(parts), windowStart, windowEnd: newest.paneEnd };
}
