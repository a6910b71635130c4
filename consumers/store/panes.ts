/**
 * Per-partition event-time panes of column sketches, with a watermark and allowed lateness.
 *
 * Every partition is sketched on its own: its panes close on its own watermark (the largest
 * event time it has seen, minus the allowed lateness), so what a partition emits depends only on
 * that partition's messages — never on which consumer owns it or what else that consumer reads.
 * That is what makes several consumers' partial sketches merge into exactly what one consumer
 * would have produced, and what makes a restart reproduce the same snapshots.
 */

import { CategoricalSketch, NumericSketch } from '../../core/sketch/index.ts';
import { PREDICTION_COLUMN, type SnapshotPane } from '../../core/sketch-snapshot.ts';

export interface PaneOptions<N extends PaneNumericSketch = NumericSketch> {
  /** Pane length in milliseconds (default 60 s). */
  paneMs: number;
  /** How long after a pane's end its events are still accepted, in event time. */
  allowedLatenessMs: number;
  /**
   * Makes the sketch of a numeric column of a pane: by default a `NumericSketch` on this thread;
   * the store passes `SketchThread.numeric` (core/sketch/sketch-thread.ts) to build them on a worker.
   */
  numericSketch?: () => N;
}

/** What a pane's numeric column is sketched with: a NumericSketch, or one built elsewhere. */
export interface PaneNumericSketch {
  push(value: number | null): void;
  /** Frees what the sketch holds elsewhere when it will never be read (a pane dropped unread). */
  discard?(): void;
}

/** One decoded prediction, reduced to what sketching needs. */
export interface SketchInput {
  modelName: string;
  modelVersion: number;
  eventTime: number;
  /** Column name → value. */
  columns: Record<string, number | string | null>;
  /** The model's output, sketched as column `prediction` after `columns` (saves merging the two). */
  prediction?: number | null;
  /** Columns summarized as category counts (string features); the rest are numeric. */
  categorical?: ReadonlySet<string>;
  /**
   * The keys of `columns`, when the caller knows them (the writer schema's features): the same
   * array for every event of a schema, so its column slots are looked up once, not per value.
   */
  columnNames?: readonly string[] | undefined;
}

/** A pane of one column the watermark passed: what becomes a snapshot (core/sketch-snapshot.ts). */
export type ClosedPane<N extends PaneNumericSketch = NumericSketch> = Omit<SnapshotPane, 'sketch'> & {
  sketch: CategoricalSketch | N;
};

interface OpenPane<N extends PaneNumericSketch> {
  paneStart: number;
  /** Offset of the first message that fell into this pane: a restart must re-read from here. */
  firstOffset: bigint;
  /** The partition's state just before that message: what a restart from there restores. */
  before: PaneState;
  /** `${model}\u0000${version}` → column → sketch */
  groups: Map<string, PaneGroup<N>>;
}

interface PaneGroup<N extends PaneNumericSketch> {
  modelName: string;
  modelVersion: number;
  columns: Map<string, ColumnSlot<N>>;
  /** The slots of `SketchInput.columnNames` (by that array), then the prediction's. */
  slotsByNames?: Map<readonly string[], ColumnSlot<N>[]>;
}

/** One column's sketch of a pane, its kind decided once. */
class ColumnSlot<N extends PaneNumericSketch> {
  constructor(
    readonly sketch: CategoricalSketch | N,
    private readonly numeric: boolean,
  ) {}

  push(value: number | string | null): void {
    // The numeric sketch buffers and merges values in sorted batches itself (core/sketch).
    if (this.numeric) (this.sketch as N).push(typeof value === 'number' ? value : null);
    else (this.sketch as CategoricalSketch).push(value === null ? null : String(value));
  }

  discard(): void {
    if (this.numeric) (this.sketch as N).discard?.();
  }
}

/** Where `PartitionPanes.add` put an event: into its open pane, or counted as late. */
export type EventPlacement = 'sketched' | 'late';

/** The partition's state between two messages: all a restart from there needs. */
export interface PaneState {
  /** End of the newest pane already closed. */
  closedThrough: number;
  /** Largest event time seen. */
  maxEventTime: number;
  /** Late events per `model\u0000version` not yet reported in a closed pane's `lateCount`. */
  late: Readonly<Record<string, number>>;
}

/** What a restart needs to carry on exactly: stored as the committed offset's metadata. */
export interface PaneCheckpoint extends PaneState {
  /** Offset to commit: the next message a restart reads. */
  offset: bigint;
  /** End of the newest pane handed out: a re-read closes such panes again without emitting them. */
  emittedThrough: number;
}

export function encodeCheckpoint(checkpoint: PaneCheckpoint): string {
  return JSON.stringify({
    v: 2,
    c: finiteOrNull(checkpoint.closedThrough),
    m: finiteOrNull(checkpoint.maxEventTime),
    e: finiteOrNull(checkpoint.emittedThrough),
    ...(Object.keys(checkpoint.late).length > 0 ? { l: checkpoint.late } : {}),
  });
}

const NO_STATE: PaneState = Object.freeze({
  closedThrough: Number.NEGATIVE_INFINITY,
  maxEventTime: Number.NEGATIVE_INFINITY,
  late: Object.freeze({}),
});

export type RestoredPanes = PaneState & { emittedThrough: number };

const NOTHING_RESTORED: RestoredPanes = Object.freeze({ ...NO_STATE, emittedThrough: Number.NEGATIVE_INFINITY });

/** Restores pane state from committed metadata; anything unreadable means "no state". */
export function decodeCheckpoint(metadata: string | null | undefined): RestoredPanes {
  if (!metadata) return NOTHING_RESTORED;
  try {
    const value = JSON.parse(metadata) as { v?: unknown; c?: unknown; m?: unknown; l?: unknown; e?: unknown };
    if (value.v !== 1 && value.v !== 2) return NOTHING_RESTORED;
    const late: Record<string, number> = {};
    if (typeof value.l === 'object' && value.l !== null) {
      for (const [key, n] of Object.entries(value.l)) if (Number.isSafeInteger(n) && n > 0) late[key] = n;
    }
    const closedThrough = typeof value.c === 'number' ? value.c : NO_STATE.closedThrough;
    return {
      closedThrough,
      maxEventTime: typeof value.m === 'number' ? value.m : NO_STATE.maxEventTime,
      late,
      // Version 1 closed panes at flush time and restored the newest one as closedThrough.
      emittedThrough: typeof value.e === 'number' ? value.e : closedThrough,
    };
  } catch {
    return NOTHING_RESTORED;
  }
}

function groupKey(model: string, version: number): string {
  return `${model}\u0000${version}`;
}

function finiteOrNull(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}

/**
 * Panes close as soon as a message moves the watermark past them, not when a flush happens to
 * run: whether an event is late then depends only on the messages before it, so a restart that
 * re-reads from a checkpoint decides every event exactly as the first reading did.
 */
export class PartitionPanes<N extends PaneNumericSketch = NumericSketch> {
  private readonly open = new Map<number, OpenPane<N>>();
  private maxEventTime: number;
  /** Late events per group, reported with the group's next closed pane. */
  private readonly late: Map<string, number>;
  private lateTotal = 0;
  private closedThrough: number;
  /** Closed by the watermark, waiting for `closeReady`. */
  private ready: ClosedPane<N>[] = [];
  /** Panes ending at or before this were emitted before a restart: closed again, not re-emitted. */
  private readonly alreadyEmitted: number;
  private handedOutThrough = Number.NEGATIVE_INFINITY;
  /** The pane and group the previous event went to: the next one nearly always goes there too. */
  private lastPane: OpenPane<N> | undefined;
  private lastGroup: PaneGroup<N> | undefined;
  private readonly numericSketch: () => N;

  /** `restored` comes from the committed offset's metadata after a restart. */
  constructor(
    private readonly options: PaneOptions<N>,
    restored: RestoredPanes = NOTHING_RESTORED,
  ) {
    this.numericSketch = options.numericSketch ?? (() => NumericSketch.create() as unknown as N);
    this.alreadyEmitted = restored.emittedThrough;
    this.handedOutThrough = restored.emittedThrough;
    this.closedThrough = restored.closedThrough;
    this.maxEventTime = restored.maxEventTime;
    this.late = new Map(Object.entries(restored.late));
  }

  paneStartOf(eventTime: number): number {
    return Math.floor(eventTime / this.options.paneMs) * this.options.paneMs;
  }

  /**
   * Takes one event (already checked against the event contract: its time is bounded, so it
   * cannot drag the watermark into the far future). Panes the event's watermark passes close.
   */
  add(input: SketchInput, offset: bigint): EventPlacement {
    const result = this.place(input, offset);
    // Every event moves the watermark, late or not, so a restart that re-reads events of panes
    // already closed (as late) advances it exactly as the first reading did.
    if (input.eventTime > this.maxEventTime) {
      this.maxEventTime = input.eventTime;
      this.ready.push(...this.close((pane) => pane.paneStart + this.options.paneMs <= this.watermark));
      // Panes without events close too: a re-read that starts after a pane's events must still
      // see it closed when the watermark passed it.
      this.closedThrough = Math.max(this.closedThrough, this.paneStartOf(this.watermark));
    }
    return result;
  }

  private place(input: SketchInput, offset: bigint): EventPlacement {
    const paneStart = this.paneStartOf(input.eventTime);
    if (paneStart + this.options.paneMs <= this.closedThrough) {
      const key = groupKey(input.modelName, input.modelVersion);
      this.late.set(key, (this.late.get(key) ?? 0) + 1);
      this.lateTotal++;
      return 'late';
    }
    let pane = this.lastPane;
    if (pane?.paneStart !== paneStart) {
      pane = this.open.get(paneStart);
      if (!pane) {
        pane = { paneStart, firstOffset: offset, before: this.state(), groups: new Map() };
        this.open.set(paneStart, pane);
      }
      this.lastPane = pane;
      this.lastGroup = undefined;
    }
    let group = this.lastGroup;
    if (group?.modelName !== input.modelName || group.modelVersion !== input.modelVersion) {
      const key = groupKey(input.modelName, input.modelVersion);
      group = pane.groups.get(key);
      if (!group) {
        group = { modelName: input.modelName, modelVersion: input.modelVersion, columns: new Map() };
        pane.groups.set(key, group);
      }
      this.lastGroup = group;
    }
    const names = input.columnNames;
    if (names !== undefined && input.prediction !== undefined) {
      group.slotsByNames ??= new Map();
      let slots = group.slotsByNames.get(names);
      if (!slots) {
        slots = [...names, PREDICTION_COLUMN].map((column) => this.slotOf(group, column, input.categorical));
        group.slotsByNames.set(names, slots);
      }
      const columns = input.columns;
      for (let i = 0; i < names.length; i++) {
        (slots[i] as ColumnSlot<N>).push(columns[names[i] as string] as number | string | null);
      }
      (slots[names.length] as ColumnSlot<N>).push(input.prediction);
      return 'sketched';
    }
    // Own keys only: a decoded Avro record inherits enumerable methods (clone, toBuffer, …).
    for (const column of Object.keys(input.columns)) {
      this.slotOf(group, column, input.categorical).push(input.columns[column] as number | string | null);
    }
    if (input.prediction !== undefined) this.slotOf(group, PREDICTION_COLUMN, input.categorical).push(input.prediction);
    return 'sketched';
  }

  private slotOf(group: PaneGroup<N>, column: string, categorical: ReadonlySet<string> | undefined): ColumnSlot<N> {
    let slot = group.columns.get(column);
    if (!slot) {
      slot = categorical?.has(column)
        ? new ColumnSlot<N>(CategoricalSketch.create(), false)
        : new ColumnSlot<N>(this.numericSketch(), true);
      group.columns.set(column, slot);
    }
    return slot;
  }

  /** The watermark: panes ending at or before it are complete. */
  get watermark(): number {
    return this.maxEventTime - this.options.allowedLatenessMs;
  }

  /** Removes and returns every pane the watermark has passed, oldest first. */
  closeReady(): ClosedPane<N>[] {
    const closed = this.ready;
    this.ready = [];
    for (const pane of closed) this.handedOutThrough = Math.max(this.handedOutThrough, pane.paneEnd);
    return closed;
  }

  /**
   * Closes every open pane, whatever the watermark: the end of the input, or a partition that
   * has been idle so long that waiting for later events would hold its panes open forever.
   */
  closeAll(): ClosedPane<N>[] {
    this.ready.push(...this.close(() => true));
    return this.closeReady();
  }

  private close(ready: (pane: OpenPane<N>) => boolean): ClosedPane<N>[] {
    const panes = [...this.open.values()].filter(ready).sort((a, b) => a.paneStart - b.paneStart);
    const closed: ClosedPane<N>[] = [];
    for (const pane of panes) {
      const paneEnd = pane.paneStart + this.options.paneMs;
      this.open.delete(pane.paneStart);
      if (this.lastPane === pane) {
        this.lastPane = undefined;
        this.lastGroup = undefined;
      }
      this.closedThrough = Math.max(this.closedThrough, paneEnd);
      for (const [key, group] of pane.groups) {
        // A late event misses every column of its pane, so each column reports it.
        const lateCount = this.late.get(key) ?? 0;
        this.late.delete(key);
        if (paneEnd <= this.alreadyEmitted) {
          for (const slot of group.columns.values()) slot.discard();
          continue;
        }
        for (const [column, slot] of group.columns) {
          closed.push({
            modelName: group.modelName,
            modelVersion: group.modelVersion,
            column,
            paneStart: pane.paneStart,
            paneEnd,
            sketch: slot.sketch,
            lateCount,
          });
        }
      }
    }
    return closed;
  }

  private state(): PaneState {
    return { closedThrough: this.closedThrough, maxEventTime: this.maxEventTime, late: Object.fromEntries(this.late) };
  }

  /**
   * Where a restart must resume so that it reproduces exactly what this instance would emit:
   * the first message of the oldest open pane (or `nextOffset`, the first message not yet
   * stored, when that is earlier or no pane is open), with the watermark state as of there.
   */
  checkpoint(nextOffset: bigint): PaneCheckpoint {
    let oldest: OpenPane<N> | undefined;
    for (const pane of this.open.values()) if (!oldest || pane.firstOffset < oldest.firstOffset) oldest = pane;
    // Panes closed after that message close again on the re-read, identically; the ones already
    // handed out are not emitted twice (emittedThrough).
    const emittedThrough = this.handedOutThrough;
    if (oldest && oldest.firstOffset < nextOffset)
      return { offset: oldest.firstOffset, ...oldest.before, emittedThrough };
    return { offset: nextOffset, ...this.state(), emittedThrough };
  }

  /**
   * Drops every pane, open or closed and not handed out, unread (the partition's state is
   * dropped: a rebalance, a stop); sketches built elsewhere are freed.
   */
  dispose(): void {
    for (const pane of this.open.values()) {
      for (const group of pane.groups.values()) for (const slot of group.columns.values()) slot.discard();
    }
    this.open.clear();
    for (const pane of this.ready) if (!(pane.sketch instanceof CategoricalSketch)) pane.sketch.discard?.();
    this.ready = [];
    this.lastPane = undefined;
    this.lastGroup = undefined;
  }

  get lateEvents(): number {
    return this.lateTotal;
  }

  get openPanes(): number {
    return this.open.size;
  }
}
