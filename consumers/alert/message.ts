/**
 * What an alert says, pure: the message built once from a decision and its drift event (stored
 * with the decision, so a delivery resumed after a restart sends the same words), and its
 * renderings for each channel — Slack Block Kit, email (HTML and plain text), the webhook's JSON,
 * one terminal line.
 */
import { type DriftMethod, isTestMethod } from '../../core/drift/evaluate.ts';
import type { DriftEvent, ModelDeployment } from '../../core/schemas.ts';
import type { AlertDecision, AlertKind, AlertReason, MessageSeverity } from './lifecycle.ts';

export interface AlertFeature {
  column: string;
  method: string;
  statistic: number | null;
  threshold: number;
  pValue: number | null;
}

/** One alert message, channel-independent; JSON-safe (times as epoch ms). */
export interface AlertMessage {
  alertId: string;
  eventId: string;
  kind: AlertKind | 'test';
  severity: MessageSeverity;
  reasons: AlertReason[];
  model: string;
  version: number;
  state: string;
  windowStartMs: number;
  windowEndMs: number;
  evaluatedAtMs: number;
  shareOfDriftedColumns: number;
  driftShare: number;
  /** Drifted features (the prediction apart), with statistic vs threshold. */
  features: AlertFeature[];
  predictionDrifted: boolean;
  consecutiveDrift: number;
  retrainRecommended: boolean;
  performance: {
    verdict: string;
    rmse: number | null;
    holdoutRmse: number;
    tolerance: number;
    labelled: number;
  };
  rowCount: number;
  reportPath: string | null;
  dashboardUrl: string | null;
  /** Set on the messages a deployment sends: a resolution by redeployment, or the `deployed` notice. */
  deployment?: DeploymentInfo;
}

/** The deployment a message reports (`ModelDeployment`). */
export interface DeploymentInfo {
  /** The version now served. */
  version: number;
  action: 'promote' | 'rollback';
  holdoutRmse: number;
  holdoutMae: number;
  holdoutR2: number;
  location: string;
  deployedAtMs: number;
}

export function buildAlertMessage(
  decision: AlertDecision,
  event: DriftEvent,
  options: { dashboardUrl?: string | undefined } = {},
): AlertMessage {
  const drifted = new Set(event.drifted_features);
  return {
    alertId: decision.alertId,
    eventId: event.event_id,
    kind: decision.kind,
    severity: decision.severity,
    reasons: decision.reasons,
    model: event.model_name,
    version: event.model_version,
    state: event.state,
    windowStartMs: event.window_start.getTime(),
    windowEndMs: event.window_end.getTime(),
    evaluatedAtMs: event.evaluated_at.getTime(),
    shareOfDriftedColumns: event.share_of_drifted_columns,
    driftShare: event.drift_share,
    features: event.columns
      .filter((c) => !c.is_prediction && drifted.has(c.column))
      .map((c) => ({
        column: c.column,
        method: c.method,
        statistic: c.statistic,
        threshold: c.threshold,
        pValue: c.p_value,
      })),
    predictionDrifted: event.prediction_drifted,
    consecutiveDrift: event.consecutive_drift,
    retrainRecommended: event.retrain_recommended,
    performance: {
      verdict: event.performance.verdict,
      rmse: event.performance.rmse,
      holdoutRmse: event.performance.holdout_rmse,
      tolerance: event.performance.tolerance,
      labelled: event.performance.labelled_count,
    },
    rowCount: event.row_count,
    reportPath: event.report_path,
    dashboardUrl: options.dashboardUrl ?? null,
  };
}

/**
 * The message a deployment sends: `decision` resolves the alert of `version` (an older version)
 * or is the `deployed` notice about the deployed version itself. No window, no drift figures:
 * the deployment's holdout metrics instead.
 */
export function buildDeploymentMessage(
  decision: AlertDecision,
  version: number,
  eventId: string,
  deployment: ModelDeployment,
  options: { dashboardUrl?: string | undefined } = {},
): AlertMessage {
  const at = deployment.deployed_at.getTime();
  return {
    alertId: decision.alertId,
    eventId,
    kind: decision.kind,
    severity: decision.severity,
    reasons: decision.reasons,
    model: deployment.model_name,
    version,
    state: 'deployed',
    windowStartMs: at,
    windowEndMs: at,
    evaluatedAtMs: at,
    shareOfDriftedColumns: 0,
    driftShare: 0,
    features: [],
    predictionDrifted: false,
    consecutiveDrift: 0,
    retrainRecommended: false,
    performance: {
      verdict: 'holdout',
      rmse: deployment.metrics.rmse,
      holdoutRmse: deployment.metrics.rmse,
      tolerance: 1,
      labelled: 0,
    },
    rowCount: 0,
    reportPath: null,
    dashboardUrl: options.dashboardUrl ?? null,
    deployment: {
      version: deployment.model_version,
      action: deployment.action,
      holdoutRmse: deployment.metrics.rmse,
      holdoutMae: deployment.metrics.mae,
      holdoutR2: deployment.metrics.r2,
      location: deployment.location,
      deployedAtMs: at,
    },
  };
}

const num = (x: number | null, digits = 3) => (x === null ? '–' : x.toFixed(digits));
const pct = (x: number) => `${Math.round(x * 100)}%`;
const time = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

const REASON_TEXT: Readonly<Record<AlertReason, string>> = {
  drift: 'data drift',
  degraded: 'realized performance degraded',
  features_changed: 'the drifted features changed',
  retrain_recommended: 'retraining recommended',
  severity_raised: 'severity raised',
  reminder: 'still drifting',
  recovered: 'back to ok',
  retrained: 'the model was retrained and a new version deployed',
  rolled_back: 'the model was rolled back to another version',
};

/** "retrained and deployed v4 (holdout RMSE 0.512)" / "rolled back: v2 deployed (holdout RMSE 0.530)". */
export function deploymentSentence(d: DeploymentInfo): string {
  const what = d.action === 'rollback' ? `rolled back: v${d.version} deployed` : `retrained and deployed v${d.version}`;
  return `${what} (holdout RMSE ${num(d.holdoutRmse)})`;
}

function deploymentLines(m: AlertMessage, d: DeploymentInfo): string[] {
  return [
    titleOf(m),
    `why: ${m.reasons.map((r) => REASON_TEXT[r]).join(', ')}`,
    m.kind === 'resolve'
      ? `model: ${m.model}  alert on version: ${m.version}  now serving: v${d.version}`
      : `model: ${m.model}  now serving: v${d.version}`,
    `holdout RMSE ${num(d.holdoutRmse)}  MAE ${num(d.holdoutMae)}  R² ${num(d.holdoutR2)}`,
    `deployed: ${time(d.deployedAtMs)}  from: ${d.location}`,
  ];
}

/** "[CRITICAL] Drift opened: california-housing v3". */
export function titleOf(m: AlertMessage): string {
  const d = m.deployment;
  if (d && m.kind === 'deployed') return `[DEPLOYED] ${m.model} ${deploymentSentence(d)}`;
  if (d) return `[RESOLVED] Drift alert resolved: ${m.model} v${m.version} — ${deploymentSentence(d)}`;
  const what =
    m.kind === 'open'
      ? 'Drift alert opened'
      : m.kind === 'update'
        ? 'Drift alert update'
        : m.kind === 'resolve'
          ? 'Drift alert resolved'
          : 'Driftline test alert';
  return `[${m.kind === 'resolve' ? 'RESOLVED' : m.severity.toUpperCase()}] ${what}: ${m.model} v${m.version}`;
}

/** One line per drifted feature: `MedInc  wasserstein 0.412 ≥ 0.100`. */
export function featureLine(f: AlertFeature): string {
  // A statistical test (ks, chisquare, z…) drifts on its p-value; a distance on its statistic.
  return isTestMethod(f.method as DriftMethod)
    ? `${f.column}: ${f.method} p=${num(f.pValue, 4)} < ${num(f.threshold, 4)} (statistic ${num(f.statistic)})`
    : `${f.column}: ${f.method} ${num(f.statistic)} ≥ ${num(f.threshold)}`;
}

function performanceLine(m: AlertMessage): string {
  const p = m.performance;
  if (p.rmse === null) return `performance: ${p.verdict} (${p.labelled} labelled)`;
  return `realized RMSE ${num(p.rmse)} vs holdout ${num(p.holdoutRmse)} (×${p.tolerance} allowed): ${p.verdict}, ${p.labelled} labelled`;
}

/** The message as plain text lines (email text part, Slack fallback text, terminal detail). */
export function textLines(m: AlertMessage): string[] {
  if (m.deployment) {
    const lines = deploymentLines(m, m.deployment);
    if (m.dashboardUrl) lines.push(`dashboard: ${m.dashboardUrl}`);
    return lines;
  }
  const lines = [
    titleOf(m),
    `why: ${m.reasons.map((r) => REASON_TEXT[r]).join(', ') || 'test'}`,
    `model: ${m.model}  version: ${m.version}  state: ${m.state}  severity: ${m.severity}`,
    `window: ${time(m.windowStartMs)} – ${time(m.windowEndMs)}  samples: ${m.rowCount}`,
    `drift share: ${pct(m.shareOfDriftedColumns)} of columns (threshold ${pct(m.driftShare)})${m.predictionDrifted ? ', prediction drifted' : ''}`,
  ];
  if (m.features.length > 0) {
    lines.push('drifted features:');
    for (const f of m.features) lines.push(`  - ${featureLine(f)}`);
  }
  lines.push(performanceLine(m));
  if (m.retrainRecommended) lines.push(`retraining recommended (${m.consecutiveDrift} drifting windows in a row)`);
  if (m.reportPath) lines.push(`report: ${m.reportPath}`);
  if (m.dashboardUrl) lines.push(`dashboard: ${m.dashboardUrl}`);
  return lines;
}

/** One line for the terminal and the log. */
export function terminalLine(m: AlertMessage): string {
  const d = m.deployment;
  if (d) {
    const about = m.kind === 'resolve' ? `${m.model} v${m.version} ` : `${m.model} `;
    return `ALERT ${m.kind.toUpperCase()} ${m.severity} ${about}deployed=v${d.version} (${d.action === 'rollback' ? 'rolled back' : 'retrained'}) holdout_rmse=${num(d.holdoutRmse)} alert=${m.alertId}`;
  }
  const features = m.features.map((f) => f.column).join(', ') || '-';
  return `ALERT ${m.kind.toUpperCase()} ${m.severity} ${m.model} v${m.version} state=${m.state} share=${pct(m.shareOfDriftedColumns)} features=${features}${m.retrainRecommended ? ' retrain=recommended' : ''} rmse=${num(m.performance.rmse)} (${m.performance.verdict}) alert=${m.alertId}`;
}

/** Block Kit for chat.postMessage / incoming webhooks. */
export function slackBlocks(m: AlertMessage): Record<string, unknown>[] {
  const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });
  const d = m.deployment;
  if (d) {
    const deployed: Record<string, unknown>[] = [
      { type: 'header', text: { type: 'plain_text', text: titleOf(m).slice(0, 150) } },
      {
        type: 'section',
        fields: [
          mrkdwn(`*Model*\n${m.model}`),
          mrkdwn(m.kind === 'resolve' ? `*Alert on version*\n${m.version}` : `*Action*\n${d.action}`),
          mrkdwn(`*Now serving*\nv${d.version}`),
          mrkdwn(`*Holdout RMSE*\n${num(d.holdoutRmse)}`),
          mrkdwn(`*Holdout MAE*\n${num(d.holdoutMae)}`),
          mrkdwn(`*Holdout R²*\n${num(d.holdoutR2)}`),
        ],
      },
      { type: 'context', elements: [mrkdwn(`deployed ${time(d.deployedAtMs)} · ${d.location}`)] },
    ];
    if (m.dashboardUrl) {
      deployed.push({
        type: 'actions',
        elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open dashboard' }, url: m.dashboardUrl }],
      });
    }
    return deployed;
  }
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: titleOf(m).slice(0, 150) } },
    {
      type: 'section',
      fields: [
        mrkdwn(`*Model*\n${m.model}`),
        mrkdwn(`*Version*\n${m.version}`),
        mrkdwn(`*State*\n${m.state}`),
        mrkdwn(`*Severity*\n${m.severity}`),
        mrkdwn(`*Drift share*\n${pct(m.shareOfDriftedColumns)} (threshold ${pct(m.driftShare)})`),
        mrkdwn(`*Samples*\n${m.rowCount}`),
      ],
    },
  ];
  if (m.features.length > 0) {
    blocks.push({
      type: 'section',
      text: mrkdwn(`*Drifted features*\n${m.features.map((f) => `• ${featureLine(f)}`).join('\n')}`.slice(0, 3000)),
    });
  }
  blocks.push({ type: 'section', text: mrkdwn(`*Performance*\n${performanceLine(m)}`) });
  const context = [`window ${time(m.windowStartMs)} – ${time(m.windowEndMs)}`];
  if (m.retrainRecommended) context.push(`retraining recommended (${m.consecutiveDrift} windows in a row)`);
  if (m.reportPath) context.push(`report: ${m.reportPath}`);
  blocks.push({ type: 'context', elements: [mrkdwn(context.join(' · '))] });
  if (m.dashboardUrl) {
    blocks.push({
      type: 'actions',
      elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open dashboard' }, url: m.dashboardUrl }],
    });
  }
  return blocks;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

export function emailSubject(m: AlertMessage, options: { reply: boolean }): string {
  return options.reply ? `Re: [Driftline] ${m.model} v${m.version} drift alert` : `[Driftline] ${titleOf(m)}`;
}

export function emailHtml(m: AlertMessage): string {
  const row = (k: string, v: string) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`;
  const d = m.deployment;
  if (d) {
    return [
      '<!doctype html><html><body>',
      `<h2>${escapeHtml(titleOf(m))}</h2>`,
      `<p>${escapeHtml(`why: ${m.reasons.map((r) => REASON_TEXT[r]).join(', ')}`)}</p>`,
      '<table>',
      row('Model', m.model),
      m.kind === 'resolve' ? row('Alert on version', String(m.version)) : '',
      row('Now serving', `v${d.version} (${d.action})`),
      row('Holdout RMSE', num(d.holdoutRmse)),
      row('Holdout MAE', num(d.holdoutMae)),
      row('Holdout R²', num(d.holdoutR2)),
      row('Deployed', time(d.deployedAtMs)),
      row('Location', d.location),
      '</table>',
      m.dashboardUrl ? `<p><a href="${escapeHtml(m.dashboardUrl)}">Open the dashboard</a></p>` : '',
      '</body></html>',
    ].join('\n');
  }
  const features =
    m.features.length === 0
      ? ''
      : `<h3>Drifted features</h3><ul>${m.features.map((f) => `<li>${escapeHtml(featureLine(f))}</li>`).join('')}</ul>`;
  return [
    '<!doctype html><html><body>',
    `<h2>${escapeHtml(titleOf(m))}</h2>`,
    '<table>',
    row('Model', m.model),
    row('Version', String(m.version)),
    row('State', m.state),
    row('Severity', m.severity),
    row('Drift share', `${pct(m.shareOfDriftedColumns)} (threshold ${pct(m.driftShare)})`),
    row('Samples', String(m.rowCount)),
    row('Window', `${time(m.windowStartMs)} – ${time(m.windowEndMs)}`),
    row('Performance', performanceLine(m)),
    '</table>',
    features,
    m.retrainRecommended
      ? `<p><b>Retraining recommended</b> (${m.consecutiveDrift} drifting windows in a row)</p>`
      : '',
    m.reportPath ? `<p>Report: ${escapeHtml(m.reportPath)}</p>` : '',
    m.dashboardUrl ? `<p><a href="${escapeHtml(m.dashboardUrl)}">Open the dashboard</a></p>` : '',
    '</body></html>',
  ].join('\n');
}

/** The webhook's body: the message itself, with a type. */
export function webhookBody(m: AlertMessage): string {
  return JSON.stringify({ type: `driftline.alert.${m.kind}`, alert: m });
}

/** The message `driftline alert test` sends: made-up numbers, marked as a test. */
export function testAlertMessage(options: { dashboardUrl?: string | undefined; now?: number } = {}): AlertMessage {
  const now = options.now ?? Date.now();
  const id = `test-${now.toString(36)}`;
  return {
    alertId: id,
    eventId: id,
    kind: 'test',
    severity: 'warning',
    reasons: [],
    model: 'driftline-test',
    version: 1,
    state: 'drift',
    windowStartMs: now - 5 * 60_000,
    windowEndMs: now,
    evaluatedAtMs: now,
    shareOfDriftedColumns: 0.25,
    driftShare: 0.25,
    features: [{ column: 'MedInc', method: 'wasserstein', statistic: 0.412, threshold: 0.1, pValue: null }],
    predictionDrifted: false,
    consecutiveDrift: 1,
    retrainRecommended: false,
    performance: { verdict: 'ok', rmse: 0.55, holdoutRmse: 0.53, tolerance: 1.2, labelled: 1_000 },
    rowCount: 6_000,
    reportPath: null,
    dashboardUrl: options.dashboardUrl ?? null,
  };
}
