/**
 * Sliding event-time windows over the store consumer's pane sketches. Pure: no Kafka, no
 * ClickHouse, no clock (callers pass `now`).
 *
 * Input: one sketch per (model, version, column, pane, source partition) — the store sketches
 * every partition of a predictions topic on its own and emits a pane's sketches once that
 * partition's watermark has passed the pane. The window ending at pane P is the merge of every
 * source partition's sketches of panes P−W+1 … P (W = `windowPanes`); windows slide by one pane
 * and are evaluated in pane order, once each.
 *
 * When is pane P complete? Sketches of one pane reach us from each source partition at its own
 * time (a partition closes P when its own events pass P), and a partition with no traffic in P
 * sends nothing for it. So P of model M counts as complete when one of these holds, checked in
 * this order (the first that holds is the event's `completion`):
 *   1. all_sources — every source partition known for M (every partition that ever sent a
 *      sketch of M, or that the restored state names) has sent, for every column of M, a sketch
 *      of a pane after P. Progress is tracked per (partition, column), not per partition: sketches
 *      of different columns travel in different partitions of the sketches topic and may reach us
 *      in any order, but the sketches of one column from one source arrive in pane order. A
 *      partition that had no traffic in P but moved on has still passed P.
 *   2. grace_panes — some source partition has passed P by `gracePanes` panes (all its columns
 *      at P + gracePanes or later): a partition that lags that far, or went quiet, is not waited
 *      for. Deterministic (event time only), so tests and replays give the same windows.
 *   3. grace_time — `graceMs` of wall-clock time passed since P's first sketch arrived: the tail
 *      of a stream that stopped, where no later pane will ever come.
 *   4. buffer_full — more than `maxPendingPanes` panes of the version wait: the oldest is forced.
 * Sketches that arrive for a pane already evaluated are counted as late; they are kept for later
 * windows that still include the pane, but an evaluated window is never evaluated again.
 *
 * Warm-up: a version's first window is the one ending at its W-th pane; windows that would start
 * before the version's first pane are not evaluated (a window of one or two panes is too small a
 * sample: Wasserstein on 200 values of a heavy-tailed feature crosses 0.1 by chance). A version
 * restored after a restart has warmed up already.
 *
 * What a restart needs: `evaluatedThrough` (end of the newest evaluated window, persisted with
 * each drift event) and the sketches of the W−1 panes before it (the adapter reloads them from
 * ClickHouse's feature_sketches table) — given to `restore`. Sketches of panes not yet evaluated
 * are re-read from Kafka: `heldOffsets` says how far back the commit must stay for that.
 */
import { NumericSketch, type NumericSketchJSON } from '../../core/sketch/index.ts';

/** One pane's sketch of one column from one source partition. */
export interface SketchPart {
  model: string;
  version: number;
  column: string;
  paneStart: number;
  paneEnd: number;
  /** `topic:partition` of the predictions partition the sketch summarizes. */
  source: string;
  sketch: NumericSketchJSON;
}

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
  /** Rule 3: this long (ms, wall clock) after P's first sketch completes P; 0 turns the rule off. */
  graceMs: number;
  /** Rule 4: at most this many panes of a version wait; default 1,000. */
  maxPendingPanes?: number;
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
  /** Merged sketch per column. */
  columns: Map<string, NumericSketch>;
  completion: Completion;
}

/**
 * added: a new part; replaced: the same (pane, source, column) again (a re-read or a re-emitted
 * sketch) — the newer copy is kept; late: a new part for a pane already decided (kept for later
 * windows); expired: older than every window still to come (dropped).
 */
export type AddResult = 'added' | 'replaced' | 'late' | 'expired';

/** What the adapter persisted about a version, for `restore`. */
export interface RestoredVersion {
  /** End of the newest evaluated window. */
  evaluatedThrough: number;
  paneMs: number;
  /** Source partitions known when that window was evaluated. */
  sources: readonly string[];
  /** Sketches of the panes the next windows still need (panes ending after evaluatedThrough − (W−1) panes). */
  parts: readonly SketchPart[];
}

interface Part {
  source: string;
  column: string;
  sketch: NumericSketchJSON;
  rows: number;
  position: Position | undefined;
}

interface Pane {
  start: number;
  end: number;
  /** Wall-clock time of the first sketch (for rule 3). */
  arrivedAt: number;
  /** `source \0 column` → part */
  parts: Map<string, Part>;
  /** Sketch per column over all sources, built when first needed, dropped when a part changes. */
  merged: Map<string, NumericSketch> | undefined;
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
}

interface ModelTrack {
  /** source → column → newest pane start seen */
  sources: Map<string, Map<string, number>>;
  columns: Set<string>;
}

const DEFAULT_MAX_PENDING_PANES = 1_000;

function versionKey(model: string, version: number): string {
  return `${model}\u0000${version}`;
}

export class DriftWindows {
  private readonly versions = new Map<string, VersionTrack>();
  private readonly models = new Map<string, ModelTrack>();
  private readonly maxPending: number;

  constructor(private readonly options: WindowOptions) {
    if (!(Number.isSafeInteger(options.windowPanes) && options.windowPanes >= 1)) {
      throw new RangeError(`windowPanes must be an integer ≥ 1; got ${options.windowPanes}`);
    }
    this.maxPending = options.maxPendingPanes ?? DEFAULT_MAX_PENDING_PANES;
  }

  /** True once the version has been added or restored. */
  has(model: string, version: number): boolean {
    return this.versions.has(versionKey(model, version));
  }

  /** Starts a version from its persisted state (before any `add` for it). */
  restore(model: string, version: number, restored: RestoredVersion, now: number): void {
    const track = this.track(model, version, restored.paneMs);
    track.evaluatedThrough = restored.evaluatedThrough;
    track.decidedThrough = restored.evaluatedThrough;
    track.firstPaneStart = Number.NEGATIVE_INFINITY;
    const modelTrack = this.modelTrack(model);
    for (const source of restored.sources) {
      if (!modelTrack.sources.has(source)) modelTrack.sources.set(source, new Map());
    }
    for (const part of restored.parts) this.add(part, now);
  }

  /** Takes in one sketch. `now` is the wall clock (rule 3); `position` holds back the commit. */
  add(part: SketchPart, now: number, position?: Position): AddResult {
    const paneMs = part.paneEnd - part.paneStart;
    if (!(paneMs > 0)) throw new RangeError(`pane of ${part.model} ends before it starts`);
    const track = this.track(part.model, part.version, paneMs);
    track.paneMs = paneMs;
    // Progress counts every sketch, even an expired one: it says how far the source has got.
    const modelTrack = this.modelTrack(part.model);
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
      pane = { start: part.paneStart, end: part.paneEnd, arrivedAt: now, parts: new Map(), merged: undefined };
      track.panes.set(part.paneStart, pane);
    }
    const key = `${part.source}\u0000${part.column}`;
    const existing = pane.parts.get(key);
    const sketch = part.sketch;
    pane.parts.set(key, {
      source: part.source,
      column: part.column,
      sketch,
      rows: sketch.count + sketch.nullCount + sketch.nonFiniteCount,
      // The earliest copy's position: the commit may not pass it while the pane is unevaluated.
      position: existing?.position ?? position,
    });
    pane.merged = undefined;
    if (existing) return 'replaced';
    return pane.end <= track.decidedThrough ? 'late' : 'added';
  }

  /**
   * The next window to evaluate, or undefined when none is complete. Returns the same window
   * until `markEvaluated` is called for it, so a failed evaluation is simply tried again.
   */
  next(now: number): Window | undefined {
    for (const track of this.versions.values()) {
      for (;;) {
        const pending = this.pendingPanes(track);
        const pane = pending[0];
        if (!pane) break;
        const completion = this.completion(track, pane, now, pending.length);
        if (!completion) break;
        const start = pane.end - this.options.windowPanes * track.paneMs;
        if (start < track.firstPaneStart) {
          // Warming up: this pane is part of later windows but ends none.
          track.decidedThrough = pane.end;
          continue;
        }
        return this.window(track, pane.end, completion);
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
    return this.window(track, end, completion);
  }

  /** Records that the window ending at `end` was evaluated (its event is on its way). */
  markEvaluated(model: string, version: number, end: number): void {
    const track = this.versions.get(versionKey(model, version));
    if (!track) return;
    track.evaluatedThrough = Math.max(track.evaluatedThrough, end);
    track.decidedThrough = Math.max(track.decidedThrough, end);
    track.firstPaneStart = Number.NEGATIVE_INFINITY;
    const neededFrom = this.neededFrom(track);
    for (const [start, pane] of track.panes) if (pane.end <= neededFrom) track.panes.delete(start);
  }

  /** Drops a version (e.g. it has no reference profile). */
  forget(model: string, version: number): void {
    this.versions.delete(versionKey(model, version));
  }

  /**
   * Per sketches-topic partition, the smallest offset of a sketch whose pane is not evaluated
   * yet: the commit must stay at or before it, so that a restart reads the sketch again.
   */
  heldOffsets(): Map<number, bigint> {
    const held = new Map<number, bigint>();
    for (const track of this.versions.values()) {
      for (const pane of track.panes.values()) {
        if (pane.end <= track.evaluatedThrough) continue;
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
    return [...(this.models.get(model)?.sources.keys() ?? [])].sort();
  }

  /** Panes held in memory (pending and kept for later windows), over all versions. */
  get paneCount(): number {
    let n = 0;
    for (const track of this.versions.values()) n += track.panes.size;
    return n;
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
      };
      this.versions.set(key, track);
    }
    return track;
  }

  private modelTrack(model: string): ModelTrack {
    let track = this.models.get(model);
    if (!track) {
      track = { sources: new Map(), columns: new Set() };
      this.models.set(model, track);
    }
    return track;
  }

  /** Panes ending at or before this are in no window still to come. */
  private neededFrom(track: VersionTrack): number {
    return track.decidedThrough - (this.options.windowPanes - 1) * track.paneMs;
  }

  private pendingPanes(track: VersionTrack): Pane[] {
    const pending: Pane[] = [];
    for (const pane of track.panes.values()) if (pane.end > track.decidedThrough) pending.push(pane);
    return pending.sort((a, b) => a.start - b.start);
  }

  private completion(track: VersionTrack, pane: Pane, now: number, pendingCount: number): Completion | undefined {
    const modelTrack = this.models.get(track.model);
    if (modelTrack && modelTrack.sources.size > 0) {
      let all = true;
      let frontier = Number.NEGATIVE_INFINITY;
      for (const progress of modelTrack.sources.values()) {
        // A source has passed what every one of its columns has passed.
        let passed = Number.POSITIVE_INFINITY;
        for (const column of modelTrack.columns) {
          passed = Math.min(passed, progress.get(column) ?? Number.NEGATIVE_INFINITY);
        }
        if (!(passed > pane.start)) all = false;
        frontier = Math.max(frontier, passed);
      }
      if (all) return 'all_sources';
      const grace = this.options.gracePanes;
      if (grace > 0 && frontier >= pane.start + grace * track.paneMs) return 'grace_panes';
    }
    if (this.options.graceMs > 0 && now - pane.arrivedAt >= this.options.graceMs) return 'grace_time';
    if (pendingCount > this.maxPending) return 'buffer_full';
    return undefined;
  }

  private window(track: VersionTrack, end: number, completion: Completion): Window {
    const start = end - this.options.windowPanes * track.paneMs;
    const panes = [...track.panes.values()]
      .filter((pane) => pane.start >= start && pane.end <= end && pane.parts.size > 0)
      .sort((a, b) => a.start - b.start);
    const columns = new Map<string, NumericSketch>();
    const sources = new Set<string>();
    for (const pane of panes) {
      for (const part of pane.parts.values()) sources.add(part.source);
      for (const [column, sketch] of mergedPane(pane)) {
        const into = columns.get(column);
        if (into) into.merge(sketch);
        else columns.set(column, sketch.clone());
      }
    }
    let rowCount = 0;
    for (const sketch of columns.values()) {
      rowCount = Math.max(rowCount, sketch.count + sketch.nullCount + sketch.nonFiniteCount);
    }
    return {
      model: track.model,
      version: track.version,
      start,
      end,
      paneMs: track.paneMs,
      paneCount: panes.length,
      rowCount,
      sources: [...sources].sort(),
      columns,
      completion,
    };
  }
}

/**
 * One sketch per column over every source of the pane, merged in source order so that the same
 * parts always give the same sketch (a restart reproduces the windows it would have produced).
 */
function mergedPane(pane: Pane): Map<string, NumericSketch> {
  if (pane.merged) return pane.merged;
  const byColumn = new Map<string, Part[]>();
  for (const part of pane.parts.values()) {
    const list = byColumn.get(part.column);
    if (list) list.push(part);
    else byColumn.set(part.column, [part]);
  }
  const merged = new Map<string, NumericSketch>();
  for (const [column, parts] of byColumn) {
    parts.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
    const sketch = NumericSketch.fromJSON((parts[0] as Part).sketch);
    for (const part of parts.slice(1)) sketch.merge(NumericSketch.fromJSON(part.sketch));
    merged.set(column, sketch);
  }
  pane.merged = merged;
  return merged;
}
