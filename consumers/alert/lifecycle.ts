/**
 * The alert lifecycle, pure: from one model version's alert track and a drift event, whether
 * to open, update or resolve an alert, or say nothing. No Kafka, ClickHouse or Slack here: the
 * adapter (consumer.ts) persists what this decides and delivers it.
 *
 * Rules, per model version:
 * - an alert **opens** when the version becomes *active*: state `drift`, or performance verdict
 *   `degraded`;
 * - while open, an **update** goes out when the set of drifted features changes, when retraining
 *   becomes recommended, when the severity rises, or as a reminder once `updateIntervalMs` passed
 *   since the last message (event time: `evaluated_at`, so a re-read decides the same way);
 * - it **resolves** when the state is `ok` and performance is not degraded.
 *   `insufficient_data` neither opens nor resolves.
 * - **Order and revisions.** A first evaluation (revision 0) counts only when its window ends
 *   after every window seen before (a re-read or a duplicate is ignored). A revision of a partial
 *   window (revision > 0) counts only when it changed the window's verdict (`transition`) and it
 *   revises the newest window seen; a revision of an older window, or one that confirms the first
 *   evaluation, says nothing: later windows already spoke for the present.
 */
import { createHash } from 'node:crypto';

export const AlertKind = { open: 'open', update: 'update', resolve: 'resolve', deployed: 'deployed' } as const;
export type AlertKind = (typeof AlertKind)[keyof typeof AlertKind];

export const Severity = { warning: 'warning', critical: 'critical' } as const;
export type Severity = (typeof Severity)[keyof typeof Severity];
/** A decision's severity: an alert's, or `info` for a deployment notice (no alert was open). */
export type MessageSeverity = Severity | 'info';

/** Why a message goes out. */
export type AlertReason =
  | 'drift'
  | 'degraded'
  | 'features_changed'
  | 'retrain_recommended'
  | 'severity_raised'
  | 'reminder'
  | 'recovered'
  | 'retrained'
  | 'rolled_back';

/** What the lifecycle reads from a drift event (`schemas/drift-event.avsc`). */
export interface AlertInput {
  eventId: string;
  model: string;
  version: number;
  windowEndMs: number;
  evaluatedAtMs: number;
  revision: number;
  transition: boolean;
  state: 'ok' | 'drift' | 'insufficient_data';
  driftedFeatures: readonly string[];
  predictionDrifted: boolean;
  shareOfDriftedColumns: number;
  driftShare: number;
  retrainRecommended: boolean;
  performanceVerdict: 'ok' | 'degraded' | 'insufficient_labels';
}

/** An open alert of one model version. */
export interface OpenAlert {
  alertId: string;
  severity: Severity;
  openedAtMs: number;
  /** Event time of the last message sent for it. */
  lastMessageAtMs: number;
  driftedFeatures: readonly string[];
  retrainRecommended: boolean;
}

/** What the lifecycle remembers per model version. */
export interface AlertTrack {
  /** End of the newest window seen (−∞ before any). */
  latestWindowEndMs: number;
  open: OpenAlert | null;
}

export const EMPTY_TRACK: AlertTrack = Object.freeze({ latestWindowEndMs: Number.NEGATIVE_INFINITY, open: null });

export interface AlertDecision {
  kind: AlertKind;
  alertId: string;
  severity: MessageSeverity;
  reasons: AlertReason[];
}

export interface LifecycleSettings {
  /** Reminder interval while nothing changes, ms (ALERT_UPDATE_INTERVAL_SECONDS). */
  updateIntervalMs: number;
}

export interface AlertStep {
  /** null: nothing to send. */
  decision: AlertDecision | null;
  track: AlertTrack;
  /** Why nothing was sent, when the event was not counted at all. */
  ignored?: 'stale' | 'revision';
}

/**
 * critical: drift together with degraded performance, retraining recommended, or a drifted share
 * of at least twice the dataset threshold (capped at all columns); warning otherwise.
 */
export function severityOf(input: AlertInput): Severity {
  const drift = input.state === 'drift';
  const degraded = input.performanceVerdict === 'degraded';
  if ((drift && degraded) || (drift && input.retrainRecommended)) return Severity.critical;
  if (drift && input.shareOfDriftedColumns >= Math.min(1, 2 * input.driftShare)) return Severity.critical;
  return Severity.warning;
}

/** The version needs attention: drift, or realized performance degraded. */
export function isActive(input: AlertInput): boolean {
  return input.state === 'drift' || input.performanceVerdict === 'degraded';
}

/** Deterministic: the same opening event gives the same id, after a restart too. */
export function alertIdOf(model: string, version: number, openingEventId: string): string {
  return createHash('sha256').update(`${model}\u0000${version}\u0000${openingEventId}`).digest('hex').slice(0, 20);
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((x) => set.has(x));
}

/** One drift event through the lifecycle. */
export function decideAlert(track: AlertTrack, input: AlertInput, settings: LifecycleSettings): AlertStep {
  if (input.revision === 0) {
    if (input.windowEndMs <= track.latestWindowEndMs) return { decision: null, track, ignored: 'stale' };
  } else if (!input.transition || input.windowEndMs < track.latestWindowEndMs) {
    return { decision: null, track, ignored: 'revision' };
  }
  const latestWindowEndMs = Math.max(track.latestWindowEndMs, input.windowEndMs);
  const features = [...input.driftedFeatures].sort();
  const open = track.open;

  if (!open) {
    if (!isActive(input)) return { decision: null, track: { latestWindowEndMs, open: null } };
    const severity = severityOf(input);
    const alert: OpenAlert = {
      alertId: alertIdOf(input.model, input.version, input.eventId),
      severity,
      openedAtMs: input.evaluatedAtMs,
      lastMessageAtMs: input.evaluatedAtMs,
      driftedFeatures: features,
      retrainRecommended: input.retrainRecommended,
    };
    const reasons: AlertReason[] = [];
    if (input.state === 'drift') reasons.push('drift');
    if (input.performanceVerdict === 'degraded') reasons.push('degraded');
    if (input.retrainRecommended) reasons.push('retrain_recommended');
    return {
      decision: { kind: AlertKind.open, alertId: alert.alertId, severity, reasons },
      track: { latestWindowEndMs, open: alert },
    };
  }

  if (input.state === 'ok' && input.performanceVerdict !== 'degraded') {
    return {
      decision: { kind: AlertKind.resolve, alertId: open.alertId, severity: open.severity, reasons: ['recovered'] },
      track: { latestWindowEndMs, open: null },
    };
  }
  if (!isActive(input)) {
    // insufficient_data (or ok with degraded performance already handled above): hold, say nothing.
    return { decision: null, track: { latestWindowEndMs, open } };
  }

  const severity = severityOf(input);
  const reasons: AlertReason[] = [];
  if (input.state === 'drift' && !sameSet(features, open.driftedFeatures)) reasons.push('features_changed');
  if (input.retrainRecommended && !open.retrainRecommended) reasons.push('retrain_recommended');
  if (severity === Severity.critical && open.severity === Severity.warning) reasons.push('severity_raised');
  if (reasons.length === 0 && input.evaluatedAtMs - open.lastMessageAtMs >= settings.updateIntervalMs) {
    reasons.push('reminder');
  }
  // What the alert knows is what its last message said: a change is measured against that.
  if (reasons.length === 0) return { decision: null, track: { latestWindowEndMs, open } };
  const next: OpenAlert = {
    ...open,
    severity: severity === Severity.critical ? severity : open.severity,
    lastMessageAtMs: input.evaluatedAtMs,
    driftedFeatures: input.state === 'drift' ? features : open.driftedFeatures,
    retrainRecommended: open.retrainRecommended || input.retrainRecommended,
  };
  return {
    decision: { kind: AlertKind.update, alertId: open.alertId, severity: next.severity, reasons },
    track: { latestWindowEndMs, open: next },
  };
}

/** What the lifecycle reads from a `ModelDeployment` (`schemas/model-deployment.avsc`). */
export interface DeploymentInput {
  /** deploymentEventIdOf: derived from the deployment, so a re-read finds the same id. */
  eventId: string;
  model: string;
  /** The version now served. */
  version: number;
  action: 'promote' | 'rollback';
  deployedAtMs: number;
}

/** One message a deployment sends, about one model version. */
export interface DeploymentStep {
  /** The version the message is about: an old version whose alert resolves, or the deployed one. */
  version: number;
  decision: AlertDecision;
  /** That version's track afterwards; undefined: unchanged (the `deployed` notice). */
  track: AlertTrack | undefined;
}

/** Deterministic id of a deployment (it has none of its own): model, version, action, time. */
export function deploymentEventIdOf(d: Omit<DeploymentInput, 'eventId'>): string {
  const key = `${d.model}\u0000${d.version}\u0000${d.action}\u0000${d.deployedAtMs}`;
  return `deploy-${createHash('sha256').update(key).digest('hex').slice(0, 20)}`;
}

/**
 * A deployment of version N of model M (a promotion after retraining, or a rollback): every open
 * alert of M's *other* versions resolves — those versions are no longer served, so no drift event
 * would ever resolve them — with reason `retrained` or `rolled_back`, and their tracks move past
 * the deployment time (a late window of a replaced version does not reopen). N's own alert, if
 * any, stays as it is. When no other version had an open alert, one `deployed` notice (severity
 * `info`) about version N. `tracks`: M's versions' tracks, by version.
 */
export function decideDeployment(tracks: ReadonlyMap<number, AlertTrack>, input: DeploymentInput): DeploymentStep[] {
  const reason: AlertReason = input.action === 'rollback' ? 'rolled_back' : 'retrained';
  const steps: DeploymentStep[] = [];
  for (const [version, track] of [...tracks].sort(([a], [b]) => a - b)) {
    if (version === input.version || !track.open) continue;
    steps.push({
      version,
      decision: {
        kind: AlertKind.resolve,
        alertId: track.open.alertId,
        severity: track.open.severity,
        reasons: [reason],
      },
      track: { latestWindowEndMs: Math.max(track.latestWindowEndMs, input.deployedAtMs), open: null },
    });
  }
  if (steps.length > 0) return steps;
  return [
    {
      version: input.version,
      decision: {
        kind: AlertKind.deployed,
        alertId: alertIdOf(input.model, input.version, input.eventId),
        severity: 'info',
        reasons: [reason],
      },
      track: undefined,
    },
  ];
}
