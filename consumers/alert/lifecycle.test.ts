import { describe, expect, it } from 'vitest';
import {
  type AlertInput,
  type AlertStep,
  type AlertTrack,
  alertIdOf,
  type DeploymentInput,
  decideAlert,
  decideDeployment,
  deploymentEventIdOf,
  EMPTY_TRACK,
  severityOf,
} from './lifecycle.ts';

const MINUTE = 60_000;
const settings = { updateIntervalMs: 15 * MINUTE };

/** Window n of model m v1: ends at n minutes, evaluated 1 s later. */
function event(n: number, patch: Partial<AlertInput> = {}): AlertInput {
  return {
    eventId: `e${n}`,
    model: 'm',
    version: 1,
    windowEndMs: n * MINUTE,
    evaluatedAtMs: n * MINUTE + 1_000,
    revision: 0,
    transition: false,
    state: 'ok',
    driftedFeatures: [],
    predictionDrifted: false,
    shareOfDriftedColumns: 0,
    driftShare: 0.25,
    retrainRecommended: false,
    performanceVerdict: 'ok',
    ...patch,
  };
}

const drift = (n: number, features: string[], patch: Partial<AlertInput> = {}) =>
  event(n, { state: 'drift', driftedFeatures: features, shareOfDriftedColumns: features.length / 9, ...patch });

/** Runs events through the lifecycle; returns each decision's kind (or '-') and the final track. */
function run(events: AlertInput[], track: AlertTrack = EMPTY_TRACK): { kinds: string[]; steps: AlertStep[] } {
  const steps: AlertStep[] = [];
  for (const e of events) {
    const step = decideAlert(track, e, settings);
    steps.push(step);
    track = step.track;
  }
  return { kinds: steps.map((s) => s.decision?.kind ?? '-'), steps };
}

describe('alert lifecycle', () => {
  it('an episode ok → drift → drift ×3 (a feature added, then retraining) → ok: one open, the updates the rules allow, one resolve', () => {
    const { kinds, steps } = run([
      event(1),
      drift(2, ['MedInc', 'AveRooms'], { transition: true }),
      drift(3, ['AveRooms', 'MedInc']),
      drift(4, ['MedInc', 'AveRooms', 'HouseAge']),
      drift(5, ['MedInc', 'AveRooms', 'HouseAge'], { retrainRecommended: true }),
      event(6, { transition: true }),
    ]);
    expect(kinds).toEqual(['-', 'open', '-', 'update', 'update', 'resolve']);
    expect(steps[3]?.decision?.reasons).toEqual(['features_changed']);
    expect(steps[4]?.decision?.reasons).toContain('retrain_recommended');
    // One alert id from open to resolve.
    const ids = new Set(steps.flatMap((s) => (s.decision ? [s.decision.alertId] : [])));
    expect(ids.size).toBe(1);
    expect(steps[5]?.track.open).toBeNull();
  });

  it('sends a reminder only once the update interval passed since the last message', () => {
    const { kinds } = run([
      drift(1, ['a']),
      drift(5, ['a']),
      drift(16, ['a']), // 15 min after the opening message
      drift(20, ['a']),
      drift(31, ['a']),
    ]);
    expect(kinds).toEqual(['open', '-', 'update', '-', 'update']);
  });

  it('opens on degraded performance alone, and does not resolve while performance stays degraded', () => {
    const { kinds } = run([
      event(1, { performanceVerdict: 'degraded' }),
      event(2, { performanceVerdict: 'degraded' }),
      event(3, { performanceVerdict: 'ok' }),
    ]);
    expect(kinds).toEqual(['open', '-', 'resolve']);
  });

  it('insufficient_data neither opens nor resolves', () => {
    expect(run([event(1, { state: 'insufficient_data' })]).kinds).toEqual(['-']);
    expect(run([drift(1, ['a']), event(2, { state: 'insufficient_data' }), event(3)]).kinds).toEqual([
      'open',
      '-',
      'resolve',
    ]);
  });

  it('a new alert after a resolve has a new id', () => {
    const { steps } = run([drift(1, ['a']), event(2), drift(3, ['a'])]);
    expect(steps[0]?.decision?.alertId).not.toBe(steps[2]?.decision?.alertId);
    expect(steps[2]?.decision?.kind).toBe('open');
  });

  it('ignores a re-read or an older window (revision 0 not after the newest window seen)', () => {
    const { kinds, steps } = run([drift(2, ['a']), event(2), event(1)]);
    expect(kinds).toEqual(['open', '-', '-']);
    expect(steps[1]?.ignored).toBe('stale');
    expect(steps[2]?.track.open).not.toBeNull();
  });

  it('revisions: only a changed verdict of the newest window counts', () => {
    // A revision confirming the first evaluation says nothing.
    expect(run([drift(2, ['a']), drift(2, ['a', 'b'], { revision: 1 })]).kinds).toEqual(['open', '-']);
    // A revision turning the newest window to drift opens the alert the first evaluation missed.
    expect(run([event(2), drift(2, ['a'], { revision: 1, transition: true })]).kinds).toEqual(['-', 'open']);
    // A revision turning the newest window back to ok resolves.
    expect(run([drift(2, ['a']), event(2, { revision: 1, transition: true })]).kinds).toEqual(['open', 'resolve']);
    // A revision of an older window does not reopen what later windows resolved.
    const older = run([drift(2, ['a']), event(3), drift(2, ['a'], { revision: 1, transition: true })]);
    expect(older.kinds).toEqual(['open', 'resolve', '-']);
    expect(older.steps[2]?.ignored).toBe('revision');
  });

  it('decides the same after a restart from the same track (the id is derived, not random)', () => {
    const a = decideAlert(EMPTY_TRACK, drift(1, ['a']), settings);
    const b = decideAlert(EMPTY_TRACK, drift(1, ['a']), settings);
    expect(a).toEqual(b);
  });

  it('severity: warning for a modest drift, critical with degradation, retraining, or twice the share', () => {
    expect(severityOf(drift(1, ['a'], { shareOfDriftedColumns: 0.3 }))).toBe('warning');
    expect(severityOf(drift(1, ['a'], { shareOfDriftedColumns: 0.5 }))).toBe('critical');
    expect(severityOf(drift(1, ['a'], { shareOfDriftedColumns: 0.3, performanceVerdict: 'degraded' }))).toBe(
      'critical',
    );
    expect(severityOf(drift(1, ['a'], { shareOfDriftedColumns: 0.3, retrainRecommended: true }))).toBe('critical');
    expect(severityOf(event(1, { performanceVerdict: 'degraded' }))).toBe('warning');
    // A raised severity is an update of its own.
    const { steps } = run([
      drift(1, ['a'], { shareOfDriftedColumns: 0.3 }),
      drift(2, ['a'], { shareOfDriftedColumns: 0.3, performanceVerdict: 'degraded' }),
    ]);
    expect(steps[1]?.decision).toMatchObject({ kind: 'update', severity: 'critical', reasons: ['severity_raised'] });
  });
});

describe('decideDeployment', () => {
  const open = (
    alertId: string,
    latestWindowEndMs: number,
    severity: 'warning' | 'critical' = 'warning',
  ): AlertTrack => ({
    latestWindowEndMs,
    open: {
      alertId,
      severity,
      openedAtMs: 0,
      lastMessageAtMs: 0,
      driftedFeatures: ['a'],
      retrainRecommended: true,
    },
  });
  const deployment = (version: number, patch: Partial<DeploymentInput> = {}): DeploymentInput => {
    const fields = { model: 'm', version, action: 'promote' as const, deployedAtMs: 30 * MINUTE, ...patch };
    return { eventId: deploymentEventIdOf(fields), ...fields };
  };

  it("a promotion of v3 resolves the open alerts of v1 and v2 (reason retrained), not v3's own, and moves their tracks past the deployment", () => {
    const tracks = new Map<number, AlertTrack>([
      [2, open('a2', 20 * MINUTE, 'critical')],
      [1, open('a1', 10 * MINUTE)],
      [3, open('a3', 25 * MINUTE)],
      [4, { latestWindowEndMs: 5 * MINUTE, open: null }],
    ]);
    const steps = decideDeployment(tracks, deployment(3));
    expect(steps.map((s) => [s.version, s.decision])).toEqual([
      [1, { kind: 'resolve', alertId: 'a1', severity: 'warning', reasons: ['retrained'] }],
      [2, { kind: 'resolve', alertId: 'a2', severity: 'critical', reasons: ['retrained'] }],
    ]);
    for (const step of steps) expect(step.track).toEqual({ latestWindowEndMs: 30 * MINUTE, open: null });
    // A late window of a replaced version no longer reopens: it is older than the deployment.
    const late = decideAlert(steps[0]?.track as AlertTrack, drift(29, ['a'], { version: 1 }), settings);
    expect(late.decision).toBeNull();
    expect(late.ignored).toBe('stale');
  });

  it('a rollback resolves with reason rolled_back', () => {
    const steps = decideDeployment(new Map([[2, open('a2', 0)]]), deployment(1, { action: 'rollback' }));
    expect(steps[0]?.decision).toMatchObject({ kind: 'resolve', alertId: 'a2', reasons: ['rolled_back'] });
  });

  it('no other version with an open alert: one `deployed` notice about the deployed version, tracks unchanged', () => {
    const input = deployment(2);
    for (const tracks of [new Map<number, AlertTrack>(), new Map([[2, open('a2', 0)]]), new Map([[1, EMPTY_TRACK]])]) {
      expect(decideDeployment(tracks, input)).toEqual([
        {
          version: 2,
          decision: {
            kind: 'deployed',
            alertId: alertIdOf('m', 2, input.eventId),
            severity: 'info',
            reasons: ['retrained'],
          },
          track: undefined,
        },
      ]);
    }
  });

  it('the deployment id is derived from the deployment: the same on a re-read, another for another deployment', () => {
    expect(deployment(2).eventId).toBe(deployment(2).eventId);
    expect(deployment(2).eventId).not.toBe(deployment(3).eventId);
    expect(deployment(2).eventId).not.toBe(deployment(2, { deployedAtMs: 31 * MINUTE }).eventId);
    expect(deployment(2).eventId).toMatch(/^deploy-[0-9a-f]{20}$/);
  });
});
