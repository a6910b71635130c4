/**
 * What a model version's windows and monitoring state come back from — after a restart, or when
 * a version dropped for idleness (windows.ts, `dropIdle`) sends sketches again. Everything comes
 * from ClickHouse: the newest drift_events rows (the store of record for evaluations) and the
 * store's feature_sketches (every pane snapshot it emitted).
 */
import type { Storage } from '../../core/storage/index.ts';
import { queryFirstPane, queryLastState, queryPaneSketches, queryRevisable } from './queries.ts';
import { INITIAL_STATE, type MonitorState } from './state.ts';
import type { RestoredVersion } from './windows.ts';

export interface RestoreOptions {
  windowPanes: number;
  /** windows.ts `revisePanes`: how long a partial window stays open to revision. */
  revisePanes: number;
  /** MAX_CLOCK_SKEW_SECONDS in ms (sketch-validation.ts). */
  maxSkewMs: number;
}

export interface VersionState {
  /** For DriftWindows.restore; undefined: nothing to restore. */
  windows: RestoredVersion | undefined;
  /** The state the next window steps from. */
  monitor: MonitorState;
}

/**
 * The state of one version:
 *   - evaluated before: the monitoring state of its newest window's first evaluation, the end of
 *     that window, the partial windows still open to revision, and the sketches of the decided
 *     panes the next windows and those revisions still need;
 *   - never evaluated (still warming up — or a canary rolled back after fewer panes than a
 *     window): the start of its first pane and the sketches of its warm-up panes, so its first
 *     window is the one it would have been without the restart. Those panes are decided without
 *     being evaluated, so the commit does not wait for them;
 *   - unknown to feature_sketches: a fresh start.
 */
export async function loadVersionState(
  storage: Storage,
  model: string,
  version: number,
  options: RestoreOptions,
): Promise<VersionState> {
  const check = { windowPanes: options.windowPanes, maxSkewMs: options.maxSkewMs };
  const last = await queryLastState(storage, model, version);
  if (last && last.windowEndMs > 0 && last.paneMs > 0) {
    const through = last.windowEndMs;
    const paneMs = last.paneMs;
    const revisable = await queryRevisable(storage, model, version, through - options.revisePanes * paneMs, through);
    let from = through - (options.windowPanes - 1) * paneMs;
    for (const r of revisable) from = Math.min(from, r.end - options.windowPanes * paneMs);
    const parts = await queryPaneSketches(storage, model, version, from, through, check);
    return {
      windows: { evaluatedThrough: through, paneMs, sources: last.sources, revisable, parts },
      // Revisions do not step the running state: a revision row carries its first evaluation's
      // state as previous_state and its count unchanged (state.ts, revise).
      monitor: {
        state: last.revision > 0 ? last.previousState : last.state,
        consecutiveDrift: last.consecutiveDrift,
      },
    };
  }
  const first = await queryFirstPane(storage, model, version, options.maxSkewMs);
  const paneMs = first ? first.end - first.start : 0;
  if (first && paneMs > 0 && options.windowPanes > 1) {
    // The warm-up panes: the first W−1.
    const parts = await queryPaneSketches(
      storage,
      model,
      version,
      first.start,
      first.start + (options.windowPanes - 1) * paneMs,
      check,
    );
    if (parts.length > 0) {
      return {
        windows: {
          evaluatedThrough: Number.NEGATIVE_INFINITY,
          firstPaneStart: parts.reduce((min, p) => Math.min(min, p.paneStart), Number.POSITIVE_INFINITY),
          paneMs,
          sources: [],
          parts,
        },
        monitor: { ...INITIAL_STATE },
      };
    }
  }
  return { windows: undefined, monitor: { ...INITIAL_STATE } };
}
