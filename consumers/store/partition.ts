/**
 * What the store keeps for one source partition between flushes, and the decisions it makes per
 * message — pure: decoded messages in; rows, dead letters, sketch snapshots and the offset it may
 * commit out. The Kafka adapter (consumer.ts) does the I/O around it.
 */
import type { KafkaMessage } from 'kafkajs';
import type { ErrorCode } from '../../core/errors.ts';
import type { CommitEntry } from '../../core/kafka/consumer-lifecycle.ts';
import type { DeadLetter } from '../../core/kafka/dead-letter.ts';
import type { GroundTruth, PredictionEvent } from '../../core/schemas.ts';
import { CategoricalSketch, type NumericSketch } from '../../core/sketch/index.ts';
import type { RemoteNumericSketch } from '../../core/sketch/sketch-thread.ts';
import { numericSnapshotOf, type SketchSnapshot, snapshotOf } from '../../core/sketch-snapshot.ts';
import type { EncodedRows } from '../../core/storage/isolating-insert.ts';
import { encodeAhead } from '../../core/storage/json-each-row.ts';
import { RowBinaryRows } from '../../core/storage/row-binary.ts';
import { type ClosedPane, encodeCheckpoint, type PartitionPanes } from './panes.ts';
import { assertStorableTime, groundTruthRow, type PredictionLayout, sketchInput, writePredictionRow } from './rows.ts';

/** A pane's numeric sketch: built here, or on the store's sketch thread. */
export type StoreNumericSketch = NumericSketch | RemoteNumericSketch;

/** A row waiting for its insert, with the message it came from (dead-lettered if ClickHouse refuses it). */
export interface PendingRow {
  /** Encoded when taken (see encodeAhead). */
  row: Record<string, unknown>;
  message: KafkaMessage;
}

/** Prediction rows encoded as RowBinary, with the messages they came from (to dead-letter a refused one). */
export class EncodedPredictions implements EncodedRows {
  readonly binary: RowBinaryRows;
  readonly messages: KafkaMessage[] = [];

  /** `expectedBytes`: room to start with (the last batch's size), so a batch is not grown by copies. */
  constructor(expectedBytes?: number) {
    this.binary = new RowBinaryRows(expectedBytes);
  }

  get rowCount(): number {
    return this.binary.rowCount;
  }

  rows(from: number, to: number): Uint8Array {
    return this.binary.rows(from, to);
  }
}

export class StorePartition {
  /** Ground-truth rows (few; JSONEachRow). */
  rows: PendingRow[] = [];
  /** Prediction rows per layout: one, unless the writer schema changed within a batch. */
  private encodedRows = new Map<PredictionLayout, EncodedPredictions>();
  /** Bytes of the last batch taken, the likely size of the next. */
  private lastBatchBytes: number | undefined;

  get encoded(): ReadonlyMap<PredictionLayout, EncodedPredictions> {
    return this.encodedRows;
  }

  /** Hands the encoded rows over (to their insert) and starts new ones. */
  takeEncoded(): Map<PredictionLayout, EncodedPredictions> {
    const taken = this.encodedRows;
    this.encodedRows = new Map();
    let bytes = 0;
    for (const batch of taken.values()) bytes = Math.max(bytes, batch.binary.byteLength);
    if (bytes > 0) this.lastBatchBytes = bytes;
    return taken;
  }
  deadLetters: DeadLetter[] = [];
  /** Snapshots of closed panes; pending while a sketch thread finishes their sketches. */
  snapshots: (SketchSnapshot | Promise<SketchSnapshot>)[] = [];
  /** Last message taken + 1; undefined until one is taken. */
  private nextOffset: bigint | undefined;
  /** Active-clock time of the last message, for closing the panes of an idle partition. */
  lastMessageAt: number;
  /** The last commit made, so an unchanged position is not committed again. */
  private committed: string | undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly table: string,
    /** Null for ground-truth partitions (not sketched). */
    readonly panes: PartitionPanes<StoreNumericSketch> | null,
    /** The committed offset the state was restored from: the first message it must see. */
    readonly resumeFrom: bigint | undefined,
    now: number,
  ) {
    this.lastMessageAt = now;
  }

  /** True when the message was taken in already (delivered twice) or precedes the restored state. */
  covers(offset: bigint): boolean {
    return (
      (this.resumeFrom !== undefined && offset < this.resumeFrom) ||
      (this.nextOffset !== undefined && offset < this.nextOffset)
    );
  }

  /** A fresh state must start at its committed offset: anything later means messages were skipped. */
  needsRewind(offset: bigint): boolean {
    return this.nextOffset === undefined && this.resumeFrom !== undefined && offset > this.resumeFrom;
  }

  /** Takes a prediction into the panes and its row, encoded in `layout`; true when it is late. */
  takePrediction(
    message: KafkaMessage,
    event: PredictionEvent,
    layout: PredictionLayout,
    categorical: ReadonlySet<string>,
    now: number,
    /** `message.offset`, parsed already by the caller. */
    parsedOffset?: bigint,
  ): boolean {
    assertStorableTime(event.event_time); // before anything changes
    const offset = this.advance(message, now, parsedOffset);
    const late = this.panes?.add(sketchInput(event, categorical, layout.featureNames), offset) === 'late';
    let encoded = this.encodedRows.get(layout);
    if (!encoded) {
      encoded = new EncodedPredictions(this.lastBatchBytes);
      this.encodedRows.set(layout, encoded);
    }
    writePredictionRow(encoded.binary, layout, event, this.partition, message.offset, late, Date.now());
    encoded.messages.push(message);
    return late;
  }

  /** Rows waiting for their insert: ground truth and predictions. */
  get bufferedRows(): number {
    let count = this.rows.length;
    for (const encoded of this.encoded.values()) count += encoded.rowCount;
    return count;
  }

  takeGroundTruth(message: KafkaMessage, truth: GroundTruth, now: number): void {
    this.advance(message, now);
    const origin = { topic: this.topic, partition: this.partition, offset: message.offset };
    this.rows.push({ row: encodeAhead(groundTruthRow(truth, origin, new Date())), message });
  }

  deadLetter(message: KafkaMessage, reason: string, code: ErrorCode, now: number): void {
    this.advance(message, now);
    this.deadLetters.push({ message, topic: this.topic, partition: this.partition, reason, code });
  }

  /**
   * Moves panes the watermark passed into `snapshots`; every open pane when `closeAll` (end of
   * input) or when the partition has been idle for `idleMs` of active time.
   */
  closePanes(now: number, idleMs: number, closeAll: boolean): void {
    if (!this.panes) return;
    const idle = this.idle(now, idleMs);
    const closed = closeAll || idle ? this.panes.closeAll() : this.panes.closeReady();
    for (const pane of closed) this.snapshots.push(this.snapshotOf(pane));
  }

  /** Drops the panes unread (the partition's state is dropped), freeing sketches held on a sketch thread. */
  dispose(): void {
    this.panes?.dispose();
  }

  private snapshotOf(pane: ClosedPane<StoreNumericSketch>): SketchSnapshot | Promise<SketchSnapshot> {
    const { sketch } = pane;
    if (sketch instanceof CategoricalSketch || !('finish' in sketch)) {
      return snapshotOf({ ...pane, sketch }, this.topic, this.partition);
    }
    return sketch.finish().then((json) => numericSnapshotOf(pane, json, this.topic, this.partition));
  }

  idle(now: number, idleMs: number): boolean {
    return (this.panes?.openPanes ?? 0) > 0 && now - this.lastMessageAt >= idleMs;
  }

  /**
   * The commit this partition may make once its rows, letters and snapshots are stored: its next
   * offset, held back to the first message of its oldest open pane (with the pane state a
   * restart resumes from as metadata). Undefined when nothing changed since the last commit.
   */
  commit(): CommitEntry | undefined {
    if (this.nextOffset === undefined) return undefined;
    const checkpoint = this.panes?.checkpoint(this.nextOffset);
    const entry: CommitEntry = {
      topic: this.topic,
      partition: this.partition,
      offset: (checkpoint?.offset ?? this.nextOffset).toString(),
      ...(checkpoint ? { metadata: encodeCheckpoint(checkpoint) } : {}),
    };
    const key = `${entry.offset}|${entry.metadata ?? ''}`;
    if (key === this.committed) return undefined;
    return entry;
  }

  committedAs(entry: CommitEntry): void {
    this.committed = `${entry.offset}|${entry.metadata ?? ''}`;
  }

  private advance(message: KafkaMessage, now: number, parsed?: bigint): bigint {
    const offset = parsed ?? BigInt(message.offset);
    this.nextOffset = offset + 1n;
    this.lastMessageAt = now;
    return offset;
  }
}
