import { describe, expect, it } from 'vitest';
import type { DriftEvent } from '../../core/schemas.ts';
import {
  buildTrainingSet,
  checkBeforeTraining,
  checkLabels,
  decidePromotion,
  type LabelledRow,
  Refusal,
  type RetrainTrigger,
  triggerOf,
} from './decision.ts';

function event(overrides: Partial<DriftEvent> = {}, verdict: DriftEvent['performance']['verdict'] = 'ok'): DriftEvent {
  return {
    event_id: 'e-1',
    model_name: 'm',
    model_version: 3,
    window_start: new Date(0),
    window_end: new Date(300_000),
    state: 'drift',
    consecutive_drift: 3,
    retrain_recommended: false,
    drifted_columns: ['MedInc', 'prediction'],
    drifted_features: ['MedInc'],
    prediction_drifted: true,
    share_of_drifted_columns: 0.6,
    performance: {
      labelled_count: 900,
      rmse: 0.9,
      mae: 0.6,
      holdout_rmse: 0.55,
      holdout_mae: 0.38,
      tolerance: 1.2,
      min_labels: 100,
      verdict,
    },
    ...overrides,
  } as DriftEvent;
}

const drift: RetrainTrigger = { kind: 'drift', model: 'm', eventId: 'e', modelVersion: 3, reason: '', summary: {} };
const manual: RetrainTrigger = { ...drift, kind: 'manual', eventId: '', modelVersion: 0 };
const HOUR = 3_600_000;

describe('triggerOf', () => {
  it('takes retrain_recommended and a degraded verdict, ignores the rest', () => {
    expect(triggerOf(event())).toBeUndefined();
    expect(triggerOf(event({ retrain_recommended: true }))).toMatchObject({
      kind: 'drift',
      modelVersion: 3,
      eventId: 'e-1',
    });
    const perf = triggerOf(event({}, 'degraded'));
    expect(perf).toMatchObject({ kind: 'performance' });
    expect(perf?.reason).toContain('realized RMSE 0.9000 above holdout 0.5500');
    expect(perf?.summary).toMatchObject({
      drift_event_id: 'e-1',
      drifted_features: ['MedInc'],
      performance: { verdict: 'degraded' },
    });
  });
});

describe('guardrails', () => {
  const base = { champion: 3, running: false, lastCycleAt: undefined, now: 10 * HOUR, cooldownSeconds: 1800 };
  it('passes a fresh trigger', () => {
    expect(checkBeforeTraining({ ...base, trigger: drift })).toEqual({ ok: true });
  });
  it('refuses a trigger during the cooldown, but not a manual one', () => {
    const during = { ...base, lastCycleAt: base.now - 600_000 };
    expect(checkBeforeTraining({ ...during, trigger: drift })).toMatchObject({ ok: false, refusal: Refusal.COOLDOWN });
    expect(checkBeforeTraining({ ...during, trigger: manual })).toEqual({ ok: true });
    expect(checkBeforeTraining({ ...base, lastCycleAt: base.now - 1_800_000, trigger: drift })).toEqual({ ok: true });
  });
  it('refuses while a cycle runs, for a stale version, without a champion', () => {
    expect(checkBeforeTraining({ ...base, running: true, trigger: manual })).toMatchObject({
      refusal: Refusal.RUNNING,
    });
    expect(checkBeforeTraining({ ...base, champion: 4, trigger: drift })).toMatchObject({
      refusal: Refusal.STALE_VERSION,
    });
    expect(checkBeforeTraining({ ...base, champion: null, trigger: manual })).toMatchObject({
      refusal: Refusal.NO_CHAMPION,
    });
  });
  it("refuses a champion served elsewhere, even manually: a challenger trained here would not be its owner's model", () => {
    for (const trigger of [drift, manual]) {
      const refused = checkBeforeTraining({ ...base, servedElsewhere: true, trigger });
      expect(refused).toMatchObject({ ok: false, refusal: Refusal.SERVED_ELSEWHERE });
      expect(refused.ok ? '' : refused.reason).toContain('served elsewhere (driftline models register)');
    }
    expect(checkBeforeTraining({ ...base, servedElsewhere: false, trigger: drift })).toEqual({ ok: true });
  });
  it('needs the minimum of labels', () => {
    expect(checkLabels(2000, 2000, 24)).toEqual({ ok: true });
    const refused = checkLabels(1999, 2000, 24);
    expect(refused).toMatchObject({ ok: false, refusal: Refusal.INSUFFICIENT_LABELS });
    expect(refused.ok ? '' : refused.reason).toBe(
      '1999 labelled predictions in the last 24 h; 2000 needed (RETRAIN_MIN_LABELS)',
    );
  });
});

describe('buildTrainingSet', () => {
  const recent: LabelledRow[] = Array.from({ length: 100 }, (_, i) => ({
    features: [i],
    actual: i,
    // Out of order on purpose: the holdout is chosen by event time, not by arrival.
    eventTimeMs: ((i * 37) % 100) * 1000,
  }));
  const base = { x: Array.from({ length: 1000 }, (_, i) => [-i]), y: Array.from({ length: 1000 }, (_, i) => -i) };

  it('keeps the newest 20 % (by event time) out as holdout and mixes base rows at the share', () => {
    const set = buildTrainingSet(recent, base, 0.5, 1);
    const newest = recent.filter((r) => r.eventTimeMs >= 80_000).map((r) => r.actual);
    expect([...set.holdout.y].sort((a, b) => a - b)).toEqual(newest.sort((a, b) => a - b));
    expect(set.recentTrainRows).toBe(80);
    expect(set.baseRows).toBe(80);
    expect(set.train.x.length).toBe(160);
    expect(set.train.y.filter((y) => newest.includes(y) && y >= 0)).toEqual([]);
    expect(buildTrainingSet(recent, base, 0.75, 1).baseRows).toBe(240);
    expect(buildTrainingSet(recent, base, 0, 1).baseRows).toBe(0);
    expect(buildTrainingSet(recent, { x: base.x.slice(0, 10), y: base.y.slice(0, 10) }, 0.5, 1).baseRows).toBe(10);
  });

  it('draws the same base rows for the same seed', () => {
    expect(buildTrainingSet(recent, base, 0.5, 7).train.y).toEqual(buildTrainingSet(recent, base, 0.5, 7).train.y);
  });
});

describe('decidePromotion', () => {
  it('promotes only a challenger at least RETRAIN_MIN_IMPROVEMENT better', () => {
    expect(decidePromotion(1, 0.97, 0.02)).toMatchObject({ promote: true });
    expect(decidePromotion(1, 0.99, 0.02)).toMatchObject({ promote: false });
    const worse = decidePromotion(0.6, 0.66, 0.02);
    expect(worse.promote).toBe(false);
    expect(worse.reason).toBe(
      'challenger RMSE 0.6600 vs champion 0.6000 on the recent holdout: 10.0 % worse, 2.0 % needed (RETRAIN_MIN_IMPROVEMENT)',
    );
    expect(decidePromotion(1, Number.NaN, 0)).toMatchObject({ promote: false });
  });
});
