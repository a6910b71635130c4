/**
 * The monitoring state of one model version, stepped once per window, by the window's first
 * evaluation (a later revision of the window does not step it: see `revise`). Pure.
 */
import type { DriftStateName } from '../../core/schemas.ts';

export interface MonitorState {
  /** Null before the first evaluation. */
  state: DriftStateName | null;
  consecutiveDrift: number;
}

export interface Step {
  state: DriftStateName;
  previousState: DriftStateName | null;
  transition: boolean;
  consecutiveDrift: number;
  retrainRecommended: boolean;
}

export const INITIAL_STATE: Readonly<MonitorState> = Object.freeze({ state: null, consecutiveDrift: 0 });

/**
 * The state after a window's first evaluation (the event's fields):
 *   state               the evaluation's dataset verdict: ok, drift or insufficient_data
 *   previous_state      the state before (null for the version's first evaluation)
 *   transition          state ≠ previous_state; the first evaluation is a transition only when it
 *                       finds drift (alerting starts from "nothing wrong", not from "unknown")
 *   consecutive_drift   evaluations in a row in state drift, this one included; ok resets it to 0;
 *                       insufficient_data leaves it as it is (no evidence either way: a traffic
 *                       dip in the middle of a drift must not restart the count)
 *   retrain_recommended state is drift and consecutive_drift ≥ retrainAfter — drift that has
 *                       persisted, not one noisy window
 */
export function step(previous: Readonly<MonitorState>, verdict: DriftStateName, retrainAfter: number): Step {
  if (!(Number.isSafeInteger(retrainAfter) && retrainAfter >= 1)) {
    throw new RangeError(`retrainAfter must be an integer ≥ 1; got ${retrainAfter}`);
  }
  const consecutiveDrift =
    verdict === 'drift' ? previous.consecutiveDrift + 1 : verdict === 'ok' ? 0 : previous.consecutiveDrift;
  return {
    state: verdict,
    previousState: previous.state,
    transition: previous.state === null ? verdict === 'drift' : verdict !== previous.state,
    consecutiveDrift,
    retrainRecommended: verdict === 'drift' && consecutiveDrift >= retrainAfter,
  };
}

/**
 * A revision of a window evaluated before (its missing sketches arrived: windows.ts). It reports
 * the window's corrected verdict against what the window's first evaluation said: `previousState`
 * is that first state and `transition` says whether the verdict changed. The running count is
 * not rewritten — later windows were stepped from the first evaluation — so `consecutiveDrift`
 * is the first evaluation's, and retraining is recommended only if the corrected verdict is
 * still drift.
 */
export function revise(original: Readonly<MonitorState>, verdict: DriftStateName, retrainAfter: number): Step {
  if (!(Number.isSafeInteger(retrainAfter) && retrainAfter >= 1)) {
    throw new RangeError(`retrainAfter must be an integer ≥ 1; got ${retrainAfter}`);
  }
  return {
    state: verdict,
    previousState: original.state,
    transition: verdict !== original.state,
    consecutiveDrift: original.consecutiveDrift,
    retrainRecommended: verdict === 'drift' && original.consecutiveDrift >= retrainAfter,
  };
}
