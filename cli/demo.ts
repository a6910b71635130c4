/**
 * `driftline demo`, the main job on local defaults, closing the loop: services up, a champion
 * model (trained if there is none), the predict service, the store, drift, alert and retrain
 * consumers, and a replay whose features shift and whose target changes halfway; the retraining
 * promotes a challenger trained on the drifted traffic, the predict service swaps to it, and more
 * drifted traffic shows the new version's windows ok. Then a summary of what each stage saw.
 * Everything runs in this process except the services. On a TTY a status block is redrawn in
 * place meanwhile (status-view.ts); Ctrl-C, or the end of `--duration`, stops it cleanly.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { runAlert } from '../consumers/alert/main.ts';
import { runDrift } from '../consumers/drift/main.ts';
import type { RetrainProgress } from '../consumers/retrain/cycle.ts';
import { runRetrain } from '../consumers/retrain/main.ts';
import { committedPaneEnd } from '../consumers/store/consumer.ts';
import { runStore } from '../consumers/store/main.ts';
import type { Config } from '../core/config.ts';
import { createLogger, type Logger } from '../core/logger.ts';
import { predictionsTable } from '../core/prediction-table.ts';
import { type Storage, sql } from '../core/storage/index.ts';
import { predictionsTopic } from '../core/topics.ts';
import { type RunningDashboard, startDashboard } from '../dashboard/main.ts';
import { CALIFORNIA_HOUSING_MODEL } from '../model/california-housing.ts';
import { ModelRegistry } from '../model/registry.ts';
import { trainModel } from '../model/train.ts';
import { type Runtime, startRuntime } from '../platform/runtime.ts';
import { startPredictService } from '../producers/predict-service/main.ts';
import type { Command } from './command.ts';
import {
  DEFAULT_FEATURES,
  DEFAULT_SCENARIO,
  exitCodeOf,
  parseDemoArgs,
  type StopReason,
  scenarioArgs,
} from './demo-options.ts';
import { liveTerminal } from './live-terminal.ts';
import { formatProgress, parseReplayArgs, runReplay } from './replay.ts';
import { type DemoStatus, initialStatus, renderStatus, statusChanges, type VersionStatus } from './status-view.ts';
import { formatTable } from './table.ts';

export interface DemoEvaluation extends Record<string, unknown> {
  model_version: number;
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

/**
 * The demo's retraining acts within its few minutes: in this process (no Airflow), on the drifted
 * traffic only (no original rows mixed in, so the new version's reference profile is the drifted
 * traffic), after a few labels, with few epochs, and once per run: the run's later triggers are
 * about the replaced version (refused as stale) or fall in the cooldown.
 */
function demoRetrainConfig(config: Readonly<Config>, epochs: number): Readonly<Config> {
  return {
    ...config,
    retrain: {
      ...config.retrain,
      mode: 'inprocess',
      airflow: undefined,
      minLabels: 1_000,
      baseShare: 0,
      epochs,
      cooldownSeconds: 15,
    },
  };
}

/** Removes one of the demo's own groups: nothing will resume it. */
async function deleteGroup(runtime: Runtime, groupId: string, logger: Logger): Promise<void> {
  const admin = runtime.kafka.admin();
  try {
    await admin.connect();
    await admin.deleteGroups([groupId]);
  } catch (error) {
    logger.warn({ err: error, groupId }, 'removing a demo group failed');
  } finally {
    await admin.disconnect();
  }
}

/**
 * Event time of a demo run may run this far ahead of the clock. Each run on one Kafka starts a
 * window after the panes the previous one left (about 25 min of event time per run, replayed in
 * seconds), so back-to-back runs creep ahead: a day's allowance covers dozens of them.
 */
function demoClockConfig(config: Readonly<Config>): Readonly<Config> {
  return { ...config, maxClockSkewSeconds: Math.max(config.maxClockSkewSeconds, 86_400) };
}

/**
 * After the first replay, two panes (one minute of event time per 1,200 rows) of drifted traffic
 * still reach the old version: their windows trigger the retraining.
 */
const BRIDGE_ROWS = 2_400;

/**
 * On a TTY the status block holds the screen, so the components log to a file instead of
 * stderr (pino's JSON lines would scroll the block away).
 */
function demoLogger(config: Readonly<Config>, logger: Logger, live: boolean): { logger: Logger; file?: string } {
  if (!live) return { logger };
  const file = join(config.home, 'logs', 'demo.log');
  return { logger: createLogger(config.logLevel, pino.destination({ dest: file, mkdir: true })), file };
}

/** Whether something on this machine already listens on `port` (loopback). */
function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(true));
    probe.listen({ host: '127.0.0.1', port }, () => probe.close(() => resolve(false)));
  });
}

/** The dashboard's port: `wanted` (DASHBOARD_PORT) when free, else 0 (the system picks a free one). */
export async function dashboardPort(wanted: number): Promise<{ port: number; taken: boolean }> {
  const taken = wanted !== 0 && (await portTaken(wanted));
  return { port: taken ? 0 : wanted, taken };
}

/**
 * The dashboard on the demo's own storage and runtime, so its page shows what the consumers write
 * in this process: on DASHBOARD_PORT (default 8080), or on a free port when that one is taken.
 */
async function startDemoDashboard(
  config: Readonly<Config>,
  logger: Logger,
  storage: Storage,
  runtime: Runtime,
  say: (line: string) => void,
): Promise<RunningDashboard> {
  const { port, taken } = await dashboardPort(config.dashboardPort);
  const dashboard = await startDashboard({ config, logger, storage, runtime, port });
  if (taken) say(`    port ${config.dashboardPort} (DASHBOARD_PORT) is taken: the dashboard took a free one`);
  return dashboard;
}

/**
 * The demo starts from a version trained on the original data: after an earlier run the champion
 * is that run's retrained version, whose reference profile is the drifted traffic (the undrifted
 * half would look drifted against it), so the newest original version is promoted back.
 */
async function ensureChampion(config: Readonly<Config>, logger: Logger, say: (line: string) => void): Promise<number> {
  const registry = ModelRegistry.fromConfig(config);
  const champion = await registry.champion(CALIFORNIA_HOUSING_MODEL);
  if (champion !== null) {
    const versions = await registry.listVersions(CALIFORNIA_HOUSING_MODEL);
    if (!versions.find((v) => v.version === champion)?.origin) return champion;
    const original = versions.filter((v) => !v.origin).at(-1);
    if (original) {
      say(
        `v${champion} is a retrained version: the demo starts again from v${original.version}, trained on the original data`,
      );
      await registry.promote(CALIFORNIA_HOUSING_MODEL, original.version);
      return original.version;
    }
  }
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
  usage:
    'demo [--duration 180s] [--scenario shift+concept] [--features a,b] [--filter F>=x] [--rate N] [--keep-running] [--rows N] [--after-rows N] [--drift-share F] [--epochs N]',
  summary:
    'the main job, loop closed: predict service, store, drift, alert and retrain consumers, a replay that drifts halfway, a retraining deployed, its windows ok; a live status on a terminal; Ctrl-C stops it cleanly',
  async run(args, context) {
    const { out } = context;
    let { config } = context;
    const options = parseDemoArgs(args, config);
    const demoStartedAt = Date.now();
    const terminal = liveTerminal(out);
    const say = (line: string) => terminal.log(line);
    // Replay and epoch progress: lines in plain output; on a TTY the status block shows them.
    const sayPlain = (line: string) => {
      if (!terminal.live) terminal.log(line);
    };
    const { logger, file: logFile } = demoLogger(config, context.logger, terminal.live);
    if (logFile) say(`logs: ${logFile}`);

    // Ctrl-C (or SIGTERM) and the end of --duration abort what runs; every wait below listens to
    // this signal, and whatever started is closed in the finally block, in `closers` order.
    const stopping = new AbortController();
    let stopReason: StopReason | undefined;
    let signalled: NodeJS.Signals | undefined;
    /** Set while --keep-running holds the components after the summary: a signal releases it. */
    let release: (() => void) | undefined;
    const stop = (reason: StopReason) => {
      if (stopping.signal.aborted) return;
      stopReason = reason;
      stopping.abort(reason);
    };
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) {
        say(`${signal} again: exiting without waiting for the components`);
        process.exit(exitCodeOf(signal));
      }
      signalled = signal;
      say(`${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping…`);
      if (release) release();
      else stop(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const budget = setTimeout(() => stop('duration'), options.durationMs);
    const check = () => stopping.signal.throwIfAborted();
    const pause = (ms: number) => sleep(ms, undefined, { signal: stopping.signal });
    /** `ms` from now, but never past the run's budget. */
    const until = (ms: number) => Math.min(Date.now() + ms, demoStartedAt + options.durationMs);
    /** What to close at the end, in `order`: the predict service first (no new events), the store last. */
    const closers: { order: number; name: string; close(): Promise<unknown> }[] = [];

    const status: DemoStatus = initialStatus(CALIFORNIA_HOUSING_MODEL, demoStartedAt, options.durationMs);
    const phase = (text: string) => {
      status.phase = text.replace(/…$/, '');
      say(text);
    };
    let redraw = () => terminal.draw(renderStatus(status, Date.now()));
    const ticker = setInterval(() => redraw(), 1_000);
    redraw();

    let exitCode = 0;
    try {
      phase('1/7 services: Kafka, schema registry (environment, containers or the local stack)…');
      // The replay compresses minutes of event time into seconds of wall clock and runs ahead of
      // it; the demo's own services accept that much clock skew (the event contract's bound).
      config = demoClockConfig(config);
      const runtime = await startRuntime(config, logger);
      check();
      const version = await ensureChampion(config, logger, say);
      check();
      say(`2/7 model: ${CALIFORNIA_HOUSING_MODEL} v${version} is champion`);

      const service = await startPredictService(config, logger, runtime, CALIFORNIA_HOUSING_MODEL, {
        host: '127.0.0.1',
        port: 0,
      });
      closers.push({ order: 0, name: 'predict service closed', close: service.stop });
      const store = await runStore(config, logger, runtime);
      closers.push({
        order: 5,
        name: 'store consumer stopped: what it consumed is stored, its offsets committed',
        close: store.stop,
      });
      check();
      const driftConfig = demoDriftConfig(config, options.driftShare);
      // This run's sketches only: a drift group of its own that starts at the end of feature-sketches.
      // A group shared by every demo on one Kafka would judge an earlier run's sketches (another
      // home, another trained v1) against this run's reference profile.
      const driftGroup = `driftline-drift-demo-${randomUUID()}`;
      closers.push({ order: 6, name: 'drift group removed', close: () => deleteGroup(runtime, driftGroup, logger) });
      const drift = await runDrift(driftConfig, logger, runtime, {
        models: [CALIFORNIA_HOUSING_MODEL],
        groupId: driftGroup,
        startAt: 'end',
      });
      closers.push({ order: 4, name: 'drift consumer stopped, its offsets committed', close: drift.stop });
      // Alerts beside drift: with no channel configured they are printed here (and logged). It shares
      // the store's ClickHouse (embedded chDB is one engine per process).
      const alert = await runAlert(config, logger, runtime, { out: terminal.stream, storage: store.storage });
      closers.push({ order: 3, name: 'alert consumer stopped, its offsets committed', close: alert.stop });
      check();
      say(
        `3/7 predict service at ${service.url}; store, drift and alert consumers on ClickHouse (${store.storage.kind}); alerts go to ${alert.channels.join(', ')}`,
      );
      const dashboard = await startDemoDashboard(config, logger, store.storage, runtime, say);
      closers.push({ order: 1, name: 'dashboard closed', close: dashboard.close });
      status.dashboardUrl = dashboard.url;
      say(`    dashboard at ${dashboard.url}${config.dashboardToken ? ' (DASHBOARD_TOKEN required)' : ''}`);

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
      const panesOf = (rows: number) => Math.ceil((rows * eventStepMs) / paneMs);

      const table = predictionsTable(CALIFORNIA_HOUSING_MODEL);
      const truthFilter = sql` AND model_name = ${CALIFORNIA_HOUSING_MODEL}`.text;
      /** Rows from `fromMs` on; `final: false` counts a rare duplicate twice, cheaply (for the status). */
      const countSince = async (fromMs: number, from: string, extra = '', final = true) => {
        const [row] = await store.storage.query<{ n: number }>(
          `SELECT count() AS n FROM ${from}${final ? ' FINAL' : ''} WHERE event_time_ms >= ${fromMs}${extra}`,
        );
        return Number(row?.n ?? 0);
      };
      const evaluations = async () =>
        store.storage.query<DemoEvaluation>(
          sql`SELECT model_version, window_end_ms, state, transition, drifted_features, prediction_drifted,
                retrain_recommended, performance_verdict, rmse, report_path
              FROM drift_events FINAL
              WHERE model_name = ${CALIFORNIA_HOUSING_MODEL} AND window_end_ms > ${startMs}
              ORDER BY window_end_ms, model_version`.text,
        );
      let timeline: DemoEvaluation[] = [];
      let sent = 0;
      let feedback = 0;
      let stored = 0;
      let truths = 0;
      let runs: DemoRetrainRun[] = [];
      let promoted: DemoRetrainRun | undefined;
      let deployedAt: number | undefined;
      const retrainGroup = `driftline-retrain-demo-${randomUUID()}`;
      status.events.total = options.rows + BRIDGE_ROWS + options.afterRows;

      // The status follows the components: alerts from their stats; this run's rows and windows
      // from ClickHouse (the store's own counters include any backlog other producers left).
      let polling = false;
      const refresh = async () => {
        const before: DemoStatus = { ...status, versions: status.versions };
        const alertStats = alert.stats();
        status.serving = service.slot.current?.version;
        status.alerts = { ...alertStats, channels: alert.channels };
        if (!polling) {
          polling = true;
          try {
            status.versions = versionsOf(await evaluations());
            status.events.stored = await countSince(startMs, table, '', false);
            status.events.groundTruth = await countSince(startMs, 'ground_truth', truthFilter, false);
          } catch (error) {
            logger.warn({ err: error }, 'reading the status from ClickHouse failed');
          } finally {
            polling = false;
          }
        }
        if (!terminal.live) for (const line of statusChanges(before, status)) say(line);
        terminal.draw(renderStatus(status, Date.now()));
      };
      redraw = () => {
        refresh().catch((error: unknown) => logger.warn({ err: error }, 'refreshing the status failed'));
      };

      /**
       * One replay of `rows` from event time `fromMs` (drifted from `driftStart` of it on), then
       * waits until ClickHouse holds it, closes its last panes and waits for the drift consumer's
       * evaluation of the window its last pane completes.
       */
      const replayAndSettle = async (rows: number, fromMs: number, driftStart: number) => {
        const settings = parseReplayArgs(
          [
            '--url',
            service.url,
            ...scenarioArgs(options),
            '--k',
            '1',
            '--factor',
            '1.5',
            '--start',
            String(driftStart),
            '--rate',
            String(options.rate),
            '--limit',
            String(rows),
            '--event-time-step-ms',
            String(eventStepMs),
            '--event-time-start',
            new Date(fromMs).toISOString(),
            '--feedback-delay-ms',
            '200',
          ],
          config,
        );
        const sentBefore = sent;
        const result = await runReplay(
          settings,
          config,
          logger,
          (p) => {
            status.events.sent = sentBefore + p.sent;
            status.events.perSecond = p.elapsedMs > 0 ? (p.sent / p.elapsedMs) * 1000 : 0;
            sayPlain(`    ${formatProgress(p)}`);
          },
          stopping.signal,
        );
        sent += result.sent;
        feedback += result.feedback;
        status.events.perSecond = 0;
        check();
        // The replay's last events are acknowledged by Kafka but may not be stored yet.
        for (const deadline = until(60_000); Date.now() < deadline; ) {
          await store.consumer.flush().catch(() => {});
          stored = await countSince(startMs, table);
          truths = await countSince(startMs, 'ground_truth', truthFilter);
          if (stored >= sent && truths >= feedback) break;
          await pause(250);
        }
        check();
        // The replay is over: its last panes close now instead of after PANE_IDLE_SECONDS.
        await store.consumer.flush({ closeOpenPanes: true });
        const lastWindowEnd = fromMs + panesOf(rows) * paneMs;
        timeline = await evaluations();
        for (const deadline = until(60_000); Date.now() < deadline; ) {
          if ((timeline.at(-1)?.window_end_ms ?? 0) >= lastWindowEnd) break;
          await pause(500);
          await drift.consumer.flush().catch(() => {});
          timeline = await evaluations();
        }
        check();
      };

      try {
        phase(
          options.scenario === DEFAULT_SCENARIO && options.features === DEFAULT_FEATURES
            ? `4/7 replay: ${options.rows} rows; from the middle on MedInc and AveRooms shift by 1 σ and the price rises by half (the old model under-predicts)…`
            : `4/7 replay: ${options.rows} rows; scenario ${options.scenario} on ${options.features.split(',').join(', ')} from the middle on…`,
        );
        await replayAndSettle(options.rows, startMs, 0.5);
        const firstDrift = timeline.find((e) => e.state === 'drift');
        if (firstDrift) {
          say(
            `    drift detected on v${firstDrift.model_version} in the window ending ${clock(firstDrift.window_end_ms)}: ${firstDrift.drifted_features.join(', ')}`,
          );
        }

        // The retrain consumer joins now, at the end of drift-events: the drifted half is stored, so the
        // next trigger trains on it (the newest labelled rows, all drifted) instead of on the first
        // drifted pane; it shares the store's ClickHouse like the alert consumer.
        let lastEpochSaid = 0;
        const onProgress = (p: RetrainProgress) => {
          if (p.kind === 'training') {
            lastEpochSaid = 0;
            status.retrain = { kind: 'training', epoch: 0, epochs: p.epochs, loss: null, rows: p.recentRows };
            say(
              `    retraining started: ${p.recentRows} recent labelled rows to train on, ${p.holdoutRows} newest held out, ${p.epochs} epochs`,
            );
          } else {
            const rows = status.retrain.kind === 'training' ? status.retrain.rows : 0;
            status.retrain = { kind: 'training', epoch: p.epoch, epochs: p.epochs, loss: p.loss, rows };
            terminal.draw(renderStatus(status, Date.now()));
            if (p.epoch === p.epochs || p.epoch - lastEpochSaid >= 5) {
              lastEpochSaid = p.epoch;
              sayPlain(`    epoch ${p.epoch}/${p.epochs}: loss ${p.loss.toFixed(4)}`);
            }
          }
        };
        closers.push({
          order: 6,
          name: 'retrain group removed',
          close: () => deleteGroup(runtime, retrainGroup, logger),
        });
        const retrain = await runRetrain(demoRetrainConfig(config, options.epochs), logger, runtime, {
          groupId: retrainGroup,
          startAt: 'end',
          storage: store.storage,
          maxRows: Math.floor(options.rows / 2),
          onProgress,
        });
        // Stopped before the alert, drift and store consumers: it shares the store's ClickHouse.
        closers.push({ order: 2, name: 'retrain consumer stopped, its offsets committed', close: retrain.stop });
        const bridgeStartMs = startMs + panesOf(options.rows) * paneMs;
        phase(
          `5/7 retrain consumer running; ${BRIDGE_ROWS} more drifted rows reach v${version}: its drift persists and the retraining starts…`,
        );
        await replayAndSettle(BRIDGE_ROWS, bridgeStartMs, 0);
        for (const deadline = until(180_000); Date.now() < deadline; ) {
          runs = await store.storage.query<DemoRetrainRun>(
            sql`SELECT run_id, state, reason, champion_version, challenger_version, champion_rmse, challenger_rmse
                FROM retrain_runs
                WHERE model_name = ${CALIFORNIA_HOUSING_MODEL} AND started_at_ms >= ${demoStartedAt}
                ORDER BY started_at_ms`.text,
          );
          const cycles = retrain.stats().cycles;
          if (cycles.promoted + cycles.rejected + cycles.failed > 0 && retrain.stats().running === 0) break;
          await pause(500);
        }
        check();
        for (const run of runs) {
          say(
            `    retraining ${run.state}${run.challenger_version ? `: v${run.challenger_version}` : ''} — ${run.reason}`,
          );
        }
        promoted = runs.find((r) => r.state === 'promoted');
        const decided = promoted ?? runs.at(-1);
        if (decided) {
          status.retrain = {
            kind: 'done',
            state: decided.state,
            challenger: decided.challenger_version ?? null,
            challengerRmse: decided.challenger_rmse === null ? null : Number(decided.challenger_rmse),
            championRmse: decided.champion_rmse === null ? null : Number(decided.champion_rmse),
          };
        }
        if (promoted) {
          // The predict service follows model-deployments and swaps to the promoted version.
          for (const deadline = until(30_000); Date.now() < deadline; ) {
            if (service.slot.current?.version === promoted.challenger_version) {
              deployedAt = Date.now();
              status.deployed = { version: promoted.challenger_version, atMs: deployedAt };
              break;
            }
            await pause(200);
          }
          check();
          say(
            deployedAt
              ? `    deployed: the predict service now serves v${promoted.challenger_version}`
              : `    v${promoted.challenger_version} was promoted but the predict service did not swap within 30 s`,
          );
        } else {
          say(
            '    no version was promoted (see the retraining above); the drifted traffic still reaches the old version',
          );
        }

        const afterStartMs = bridgeStartMs + panesOf(BRIDGE_ROWS) * paneMs;
        phase(`6/7 replay: ${options.afterRows} more drifted rows, now answered by the deployed version…`);
        await replayAndSettle(options.afterRows, afterStartMs, 0);
        const answered = await store.storage.query<{ model_version: number; n: number }>(
          `SELECT model_version, count() AS n FROM ${table} FINAL WHERE event_time_ms >= ${afterStartMs}
           GROUP BY model_version ORDER BY model_version`,
        );
        say(
          `    the predict service answered ${answered.map((a) => `${a.n} requests with v${a.model_version}`).join(', ')}`,
        );
        // Alerts for the last evaluations are delivered before the summary.
        for (const deadline = until(15_000); Date.now() < deadline; ) {
          await alert.consumer.flush().catch(() => {});
          if (!alert.consumer.stats().paused) break;
          await pause(500);
        }
      } catch (error) {
        // The end of --duration cuts the loop short but still summarizes what it reached.
        if (stopReason !== 'duration') throw error;
        say(`--duration of ${Math.round(options.durationMs / 1000)} s reached: stopping where the demo is`);
        timeline = await evaluations();
        stored = await countSince(startMs, table);
        truths = await countSince(startMs, 'ground_truth', truthFilter);
      }
      clearTimeout(budget);
      clearInterval(ticker);
      await refresh();
      terminal.clear();

      const alertStats = alert.stats();
      const stats = store.consumer.stats();
      const latest = promoted
        ? timeline.filter((e) => e.model_version === promoted?.challenger_version).at(-1)
        : undefined;
      say(`7/7 summary (${Math.round((Date.now() - demoStartedAt) / 1000)} s)`);
      say(
        formatTable(
          ['STAGE', 'RESULT'],
          [
            ['replay', `${sent} predictions, ${feedback} ground-truth values`],
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
            [
              'retraining',
              promoted
                ? `v${promoted.challenger_version} promoted: RMSE ${fmt(promoted.challenger_rmse)} vs v${promoted.champion_version}'s ${fmt(promoted.champion_rmse)} on the newest drifted traffic`
                : `nothing promoted (${runs.map((r) => r.state).join(', ') || 'no cycle'})`,
            ],
            [
              'deployment',
              promoted && deployedAt
                ? `predict service on v${promoted.challenger_version} ${Math.round((deployedAt - demoStartedAt) / 1000)} s into the demo; its last window: ${latest?.state ?? 'not evaluated'}`
                : 'none',
            ],
          ],
        ),
      );
      say('');
      say(
        formatTable(
          ['WINDOW END', 'VERSION', 'STATE', 'DRIFTED FEATURES', 'PREDICTION', 'RETRAIN', 'RMSE'],
          timeline.map((e) => [
            clock(e.window_end_ms),
            `v${e.model_version}`,
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
      say(`dashboard: ${dashboard.url}`);
      if (options.keepRunning) {
        say(
          `--keep-running: the predict service (${service.url}), the store, drift, alert and retrain consumers and the dashboard (${dashboard.url}) keep running; Ctrl-C stops them`,
        );
        // A Ctrl-C that came while the summary was printed has already asked to stop.
        if (!signalled)
          await new Promise<void>((resolve) => {
            release = resolve;
          });
      } else {
        say('Explore: driftline sql "SELECT * FROM retrain_runs ORDER BY started_at_ms" (after the demo exits).');
      }
    } catch (error) {
      if (!stopping.signal.aborted) throw error;
      // Stopped before the summary: what started is closed below.
      if (stopReason === 'duration')
        say(`--duration of ${Math.round(options.durationMs / 1000)} s reached before the replay began: stopping`);
      exitCode = exitCodeOf(stopReason);
    } finally {
      clearTimeout(budget);
      clearInterval(ticker);
      terminal.clear();
      const interrupted = signalled !== undefined;
      if (interrupted) say('stopping: predict service first, then each consumer flushes and commits its offsets');
      for (const closer of closers.sort((a, b) => a.order - b.order)) {
        try {
          await closer.close();
          if (interrupted) say(`    ${closer.name}`);
        } catch (error) {
          say(`    closing failed (${closer.name}): ${(error as Error).message}`);
        }
      }
      if (interrupted) say('stopped cleanly');
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    return exitCode;
  },
};

/** The latest window of each version evaluated in this run, oldest version first. */
export function versionsOf(timeline: readonly DemoEvaluation[]): VersionStatus[] {
  const byVersion = new Map<number, VersionStatus>();
  for (const e of timeline) {
    const version = Number(e.model_version);
    byVersion.set(version, {
      version,
      state: e.state,
      driftedFeatures: e.drifted_features,
      windows: (byVersion.get(version)?.windows ?? 0) + 1,
      retrainRecommended: Boolean(e.retrain_recommended),
      rmse: e.rmse === null ? null : Number(e.rmse),
      performance: e.performance_verdict,
    });
  }
  return [...byVersion.values()].sort((a, b) => a.version - b.version);
}

interface DemoRetrainRun extends Record<string, unknown> {
  run_id: string;
  state: string;
  reason: string;
  champion_version: number;
  challenger_version: number;
  champion_rmse: number | null;
  challenger_rmse: number | null;
}

function clock(ms: number): string {
  return new Date(Number(ms)).toISOString().slice(11, 16);
}

function fmt(n: number | null): string {
  return n === null ? 'n/a' : Number(n).toFixed(3);
}
