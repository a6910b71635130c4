/**
 * The retrain consumer's pure core: which drift events are triggers, the guardrails a trigger
 * must pass, the training set (recent labelled traffic mixed with the original training data, the
 * newest share kept out as holdout) and the promotion rule. No Kafka, ClickHouse or TF.js here.
 */
import { mulberry32, permutation } from '../../core/random.ts';
import type { DriftEvent } from '../../core/schemas.ts';

export type TriggerKind = 'drift' | 'performance' | 'manual';

/** Why a cycle runs: a drift event that asks for it, or someone (CLI, dashboard, a DAG run). */
export interface RetrainTrigger {
  kind: TriggerKind;
  model: string;
  /** The drift event's id; '' for a manual trigger. */
  eventId: string;
  /** The version the drift event was about; 0 for a manual trigger. */
  modelVersion: number;
  /** Human-readable: what the event said, or the text given with `--reason`. */
  reason: string;
  /** The drift summary handed on (Airflow `conf`). */
  summary: Record<string, unknown>;
}

/**
 * A drift event is a trigger when it recommends retraining (drift persisted for
 * DRIFT_RETRAIN_AFTER windows) or when realized performance is `degraded`; otherwise undefined.
 */
export function triggerOf(event: DriftEvent): RetrainTrigger | undefined {
  const degraded = event.performance.verdict === 'degraded';
  if (!event.retrain_recommended && !degraded) return undefined;
  const perf = event.performance;
  const reason = event.retrain_recommended
    ? `drift for ${event.consecutive_drift} windows in a row (${event.drifted_columns.join(', ') || 'no column named'})`
    : `realized RMSE ${fmt(perf.rmse)} above holdout ${fmt(perf.holdout_rmse)} × ${perf.tolerance} on ${perf.labelled_count} labels`;
  return {
    kind: event.retrain_recommended ? 'drift' : 'performance',
    model: event.model_name,
    eventId: event.event_id,
    modelVersion: event.model_version,
    reason,
    summary: driftSummary(event),
  };
}

/** What a DAG run is told about the drift (its `conf`, with the model and trigger). */
export function driftSummary(event: DriftEvent): Record<string, unknown> {
  return {
    drift_event_id: event.event_id,
    model_version: event.model_version,
    window_start: event.window_start.toISOString(),
    window_end: event.window_end.toISOString(),
    state: event.state,
    consecutive_drift: event.consecutive_drift,
    retrain_recommended: event.retrain_recommended,
    drifted_features: event.drifted_features,
    prediction_drifted: event.prediction_drifted,
    share_of_drifted_columns: event.share_of_drifted_columns,
    performance: {
      verdict: event.performance.verdict,
      rmse: event.performance.rmse,
      mae: event.performance.mae,
      holdout_rmse: event.performance.holdout_rmse,
      labelled_count: event.performance.labelled_count,
    },
  };
}

export const Refusal = {
  /** Another cycle of the model is running (this process or another: the registry's training lock). */
  RUNNING: 'running',
  /** A cycle trained (or started a DAG run) less than RETRAIN_COOLDOWN_SECONDS ago. */
  COOLDOWN: 'cooldown',
  /** Fewer than RETRAIN_MIN_LABELS labelled predictions in the window. */
  INSUFFICIENT_LABELS: 'insufficient_labels',
  /** The event is about a version that is no longer the champion. */
  STALE_VERSION: 'stale_version',
  /** The model has no champion to challenge. */
  NO_CHAMPION: 'no_champion',
  /** The champion is served elsewhere (registered for monitoring only): its owner retrains it. */
  SERVED_ELSEWHERE: 'served_elsewhere',
} as const;
export type Refusal = (typeof Refusal)[keyof typeof Refusal];

export type GuardVerdict = { ok: true } | { ok: false; refusal: Refusal; reason: string };

/** The guardrails known before any data is read: champion, running, cooldown. */
export function checkBeforeTraining(input: {
  trigger: RetrainTrigger;
  champion: number | null;
  /**
   * The champion is registered for monitoring only and training would be in this process: a
   * challenger trained here would not be the owner's model. (A DAG run may retrain it.)
   */
  servedElsewhere?: boolean;
  running: boolean;
  /** Start of the newest cycle that trained or started a DAG run (ms), if any. */
  lastCycleAt: number | undefined;
  now: number;
  cooldownSeconds: number;
}): GuardVerdict {
  const { trigger, champion } = input;
  if (champion === null)
    return { ok: false, refusal: Refusal.NO_CHAMPION, reason: `model ${trigger.model} has no champion` };
  if (input.servedElsewhere) {
    return {
      ok: false,
      refusal: Refusal.SERVED_ELSEWHERE,
      reason: `${trigger.model} v${champion} is served elsewhere (driftline models register): its owner retrains it and registers the new version, or RETRAIN_MODE=airflow starts their DAG`,
    };
  }
  if (trigger.kind !== 'manual' && trigger.modelVersion !== champion) {
    return {
      ok: false,
      refusal: Refusal.STALE_VERSION,
      reason: `the event is about version ${trigger.modelVersion}; the champion is version ${champion}`,
    };
  }
  if (input.running)
    return { ok: false, refusal: Refusal.RUNNING, reason: `a retraining of ${trigger.model} is already running` };
  // A manual trigger is someone deciding now: the cooldown only damps the stream of drift events.
  if (trigger.kind !== 'manual' && input.lastCycleAt !== undefined) {
    const since = input.now - input.lastCycleAt;
    if (since < input.cooldownSeconds * 1000) {
      return {
        ok: false,
        refusal: Refusal.COOLDOWN,
        reason: `the last retraining started ${Math.round(since / 1000)} s ago (cooldown ${input.cooldownSeconds} s)`,
      };
    }
  }
  return { ok: true };
}

export function checkLabels(labelled: number, minLabels: number, windowHours: number): GuardVerdict {
  if (labelled >= minLabels) return { ok: true };
  return {
    ok: false,
    refusal: Refusal.INSUFFICIENT_LABELS,
    reason: `${labelled} labelled predictions in the last ${windowHours} h; ${minLabels} needed (RETRAIN_MIN_LABELS)`,
  };
}

export interface LabelledRow {
  features: number[];
  actual: number;
  eventTimeMs: number;
}

export interface Rows {
  x: number[][];
  y: number[];
}

export interface TrainingSet {
  train: Rows;
  holdout: Rows;
  recentTrainRows: number;
  baseRows: number;
}

/** The newest share of the recent rows (by event time) is the holdout both models are scored on. */
export const HOLDOUT_SHARE = 0.2;

/**
 * Splits recent labelled rows by event time — the newest HOLDOUT_SHARE is the holdout, so the
 * challenger is judged on traffic it never saw, as it will be after deployment — and mixes the
 * older ones with base rows drawn (seeded) from the original training data so that base rows make
 * `baseShare` of the training set (fewer if the base has fewer).
 */
export function buildTrainingSet(
  recent: readonly LabelledRow[],
  base: Rows,
  baseShare: number,
  seed: number,
): TrainingSet {
  const sorted = [...recent].sort((a, b) => a.eventTimeMs - b.eventTimeMs);
  const holdoutSize = Math.max(1, Math.round(sorted.length * HOLDOUT_SHARE));
  const older = sorted.slice(0, sorted.length - holdoutSize);
  const newest = sorted.slice(sorted.length - holdoutSize);
  const wanted = baseShare > 0 ? Math.round((older.length * baseShare) / (1 - baseShare)) : 0;
  const take = Math.min(wanted, base.x.length);
  const picked = permutation(base.x.length, mulberry32(seed)).slice(0, take);
  return {
    train: {
      x: [...older.map((r) => r.features), ...picked.map((i) => base.x[i] as number[])],
      y: [...older.map((r) => r.actual), ...picked.map((i) => base.y[i] as number)],
    },
    holdout: { x: newest.map((r) => r.features), y: newest.map((r) => r.actual) },
    recentTrainRows: older.length,
    baseRows: take,
  };
}

export type PromotionDecision =
  | { promote: true; improvement: number; reason: string }
  | { promote: false; improvement: number; reason: string };

/** Promote only when the challenger's RMSE is below the champion's by at least `minImprovement` (a fraction). */
export function decidePromotion(
  championRmse: number,
  challengerRmse: number,
  minImprovement: number,
): PromotionDecision {
  const improvement = championRmse > 0 ? (championRmse - challengerRmse) / championRmse : 0;
  const scores = `challenger RMSE ${fmt(challengerRmse)} vs champion ${fmt(championRmse)} on the recent holdout`;
  if (Number.isFinite(challengerRmse) && improvement >= minImprovement) {
    return { promote: true, improvement, reason: `${scores}: ${pct(improvement)} better` };
  }
  return {
    promote: false,
    improvement,
    reason: `${scores}: ${improvement >= 0 ? `${pct(improvement)} better` : `${pct(-improvement)} worse`}, ${pct(minImprovement)} needed (RETRAIN_MIN_IMPROVEMENT)`,
  };
}

function fmt(n: number | null): string {
  return n === null ? 'n/a' : n.toFixed(4);
}

function pct(f: number): string {
  return `${(f * 100).toFixed(1)} %`;
}
