/**
 * Sliding event-time windows over the store consumer's pane sketches, and when a pane is complete
 * enough to end one. Pure: no Kafka, no ClickHouse, no clock — every `now` is the caller's
 * *active time* (wall-clock time that stops while consumption is paused: ActiveClock in
 * core/kafka/consumer-lifecycle.ts), so an outage does not count as waiting for a partition.
 * The window ending at pane P merges every source partition's sketches of panes P−W+1 … P
 * (W = `windowPanes`); windows slide by one pane and are evaluated in pane order.
 */
import {
  type ColumnSketch,
  type ColumnSketchJSON,
  columnSketchOf,
  mergeColumnSketch,
  rowsOf,
} from '../../core/sketch/index.ts';
import type { MonitorState } from './state.ts';

/** `topic:partition`, the name of a source partition in windows, events and state. */
export function sourceName(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

/** One pane's sketch of one column (numeric or categorical: `kind`) from one source partition. */
export type SketchPart = {
  model: string;
  version: number;
  column: string;
  paneStart: number;
  paneEnd: number;
  /** `topic:partition` of the predictions partition the sketch summarizes. */
  source: string;
} & ColumnSketchJSON;

/** Where a part was read in the sketches topic. */
export interface Position {
  partition: number;
  offset: bigint;
}

export interface WindowOptions {
  /** Window length in panes (≥ 1). */
  windowPanes: number;
  /** Rule 2: some partition this many panes past P completes P; 0 turns the rule off. */
  gracePanes: number;
  /** Rule 3: this long (ms, active time) without a sketch of the model completes P; 0: off. */
  graceMs: number;
  /** Rule 4: at most this many panes of a version wait; default 1,000. */
  maxPendingPanes?: number;
  /** A partial window can be revised until this many later panes are decided; default `windowPanes`. */
  revisePanes?: number;
  /** A version with every pane decided is dropped after this long (active ms) without a sketch; default 10 min. */
  idleMs?: number;
}

export type Completion = 'all_sources' | 'grace_panes' | 'grace_time' | 'buffer_full';

/** A window ready for evaluation. */
export interface Window {
  model: string;
  version: number;
  /** Inclusive event-time start (ms): `end` − windowPanes × paneMs. */
  start: number;
  /** Exclusive event-time end (ms): the end of the newest pane. */
  end: number;
  paneMs: number;
  /** Panes in [start, end) that had any sketch. */
  paneCount: number;
  /** Values + nulls + non-finite values of the fullest column. */
  rowCount: number;
  /** Source partitions merged into the window, sorted. */
  sources: string[];
  /** Partitions the window should hold: every partition of the source topic (or, while that is unknown, every one seen). */
  sourcesExpected: number;
  /** Pane sketches (pane × source × column) merged into the window. */
  sketchCount: number;
  /** Merged sketch per column. */
  columns: Map<string, ColumnSketch>;
  completion: Completion;
  /** Not every source partition had passed the window's newest pane: sketches may be missing. */
  partial: boolean;
  /** 0 for a window's first evaluation, n for its n-th revision. */
  revision: number;
  /** For a revision: the monitoring state the window's first evaluation reported. */
  original: Readonly<MonitorState> | undefined;
}

/**
 * added: a new part; replaced: the same (pane, source, column) again (a re-read or a re-emitted
 * sketch) — the newer copy is kept; late: a new part for a pane already decided (kept for later
 * windows and revisions); expired: older than every window still to come (dropped).
 */
export type PartPlacement = 'added' | 'replaced' | 'late' | 'expired';

/** A partial window still open to revision, as persisted with its newest evaluation. */
export interface RevisableWindow {
  end: number;
  /** Its newest revision (0: only the first evaluation so far). */
  revision: number;
  /** Pane sketches merged into that evaluation. */
  sketchCount: number;
  /** The monitoring state its first evaluation reported. */
  original: MonitorState;
}

/** What the adapter persisted about a version, for `restore`. */
export interface RestoredVersion {
  paneMs: number;
  /** End of the newest evaluated window; −∞ for a version never evaluated. */
  evaluatedThrough: number;
  /** A version never evaluated: the start of its first pane (it is still warming up). */
  firstPaneStart?: number;
  /** Source partitions known when the newest window was evaluated. */
  sources: readonly string[];
  /** Partial windows still open to revision. */
  revisable?: readonly RevisableWindow[];
  /**
   * Sketches of the decided panes later windows and revisions still need: for an evaluated
   * version, panes ending in (min(evaluatedThrough − (W−1) panes, oldest revisable window's
   * start), evaluatedThrough]; for one never evaluated, its first W−1 panes.
   */
  parts: readonly SketchPart[];
}

interface Part {
  source: string;
  column: string;
  sketch: ColumnSketchJSON;
  rows: number;
  position: Position | undefined;
}

interface Pane {
  start: number;
  end: number;
  /** `source \0 column` → part */
  parts: Map<string, Part>;
  /** Sketch per column over all sources, built when first needed, dropped when a part changes. */
  merged: Map<string, ColumnSketch> | undefined;
}

interface Revisable {
  end: number;
  revision: number;
  sketchCount: number;
  original: MonitorState;
}

interface VersionTrack {
  model: string;
  version: number;
  paneMs: number;
  panes: Map<number, Pane>;
  /** End of the newest evaluated window (−∞ before the first). */
  evaluatedThrough: number;
  /** End of the newest pane decided: evaluated, or passed over while warming up. */
  decidedThrough: number;
  /** Start of the version's first pane; −∞ once warmed up. */
  firstPaneStart: number;
  /** Partial windows open to revision, by window end. */
  revisable: Map<number, Revisable>;
  /** Active time of the newest sketch of this version. */
  lastArrival: number;
}

interface ModelTrack {
  /** source → column → newest pane start seen */
  sources: Map<string, Map<string, number>>;
  columns: Set<string>;
  /** Source topic → its partition count. */
  partitions: Map<string, number>;
  /** Active time of the newest sketch of any version of the model (rule 3). */
  lastArrival: number;
}

const DEFAULT_MAX_PENDING_PANES = 1_000;
const DEFAULT_IDLE_MS = 600_000;

function versionKey(model: string, version: number): string {
  return `${model}\u0000${version}`;
}

export class DriftWindows {
  private readonly versions = new Map<string, VersionTrack>();
  private readonly models = new Map<string, ModelTrack>();
  private readonly maxPending: number;
  private readonly revisePanes: number;
  private readonly idleMs: number;

  constructor(private readonly options: WindowOptions) {
    if (!(Number.isSafeInteger(options.windowPanes) && options.windowPanes >= 1)) {
      throw new RangeError(`windowPanes must be an integer ≥ 1; got ${options.windowPanes}`);
    }
    this.maxPending = options.maxPendingPanes ?? DEFAULT_MAX_PENDING_PANES;
    this.revisePanes = options.revisePanes ?? options.windowPanes;
    // An idle version is dropped only after its stream counts as stopped (rule 3).
    this.idleMs = Math.max(options.idleMs ?? DEFAULT_IDLE_MS, options.graceMs);
  }

  /** True once the version has been added or restored (and not dropped since). */
  has(model: string, version: number): boolean {
    return this.versions.has(versionKey(model, version));
  }

  /** The partition count of one of the model's source topics (rule 1 waits for all of them). */
  setSourcePartitions(model: string, topic: string, count: number): void {
    this.modelTrack(model).partitions.set(topic, count);
  }

  /**
   * Starts a version from its persisted state (before any `add` for it): what restore.ts read from
   * ClickHouse's drift_events and feature_sketches. Sketches of panes not decided yet are not in
   * it; they are read again from Kafka (`heldOffsets` keeps the commit before them).
   */
  restore(model: string, version: number, restored: RestoredVersion, now: number): void {
    const track = this.track(model, version, restored.paneMs);
    const evaluated = restored.evaluatedThrough > Number.NEGATIVE_INFINITY;
    track.evaluatedThrough = restored.evaluatedThrough;
    track.decidedThrough = restored.evaluatedThrough;
    track.firstPaneStart = evaluated ? Number.NEGATIVE_INFINITY : (restored.firstPaneStart ?? Number.POSITIVE_INFINITY);
    track.lastArrival = now;
    // Before the parts: their panes are kept for these windows.
    for (const r of restored.revisable ?? []) {
      track.revisable.set(r.end, {
        end: r.end,
        revision: r.revision,
        sketchCount: r.sketchCount,
        original: r.original,
      });
    }
    const modelTrack = this.modelTrack(model);
    for (const source of restored.sources) {
      if (!modelTrack.sources.has(source)) modelTrack.sources.set(source, new Map());
    }
    for (const part of restored.parts) this.add(part, now);
  }

  /**
   * Takes in one sketch (validated by the caller: sketch-validation.ts). `now` is active time;
   * `position` holds back the commit while the pane is undecided.
   */
  add(part: SketchPart, now: number, position?: Position): PartPlacement {
    const paneMs = part.paneEnd - part.paneStart;
    if (!(paneMs > 0)) throw new RangeError(`pane of ${part.model} ends before it starts`);
    const track = this.track(part.model, part.version, paneMs);
    track.paneMs = paneMs;
    track.lastArrival = Math.max(track.lastArrival, now);
    // Progress counts every sketch, even an expired one: it says how far the source has got.
    const modelTrack = this.modelTrack(part.model);
    modelTrack.lastArrival = Math.max(modelTrack.lastArrival, now);
    modelTrack.columns.add(part.column);
    let progress = modelTrack.sources.get(part.source);
    if (!progress) {
      progress = new Map();
      modelTrack.sources.set(part.source, progress);
    }
    if (!(part.paneStart <= (progress.get(part.column) ?? Number.NEGATIVE_INFINITY))) {
      progress.set(part.column, part.paneStart);
    }

    if (part.paneEnd <= this.neededFrom(track)) return 'expired';
    if (part.paneStart < track.firstPaneStart && part.paneEnd > track.decidedThrough) {
      track.firstPaneStart = part.paneStart;
    }
    let pane = track.panes.get(part.paneStart);
    if (!pane) {
      pane = { start: part.paneStart, end: part.paneEnd, parts: new Map(), merged: undefined };
      track.panes.set(part.paneStart, pane);
    }
    const key = `${part.source}\u0000${part.column}`;
    const existing = pane.parts.get(key);
    const sketch: ColumnSketchJSON =
      part.kind === 'numeric' ? { kind: 'numeric', sketch: part.sketch } : { kind: 'categorical', sketch: part.sketch };
    pane.parts.set(key, {
      source: part.source,
      column: part.column,
      sketch,
      rows: part.sketch.count + part.sketch.nullCount + (part.kind === 'numeric' ? part.sketch.nonFiniteCount : 0),
      // The earliest copy's position: the commit may not pass it while the pane is undecided.
      position: existing?.position ?? position,
    });
    pane.merged = undefined;
    if (existing) return 'replaced';
    return pane.end <= track.decidedThrough ? 'late' : 'added';
  }

  /**
   * The next window to evaluate — a revision of a partial window, or a new window — or undefined
   * when none is due. Returns the same window until `markEvaluated` is called for it, so a failed
   * evaluation is simply tried again.
   *
   * Warm-up: a version's first window is the one ending at its W-th pane. The panes before are
   * still *decided* once complete, so a version that never gets W panes (a canary rolled back
   * after three) does not hold the commit; a restart gets them back from feature_sketches.
   */
  next(now: number): Window | undefined {
    for (const track of this.versions.values()) {
      const revision = this.nextRevision(track, now);
      if (revision) return revision;
      for (;;) {
        const pending = this.pendingPanes(track);
        const pane = pending[0];
        if (!pane) break;
        const completion = this.completion(track, pane, now, pending.length);
        if (!completion) break;
        const start = pane.end - this.options.windowPanes * track.paneMs;
        if (start < track.firstPaneStart) {
          // Warming up: this pane is part of later windows but ends none. Decided all the same:
          // a restart gets it back from feature_sketches, so it need not hold the commit.
          track.decidedThrough = pane.end;
          continue;
        }
        return this.window(track, pane.end, completion, 0, undefined);
      }
    }
    return undefined;
  }

  /**
   * The window ending at `end` as it stands, complete or not (for on-demand reports); throws when
   * the version is unknown.
   */
  windowEnding(model: string, version: number, end: number, completion: Completion = 'all_sources'): Window {
    const track = this.versions.get(versionKey(model, version));
    if (!track) throw new RangeError(`no sketches of ${model} v${version}`);
    return this.window(track, end, completion, 0, undefined);
  }

  /**
   * Records that `window` (from `next`) was evaluated — its event is on its way. `reported` is
   * the monitoring state the evaluation reported: a later revision of the window is told it.
   */
  markEvaluated(
    window: Pick<Window, 'model' | 'version' | 'end' | 'revision' | 'partial' | 'sketchCount'>,
    reported: Readonly<MonitorState> = { state: null, consecutiveDrift: 0 },
  ): void {
    const track = this.versions.get(versionKey(window.model, window.version));
    if (!track) return;
    if (window.revision === 0) {
      track.evaluatedThrough = Math.max(track.evaluatedThrough, window.end);
      track.decidedThrough = Math.max(track.decidedThrough, window.end);
      track.firstPaneStart = Number.NEGATIVE_INFINITY;
      if (window.partial) {
        track.revisable.set(window.end, {
          end: window.end,
          revision: 0,
          sketchCount: window.sketchCount,
          original: { state: reported.state, consecutiveDrift: reported.consecutiveDrift },
        });
      }
    } else {
      const revisable = track.revisable.get(window.end);
      if (revisable && window.partial && window.end > this.reviseHorizon(track)) {
        revisable.revision = window.revision;
        revisable.sketchCount = window.sketchCount;
      } else {
        track.revisable.delete(window.end);
      }
    }
    // Windows leaving the horizon unchanged are closed (changed ones get a last revision first).
    const horizon = this.reviseHorizon(track);
    for (const r of track.revisable.values()) {
      if (r.end <= horizon && this.sketchCountOf(track, r.end) <= r.sketchCount) track.revisable.delete(r.end);
    }
    this.prune(track);
  }

  /** Drops a version (e.g. it has no reference profile). */
  forget(model: string, version: number): void {
    this.versions.delete(versionKey(model, version));
  }

  /**
   * Drops the versions idle past the bounds: every pane decided, no revision due, and no sketch
   * of them for `idleMs` of active time. Their state is durable (drift_events, feature_sketches):
   * a version seen again is restored like after a restart. A model without versions left goes too.
   */
  dropIdle(now: number): { model: string; version: number }[] {
    const dropped: { model: string; version: number }[] = [];
    for (const [key, track] of this.versions) {
      if (now - track.lastArrival < this.idleMs || this.hasUndecided(track) || this.hasChangedRevisable(track)) {
        continue;
      }
      this.versions.delete(key);
      dropped.push({ model: track.model, version: track.version });
    }
    if (dropped.length > 0) {
      const live = new Set([...this.versions.values()].map((t) => t.model));
      for (const model of this.models.keys()) if (!live.has(model)) this.models.delete(model);
    }
    return dropped;
  }

  /**
   * The earliest active time at which time alone can make something due — rule 3 for a model
   * with undecided panes or changed revisable windows, or a version's idle drop — or +∞. While
   * sketches flow this stays in the future: the caller need not look before then.
   */
  dueAt(): number {
    let due = Number.POSITIVE_INFINITY;
    const graceMs = this.options.graceMs;
    for (const track of this.versions.values()) {
      const waiting = this.hasUndecided(track) || this.hasChangedRevisable(track);
      if (waiting && graceMs > 0) {
        const modelTrack = this.models.get(track.model);
        if (modelTrack) due = Math.min(due, modelTrack.lastArrival + graceMs);
      }
      if (!this.hasUndecided(track)) due = Math.min(due, track.lastArrival + this.idleMs);
    }
    return due;
  }

  /**
   * Per sketches-topic partition, the smallest offset of a sketch whose pane is not decided yet:
   * the commit must stay at or before it, so that a restart reads the sketch again. Decided panes
   * (evaluated, or warm-up) are not held: a restart reloads them from feature_sketches.
   */
  heldOffsets(): Map<number, bigint> {
    const held = new Map<number, bigint>();
    for (const track of this.versions.values()) {
      for (const pane of track.panes.values()) {
        if (pane.end <= track.decidedThrough) continue;
        for (const part of pane.parts.values()) {
          const position = part.position;
          if (!position) continue;
          const current = held.get(position.partition);
          if (current === undefined || position.offset < current) held.set(position.partition, position.offset);
        }
      }
    }
    return held;
  }

  /** Known source partitions of a model, sorted. */
  sourcesOf(model: string): string[] {
    const modelTrack = this.models.get(model);
    return modelTrack ? [...this.expectedSources(modelTrack)].sort() : [];
  }

  /** Panes held in memory (pending and kept for later windows), over all versions. */
  get paneCount(): number {
    let n = 0;
    for (const track of this.versions.values()) n += track.panes.size;
    return n;
  }

  /** Versions held in memory. */
  get versionCount(): number {
    return this.versions.size;
  }

  private track(model: string, version: number, paneMs: number): VersionTrack {
    const key = versionKey(model, version);
    let track = this.versions.get(key);
    if (!track) {
      track = {
        model,
        version,
        paneMs,
        panes: new Map(),
        evaluatedThrough: Number.NEGATIVE_INFINITY,
        decidedThrough: Number.NEGATIVE_INFINITY,
        firstPaneStart: Number.POSITIVE_INFINITY,
        revisable: new Map(),
        lastArrival: Number.NEGATIVE_INFINITY,
      };
      this.versions.set(key, track);
    }
    return track;
  }

  private modelTrack(model: string): ModelTrack {
    let track = this.models.get(model);
    if (!track) {
      track = {
        sources: new Map(),
        columns: new Set(),
        partitions: new Map(),
        lastArrival: Number.NEGATIVE_INFINITY,
      };
      this.models.set(model, track);
    }
    return track;
  }

  /** Every partition of the model's source topics, plus every source seen. */
  private expectedSources(modelTrack: ModelTrack): Set<string> {
    const expected = new Set(modelTrack.sources.keys());
    for (const [topic, count] of modelTrack.partitions) {
      for (let p = 0; p < count; p++) expected.add(sourceName(topic, p));
    }
    return expected;
  }

  /** Start of the newest pane the source has passed for every column of the model (−∞: none). */
  private passed(modelTrack: ModelTrack, source: string): number {
    const progress = modelTrack.sources.get(source);
    if (!progress) return Number.NEGATIVE_INFINITY;
    let passed = Number.POSITIVE_INFINITY;
    for (const column of modelTrack.columns) {
      passed = Math.min(passed, progress.get(column) ?? Number.NEGATIVE_INFINITY);
    }
    return passed;
  }

  /** Every expected source has sent a pane after the one starting at `paneStart`. */
  private allPassed(modelTrack: ModelTrack, paneStart: number): boolean {
    const expected = this.expectedSources(modelTrack);
    if (expected.size === 0) return false;
    for (const source of expected) if (!(this.passed(modelTrack, source) > paneStart)) return false;
    return true;
  }

  /** Panes ending at or before this are in no window or revision still to come. */
  private neededFrom(track: VersionTrack): number {
    let from = track.decidedThrough - (this.options.windowPanes - 1) * track.paneMs;
    for (const r of track.revisable.values()) {
      from = Math.min(from, r.end - this.options.windowPanes * track.paneMs);
    }
    return from;
  }

  /** Partial windows ending at or before this leave the revision horizon. */
  private reviseHorizon(track: VersionTrack): number {
    return track.decidedThrough - this.revisePanes * track.paneMs;
  }

  private prune(track: VersionTrack): void {
    const neededFrom = this.neededFrom(track);
    for (const [start, pane] of track.panes) if (pane.end <= neededFrom) track.panes.delete(start);
  }

  private pendingPanes(track: VersionTrack): Pane[] {
    const pending: Pane[] = [];
    for (const pane of track.panes.values()) if (pane.end > track.decidedThrough) pending.push(pane);
    return pending.sort((a, b) => a.start - b.start);
  }

  private hasUndecided(track: VersionTrack): boolean {
    for (const pane of track.panes.values()) if (pane.end > track.decidedThrough) return true;
    return false;
  }

  private hasChangedRevisable(track: VersionTrack): boolean {
    for (const r of track.revisable.values()) if (this.sketchCountOf(track, r.end) > r.sketchCount) return true;
    return false;
  }

  private sketchCountOf(track: VersionTrack, end: number): number {
    const start = end - this.options.windowPanes * track.paneMs;
    let n = 0;
    for (const pane of track.panes.values()) if (pane.start >= start && pane.end <= end) n += pane.parts.size;
    return n;
  }

  /**
   * A revision due for one of the version's partial windows, oldest first. A partial window stays
   * open to revision while fewer than `revisePanes` later panes of its version are decided. Once
   * sketches of it arrived late, it is revised when every source has passed it (the revision is
   * then complete and final), when it leaves that horizon, or, still partial, when no sketch of
   * the model arrived for `graceMs` or of the version for `idleMs`. A partial window whose missing
   * partitions pass it without sending anything is closed: nothing was missing.
   */
  private nextRevision(track: VersionTrack, now: number): Window | undefined {
    if (track.revisable.size === 0) return undefined;
    const modelTrack = this.modelTrack(track.model);
    const horizon = this.reviseHorizon(track);
    const quiet =
      (this.options.graceMs > 0 && now - modelTrack.lastArrival >= this.options.graceMs) ||
      now - track.lastArrival >= this.idleMs;
    let closed = false;
    for (const r of [...track.revisable.values()].sort((a, b) => a.end - b.end)) {
      const changed = this.sketchCountOf(track, r.end) > r.sketchCount;
      if (this.allPassed(modelTrack, r.end - track.paneMs)) {
        if (changed) return this.window(track, r.end, 'all_sources', r.revision + 1, r.original);
        // Every source passed it and nothing came: nothing was missing after all.
        track.revisable.delete(r.end);
        closed = true;
      } else if (changed && r.end <= horizon) {
        return this.window(track, r.end, 'grace_panes', r.revision + 1, r.original);
      } else if (changed && quiet) {
        return this.window(track, r.end, 'grace_time', r.revision + 1, r.original);
      } else if (!changed && r.end <= horizon) {
        track.revisable.delete(r.end);
        closed = true;
      }
    }
    if (closed) this.prune(track);
    return undefined;
  }

  /**
   * Whether `pane` (P) is complete, by the first rule that holds (the event's `completion`).
   * Events are keyed by entity, so a missing partition is a missing subpopulation: a window
   * without it can show drift that is not there.
   *   1. all_sources — every partition of the model's source topic (its count from the cluster,
   *      `setSourcePartitions`; while unknown, every partition that sent a sketch) has sent, for
   *      every column of the model, a sketch of a pane after P (of any version). Progress is kept
   *      per (partition, column): sketches are keyed by model now, but those keyed `model/column`
   *      before travelled in different partitions of the sketches topic; one column from one
   *      source arrives in pane order either way. A partition with no traffic in P that moved
   *      on has passed P.
   *   2. grace_panes — some partition is `gracePanes` panes past P (event time only: deterministic).
   *   3. grace_time — no sketch of the model for `graceMs` of active time: a stream that stopped.
   *   4. buffer_full — more than `maxPendingPanes` panes of the version wait.
   * A window whose newest pane completed by rule 2–4 is *partial*: sketches of it may be missing.
   */
  private completion(track: VersionTrack, pane: Pane, now: number, pendingCount: number): Completion | undefined {
    const modelTrack = this.modelTrack(track.model);
    const expected = this.expectedSources(modelTrack);
    let all = expected.size > 0;
    let frontier = Number.NEGATIVE_INFINITY;
    for (const source of expected) {
      const passed = this.passed(modelTrack, source);
      if (!(passed > pane.start)) all = false;
      frontier = Math.max(frontier, passed);
    }
    if (all) return 'all_sources';
    const grace = this.options.gracePanes;
    if (grace > 0 && frontier >= pane.start + grace * track.paneMs) return 'grace_panes';
    if (this.options.graceMs > 0 && now - modelTrack.lastArrival >= this.options.graceMs) return 'grace_time';
    if (pendingCount > this.maxPending) return 'buffer_full';
    return undefined;
  }

  private window(
    track: VersionTrack,
    end: number,
    completion: Completion,
    revision: number,
    original: Readonly<MonitorState> | undefined,
  ): Window {
    const start = end - this.options.windowPanes * track.paneMs;
    const panes = [...track.panes.values()]
      .filter((pane) => pane.start >= start && pane.end <= end && pane.parts.size > 0)
      .sort((a, b) => a.start - b.start);
    const columns = new Map<string, ColumnSketch>();
    const sources = new Set<string>();
    let sketchCount = 0;
    for (const pane of panes) {
      sketchCount += pane.parts.size;
      for (const part of pane.parts.values()) sources.add(part.source);
      for (const [column, sketch] of mergedPane(pane)) {
        const into = columns.get(column);
        // A pane of the other kind (writer schemas that disagree) is left out of the column.
        if (into) mergeColumnSketch(into, sketch);
        else columns.set(column, sketch.clone());
      }
    }
    let rowCount = 0;
    for (const sketch of columns.values()) rowCount = Math.max(rowCount, rowsOf(sketch));
    const modelTrack = this.models.get(track.model);
    return {
      model: track.model,
      version: track.version,
      start,
      end,
      paneMs: track.paneMs,
      paneCount: panes.length,
      rowCount,
      sources: [...sources].sort(),
      sourcesExpected: modelTrack ? this.expectedSources(modelTrack).size : sources.size,
      sketchCount,
      columns,
      completion,
      partial: completion !== 'all_sources',
      revision,
      original,
    };
  }
}

/**
 * One sketch per column over every source of the pane, merged in source order so that the same
 * parts always give the same sketch (a restart reproduces the windows it would have produced).
 */
function mergedPane(pane: Pane): Map<string, ColumnSketch> {
  if (pane.merged) return pane.merged;
  const byColumn = new Map<string, Part[]>();
  for (const part of pane.parts.values()) {
    const list = byColumn.get(part.column);
    if (list) list.push(part);
    else byColumn.set(part.column, [part]);
  }
  const merged = new Map<string, ColumnSketch>();
  for (const [column, parts] of byColumn) {
    parts.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
    const sketch = columnSketchOf((parts[0] as Part).sketch);
    for (const part of parts.slice(1)) mergeColumnSketch(sketch, columnSketchOf(part.sketch));
    merged.set(column, sketch);
  }
  pane.merged = merged;
  return merged;
}
