/**
 * Pure mappings of the drift consumer: drift events and their ClickHouse rows, plus the names the
 * events and reports get. (Snapshots become window parts in sketch-validation.ts, which checks
 * them on the way in.)
 */
import { createHash } from 'node:crypto';
import type { CategoricalStats, NumericalStats } from '../../core/drift/index.ts';
import type { DriftEvent, DriftEventColumn, RealizedPerformance } from '../../core/schemas.ts';
import type { Reference, WindowEvaluation } from './evaluation.ts';
import type { Step } from './state.ts';
import type { Window } from './windows.ts';

/**
 * A UUID derived from (model, version, window end, revision): an evaluation emitted twice — after
 * a crash between producing the event and recording it — carries the same id, so readers can drop
 * the copy; a revision of the window has an id of its own (a first evaluation keeps the id it had
 * before revisions existed).
 */
export function driftEventId(model: string, version: number, windowEnd: number, revision = 0): string {
  const name = `driftline/drift/${model}/${version}/${windowEnd}${revision === 0 ? '' : `/r${revision}`}`;
  const hex = createHash('sha1').update(name).digest('hex');
  // RFC 4122 layout, version 5 (name-based, SHA-1), variant 10.
  const variant = ((Number.parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}

/**
 * `<model>-v<version>-<window end>.html`, the end in ISO 8601 basic format (20260101T000015Z):
 * sortable, and without the colons some file systems refuse.
 */
export function reportFileName(model: string, version: number, windowEnd: number): string {
  const iso = new Date(windowEnd).toISOString();
  const ms = iso.slice(20, 23);
  const basic = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}${ms === '000' ? '' : `.${ms}`}Z`;
  return `${model}-v${version}-${basic}.html`;
}

export interface DriftEventInput {
  window: Window;
  windowPanes: number;
  reference: Reference;
  evaluation: WindowEvaluation;
  step: Step;
  retrainAfter: number;
  performance: RealizedPerformance;
  reportPath: string | null;
  evaluatedAt: Date;
}

export function buildDriftEvent(input: DriftEventInput): DriftEvent {
  const { window, reference, evaluation, step } = input;
  const { result } = evaluation;
  const isPrediction = new Map(reference.columns.map((c) => [c.name, c.isPrediction]));
  const columns = result.columns.map((c): DriftEventColumn => {
    const sketches = evaluation.sketches.get(c.column);
    const numerical = c.kind === 'numerical' ? (c.stats as NumericalStats | null) : null;
    const categorical = c.kind === 'categorical' ? (c.stats as CategoricalStats | null) : null;
    return {
      column: c.column,
      is_prediction: isPrediction.get(c.column) ?? false,
      kind: c.kind,
      method: c.method,
      statistic: finiteOrNull(c.statistic),
      threshold: c.threshold,
      p_value: finiteOrNull(c.p_value),
      drifted: c.drifted,
      verdict: c.verdict,
      reference_count: c.reference_count,
      current_count: c.current_count,
      reference_mean: momentOf(sketches?.reference, 'mean'),
      current_mean: momentOf(sketches?.current, 'mean'),
      reference_std: momentOf(sketches?.reference, 'std'),
      current_std: momentOf(sketches?.current, 'std'),
      ks: finiteOrNull(numerical?.ks),
      ks_p_value: finiteOrNull(numerical?.ks_p_value),
      wasserstein: finiteOrNull(numerical?.wasserstein),
      wasserstein_norm: finiteOrNull(numerical?.wasserstein_norm),
      psi: finiteOrNull(numerical?.psi ?? categorical?.psi),
      js: finiteOrNull(numerical?.js ?? categorical?.js),
      chi2: finiteOrNull(categorical?.chi2),
      chi2_p_value: finiteOrNull(categorical?.chi2_p_value),
    };
  });
  const drifted = columns.filter((c) => c.drifted);
  return {
    event_id: driftEventId(window.model, window.version, window.end, window.revision),
    model_name: window.model,
    model_version: window.version,
    window_start: new Date(window.start),
    window_end: new Date(window.end),
    pane_ms: window.paneMs,
    window_panes: input.windowPanes,
    pane_count: window.paneCount,
    row_count: window.rowCount,
    source_partitions: [...window.sources],
    completion: window.completion,
    columns,
    drifted_columns: drifted.map((c) => c.column),
    drifted_features: drifted.filter((c) => !c.is_prediction).map((c) => c.column),
    prediction_drifted: drifted.some((c) => c.is_prediction),
    evaluated_count: result.evaluated_count,
    drifted_count: result.drifted_count,
    share_of_drifted_columns: result.share_of_drifted_columns,
    drift_share: result.drift_share,
    state: step.state,
    previous_state: step.previousState,
    transition: step.transition,
    consecutive_drift: step.consecutiveDrift,
    retrain_after: input.retrainAfter,
    retrain_recommended: step.retrainRecommended,
    performance: input.performance,
    report_path: input.reportPath,
    evaluated_at: input.evaluatedAt,
    sources_expected: window.sourcesExpected,
    partial: window.partial,
    revision: window.revision,
    sketch_count: window.sketchCount,
  };
}

/** The `drift_events` row of an event (clickhouse/migrations/0003_drift_events.sql, 0004_drift_event_revisions.sql). */
export function driftEventRow(event: DriftEvent): Record<string, unknown> {
  return {
    event_id: event.event_id,
    model_name: event.model_name,
    model_version: event.model_version,
    window_start: event.window_start,
    window_end: event.window_end,
    window_start_ms: event.window_start.getTime(),
    window_end_ms: event.window_end.getTime(),
    pane_ms: event.pane_ms,
    window_panes: event.window_panes,
    pane_count: event.pane_count,
    row_count: event.row_count,
    source_partitions: event.source_partitions,
    completion: event.completion,
    state: event.state,
    previous_state: event.previous_state,
    transition: event.transition,
    consecutive_drift: event.consecutive_drift,
    retrain_after: event.retrain_after,
    retrain_recommended: event.retrain_recommended,
    drift_share: event.drift_share,
    share_of_drifted_columns: event.share_of_drifted_columns,
    evaluated_count: event.evaluated_count,
    drifted_count: event.drifted_count,
    drifted_columns: event.drifted_columns,
    drifted_features: event.drifted_features,
    prediction_drifted: event.prediction_drifted,
    column_names: event.columns.map((c) => c.column),
    column_methods: event.columns.map((c) => c.method),
    column_verdicts: event.columns.map((c) => c.verdict),
    column_statistics: event.columns.map((c) => c.statistic),
    column_thresholds: event.columns.map((c) => c.threshold),
    column_p_values: event.columns.map((c) => c.p_value),
    columns_json: JSON.stringify(event.columns),
    labelled_count: event.performance.labelled_count,
    rmse: event.performance.rmse,
    mae: event.performance.mae,
    holdout_rmse: event.performance.holdout_rmse,
    holdout_mae: event.performance.holdout_mae,
    performance_tolerance: event.performance.tolerance,
    performance_verdict: event.performance.verdict,
    report_path: event.report_path,
    evaluated_at: event.evaluated_at,
    sources_expected: event.sources_expected,
    partial: event.partial,
    revision: event.revision,
    sketch_count: event.sketch_count,
  };
}

function finiteOrNull(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function momentOf(sketch: unknown, which: 'mean' | 'std'): number | null {
  if (typeof sketch !== 'object' || sketch === null || !(which in sketch)) return null;
  return finiteOrNull((sketch as { mean: number; std: number })[which]);
}
