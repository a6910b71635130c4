/**
 * The `alerts` table (clickhouse/migrations/0005_alerts.sql): decisions and deliveries written,
 * a model version's alert track and threads restored, an event's rows looked up before sending,
 * and the listing `driftline alerts` prints. SQL values go through core/storage/sql.ts.
 */
import type { Storage } from '../../core/storage/index.ts';
import { sql } from '../../core/storage/index.ts';
import type { ChannelName } from './channels/channel.ts';
import { type AlertDecision, type AlertTrack, EMPTY_TRACK, type OpenAlert, type Severity } from './lifecycle.ts';
import type { AlertMessage } from './message.ts';

export const DECISION_CHANNEL = '';
/** Kind of the `deployed` notice: recorded like an alert message, but no alert of its own. */
export const DEPLOYED_KIND = 'deployed';

export type DeliveryStatus = 'decided' | 'delivered' | 'failed';

export interface AlertRow extends Record<string, unknown> {
  alert_id: string;
  model_name: string;
  model_version: number;
  event_id: string;
  window_end_ms: number;
  revision: number;
  kind: string;
  severity: string;
  state: string;
  channel: string;
  status: DeliveryStatus;
  message_id: string;
  thread: string;
  attempts: number;
  error: string;
  drifted_features: string[];
  retrain_recommended: number | boolean;
  share_of_drifted_columns: number;
  performance_verdict: string;
  payload: string;
  decided_at_ms: number;
  recorded_at: Date | string;
  recorded_at_ms: number;
}

/** The decision row: written before any channel is tried. `after` is the alert as it stands after it. */
export function decisionRow(
  decision: AlertDecision,
  message: AlertMessage,
  after: OpenAlert | null,
  revision: number,
  nowMs: number,
): AlertRow {
  return {
    alert_id: decision.alertId,
    model_name: message.model,
    model_version: message.version,
    event_id: message.eventId,
    window_end_ms: message.windowEndMs,
    revision,
    kind: decision.kind,
    severity: decision.severity,
    state: message.state,
    channel: DECISION_CHANNEL,
    status: 'decided',
    message_id: '',
    thread: '',
    attempts: 0,
    error: '',
    drifted_features: [...(after?.driftedFeatures ?? message.features.map((f) => f.column))],
    retrain_recommended: (after?.retrainRecommended ?? message.retrainRecommended) ? 1 : 0,
    share_of_drifted_columns: message.shareOfDriftedColumns,
    performance_verdict: message.performance.verdict,
    payload: JSON.stringify(message),
    decided_at_ms: message.evaluatedAtMs,
    recorded_at: new Date(nowMs),
    recorded_at_ms: nowMs,
  };
}

/** A channel's outcome for one decision. */
export function deliveryRow(
  decision: AlertRow,
  outcome: {
    channel: ChannelName;
    status: 'delivered' | 'failed';
    messageId: string;
    thread: string;
    attempts: number;
    error: string;
  },
  nowMs: number,
): AlertRow {
  return {
    ...decision,
    channel: outcome.channel,
    status: outcome.status,
    message_id: outcome.messageId,
    thread: outcome.thread,
    attempts: outcome.attempts,
    error: outcome.error,
    payload: '',
    recorded_at: new Date(nowMs),
    recorded_at_ms: nowMs,
  };
}

const COLUMNS = sql`alert_id, model_name, model_version, event_id, window_end_ms, revision, kind, severity, state,
  channel, status, message_id, thread, attempts, error, drifted_features, retrain_recommended,
  share_of_drifted_columns, performance_verdict, payload, decided_at_ms, recorded_at_ms`;

function normalize(row: AlertRow): AlertRow {
  return {
    ...row,
    model_version: Number(row.model_version),
    window_end_ms: Number(row.window_end_ms),
    revision: Number(row.revision),
    attempts: Number(row.attempts),
    decided_at_ms: Number(row.decided_at_ms),
    recorded_at_ms: Number(row.recorded_at_ms),
    retrain_recommended: Number(row.retrain_recommended),
  };
}

/** Every row recorded for one drift event of a model version (its decision and deliveries). */
export async function eventRows(
  storage: Storage,
  model: string,
  version: number,
  eventId: string,
): Promise<AlertRow[]> {
  const rows = await storage.query<AlertRow>(
    sql`SELECT ${COLUMNS} FROM alerts FINAL
        WHERE model_name = ${model} AND model_version = ${version} AND event_id = ${eventId}
        ORDER BY recorded_at_ms`.text,
  );
  return rows.map(normalize);
}

/** Every row recorded for one deployment of a model, across the versions it sent messages about. */
export async function deploymentRows(storage: Storage, model: string, eventId: string): Promise<AlertRow[]> {
  const rows = await storage.query<AlertRow>(
    sql`SELECT ${COLUMNS} FROM alerts FINAL WHERE model_name = ${model} AND event_id = ${eventId}
        ORDER BY recorded_at_ms`.text,
  );
  return rows.map(normalize);
}

/** Versions of a model whose newest alert is still open (its last decision is not a resolution). */
export async function openAlertVersions(storage: Storage, model: string): Promise<number[]> {
  const rows = await storage.query<{ model_version: number }>(
    sql`SELECT model_version FROM alerts
        WHERE model_name = ${model} AND channel = ${DECISION_CHANNEL} AND kind != ${DEPLOYED_KIND}
        GROUP BY model_version HAVING argMax(kind, recorded_at_ms) != 'resolve'
        ORDER BY model_version`.text,
  );
  return rows.map((r) => Number(r.model_version));
}

export interface RestoredAlertVersion {
  track: AlertTrack;
}

/** The newest alert of a model version, open or not, and the newest window an alert was decided on. */
export async function restoreVersion(storage: Storage, model: string, version: number): Promise<RestoredAlertVersion> {
  const decisions = (
    await storage.query<AlertRow>(
      sql`SELECT ${COLUMNS} FROM alerts FINAL
          WHERE model_name = ${model} AND model_version = ${version} AND channel = ${DECISION_CHANNEL}
            AND alert_id IN (
            SELECT argMax(alert_id, recorded_at_ms) FROM alerts
            WHERE model_name = ${model} AND model_version = ${version} AND channel = ${DECISION_CHANNEL}
              AND kind != ${DEPLOYED_KIND})
          ORDER BY recorded_at_ms`.text,
    )
  ).map(normalize);
  const [latest] = await storage.query<{ latest: number | null; n: number }>(
    sql`SELECT max(window_end_ms) AS latest, count() AS n FROM alerts
        WHERE model_name = ${model} AND model_version = ${version} AND channel = ${DECISION_CHANNEL}
          AND kind != ${DEPLOYED_KIND}`.text,
  );
  const last = decisions.at(-1);
  const first = decisions[0];
  if (!last || !first || Number(latest?.n ?? 0) === 0) return { track: EMPTY_TRACK };
  const latestWindowEndMs = Number(latest?.latest ?? Number.NEGATIVE_INFINITY);
  if (last.kind === 'resolve') return { track: { latestWindowEndMs, open: null } };
  return {
    track: {
      latestWindowEndMs,
      open: {
        alertId: last.alert_id,
        severity: last.severity as Severity,
        openedAtMs: first.decided_at_ms,
        lastMessageAtMs: last.decided_at_ms,
        driftedFeatures: [...last.drifted_features].sort(),
        retrainRecommended: Boolean(last.retrain_recommended),
      },
    },
  };
}

/**
 * Per channel, an alert's thread: its first message delivered there (the opening, unless it
 * failed on that channel). Read when a restart left the alert's threads out of memory.
 */
export async function alertThreads(
  storage: Storage,
  model: string,
  version: number,
  alertId: string,
): Promise<Map<ChannelName, string>> {
  const rows = await storage.query<{ channel: string; message_id: string }>(
    sql`SELECT channel, message_id FROM alerts FINAL
        WHERE model_name = ${model} AND model_version = ${version} AND alert_id = ${alertId}
          AND channel != ${DECISION_CHANNEL} AND status = 'delivered' AND message_id != ''
        ORDER BY recorded_at_ms`.text,
  );
  const threads = new Map<ChannelName, string>();
  for (const row of rows) {
    const channel = row.channel as ChannelName;
    if (!threads.has(channel)) threads.set(channel, row.message_id);
  }
  return threads;
}

export interface ListedAlert {
  alert_id: string;
  model_name: string;
  model_version: number;
  severity: string;
  opened_at: string;
  /** `deployed`: a deployment notice, no alert. */
  status: 'open' | 'resolved' | 'deployed';
  messages: {
    kind: string;
    event_id: string;
    decided_at: string;
    deliveries: {
      channel: string;
      status: string;
      message_id: string;
      thread: string;
      attempts: number;
      error: string;
    }[];
  }[];
}

/** Alerts, newest first, each with its messages and their deliveries (`driftline alerts`). */
export async function listAlerts(
  storage: Storage,
  options: { model?: string; limit?: number } = {},
): Promise<ListedAlert[]> {
  const where = options.model === undefined ? sql`1` : sql`model_name = ${options.model}`;
  const rows = (
    await storage.query<AlertRow>(
      sql`SELECT ${COLUMNS} FROM alerts FINAL WHERE ${where} AND alert_id IN (
            SELECT alert_id FROM alerts WHERE ${where} AND channel = ${DECISION_CHANNEL}
            GROUP BY alert_id ORDER BY min(recorded_at_ms) DESC LIMIT ${options.limit ?? 50})
          ORDER BY recorded_at_ms`.text,
    )
  ).map(normalize);
  const alerts = new Map<string, ListedAlert>();
  const iso = (ms: number) => new Date(ms).toISOString();
  for (const row of rows.filter((r) => r.channel === DECISION_CHANNEL)) {
    let alert = alerts.get(row.alert_id);
    if (!alert) {
      alert = {
        alert_id: row.alert_id,
        model_name: row.model_name,
        model_version: row.model_version,
        severity: row.severity,
        opened_at: iso(row.decided_at_ms),
        status: 'open',
        messages: [],
      };
      alerts.set(row.alert_id, alert);
    }
    alert.severity = row.severity;
    if (row.kind === 'resolve') alert.status = 'resolved';
    if (row.kind === DEPLOYED_KIND) alert.status = 'deployed';
    alert.messages.push({
      kind: row.kind,
      event_id: row.event_id,
      decided_at: iso(row.decided_at_ms),
      deliveries: rows
        .filter((d) => d.alert_id === row.alert_id && d.event_id === row.event_id && d.channel !== DECISION_CHANNEL)
        .map((d) => ({
          channel: d.channel,
          status: d.status,
          message_id: d.message_id,
          thread: d.thread,
          attempts: d.attempts,
          error: d.error,
        })),
    });
  }
  return [...alerts.values()].sort((a, b) => b.opened_at.localeCompare(a.opened_at));
}
