/**
 * One retraining cycle, callable from anywhere (the retrain consumer, `driftline retrain`, a
 * dashboard button): guardrails, then either a DAG run (RETRAIN_MODE=airflow) or, in this
 * process, the training set from ClickHouse, a challenger trained with TF.js, champion and
 * challenger scored on the same recent holdout, the new version written to the model registry
 * (promoted or rejected, with why) and, when promoted, announced on `model-deployments` so that
 * every predict service swaps to it. Every cycle ends in one `retrain_runs` row, refusals included.
 *
 * One training per model at a time: in this process a set of running models, across processes the
 * model registry's training lock. The cooldown is read from `retrain_runs`, so it holds across
 * restarts and processes.
 */
import { randomUUID } from 'node:crypto';
import type { AirflowConfig, RetrainConfig } from '../../core/config.ts';
import { describeError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { predictionsTable } from '../../core/prediction-table.ts';
import type { ModelDeployment } from '../../core/schemas.ts';
import type { Storage } from '../../core/storage/index.ts';
import { type Dataset, loadCaliforniaHousing } from '../../model/dataset.ts';
import { regressionMetrics } from '../../model/metrics.ts';
import type { ModelLoader } from '../../model/model-loader.ts';
import type { VersionOrigin } from '../../model/registry.ts';
import { trainModel } from '../../model/train.ts';
import { type AirflowClientOptions, triggerDagRun } from './airflow.ts';
import {
  buildTrainingSet,
  checkBeforeTraining,
  checkLabels,
  decidePromotion,
  type LabelledRow,
  type Refusal,
  type RetrainTrigger,
} from './decision.ts';
import { labelledCountSql, labelledRowsSql, lastCycleSql, tableExistsSql } from './queries.ts';

export type RunState = 'promoted' | 'rejected' | 'refused' | 'dag_triggered' | 'failed';

/** One `retrain_runs` row. */
export interface RetrainRun {
  run_id: string;
  model_name: string;
  trigger: RetrainTrigger['kind'];
  trigger_event_id: string;
  trigger_model_version: number;
  trigger_reason: string;
  mode: RetrainConfig['mode'];
  state: RunState;
  refusal: Refusal | '';
  reason: string;
  champion_version: number;
  challenger_version: number;
  champion_rmse: number | null;
  challenger_rmse: number | null;
  champion_mae: number | null;
  challenger_mae: number | null;
  improvement: number | null;
  labelled_rows: number;
  recent_train_rows: number;
  base_rows: number;
  holdout_rows: number;
  epochs: number;
  deployed: boolean;
  dag_run_id: string;
  attempts: number;
  started_at: Date;
  started_at_ms: number;
  finished_at_ms: number;
  duration_ms: number;
  query_ms: number;
  train_ms: number;
  evaluate_ms: number;
  deploy_ms: number;
}

export interface RetrainerOptions {
  storage: Storage;
  /** The model registry, able to load networks (the champion is scored). */
  registry: ModelLoader;
  settings: RetrainConfig;
  /** Announces a deployment on `model-deployments` (core/deployments.ts publishDeployment). */
  deploy(deployment: ModelDeployment): Promise<void>;
  logger: Logger;
  now?: () => number;
  /** The original training data mixed in at RETRAIN_BASE_SHARE (default: the shipped California housing data). */
  baseData?: () => Promise<Dataset>;
  /** Seed of the base-row draw and the challenger's training (default 42). */
  seed?: number;
  /** Most recent labelled rows read (default 200,000). */
  maxRows?: number;
  airflowClient?: AirflowClientOptions;
  /**
   * How far ahead of the clock a labelled row's event time may lie and still be trained on (ms;
   * default 60 s). The services accept events up to MAX_CLOCK_SKEW_SECONDS ahead (main.ts passes it).
   */
  maxAheadMs?: number;
  /** Told as a cycle trains (the demo prints it); the cycle's end is the row `run` resolves with. */
  onProgress?: (progress: RetrainProgress) => void;
}

/** A cycle's progress: its training set, then each epoch of the challenger. */
export type RetrainProgress =
  | {
      kind: 'training';
      model: string;
      runId: string;
      recentRows: number;
      baseRows: number;
      holdoutRows: number;
      epochs: number;
    }
  | { kind: 'epoch'; model: string; runId: string; epoch: number; epochs: number; loss: number };

export interface Retrainer {
  /** Runs one cycle for the trigger; always resolves with the row it recorded (state failed on errors). */
  run(trigger: RetrainTrigger): Promise<RetrainRun>;
  /** Models with a cycle running in this process. */
  running(): string[];
}

export function createRetrainer(options: RetrainerOptions): Retrainer {
  const log = options.logger.child({ component: 'retrain' });
  const now = options.now ?? Date.now;
  const { storage, registry, settings } = options;
  const running = new Set<string>();
  const seed = options.seed ?? 42;

  async function lastCycleAt(model: string): Promise<number | undefined> {
    const [row] = await storage.query<{ last_ms: string | number; cycles: string | number }>(lastCycleSql(model));
    return row && Number(row.cycles) > 0 ? Number(row.last_ms) : undefined;
  }

  async function record(run: RetrainRun): Promise<void> {
    await storage.insert('retrain_runs', [{ ...run, deployed: run.deployed ? 1 : 0 }]);
  }

  async function run(trigger: RetrainTrigger): Promise<RetrainRun> {
    const startedAt = now();
    const row: RetrainRun = {
      run_id: randomUUID(),
      model_name: trigger.model,
      trigger: trigger.kind,
      trigger_event_id: trigger.eventId,
      trigger_model_version: trigger.modelVersion,
      trigger_reason: trigger.reason,
      mode: settings.mode,
      state: 'failed',
      refusal: '',
      reason: '',
      champion_version: 0,
      challenger_version: 0,
      champion_rmse: null,
      challenger_rmse: null,
      champion_mae: null,
      challenger_mae: null,
      improvement: null,
      labelled_rows: 0,
      recent_train_rows: 0,
      base_rows: 0,
      holdout_rows: 0,
      epochs: settings.mode === 'inprocess' ? settings.epochs : 0,
      deployed: false,
      dag_run_id: '',
      attempts: 0,
      started_at: new Date(startedAt),
      started_at_ms: startedAt,
      finished_at_ms: 0,
      duration_ms: 0,
      query_ms: 0,
      train_ms: 0,
      evaluate_ms: 0,
      deploy_ms: 0,
    };
    const cycleLog = log.child({ model: trigger.model, runId: row.run_id, trigger: trigger.kind });
    let mine = false;
    try {
      const champion = await registry.champion(trigger.model);
      row.champion_version = champion ?? 0;
      const served = champion === null ? undefined : (await registry.readVersion(trigger.model, champion)).served;
      const guard = checkBeforeTraining({
        trigger,
        champion,
        servedElsewhere: settings.mode !== 'airflow' && served === 'external',
        running: running.has(trigger.model),
        lastCycleAt: await lastCycleAt(trigger.model),
        now: startedAt,
        cooldownSeconds: settings.cooldownSeconds,
      });
      if (!guard.ok) {
        Object.assign(row, { state: 'refused', refusal: guard.refusal, reason: guard.reason });
      } else if (settings.mode === 'airflow' && settings.airflow) {
        running.add(trigger.model);
        mine = true;
        await startDagRun(settings.airflow, trigger, row);
      } else {
        running.add(trigger.model);
        mine = true;
        const locked = await registry.withTrainingLock(trigger.model, () =>
          train(trigger, row, champion as number, cycleLog),
        );
        if (!locked.acquired) {
          Object.assign(row, {
            state: 'refused',
            refusal: 'running',
            reason: `a retraining of ${trigger.model} is running in another process (the registry's training lock is held)`,
          });
        }
      }
    } catch (error) {
      row.state = 'failed';
      row.reason = describeError(error);
      cycleLog.error({ err: error }, 'retraining cycle failed');
    } finally {
      if (mine) running.delete(trigger.model);
    }
    row.finished_at_ms = now();
    row.duration_ms = row.finished_at_ms - startedAt;
    try {
      await record(row);
    } catch (error) {
      // The outcome stands (a version may be promoted); only its record is missing: say so loudly.
      cycleLog.error({ err: error, run: row }, 'the retraining cycle could not be recorded in retrain_runs');
    }
    const level = row.state === 'failed' ? 'error' : 'info';
    cycleLog[level](
      {
        state: row.state,
        refusal: row.refusal || undefined,
        reason: row.reason,
        championRmse: row.champion_rmse,
        challengerRmse: row.challenger_rmse,
        version: row.challenger_version || undefined,
        durationMs: row.duration_ms,
      },
      'retraining cycle done',
    );
    return row;
  }

  async function startDagRun(airflow: AirflowConfig, trigger: RetrainTrigger, row: RetrainRun): Promise<void> {
    const conf = {
      model: trigger.model,
      trigger: trigger.kind,
      reason: trigger.reason,
      drift_event_id: trigger.eventId,
      retrain_run_id: row.run_id,
      champion_version: row.champion_version,
      ...trigger.summary,
    };
    const started = now();
    try {
      const result = await triggerDagRun(
        airflow,
        {
          dagRunId: `driftline__${trigger.model}__${row.run_id}`,
          logicalDate: new Date(started),
          conf,
          note: `Driftline ${trigger.kind} retraining of ${trigger.model}: ${trigger.reason}`.slice(0, 1000),
        },
        {
          ...options.airflowClient,
          onRetry: (info) =>
            log.warn({ model: trigger.model, ...info }, 'starting the Airflow DAG run failed; retrying'),
        },
      );
      Object.assign(row, {
        state: 'dag_triggered',
        dag_run_id: result.dagRunId,
        attempts: result.attempts,
        reason: `DAG ${airflow.dagId} run ${result.dagRunId} started${result.existed ? ' (it existed already)' : ''}`,
      });
    } catch (error) {
      row.attempts = Number((error as { details?: { attempts?: unknown } }).details?.attempts ?? 0);
      throw error;
    } finally {
      row.deploy_ms = now() - started;
    }
  }

  async function train(trigger: RetrainTrigger, row: RetrainRun, champion: number, cycleLog: Logger): Promise<void> {
    const model = trigger.model;
    const championArtifacts = await registry.readVersion(model, champion);
    const features = championArtifacts.spec.features.map((f) => f.name);
    // 1. The label minimum and the recent labelled rows.
    let t = now();
    const until = t + (options.maxAheadMs ?? 60_000);
    const since = t - settings.windowHours * 3_600_000;
    const tableExists =
      Number((await storage.query<{ n: number }>(tableExistsSql(predictionsTable(model))))[0]?.n ?? 0) > 0;
    const labelled = tableExists
      ? Number((await storage.query<{ labelled: number }>(labelledCountSql(model, since, until)))[0]?.labelled ?? 0)
      : 0;
    row.labelled_rows = labelled;
    const labels = checkLabels(labelled, settings.minLabels, settings.windowHours);
    if (!labels.ok) {
      Object.assign(row, { state: 'refused', refusal: labels.refusal, reason: labels.reason, query_ms: now() - t });
      return;
    }
    const raw = await storage.query<Record<string, unknown>>(
      labelledRowsSql(model, features, since, until, options.maxRows ?? 200_000),
    );
    const recent: LabelledRow[] = [];
    for (const r of raw) {
      const values = features.map((f) => Number(r[f]));
      const actual = Number(r.actual);
      // Non-finite features (stored as they came, README) would poison the fit: leave those rows out.
      if (values.every(Number.isFinite) && Number.isFinite(actual))
        recent.push({ features: values, actual, eventTimeMs: Number(r.event_time_ms) });
    }
    const base = await baseRows(features, cycleLog);
    const set = buildTrainingSet(recent, base, settings.baseShare, seed);
    Object.assign(row, {
      recent_train_rows: set.recentTrainRows,
      base_rows: set.baseRows,
      holdout_rows: set.holdout.x.length,
      query_ms: now() - t,
    });

    // 2. The challenger, trained on the mix and measured on the recent holdout.
    t = now();
    const { metrics: championMetrics } = championArtifacts;
    // Refused before this point (SERVED_ELSEWHERE): a version registered from a reference file has no training set-up.
    if (championMetrics.evaluatedOn !== 'holdout') throw new Error(`${model} v${champion} was not trained here`);
    const hp = championMetrics.hyperparameters;
    cycleLog.info(
      {
        labelled,
        recentTrain: set.recentTrainRows,
        base: set.baseRows,
        holdout: set.holdout.x.length,
        epochs: settings.epochs,
      },
      'training a challenger',
    );
    options.onProgress?.({
      kind: 'training',
      model,
      runId: row.run_id,
      recentRows: set.recentTrainRows,
      baseRows: set.baseRows,
      holdoutRows: set.holdout.x.length,
      epochs: settings.epochs,
    });
    const challenger = await trainModel({
      split: {
        train: { featureNames: features, x: set.train.x, y: set.train.y },
        holdout: { featureNames: features, x: set.holdout.x, y: set.holdout.y },
      },
      spec: championArtifacts.spec,
      epochs: settings.epochs,
      seed,
      ...(hp
        ? {
            hidden: hp.hidden,
            batchSize: hp.batchSize,
            learningRate: hp.learningRate,
            clipQuantile: hp.clipQuantile,
            log1p: hp.log1p,
          }
        : {}),
      logger: options.logger,
      onEpoch: (p) => {
        cycleLog.info({ epoch: p.epoch, epochs: p.epochs, loss: p.loss, elapsedMs: p.elapsedMs }, 'epoch done');
        options.onProgress?.({
          kind: 'epoch',
          model,
          runId: row.run_id,
          epoch: p.epoch,
          epochs: p.epochs,
          loss: p.loss,
        });
      },
    });
    try {
      row.train_ms = now() - t;
      // 3. The champion on the same holdout.
      t = now();
      const loaded = await registry.loadVersion(model, champion);
      let championScore: ReturnType<typeof regressionMetrics>;
      try {
        championScore = regressionMetrics(set.holdout.y, loaded.predict(set.holdout.x));
      } finally {
        loaded.dispose();
      }
      const decision = decidePromotion(championScore.rmse, challenger.metrics.rmse, settings.minImprovement);
      Object.assign(row, {
        champion_rmse: championScore.rmse,
        champion_mae: championScore.mae,
        challenger_rmse: challenger.metrics.rmse,
        challenger_mae: challenger.metrics.mae,
        improvement: decision.improvement,
        evaluate_ms: now() - t,
        reason: decision.reason,
      });

      // 4. The version, promoted or rejected (decided before it is written: versions are immutable).
      const origin: VersionOrigin = {
        format: 1,
        trigger: trigger.kind,
        drift_event_id: trigger.eventId === '' ? null : trigger.eventId,
        run_id: row.run_id,
        decision: decision.promote ? 'promoted' : 'rejected',
        reason: decision.reason,
        champion_version: champion,
        champion_rmse: championScore.rmse,
        challenger_rmse: challenger.metrics.rmse,
      };
      const version = await registry.saveVersion(
        { ...challenger, profile: { ...challenger.profile, model }, origin },
        { promote: decision.promote },
      );
      row.challenger_version = version;
      row.state = decision.promote ? 'promoted' : 'rejected';
      if (!decision.promote) return;

      // 5. Every predict service swaps to it; the drift consumer reads its profile from the registry.
      t = now();
      try {
        await options.deploy({
          model_name: model,
          model_version: version,
          action: 'promote',
          metrics: { rmse: challenger.metrics.rmse, mae: challenger.metrics.mae, r2: challenger.metrics.r2 },
          location: registry.location(model, version),
          deployed_at: new Date(now()),
        });
        row.deployed = true;
      } catch (error) {
        // The registry already names it champion; a restarted predict service will serve it.
        row.reason = `${row.reason}; announcing the deployment failed: ${describeError(error)}`;
        cycleLog.error({ err: error, version }, 'version promoted but its deployment could not be announced');
      } finally {
        row.deploy_ms = now() - t;
      }
    } finally {
      challenger.predictor.dispose();
    }
  }

  async function baseRows(features: readonly string[], cycleLog: Logger): Promise<{ x: number[][]; y: number[] }> {
    if (settings.baseShare === 0) return { x: [], y: [] };
    const data = await (options.baseData ?? loadCaliforniaHousing)();
    if (data.featureNames.length !== features.length || data.featureNames.some((f, i) => f !== features[i])) {
      cycleLog.warn(
        { features, base: data.featureNames },
        'the original training data has other features; trained on recent data only',
      );
      return { x: [], y: [] };
    }
    return { x: data.x as number[][], y: data.y as number[] };
  }

  return { run, running: () => [...running].sort() };
}
