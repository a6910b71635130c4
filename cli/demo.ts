import { randomUUID } from 'node:crypto';
/**
 * `driftline demo`, the main job on local defaults: services up, a champion model (trained if
 * there is none), the predict service, the store consumer, and a replay that drifts halfway;
 * then a summary of what each stage saw. Everything runs in this process except the services.
 */
import { parseArgs } from 'node:util';
import { runAlert } from '../consumers/alert/main.ts';
import { runDrift } from '../consumers/drift/main.ts';
import { committedPaneEnd } from '../consumers/store/consumer.ts';
import { runStore } from '../consumers/store/main.ts';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import { predictionsTable } from '../core/prediction-table.ts';
import { sql } from '../core/storage/index.ts';
import { predictionsTopic } from '../core/topics.ts';
import { CALIFORNIA_HOUSING_MODEL } from '../model/california-housing.ts';
import { ModelRegistry } from '../model/registry.ts';
import { trainModel } from '../model/train.ts';
import { type Runtime, startRuntime } from '../platform/runtime.ts';
import { startPredictService } from '../producers/predict-service/main.ts';
import { type Command, usageError } from './command.ts';
import { formatProgress, parseReplayArgs, runReplay } from './replay.ts';
import { formatTable } from './table.ts';

interface DemoEvaluation extends Record<string, unknown> {
  window_end_ms: number;
  state: string;
  transition: number;
  drifted_features: string[];
  prediction_drifted: number;
  retrain_recommended: number;
  performance_verdict: string;
  rmse: number | null;
  report_path: string | null;
}

/**
 * The demo shifts two of eight features; at the default DRIFT_SHARE (0.5) those columns drift
 * but the dataset does not. It watches with `--drift-share` (default 0.25). Its replay squeezes
 * ten minutes of event time into seconds, so partitions run panes apart: windows wait for
 * every partition (no DRIFT_GRACE_PANES shortcut), and the last one is evaluated 2 s after the
 * replay ends instead of after DRIFT_GRACE_MS.
 */
function demoDriftConfig(config: Readonly<Config>, driftShare: number): Readonly<Config> {
  return { ...config, driftShare, driftGracePanes: 0, driftGraceMs: 2_000 };
}

/** Removes the demo's own drift group: nothing will resume it. */
async function deleteGroup(runtime: Runtime, groupId: string, logger: Logger): Promise<void> {
  const admin = runtime.kafka.admin();
  try {
    await admin.connect();
    await admin.deleteGroups([groupId]);
  } catch (error) {
    logger.warn({ err: error, groupId }, 'removing the demo drift group failed');
  } finally {
    await admin.disconnect();
  }
}

/** Event time of a demo run (and of the one after it) may run this far ahead of the clock. */
function demoClockConfig(config: Readonly<Config>, rows: number, paneMs: number): Readonly<Config> {
  const spanSeconds = Math.ceil(((rows / 1_200) * paneMs) / 1000);
  const skew = Math.max(config.maxClockSkewSeconds, Math.min(86_400, 4 * spanSeconds + 3_600));
  return { ...config, maxClockSkewSeconds: skew };
}

export interface DemoOptions {
  /** Rows the replay sends. */
  rows: number;
  rate: number;
  driftShare: number;
}

async function ensureChampion(config: Readonly<Config>, logger: Logger, say: (line: string) => void): Promise<number> {
  const registry = ModelRegistry.fromConfig(config);
  const champion = await registry.champion(CALIFORNIA_HOUSING_MODEL);
  if (champion !== null) return champion;
  say('no trained model yet: training one (about 10 s)…');
  const trained = await trainModel({ logger });
  try {
    return await registry.saveVersion(trained, { promote: true });
  } finally {
    trained.predictor.dispose();
  }
}

export const demoCommand: Command = {
  name: 'demo',
  usage: 'demo [--rows N] [--rate N] [--drift-share F]',
  summary: 'the main job: services, model, predict service, store consumer and a replay that drifts halfway',
  async run(args, { config, logger, out }) {
    let values: { rows?: string; rate?: string; 'drift-share'?: string };
    try {
      ({ values } = parseArgs({
        args: [...args],
        options: { rows: { type: 'string' }, rate: { type: 'string' }, 'drift-share': { type: 'string' } },
      }));
    } catch (error) {
      throw usageError((error as Error).message);
    }
    const options: DemoOptions = {
      rows: Number(values.rows ?? 12_000),
      rate: Number(values.rate ?? 2_000),
      driftShare: Number(values['drift-share'] ?? 0.25),
    };
    if (!(options.driftShare > 0 && options.driftShare <= 1)) throw usageError('--drift-share must be in (0, 1]');
    if (!Number.isInteger(options.rows) || options.rows < 1) throw usageError('--rows must be a positive integer');
    if (!Number.isFinite(options.rate) || options.rate <= 0) throw usageError('--rate must be a positive number');
    const say = (line: string) => out.write(`${line}\n`);

    say('1/5 services: Kafka, schema registry (environment, containers or the local stack)…');
    // The replay compresses minutes of event time into seconds of wall clock and runs ahead of
    // it; the demo's own services accept that much clock skew (the event contract's bound).
    config = demoClockConfig(config, options.rows, config.paneSeconds * 1000);
    const runtime = await startRuntime(config, logger);
    const version = await ensureChampion(config, logger, say);
    say(`2/5 model: ${CALIFORNIA_HOUSING_MODEL} v${version} is champion`);

    const service = await startPredictService(config, logger, runtime, CALIFORNIA_HOUSING_MODEL, {
      host: '127.0.0.1',
      port: 0,
    });
    const store = await runStore(config, logger, runtime);
    const driftConfig = demoDriftConfig(config, options.driftShare);
    // This run's sketches only: a drift group of its own that starts at the end of feature-sketches.
    // A group shared by every demo on one Kafka would judge an earlier run's sketches (another
    // home, another trained v1) against this run's reference profile.
    const driftGroup = `driftline-drift-demo-${randomUUID()}`;
    const drift = await runDrift(driftConfig, logger, runtime, {
      models: [CALIFORNIA_HOUSING_MODEL],
      groupId: driftGroup,
      startAt: 'end',
    });
    // Alerts beside drift: with no channel configured they are printed here (and logged). It shares
    // the store's ClickHouse (embedded chDB is one engine per process).
    const alert = await runAlert(config, logger, runtime, { out, storage: store.storage });
    say(
      `3/5 predict service at ${service.url}; store, drift and alert consumers on ClickHouse (${store.storage.kind}); alerts go to ${alert.channels.join(', ')}`,
    );

    // One minute of event time per 1,200 rows: a 12,000-row replay covers ten 60 s panes in
    // a few seconds of wall clock, with a 1 σ shift of MedInc and AveRooms from the middle on.
    const paneMs = config.paneSeconds * 1000;
    const eventStepMs = paneMs / 1_200;
    // Event time runs ahead of the clock here, so a second demo starts after the panes the
    // store has already emitted (its events would be late otherwise), and a whole window later,
    // which keeps the previous run's panes out of this run's windows.
    const admin = runtime.kafka.admin();
    await admin.connect();
    const emittedUntil = await committedPaneEnd(
      admin,
      store.consumer.groupId,
      predictionsTopic(CALIFORNIA_HOUSING_MODEL),
    );
    await admin.disconnect();
    const gapPanes = config.driftWindowPanes + 1;
    const startMs =
      Math.max(Math.floor(Date.now() / paneMs), Math.floor((emittedUntil ?? 0) / paneMs) + gapPanes) * paneMs;
    const settings = parseReplayArgs(
      [
        '--url',
        service.url,
        '--scenario',
        'shift',
        '--features',
        'MedInc,AveRooms',
        '--k',
        '1',
        '--start',
        '0.5',
        '--rate',
        String(options.rate),
        '--limit',
        String(options.rows),
        '--event-time-step-ms',
        String(eventStepMs),
        '--event-time-start',
        new Date(startMs).toISOString(),
        '--feedback-delay-ms',
        '200',
      ],
      config,
    );
    say('4/5 replay: 12,000 rows, MedInc and AveRooms shifted by 1 σ from the middle on…');
    const result = await runReplay(settings, config, logger, (p) => say(`    ${formatProgress(p)}`));

    // The replay's last events are acknowledged by Kafka but may not be stored yet.
    const table = predictionsTable(CALIFORNIA_HOUSING_MODEL);
    const countSince = async (from: string, extra = '') => {
      const [row] = await store.storage.query<{ n: number }>(
        `SELECT count() AS n FROM ${from} FINAL WHERE event_time_ms >= ${startMs}${extra}`,
      );
      return Number(row?.n ?? 0);
    };
    const truthFilter = sql` AND model_name = ${CALIFORNIA_HOUSING_MODEL}`.text;
    let stored = 0;
    let truths = 0;
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
      await store.consumer.flush().catch(() => {});
      stored = await countSince(table);
      truths = await countSince('ground_truth', truthFilter);
      if (stored >= result.sent && truths >= result.feedback) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    // The replay is over: its last panes close now instead of after PANE_IDLE_SECONDS.
    await store.consumer.flush({ closeOpenPanes: true });
    // The drift consumer evaluates the windows that the last panes completed.
    const lastWindowEnd = startMs + Math.ceil((options.rows * eventStepMs) / paneMs) * paneMs;
    const evaluations = async () =>
      store.storage.query<DemoEvaluation>(
        sql`SELECT window_end_ms, state, transition, drifted_features, prediction_drifted, retrain_recommended,
              performance_verdict, rmse, report_path
            FROM drift_events FINAL
            WHERE model_name = ${CALIFORNIA_HOUSING_MODEL} AND window_end_ms > ${startMs}
            ORDER BY window_end_ms`.text,
      );
    let timeline = await evaluations();
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
      if ((timeline.at(-1)?.window_end_ms ?? 0) >= lastWindowEnd) break;
      await new Promise((r) => setTimeout(r, 500));
      await drift.consumer.flush().catch(() => {});
      timeline = await evaluations();
    }
    // Alerts for the last evaluations are delivered before the summary.
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; ) {
      await alert.consumer.flush().catch(() => {});
      if (!alert.consumer.stats().paused) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const alertStats = alert.stats();
    const stats = store.consumer.stats();
    say('5/5 summary');
    say(
      formatTable(
        ['STAGE', 'RESULT'],
        [
          ['replay', `${result.sent} predictions, ${result.feedback} ground-truth values`],
          ['store', `${stored} prediction rows, ${truths} ground-truth rows in ClickHouse (${store.storage.kind})`],
          ['sketches', `${stats.snapshotsEmitted} pane snapshots emitted to feature-sketches`],
          ['dead letters', String(stats.deadLettered)],
          [
            'drift',
            `${timeline.length} window evaluations, ${timeline.filter((e) => e.transition).length} state changes`,
          ],
          [
            'alerts',
            `${alertStats.opened} opened, ${alertStats.updated} updates, ${alertStats.resolved} resolved; ${alertStats.delivered} deliveries, ${alertStats.failed} failed (driftline alerts lists them)`,
          ],
        ],
      ),
    );
    say('');
    say(
      formatTable(
        ['WINDOW END', 'STATE', 'DRIFTED FEATURES', 'PREDICTION', 'RETRAIN', 'RMSE'],
        timeline.map((e) => [
          new Date(Number(e.window_end_ms)).toISOString().slice(11, 16),
          e.transition ? `${e.state} (changed)` : e.state,
          e.drifted_features.join(', ') || '-',
          e.prediction_drifted ? 'drifted' : 'ok',
          e.retrain_recommended ? 'recommended' : '-',
          e.rmse === null ? '-' : `${Number(e.rmse).toFixed(3)} (${e.performance_verdict})`,
        ]),
      ),
    );
    for (const path of new Set(timeline.flatMap((e) => (e.report_path ? [e.report_path] : [])))) {
      say(`drift report: ${path}`);
    }
    say('Explore: driftline sql "SELECT * FROM feature_sketches FINAL LIMIT 5" (after the demo exits).');
    await service.stop();
    await alert.stop();
    await drift.stop();
    await store.stop();
    await deleteGroup(runtime, driftGroup, logger);
    return 0;
  },
};
