import { describe, expect, it } from 'vitest';
import type { DriftStateName } from '../../core/schemas.ts';
import { INITIAL_STATE, type MonitorState, revise, type Step, step } from './state.ts';

/** Steps through verdicts from the initial state; returns every step. */
function run(verdicts: DriftStateName[], retrainAfter = 3, from: MonitorState = INITIAL_STATE): Step[] {
  const steps: Step[] = [];
  let state = from;
  for (const verdict of verdicts) {
    const next = step(state, verdict, retrainAfter);
    steps.push(next);
    state = { state: next.state, consecutiveDrift: next.consecutiveDrift };
  }
  return steps;
}

describe('drift state machine', () => {
  it('marks transitions only where the state changes; a first evaluation is one only when it drifts', () => {
    expect(run(['ok', 'ok', 'drift', 'drift', 'ok']).map((s) => [s.previousState, s.state, s.transition])).toEqual([
      [null, 'ok', false],
      ['ok', 'ok', false],
      ['ok', 'drift', true],
      ['drift', 'drift', false],
      ['drift', 'ok', true],
    ]);
    expect(run(['drift'])[0]).toMatchObject({ previousState: null, transition: true });
    expect(run(['insufficient_data'])[0]).toMatchObject({ previousState: null, transition: false });
  });

  it('recommends retraining only once drift has persisted for K evaluations in a row', () => {
    const steps = run(['drift', 'drift', 'drift', 'drift', 'ok', 'drift'], 3);
    expect(steps.map((s) => s.consecutiveDrift)).toEqual([1, 2, 3, 4, 0, 1]);
    expect(steps.map((s) => s.retrainRecommended)).toEqual([false, false, true, true, false, false]);
    expect(run(['drift'], 1)[0]?.retrainRecommended).toBe(true);
  });

  it('lets insufficient data neither break nor extend a run of drift', () => {
    const steps = run(['drift', 'drift', 'insufficient_data', 'drift'], 3);
    expect(steps.map((s) => s.consecutiveDrift)).toEqual([1, 2, 2, 3]);
    expect(steps.map((s) => s.retrainRecommended)).toEqual([false, false, false, true]);
    expect(steps.map((s) => s.transition)).toEqual([true, false, true, true]);
  });

  it('continues from a restored state as if never interrupted', () => {
    const straight = run(['ok', 'drift', 'drift', 'drift', 'drift']);
    const before = straight[2] as Step;
    const resumed = run(['drift', 'drift'], 3, { state: before.state, consecutiveDrift: before.consecutiveDrift });
    expect(resumed).toEqual(straight.slice(3));
  });

  it('refuses a retrain threshold below 1', () => {
    expect(() => step(INITIAL_STATE, 'ok', 0)).toThrow(RangeError);
  });

  it('reports a revision against the window’s first evaluation, with the running count unchanged', () => {
    // The first evaluation (partial) said drift, 2nd in a row; with the missing partition it is ok.
    expect(revise({ state: 'drift', consecutiveDrift: 2 }, 'ok', 3)).toEqual({
      state: 'ok',
      previousState: 'drift',
      transition: true,
      consecutiveDrift: 2,
      retrainRecommended: false,
    });
    expect(revise({ state: 'drift', consecutiveDrift: 3 }, 'drift', 3)).toEqual({
      state: 'drift',
      previousState: 'drift',
      transition: false,
      consecutiveDrift: 3,
      retrainRecommended: true,
    });
    expect(revise({ state: 'ok', consecutiveDrift: 0 }, 'drift', 3)).toMatchObject({
      transition: true,
      consecutiveDrift: 0,
      retrainRecommended: false,
    });
  });
});
