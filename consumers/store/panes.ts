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

export interface PaneOptions {
  /** Pane length in milliseconds (default 60 s). */
  paneMs: number;
  /** How long after a pane's end its events are still accepted, in event time. */
  allowedLatenessMs: number;
}

export type ColumnSketch = NumericSketch | CategoricalSketch;

/** One decoded prediction, reduced to what sketching needs. */
export interface SketchInput {
  modelName: string;
  modelVersion: number;
  eventTime: number;
  /** Column name → value. */
  columns: Record<string, number | string | null>;
  /** Columns summarized as category counts (string features); the rest are numeric. */
  categorical?: ReadonlySet<string>;
}

export interface ClosedPane {
  modelName: string;
  modelVersion: number;
  column: string;
  paneStart: number;
  paneEnd: number;
  sketch: ColumnSketch;
  /** Late events of this partition counted since the previous closed pane. */
  lateCount: number;
}

interface OpenPane {
  paneStart: number;
  /** Offset of the first message that fell into this pane: a restart must re-read from here. */
  firstOffset: bigint;
  /** The partition's largest event time before that message: the watermark state to restore. */
  maxEventTimeBefore: number;
  /** `${model}\u0000${version}` → column → sketch */
  groups: Map<string, { modelName: string; modelVersion: number; columns: Map<string, ColumnSketch> }>;
}

export type AddResult = 'sketched' | 'late';

/** What a restart needs to carry on exactly: stored as the committed offset's metadata. */
export interface PaneCheckpoint {
  /** Offset to commit: the next message a restart reads. */
  offset: bigint;
  /** End of the newest pane already emitted. */
  closedThrough: number;
  /** Largest event time among messages before `offset`. */
  maxEventTime: number;
}

export function encodeCheckpoint(checkpoint: PaneCheckpoint): string {
  return JSON.stringify({ v: 1, c: finiteOrNull(checkpoint.closedThrough), m: finiteOrNull(checkpoint.maxEventTime) });
}

/** Restores pane state from committed metadata; anything unreadable means "no state". */
export function decodeCheckpoint(metadata: string | null | undefined): Omit<PaneCheckpoint, 'offset'> {
  const none = { closedThrough: Number.NEGATIVE_INFINITY, maxEventTime: Number.NEGATIVE_INFINITY };
  if (!metadata) return none;
  try {
    const value = JSON.parse(metadata) as { v?: unknown; c?: unknown; m?: unknown };
    if (value.v !== 1) return none;
    return {
      closedThrough: typeof value.c === 'number' ? value.c : none.closedThrough,
      maxEventTime: typeof value.m === 'number' ? value.m : none.maxEventTime,
    };
  } catch {
    return none;
  }
}

function finiteOrNull(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}

export class PartitionPanes {
  private readonly open = new Map<number, OpenPane>();
  private maxEventTime = Number.NEGATIVE_INFINITY;
  private lateSinceEmit = 0;
  private lateTotal = 0;

  private closedThrough: number;

  /** `restored` comes from the committed offset's metadata after a restart. */
  constructor(
    private readonly options: PaneOptions,
    restored: Omit<PaneCheckpoint, 'offset'> = decodeCheckpoint(undefined),
  ) {
    this.closedThrough = restored.closedThrough;
    this.maxEventTime = restored.maxEventTime;
  }

  paneStartOf(eventTime: number): number {
    return Math.floor(eventTime / this.options.paneMs) * this.options.paneMs;
  }

  add(input: SketchInput, offset: bigint): AddResult {
    const paneStart = this.paneStartOf(input.eventTime);
    // Every event moves the watermark, late or not, so a restart that re-reads events of panes
    // already emitted (as late) advances it exactly as the first reading did.
    const maxBefore = this.maxEventTime;
    if (input.eventTime > this.maxEventTime) this.maxEventTime = input.eventTime;
    if (paneStart + this.options.paneMs <= this.closedThrough) {
      this.lateSinceEmit++;
      this.lateTotal++;
      return 'late';
    }
    let pane = this.open.get(paneStart);
    if (!pane) {
      pane = { paneStart, firstOffset: offset, maxEventTimeBefore: maxBefore, groups: new Map() };
      this.open.set(paneStart, pane);
    }
    const key = `${input.modelName}\u0000${input.modelVersion}`;
    let group = pane.groups.get(key);
    if (!group) {
      group = { modelName: input.modelName, modelVersion: input.modelVersion, columns: new Map() };
      pane.groups.set(key, group);
    }
    for (const [column, value] of Object.entries(input.columns)) {
      let sketch = group.columns.get(column);
      if (!sketch) {
        sketch = input.categorical?.has(column) ? CategoricalSketch.create() : NumericSketch.create();
        group.columns.set(column, sketch);
      }
      if (sketch instanceof CategoricalSketch) sketch.push(value === null ? null : String(value));
      else sketch.push(typeof value === 'number' ? value : null);
    }
    return 'sketched';
  }

  /** The watermark: panes ending at or before it are complete. */
  get watermark(): number {
    return this.maxEventTime - this.options.allowedLatenessMs;
  }

  /** Removes and returns every pane the watermark has passed, oldest first. */
  closeReady(): ClosedPane[] {
    return this.close((pane) => pane.paneStart + this.options.paneMs <= this.watermark);
  }

  /**
   * Closes every open pane, whatever the watermark: the end of the input, or a partition that
   * has been idle so long that waiting for later events would hold its panes open forever.
   */
  closeAll(): ClosedPane[] {
    return this.close(() => true);
  }

  private close(ready: (pane: OpenPane) => boolean): ClosedPane[] {
    const panes = [...this.open.values()].filter(ready).sort((a, b) => a.paneStart - b.paneStart);
    const closed: ClosedPane[] = [];
    for (const pane of panes) {
      const paneEnd = pane.paneStart + this.options.paneMs;
      this.open.delete(pane.paneStart);
      this.closedThrough = Math.max(this.closedThrough, paneEnd);
      for (const group of pane.groups.values()) {
        for (const [column, sketch] of group.columns) {
          closed.push({
            modelName: group.modelName,
            modelVersion: group.modelVersion,
            column,
            paneStart: pane.paneStart,
            paneEnd,
            sketch,
            lateCount: this.lateSinceEmit,
          });
        }
      }
      this.lateSinceEmit = 0;
    }
    return closed;
  }

  /** The end of the newest emitted pane: stored with the committed offset. */
  get closedThroughMs(): number {
    return this.closedThrough;
  }

  /**
   * Where a restart must resume so that it reproduces exactly what this instance would emit:
   * the first message of the oldest open pane (or `nextOffset`, the first message not yet
   * stored, when that is earlier or no pane is open), with the watermark state as of there.
   */
  checkpoint(nextOffset: bigint): PaneCheckpoint {
    let oldest: OpenPane | undefined;
    for (const pane of this.open.values()) if (!oldest || pane.firstOffset < oldest.firstOffset) oldest = pane;
    if (oldest && oldest.firstOffset < nextOffset) {
      return { offset: oldest.firstOffset, closedThrough: this.closedThrough, maxEventTime: oldest.maxEventTimeBefore };
    }
    return { offset: nextOffset, closedThrough: this.closedThrough, maxEventTime: this.maxEventTime };
  }

  get lateEvents(): number {
    return this.lateTotal;
  }

  get openPanes(): number {
    return this.open.size;
  }
}
