/**
 * `driftline report`: the HTML report of a model's newest window, rebuilt from the pane sketches
 * the store keeps in ClickHouse and evaluated as the drift consumer would.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { evaluateWindow, type PerformanceOptions, realizedPerformance } from '../consumers/drift/evaluation.ts';
import { reportFileName } from '../consumers/drift/event.ts';
import { driftOptionsOf } from '../consumers/drift/main.ts';
import { queryErrorSums, queryLastState, queryNewestPane, queryPaneSketches } from '../consumers/drift/queries.ts';
import { ReferenceCache, type ReferenceSource } from '../consumers/drift/references.ts';
import { type ReportContent, renderWindowReport, writeReportFile } from '../consumers/drift/window-report.ts';
import { DriftWindows } from '../consumers/drift/windows.ts';
import type { Config } from '../core/config.ts';
import type { DatasetDriftOptions } from '../core/drift/index.ts';
import { DriftlineError, ErrorCode } from '../core/errors.ts';
import { DEFAULT_EVENT_TIME_BOUNDS } from '../core/event-contract.ts';
import type { Logger } from '../core/logger.ts';
import { migrate } from '../core/migrations.ts';
import { openStorage, type Storage } from '../core/storage/index.ts';
import { ModelRegistry } from '../model/registry.ts';
import { type Command, usageError } from './command.ts';

const USAGE = 'report --model M [--version V] [--out file.html]';

export const reportCommand: Command = {
  name: 'report',
  usage: USAGE,
  summary:
    "write the HTML drift report of a model's newest window (the last DRIFT_WINDOW_PANES panes the store sketched) to reports/ or --out",
  async run(args, { config, logger, out }) {
    let values: { model?: string; version?: string; out?: string };
    try {
      ({ values } = parseArgs({
        args: [...args],
        strict: true,
        options: { model: { type: 'string' }, version: { type: 'string' }, out: { type: 'string' } },
      }));
    } catch (error) {
      throw usageError(`${(error as Error).message}\nusage: driftline ${USAGE}`);
    }
    if (!values.model) throw usageError(`--model is required\nusage: driftline ${USAGE}`);
    const version = values.version === undefined ? undefined : Number(values.version);
    if (version !== undefined && !(Number.isSafeInteger(version) && version >= 1)) {
      throw usageError(`--version must be a positive integer; got ${JSON.stringify(values.version)}`);
    }
    // Only ClickHouse is needed: the configured one (CLICKHOUSE_URL, else embedded chDB).
    const report = await writeModelReport(config, logger, {
      model: values.model,
      ...(version === undefined ? {} : { version }),
      ...(values.out === undefined ? {} : { out: values.out }),
    });
    out.write(
      `${report.path}\n${report.model} v${report.version} ${report.windowStart.toISOString()} – ${report.windowEnd.toISOString()}: ${report.state}${report.driftedColumns.length > 0 ? ` (drifted: ${report.driftedColumns.join(', ')})` : ''}\n`,
    );
    return 0;
  },
};

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
  const newest = await queryNewestPane(storage, model, options.version);
  if (!newest) {
    throw new DriftlineError(
      ErrorCode.MODEL_NOT_FOUND,
      `no feature sketches of model ${model}${options.version === undefined ? '' : ` v${options.version}`} in ClickHouse (is the store consumer running?)`,
      { details: { model, version: options.version } },
    );
  }
  const { version, paneEnd: end } = newest;
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
 * Writes the newest window's report of `model` to `out` (default
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
