/**
 * The demo's live status, as data and as text. `renderStatus` draws the compact block a terminal
 * redraws in place; `statusChanges` gives the plain lines (no TTY, e.g. CI) for what changed
 * between two states. Both are pure: the demo gathers the state, live-terminal.ts writes it.
 */

/** One model version's latest window evaluation. */
export interface VersionStatus {
  version: number;
  state: string;
  driftedFeatures: readonly string[];
  windows: number;
  retrainRecommended: boolean;
  /** Realized RMSE of the latest window and its verdict, when labels allowed one. */
  rmse: number | null;
  performance: string;
}

export type RetrainStatus =
  | { kind: 'waiting' }
  | { kind: 'training'; epoch: number; epochs: number; loss: number | null; rows: number }
  | {
      kind: 'done';
      state: string;
      challenger: number | null;
      challengerRmse: number | null;
      championRmse: number | null;
    };

export interface DemoStatus {
  model: string;
  startedAtMs: number;
  /** Wall-clock budget of the run (`--duration`). */
  budgetMs: number;
  /** What the demo does now, e.g. "4/7 replay: calm, then drift". */
  phase: string;
  events: { sent: number; total: number; perSecond: number; stored: number; groundTruth: number };
  /** Every version evaluated in this run, oldest first. */
  versions: readonly VersionStatus[];
  /** The version the predict service answers with. */
  serving: number | undefined;
  /** When the predict service swapped to a version this run deployed. */
  deployed: { version: number; atMs: number } | undefined;
  alerts: { opened: number; updated: number; resolved: number; failed: number; channels: readonly string[] };
  retrain: RetrainStatus;
  dashboardUrl: string | undefined;
}

export function initialStatus(model: string, startedAtMs: number, budgetMs: number): DemoStatus {
  return {
    model,
    startedAtMs,
    budgetMs,
    phase: 'starting',
    events: { sent: 0, total: 0, perSecond: 0, stored: 0, groundTruth: 0 },
    versions: [],
    serving: undefined,
    deployed: undefined,
    alerts: { opened: 0, updated: 0, resolved: 0, failed: 0, channels: [] },
    retrain: { kind: 'waiting' },
    dashboardUrl: undefined,
  };
}

const LABEL_WIDTH = 10;

function row(label: string, text: string): string {
  return `${label.padEnd(LABEL_WIDTH)}${text}`;
}

/** m:ss */
export function minutes(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function rmse(n: number | null): string {
  return n === null ? 'n/a' : n.toFixed(3);
}

function describeVersion(v: VersionStatus): string {
  const parts = [v.state];
  if (v.driftedFeatures.length > 0) parts.push(v.driftedFeatures.join(', '));
  parts.push(`${v.windows} window${v.windows === 1 ? '' : 's'}`);
  if (v.rmse !== null) parts.push(`RMSE ${rmse(v.rmse)} (${v.performance})`);
  if (v.retrainRecommended) parts.push('retrain recommended');
  return parts.join(' · ');
}

function describeRetrain(r: RetrainStatus): string {
  switch (r.kind) {
    case 'waiting':
      return 'waiting for a drift event that recommends it';
    case 'training': {
      const filled = r.epochs > 0 ? Math.round((r.epoch / r.epochs) * 20) : 0;
      const loss = r.loss === null ? '' : ` · loss ${r.loss.toFixed(4)}`;
      return `[${'#'.repeat(filled)}${'.'.repeat(20 - filled)}] epoch ${r.epoch}/${r.epochs} on ${count(r.rows)} rows${loss}`;
    }
    case 'done':
      return r.challenger === null
        ? r.state
        : `v${r.challenger} ${r.state}: RMSE ${rmse(r.challengerRmse)} vs champion ${rmse(r.championRmse)}`;
  }
}

/** The status block, one string per line, at most `width` characters each (a wrapped line would break the redraw). */
export function renderStatus(status: DemoStatus, nowMs: number, width = 100): string[] {
  const { events, alerts } = status;
  const elapsed = nowMs - status.startedAtMs;
  const lines = [
    `── driftline demo · ${status.model} · ${minutes(elapsed)} of ${minutes(status.budgetMs)} ──`,
    row('phase', status.phase),
    row(
      'events',
      `${count(events.sent)}/${count(events.total)} sent · ${count(events.perSecond)}/s · ${count(events.stored)} stored · ${count(events.groundTruth)} ground truth`,
    ),
  ];
  const serving =
    status.serving === undefined
      ? 'starting'
      : `v${status.serving}${status.deployed?.version === status.serving ? ` (deployed at ${minutes(status.deployed.atMs - status.startedAtMs)})` : ''}`;
  lines.push(row('serving', serving));
  if (status.versions.length === 0) lines.push(row('drift', 'no window evaluated yet'));
  for (const v of status.versions) lines.push(row(`v${v.version}`, describeVersion(v)));
  lines.push(
    row(
      'alerts',
      `${alerts.opened} opened · ${alerts.updated} updates · ${alerts.resolved} resolved${alerts.failed > 0 ? ` · ${alerts.failed} failed` : ''} → ${alerts.channels.join(', ') || 'none'}`,
    ),
  );
  lines.push(row('retrain', describeRetrain(status.retrain)));
  if (status.dashboardUrl) lines.push(row('dashboard', status.dashboardUrl));
  return lines.map((line) => (line.length > width ? `${line.slice(0, Math.max(0, width - 1))}…` : line));
}

/**
 * Plain lines for what changed from `before` to `after`: a version's state, with its drifted
 * features. Counters are left out (plain output is a log, not a display), and the demo prints its
 * own lines for retraining and deployment.
 */
export function statusChanges(before: DemoStatus, after: DemoStatus): string[] {
  const lines: string[] = [];
  for (const v of after.versions) {
    const old = before.versions.find((b) => b.version === v.version);
    if (old?.state === v.state && old.driftedFeatures.join() === v.driftedFeatures.join()) continue;
    const features = v.driftedFeatures.length > 0 ? ` (${v.driftedFeatures.join(', ')})` : '';
    lines.push(`    status: ${after.model} v${v.version} ${old ? `${old.state} → ` : ''}${v.state}${features}`);
  }
  return lines;
}
