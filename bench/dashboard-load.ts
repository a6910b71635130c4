/**
 * Dashboard page load against a million stored predictions: the time from navigation to the first
 * paint with data (the page's `data-loaded` mark, set once every panel has drawn) of a model's page
 * and of the overview, in headless Debian chromium, on the ClickHouse server.
 *
 * Set-up, in a fresh database: a model (one short training) in a temporary registry, 1,000,000
 * predictions over the last 6 hours (the page's default range, so every one is read) inserted by
 * ClickHouse itself (`INSERT … SELECT FROM system.numbers`), and a drift event per minute over
 * the same hours. Median of several loads after one warm-up.
 *
 *   tsx bench/dashboard-load.ts [--json] [--quick] [--rows N] [--loads N]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../core/config.ts';
import { createLogger } from '../core/logger.ts';
import { migrate } from '../core/migrations.ts';
import { createPredictionsTableSql, predictionsTable } from '../core/prediction-table.ts';
import { identifier, openStorage, type Storage } from '../core/storage/index.ts';
import { startDashboard } from '../dashboard/main.ts';
import { ModelLoader } from '../model/model-loader.ts';
import { trainModel } from '../model/train.ts';
import { resolveServices } from '../platform/services.ts';
import { launchChromium } from '../test-support/browser.ts';
import { type BenchResult, below, benchFlags, emit, numberArgument, runBench } from './protocol.ts';

const HOURS = 6;

async function insertPredictions(storage: Storage, model: string, features: readonly string[], rows: number) {
  const end = Date.now();
  const start = end - HOURS * 3_600_000;
  const step = Math.max(1, Math.floor((end - start) / rows));
  const featureValues = features.map((_, i) => `(rand(${i + 1}) % 100000) / 10000.0`).join(', ');
  await storage.command(
    `INSERT INTO ${identifier(predictionsTable(model)).text}
  (event_id, model_name, model_version, event_time, event_time_ms, ${features.map((f) => identifier(f).text).join(', ')},
   prediction, latency_ms, kafka_partition, kafka_offset, ingested_at, late)
SELECT toString(number), '${model}', 1, toDateTime(intDiv(${start} + number * ${step}, 1000)), ${start} + number * ${step},
  ${featureValues}, 1 + (rand(99) % 40000) / 10000.0, 1.5, number % 3, number, now(), 0
FROM system.numbers LIMIT ${rows}`,
  );
  return { start, end };
}

function driftEventRows(model: string, features: readonly string[], start: number, end: number) {
  const columns = [...features, 'prediction'];
  const rows: Record<string, unknown>[] = [];
  for (let t = start + 300_000, i = 0; t <= end; t += 60_000, i++) {
    const drifted = i > 200;
    const statistics = columns.map((_, j) => (drifted && j < 2 ? 0.3 + (i % 7) / 100 : 0.02 + ((i + j) % 5) / 100));
    rows.push({
      event_id: `bench-${i}`,
      model_name: model,
      model_version: 1,
      window_start: new Date(t - 300_000),
      window_end: new Date(t),
      window_start_ms: t - 300_000,
      window_end_ms: t,
      pane_ms: 60_000,
      window_panes: 5,
      pane_count: 5,
      row_count: 13_888,
      source_partitions: [],
      completion: 'all_sources',
      state: drifted ? 'drift' : 'ok',
      previous_state: drifted && i > 201 ? 'drift' : 'ok',
      transition: i === 201 ? 1 : 0,
      consecutive_drift: drifted ? i - 200 : 0,
      retrain_after: 3,
      retrain_recommended: drifted && i > 203 ? 1 : 0,
      drift_share: 0.25,
      share_of_drifted_columns: drifted ? 2 / columns.length : 0,
      evaluated_count: columns.length,
      drifted_count: drifted ? 2 : 0,
      drifted_columns: drifted ? columns.slice(0, 2) : [],
      drifted_features: drifted ? features.slice(0, 2) : [],
      prediction_drifted: 0,
      column_names: columns,
      column_methods: columns.map(() => 'wasserstein'),
      column_verdicts: statistics.map((s) => (s >= 0.1 ? 'drift' : 'ok')),
      column_statistics: statistics,
      column_thresholds: columns.map(() => 0.1),
      column_p_values: columns.map(() => null),
      columns_json: '[]',
      labelled_count: 10_000,
      rmse: drifted ? 0.8 : 0.55,
      mae: drifted ? 0.6 : 0.4,
      holdout_rmse: 0.55,
      holdout_mae: 0.4,
      performance_tolerance: 1.2,
      performance_verdict: drifted ? 'degraded' : 'ok',
      report_path: null,
      evaluated_at: new Date(t),
    });
  }
  return rows;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main(): Promise<void> {
  const flags = benchFlags();
  const rows = numberArgument('rows', flags.quick ? 100_000 : 1_000_000);
  const loads = numberArgument('loads', flags.quick ? 3 : 7);
  const logger = createLogger('silent');
  const home = mkdtempSync(join(tmpdir(), 'dl-bench-dashboard-'));
  const database = `driftline_bench_dashboard_${randomBytes(3).toString('hex')}`;
  const model = 'bench-dashboard';
  const services = await resolveServices(parseConfig(), logger, {
    kafka: false,
    registry: false,
    clickhouseServer: true,
  });
  const config = parseConfig({
    ...process.env,
    CLICKHOUSE_URL: services.clickhouseUrl as string,
    CLICKHOUSE_DATABASE: database,
    DRIFTLINE_HOME: home,
  });
  const storage = await openStorage(config, logger);
  const browser = await launchChromium();
  try {
    await storage.command(`CREATE DATABASE IF NOT EXISTS ${identifier(database).text}`);
    await migrate(storage);
    const trained = await trainModel({ epochs: 1 });
    const features = trained.spec.features.map((f) => f.name);
    await ModelLoader.fromConfig(config).saveVersion({
      ...trained,
      spec: { ...trained.spec, model },
      profile: { ...trained.profile, model },
    });
    trained.predictor.dispose();
    await storage.command(createPredictionsTableSql(model, trained.spec.features));
    const { start, end } = await insertPredictions(storage, model, features, rows);
    await storage.insert('drift_events', driftEventRows(model, features, start, end));

    const dashboard = await startDashboard({ config, logger, storage, port: 0 });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const firstPaint = async (hash: string, mark: string): Promise<number> => {
        await page.goto('about:blank');
        await page.goto(`${dashboard.url}/${hash}`);
        await page.waitForSelector(`body[data-loaded="${mark}"]`);
        // Milliseconds from the start of the navigation to the render with data (the page marks it).
        return page.evaluate(
          (name) => performance.getEntriesByName(name).at(-1)?.startTime ?? Number.NaN,
          `loaded-${mark}`,
        );
      };
      const measure = async (hash: string, mark: string) => {
        await firstPaint(hash, mark); // warm-up: caches of the browser and ClickHouse
        const times: number[] = [];
        for (let i = 0; i < loads; i++) times.push(await firstPaint(hash, mark));
        return median(times);
      };
      const modelMs = await measure(`#/model/${model}?range=6h`, 'model');
      const overviewMs = await measure('#/?range=6h', 'overview');
      const results: BenchResult[] = [
        below('dashboard_first_paint_ms', Math.round(modelMs), 'ms', 1000),
        below('dashboard_overview_first_paint_ms', Math.round(overviewMs), 'ms', 1000),
      ];
      if (!flags.json) process.stdout.write(`${rows.toLocaleString('en-US')} predictions, median of ${loads} loads\n`);
      emit({ suite: 'dashboard', results }, flags);
    } finally {
      await dashboard.close();
    }
  } finally {
    await browser.close();
    await storage.command(`DROP DATABASE IF EXISTS ${identifier(database).text}`).catch(() => {});
    await storage.close();
    rmSync(home, { recursive: true, force: true });
  }
}

runBench(main);
