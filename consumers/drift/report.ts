/**
 * HTML drift reports (core/report/html-report.ts): written by the drift consumer when a version's
 * state turns to drift, and on demand for a model's newest window (`writeModelReport`), which
 * rebuilds the window from the pane sketches the store keeps in ClickHouse.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Config } from '../../core/config.ts';
import type { DatasetDriftOptions } from '../../core/drift/index.ts';
import { DriftlineError, ErrorCode } from '../../core/errors.ts';
import { DEFAULT_EVENT_TIME_BOUNDS } from '../../core/event-contract.ts';
import type { Logger } from '../../core/logger.ts';
import { migrate } from '../../core/migrations.ts';
import { fmt, renderDriftReport } from '../../core/report/html-report.ts';
import type { DriftStateName, RealizedPerformance } from '../../core/schemas.ts';
import { type StoredSketchRow, snapshotOfRow } from '../../core/sketch-snapshot.ts';
import { openStorage, type Storage } from '../../core/storage/index.ts';
import { ModelRegistry } from '../../model/registry.ts';
import {
  type ErrorSums,
  evaluateWindow,
  type PerformanceOptions,
  type Reference,
  realizedPerformance,
  type WindowEvaluation,
} from './evaluation.ts';
import { reportFileName } from './event.ts';
import {
  firstPaneSql,
  lastStateSql,
  newestPaneSql,
  paneSketchesSql,
  type RevisableRow,
  realizedErrorSql,
  revisableSql,
  type StateRow,
} from './queries.ts';
import { ReferenceCache, type ReferenceSource } from './references.ts';
import { paneProblems, partOf, sketchProblems } from './sketch-validation.ts';
import { DriftWindows, type RevisableWindow, type SketchPart, type Window } from './windows.ts';

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

export interface ReportContent {
  reference: Reference;
  window: Pick<Window, 'model' | 'version' | 'start' | 'end' | 'paneCount' | 'rowCount' | 'sources'>;
  evaluation: WindowEvaluation;
  performance: RealizedPerformance;
  /** The monitoring state, when known (the consumer's, or the newest recorded one). */
  state?: { state: string; consecutiveDrift: number; retrainRecommended?: boolean } | undefined;
  generatedAt: Date;
}

export function renderWindowReport(content: ReportContent): string {
  const { window, performance, state } = content;
  const perf =
    performance.rmse === null
      ? `no labelled predictions yet (holdout RMSE ${fmt(performance.holdout_rmse)})`
      : `realized RMSE ${fmt(performance.rmse)}, MAE ${fmt(performance.mae)} on ${performance.labelled_count.toLocaleString('en-US')} labelled (holdout RMSE ${fmt(performance.holdout_rmse)}, MAE ${fmt(performance.holdout_mae)}): ${performance.verdict.replace('_', ' ')}`;
  const monitoring = state
    ? `; state ${state.state}, ${state.consecutiveDrift} drifting evaluation(s) in a row${state.retrainRecommended ? ', retraining recommended' : ''}`
    : '';
  return renderDriftReport({
    result: content.evaluation.result,
    sketches: content.evaluation.sketches,
    title: `Drift report: ${window.model} v${window.version}`,
    referenceLabel: `training split of ${window.model} v${window.version} (${(content.reference.columns[0]?.sketch.count ?? 0).toLocaleString('en-US')} rows)`,
    currentLabel: `${new Date(window.start).toISOString()} – ${new Date(window.end).toISOString()} (${window.paneCount} panes, ${window.rowCount.toLocaleString('en-US')} predictions, partitions ${window.sources.join(', ') || '–'}); ${perf}${monitoring}`,
    generatedAt: content.generatedAt.toISOString(),
  });
}

/** Writes `html` to `path` through a temporary file, so a reader never sees half a report. */
export async function writeReportFile(path: string, html: string): Promise<string> {
  const absolute = resolve(path);
  await mkdir(dirname(absolute), { recursive: true });
  const temp = `${absolute}.${process.pid}.tmp`;
  await writeFile(temp, html);
  await rename(temp, absolute);
  return absolute;
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
      ...sketchProblems(part.sketch),
    ];
    if (problems.length === 0) parts.push(part);
  }
  return parts;
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

export interface ModelReportOptions {
  model: string;
  /** Default: the version whose sketches are newest. */
  version?: number;
  windowPanes: number;
  evaluation: DatasetDriftOptions;
  performance: PerformanceOptions;
  now?: Date;
}

/**
 * The report of a model's newest complete window (the newest `windowPanes` panes the store has
 * sketched), evaluated as the drift consumer would. Throws MODEL_NOT_FOUND when there is no
 * sketch or no reference profile for the model.
 */
export async function buildModelReport(
  storage: Storage,
  registry: ReferenceSource,
  options: ModelReportOptions,
): Promise<{ html: string; content: ReportContent }> {
  const { model } = options;
  const [newest] = await storage.query<{ model_version: number; pane_end_s: number }>(
    newestPaneSql(model, options.version),
  );
  if (!newest) {
    throw new DriftlineError(
      ErrorCode.MODEL_NOT_FOUND,
      `no feature sketches of model ${model}${options.version === undefined ? '' : ` v${options.version}`} in ClickHouse (is the store consumer running?)`,
      { details: { model, version: options.version } },
    );
  }
  const version = Number(newest.model_version);
  const end = Number(newest.pane_end_s) * 1000;
  const reference = await new ReferenceCache(registry).get(model, version);
  if (!reference) {
    throw new DriftlineError(ErrorCode.MODEL_NOT_FOUND, `model ${model} v${version} is not in the model registry`, {
      details: { model, version },
    });
  }
  // The pane length is read off the newest sketches; the window is the newest windowPanes panes.
  const newestParts = await queryPaneSketches(storage, model, version, end - 1000, end);
  const paneMs = (newestParts[0]?.paneEnd ?? end) - (newestParts[0]?.paneStart ?? end - 1000);
  const parts = await queryPaneSketches(storage, model, version, end - options.windowPanes * paneMs, end, {
    windowPanes: options.windowPanes,
    maxSkewMs: DEFAULT_EVENT_TIME_BOUNDS.maxSkewMs,
  });
  const windows = new DriftWindows({ windowPanes: options.windowPanes, gracePanes: 0, graceMs: 0 });
  windows.restore(model, version, { evaluatedThrough: Number.NEGATIVE_INFINITY, paneMs, sources: [], parts }, 0);
  const window = windows.windowEnding(model, version, end);
  const evaluation = evaluateWindow(reference, window, options.evaluation);
  const sums = await queryErrorSums(storage, model, version, window.start, window.end);
  const performance = realizedPerformance(sums, reference.holdout, options.performance);
  const last = await queryLastState(storage, model, version);
  const content: ReportContent = {
    reference,
    window,
    evaluation,
    performance,
    state: last ? { state: last.state, consecutiveDrift: last.consecutiveDrift } : undefined,
    generatedAt: options.now ?? new Date(),
  };
  return { html: renderWindowReport(content), content };
}

export interface WrittenReport {
  path: string;
  model: string;
  version: number;
  windowStart: Date;
  windowEnd: Date;
  state: string;
  driftedColumns: string[];
}

/**
 * `driftline report`: writes the newest window's report of `model` to `out` (default
 * `<reportsDir>/<model>-v<version>-<window end>.html`), with the drift settings of `config`.
 * Uses `storage` when given, else opens the configured ClickHouse (`clickhouseUrl` overrides it).
 */
export async function writeModelReport(
  config: Readonly<Config>,
  logger: Logger,
  options: { model: string; version?: number; out?: string; storage?: Storage; clickhouseUrl?: string },
): Promise<WrittenReport> {
  const storage =
    options.storage ??
    (await openStorage(config, logger, options.clickhouseUrl ? { clickhouseUrl: options.clickhouseUrl } : {}));
  try {
    // A fresh database has no tables yet; with them the answer is a clear "no sketches".
    if (!options.storage) await migrate(storage);
    const { html, content } = await buildModelReport(storage, ModelRegistry.fromConfig(config), {
      model: options.model,
      ...(options.version === undefined ? {} : { version: options.version }),
      windowPanes: config.driftWindowPanes,
      evaluation: driftOptionsOf(config),
      performance: { tolerance: config.driftPerformanceTolerance, minLabels: config.driftMinLabels },
    });
    const { window } = content;
    const path = await writeReportFile(
      options.out ?? join(config.reportsDir, reportFileName(window.model, window.version, window.end)),
      html,
    );
    return {
      path,
      model: window.model,
      version: window.version,
      windowStart: new Date(window.start),
      windowEnd: new Date(window.end),
      state: content.evaluation.result.state,
      driftedColumns: content.evaluation.result.columns.filter((c) => c.drifted).map((c) => c.column),
    };
  } finally {
    if (!options.storage) await storage.close();
  }
}

/** evaluateDataset options from the configuration. */
export function driftOptionsOf(config: Readonly<Config>): DatasetDriftOptions {
  return { driftShare: config.driftShare, minSample: config.driftMinSample, columns: config.driftColumnOverrides };
}
