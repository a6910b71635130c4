/**
 * A window's HTML drift report (core/report/html-report.ts): rendered from an evaluated window and
 * written to a file, by the drift consumer when a version's state turns to drift and by
 * `driftline report` on demand.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fmt, renderDriftReport } from '../../core/report/html-report.ts';
import type { RealizedPerformance } from '../../core/schemas.ts';
import type { Reference, WindowEvaluation } from './evaluation.ts';
import type { Window } from './windows.ts';

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
