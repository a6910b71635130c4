/**
 * The store consumer's Kafka adapter: predictions and ground truth into ClickHouse in batches
 * bounded by rows or time, sketches of closed panes to `feature-sketches` (and ClickHouse), bad
 * messages to the dead-letter topic, offsets committed only after everything they cover is
 * stored. Runs on the shared consumer lifecycle (core/kafka/consumer-lifecycle.ts): a dependency
 * failure pauses consumption and is retried; a message bad in itself is dead-lettered.
 */
import type { Admin, Consumer, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { describeError, ErrorCode, isDriftlineError } from '../../core/errors.ts';
import {
  checkGroundTruth,
  checkPredictionEvent,
  DEFAULT_EVENT_TIME_BOUNDS,
  describeViolations,
  type EventTimeBounds,
} from '../../core/event-contract.ts';
import type { FeatureSpec } from '../../core/feature-spec.ts';
import type { AvroCodec } from '../../core/kafka/avro.ts';
import { connectAdmin, createProducer, ensureTopics, sendInChunks } from '../../core/kafka/client.ts';
import {
  ActiveClock,
  type CommitEntry,
  ConsumerLifecycle,
  type HandleOutcome,
  isDependencyFailure,
  type LifecycleTelemetry,
  type PendingWrite,
  type Processor,
} from '../../core/kafka/consumer-lifecycle.ts';
import { type DeadLetter, deadLetterMessage } from '../../core/kafka/dead-letter.ts';
import type { Logger } from '../../core/logger.ts';
import { ensurePredictionsTable, predictionsTable, predictionsTableColumns } from '../../core/prediction-table.ts';
import { type GroundTruth, type PredictionEvent, sketchSnapshotSchema } from '../../core/schemas.ts';
import { SketchThread } from '../../core/sketch/sketch-thread.ts';
import { FEATURE_SKETCH_COLUMNS, type SketchSnapshot, writeFeatureSketchRow } from '../../core/sketch-snapshot.ts';
import type { Storage } from '../../core/storage/index.ts';
import { insertIsolating, insertRowBinaryIsolating } from '../../core/storage/isolating-insert.ts';
import { RowBinaryRows } from '../../core/storage/row-binary.ts';
import { PREDICTIONS_TOPIC_PATTERN, PREDICTIONS_TOPIC_PREFIX, TOPICS, valueSubject } from '../../core/topics.ts';
import { decodeCheckpoint, type PaneOptions, PartitionPanes } from './panes.ts';
import { type EncodedPredictions, type PendingRow, type StoreNumericSketch, StorePartition } from './partition.ts';
import { type PredictionLayout, predictionLayout } from './rows.ts';

/** What the store needs of a writer schema's table: its categorical features, and its row layout. */
interface SchemaTable {
  categorical: ReadonlySet<string>;
  layout: PredictionLayout;
}

/** A write's closed-pane snapshots, and which of their two destinations already has them. */
interface SnapshotDelivery {
  /** Resolves once the sketch thread has finished every sketch. */
  list: Promise<SketchSnapshot[]>;
  count: number;
  /** In feature_sketches. */
  stored: boolean;
  /** On the feature-sketches topic. */
  sent: boolean;
}

function modelOf(topic: string): string {
  return topic.slice(PREDICTIONS_TOPIC_PREFIX.length);
}

export interface StoreConsumerOptions {
  kafka: Kafka;
  codec: AvroCodec;
  storage: Storage;
  logger: Logger;
  connect: { brokers: readonly string[]; connectTimeoutMs: number; partitions: number };
  groupId?: string;
  /**
   * Topics to read; default every `predictions.*` topic and ground-truth, including
   * `predictions.*` topics created later (looked for every `topicRefreshMs`).
   */
  topics?: readonly string[];
  /** How often to look for new `predictions.*` topics when `topics` is not given (default 30 s). */
  topicRefreshMs?: number;
  batchRows: number;
  batchMs: number;
  panes: PaneOptions;
  /**
   * A partition that received nothing for this long (active time: not while paused) has its open
   * panes closed: without later events its watermark would never pass them. Default: one pane length.
   */
  idleCloseMs?: number;
  retry?: { initialMs: number; maxMs: number };
  /** Event-time bounds of the event contract (default: 30 days back, 5 minutes ahead). */
  eventTimeBounds?: EventTimeBounds;
}

export interface StoreStats {
  /** Rows taken in and waiting for the next flush. */
  bufferedRows: number;
  /** Panes open (not yet closed by the watermark) over the partitions this member owns. */
  openPanes: number;
  predictionsStored: number;
  groundTruthStored: number;
  deadLettered: number;
  lateEvents: number;
  snapshotsEmitted: number;
  commits: number;
  failedFlushes: number;
  paused: boolean;
}

export interface StoreConsumer {
  readonly groupId: string;
  /** Lag, messages read and flush durations, for the metrics server. */
  readonly telemetry: LifecycleTelemetry;
  /** The topics it reads now. */
  topics(): string[];
  stats(): StoreStats;
  /**
   * Resolves once everything consumed so far is stored and committed; rejects when that fails
   * (consumption then pauses and the flush is retried in the background). `closeOpenPanes` treats
   * what was consumed as the end of the input: every open pane is closed and emitted.
   */
  flush(options?: { closeOpenPanes?: boolean }): Promise<void>;
  /**
   * Stops fetching, flushes and commits once, then leaves the group and disconnects. A final flush
   * that fails is logged, not retried: what it covered is read again after a restart.
   */
  stop(): Promise<void>;
  /** Disconnects without flushing: what a crash looks like to Kafka and ClickHouse. */
  abort(): Promise<void>;
}

const DEFAULT_GROUP = 'driftline-store';

export async function startStoreConsumer(options: StoreConsumerOptions): Promise<StoreConsumer> {
  const log = options.logger.child({ component: 'store' });
  const groupId = options.groupId ?? DEFAULT_GROUP;
  const idleCloseMs = options.idleCloseMs ?? options.panes.paneMs;
  const bounds = options.eventTimeBounds ?? DEFAULT_EVENT_TIME_BOUNDS;
  const { kafka, codec, storage } = options;

  // Numeric pane sketches are sorted and merged on a worker thread, off the thread that reads
  // Kafka. Started first: nothing connected is left open if it cannot start.
  const sketchThread = await SketchThread.start();
  const admin = await connectAdmin(kafka, options.connect);
  await ensureTopics(
    admin,
    [{ topic: TOPICS.groundTruth }, { topic: TOPICS.featureSketches }, { topic: TOPICS.deadLetter }],
    options.connect.partitions,
  );
  const topics =
    options.topics ??
    [...(await admin.listTopics()).filter((t) => PREDICTIONS_TOPIC_PATTERN.test(t)), TOPICS.groundTruth].sort();
  const snapshotSchemaId = await codec.register(valueSubject(TOPICS.featureSketches), sketchSnapshotSchema());

  const producer: Producer = createProducer(kafka);
  await producer.connect();
  const consumer: Consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 250, sessionTimeout: 30_000 });
  await consumer.connect();

  const paneOptions: PaneOptions<StoreNumericSketch> = {
    ...options.panes,
    numericSketch: () => sketchThread.numeric(),
  };
  const states = new Map<string, StorePartition>();
  /** Partitions rewound to their committed offset since the last rebalance. */
  const rewound = new Set<string>();
  /** Per writer schema: its predictions table is ensured; its categorical features and row layout. */
  const ensuredSchemas = new Map<number, Promise<SchemaTable>>();
  /** The same, for the schemas whose table is ensured already. */
  const ensuredTables = new Map<number, SchemaTable>();
  const counts = {
    predictionsStored: 0,
    groundTruthStored: 0,
    deadLettered: 0,
    lateEvents: 0,
    snapshotsEmitted: 0,
  };
  let bufferedRows = 0;
  let hasDeadLetters = false;
  /** Active-clock time of the oldest message not yet flushed. */
  let dirtySince: number | undefined;
  /** The next flush treats what was consumed as the end of the input. */
  let closeAllPanes = false;
  const clock = new ActiveClock();

  async function stateFor(topic: string, partition: number): Promise<StorePartition> {
    const key = `${topic}:${partition}`;
    const existing = states.get(key);
    if (existing) return existing;
    const isPredictions = topic.startsWith(PREDICTIONS_TOPIC_PREFIX);
    // The committed offset's metadata carries the pane state a restart must resume from.
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const entry = committed?.partitions.find((p) => p.partition === partition);
    const state = new StorePartition(
      topic,
      partition,
      isPredictions ? predictionsTable(modelOf(topic)) : 'ground_truth',
      isPredictions ? new PartitionPanes(paneOptions, decodeCheckpoint(entry?.metadata)) : null,
      entry && BigInt(entry.offset) >= 0n ? BigInt(entry.offset) : undefined,
      clock.now(),
    );
    states.set(key, state);
    return state;
  }

  async function ensureTable(model: string, schemaId: number): Promise<SchemaTable> {
    let ensured = ensuredSchemas.get(schemaId);
    if (!ensured) {
      ensured = (async () => {
        const features: FeatureSpec[] = await codec.featuresOf(schemaId);
        const added = await ensurePredictionsTable(storage, model, features);
        if (added.length > 0) log.info({ model, added }, 'predictions table extended');
        const table = predictionsTable(model);
        const layout = predictionLayout(table, features, await predictionsTableColumns(storage, table));
        const categorical = new Set(features.filter((f) => f.type === 'string').map((f) => f.name));
        const ready = { categorical, layout };
        ensuredTables.set(schemaId, ready);
        return ready;
      })();
      ensuredSchemas.set(schemaId, ensured);
      ensured.catch(() => ensuredSchemas.delete(schemaId));
    }
    return ensured;
  }

  function park(state: StorePartition, message: KafkaMessage, reason: string, code: ErrorCode): void {
    state.deadLetter(message, reason, code, clock.now());
    hasDeadLetters = true;
    dirtySince ??= clock.now();
  }

  /** The last partition's state, so a batch of one partition looks it up once, not per message. */
  let current: { topic: string; partition: number; key: string; model: string; state: StorePartition } | undefined;

  /**
   * Every await (offsets, the registry, ClickHouse) happens before the state changes: when one
   * of them fails, the lifecycle reads this message again later, and nothing was half-taken. Once
   * the partition's state, the writer schema and its table are known — every message but the
   * first few — nothing is awaited and no promise is made.
   */
  function handle(topic: string, partition: number, message: KafkaMessage): HandleOutcome | Promise<HandleOutcome> {
    if (current?.partition !== partition || current.topic !== topic) {
      const key = `${topic}:${partition}`;
      const state = states.get(key);
      if (!state) return stateFor(topic, partition).then(() => handle(topic, partition, message));
      current = { topic, partition, key, model: modelOf(topic), state };
    }
    const { key, model, state } = current;
    const offset = BigInt(message.offset);
    if (state.needsRewind(offset) && !rewound.has(key) && state.resumeFrom !== undefined) {
      // A state restored from the committed offset must see every message from there on, or its
      // panes would miss some (a fetch that ran ahead of a rebalance). Rewind, once: offsets may
      // also skip legitimately (transaction markers).
      rewound.add(key);
      forget(key);
      return { seek: state.resumeFrom };
    }
    if (state.covers(offset)) return undefined;
    const value = message.value;
    if (!value) {
      park(state, message, 'message has no value', ErrorCode.DECODE_FAILED);
      return undefined;
    }
    let known: { value: PredictionEvent | GroundTruth } | undefined;
    try {
      // No origin for the error: the dead letter carries topic, partition and offset itself.
      known = codec.decodeKnown<PredictionEvent | GroundTruth>(value);
    } catch (error) {
      return decodeFailed(state, message, error);
    }
    if (known) return take(state, topic, model, message, offset, value, known.value);
    return codec.decode<PredictionEvent | GroundTruth>(value, { topic, partition, offset: message.offset }).then(
      (decoded) => take(state, topic, model, message, offset, value, decoded),
      (error: unknown) => decodeFailed(state, message, error),
    );
  }

  function decodeFailed(state: StorePartition, message: KafkaMessage, error: unknown): undefined {
    if (isDependencyFailure(error)) throw error;
    park(state, message, describeError(error), isDriftlineError(error) ? error.code : ErrorCode.DECODE_FAILED);
    return undefined;
  }

  /** The decoded message checked against the event contract and taken in (or parked). */
  function take(
    state: StorePartition,
    topic: string,
    model: string,
    message: KafkaMessage,
    offset: bigint,
    value: Buffer,
    decoded: PredictionEvent | GroundTruth,
  ): undefined | Promise<undefined> {
    const producedAt = Number(message.timestamp);
    if (!state.panes) {
      const truth = decoded as GroundTruth;
      const violations = checkGroundTruth(truth, producedAt, bounds);
      if (violations.length > 0) {
        park(state, message, describeViolations(violations), ErrorCode.EVENT_INVALID);
        return undefined;
      }
      state.takeGroundTruth(message, truth, clock.now());
      taken();
      return undefined;
    }
    const event = decoded as PredictionEvent;
    if (event.model_name !== model) {
      const reason = `model_name ${JSON.stringify(event.model_name)} does not belong in topic ${topic}`;
      park(state, message, reason, ErrorCode.EVENT_INVALID);
      return undefined;
    }
    const schemaId = value.readUInt32BE(1);
    const table = ensuredTables.get(schemaId);
    const violations = checkPredictionEvent(event, producedAt, bounds, table?.layout.featureNames);
    if (violations.length > 0) {
      park(state, message, describeViolations(violations), ErrorCode.EVENT_INVALID);
      return undefined;
    }
    if (!table) {
      return ensureTable(model, schemaId).then((ready) => {
        takePrediction(state, message, offset, event, ready);
        return undefined;
      });
    }
    takePrediction(state, message, offset, event, table);
    return undefined;
  }

  function takePrediction(
    state: StorePartition,
    message: KafkaMessage,
    offset: bigint,
    event: PredictionEvent,
    table: SchemaTable,
  ) {
    if (state.takePrediction(message, event, table.layout, table.categorical, clock.now(), offset)) counts.lateEvents++;
    taken();
  }

  function taken(): void {
    bufferedRows++;
    dirtySince ??= clock.now();
  }

  /** Drops a partition's state (and the lookup shortcut to it). */
  function forget(key: string): void {
    states.get(key)?.dispose();
    states.delete(key);
    if (current?.key === key) current = undefined;
  }

  /**
   * Takes everything buffered — rows, dead letters, the panes the watermark closed and the offsets
   * they let it commit — so consumption goes on into fresh buffers while `write` stores it.
   */
  function detach(final: boolean): PendingWrite {
    const live = [...states.values()];
    const byLayout = new Map<PredictionLayout, { batch: EncodedPredictions; state: StorePartition }[]>();
    for (const s of live) {
      for (const [layout, batch] of s.takeEncoded()) {
        let pending = byLayout.get(layout);
        if (!pending) {
          pending = [];
          byLayout.set(layout, pending);
        }
        pending.push({ batch, state: s });
      }
    }
    const byTable = new Map<string, { row: PendingRow; state: StorePartition }[]>();
    for (const s of live) {
      if (s.rows.length === 0) continue;
      let pending = byTable.get(s.table);
      if (!pending) {
        pending = [];
        byTable.set(s.table, pending);
      }
      for (const row of s.rows) pending.push({ row, state: s });
      s.rows = [];
    }
    const letters = live.flatMap((s) => s.deadLetters);
    for (const s of live) s.deadLetters = [];
    const closeAll = closeAllPanes && !final;
    for (const s of live) s.closePanes(clock.now(), idleCloseMs, closeAll);
    const closed = live.flatMap((s) => s.snapshots);
    const snapshots: SnapshotDelivery = { list: Promise.all(closed), count: closed.length, stored: false, sent: false };
    for (const s of live) s.snapshots = [];
    if (closeAll) closeAllPanes = false;
    const commits: CommitEntry[] = [];
    for (const s of live) {
      const entry = s.commit();
      if (entry) commits.push(entry);
    }
    bufferedRows = 0;
    hasDeadLetters = false;
    dirtySince = undefined;
    // The inserts start now, beside the write before this one (see PendingWrite); the rest of the
    // write waits for its turn.
    let started: Promise<unknown> | undefined = insert(byLayout, byTable, letters, snapshots);
    return async () => {
      // Their outcome is read again below: each step dropped what it stored, so a failed one retries.
      if (started) await started;
      started = undefined;
      return write(byLayout, byTable, letters, snapshots, commits);
    };
  }

  /** Each step drops what it stored, so a retry after a failure goes on where it failed. */
  async function write(
    byLayout: Map<PredictionLayout, { batch: EncodedPredictions; state: StorePartition }[]>,
    byTable: Map<string, { row: PendingRow; state: StorePartition }[]>,
    letters: DeadLetter[],
    snapshots: SnapshotDelivery,
    commits: CommitEntry[],
  ): Promise<CommitEntry[]> {
    // 1. Rows and the snapshots' rows (what `detach` started did not store, after a failure).
    const [rows, sketchRows] = await insert(byLayout, byTable, letters, snapshots);
    if (rows.status === 'rejected') throw rows.reason;
    if (sketchRows.status === 'rejected') throw sketchRows.reason;
    // 2. Dead letters: a poison message's offset is committed only once it is parked.
    if (letters.length > 0) {
      await sendInChunks(producer, TOPICS.deadLetter, letters.map(deadLetterMessage));
      counts.deadLettered += letters.length;
      letters.length = 0;
    }
    // 3. Snapshots to the topic, after the rows: a drift member reading one may query its window's predictions.
    if (!snapshots.sent && snapshots.count > 0) {
      const messages = await Promise.all(
        (await snapshots.list).map(async (snap) => ({
          // Keyed by model: all of a model's columns in one partition, so a drift member owns whole models.
          key: snap.model_name,
          value: await codec.encode(snapshotSchemaId, snap),
        })),
      );
      await sendInChunks(producer, TOPICS.featureSketches, messages);
      counts.snapshotsEmitted += snapshots.count;
    }
    snapshots.sent = true;
    // 4. What is now safely stored may be committed.
    return commits;
  }

  /**
   * The rows and, beside them, the snapshots' rows: nothing reads feature_sketches expecting the
   * predictions stored, and overlapping the two inserts saves the second one's wait.
   */
  function insert(
    byLayout: Map<PredictionLayout, { batch: EncodedPredictions; state: StorePartition }[]>,
    byTable: Map<string, { row: PendingRow; state: StorePartition }[]>,
    letters: DeadLetter[],
    snapshots: SnapshotDelivery,
  ): Promise<[PromiseSettledResult<void>, PromiseSettledResult<void>]> {
    return Promise.allSettled([storeRows(byLayout, byTable, letters), storeSnapshotRows(snapshots)]);
  }

  /** One insert per table (and row layout); rows ClickHouse refuses for their values become dead letters. */
  async function storeRows(
    byLayout: Map<PredictionLayout, { batch: EncodedPredictions; state: StorePartition }[]>,
    byTable: Map<string, { row: PendingRow; state: StorePartition }[]>,
    letters: DeadLetter[],
  ): Promise<void> {
    for (const [layout, pending] of byLayout) {
      const batches = pending.map((p) => p.batch);
      const refused = await insertRowBinaryIsolating(storage, layout.table, layout.columns, batches);
      for (const { item, error } of refused) {
        const { batch, state } = pending[item.batch] as (typeof pending)[number];
        letters.push({
          message: batch.messages[item.row] as KafkaMessage,
          topic: state.topic,
          partition: state.partition,
          reason: `ClickHouse refused the row: ${describeError(error)}`,
          code: error.code,
        });
      }
      counts.predictionsStored += batches.reduce((n, b) => n + b.rowCount, 0) - refused.length;
      byLayout.delete(layout);
    }
    for (const [table, pending] of byTable) {
      const refused = await insertIsolating(storage, table, pending, (p) => p.row.row);
      for (const { item, error } of refused) {
        letters.push({
          message: item.row.message,
          topic: item.state.topic,
          partition: item.state.partition,
          reason: `ClickHouse refused the row: ${describeError(error)}`,
          code: error.code,
        });
      }
      const stored = pending.length - refused.length;
      if (table === 'ground_truth') counts.groundTruthStored += stored;
      else counts.predictionsStored += stored;
      byTable.delete(table);
    }
  }

  async function storeSnapshotRows(snapshots: SnapshotDelivery): Promise<void> {
    if (snapshots.stored || snapshots.count === 0) return;
    const list = await snapshots.list;
    const emittedAt = new Date();
    const rows = new RowBinaryRows();
    for (const snap of list) writeFeatureSketchRow(rows, snap, emittedAt);
    await storage.insertRowBinary('feature_sketches', FEATURE_SKETCH_COLUMNS, [rows.rows()]);
    snapshots.stored = true;
  }

  const processor: Processor = {
    handle,
    reject(topic, partition, message, error) {
      const state = states.get(`${topic}:${partition}`);
      if (!state) return;
      log.warn({ err: error, topic, partition, offset: message.offset }, 'message refused by an unexpected error');
      park(state, message, describeError(error), isDriftlineError(error) ? error.code : ErrorCode.EVENT_INVALID);
    },
    flush: (flushOptions) => detach(flushOptions.final)(),
    detach: (flushOptions) => detach(flushOptions.final),
    committed(entries) {
      for (const entry of entries) states.get(`${entry.topic}:${entry.partition}`)?.committedAs(entry);
    },
    due() {
      const now = clock.now();
      if (bufferedRows >= options.batchRows || hasDeadLetters || closeAllPanes) return true;
      if (dirtySince !== undefined && now - dirtySince >= options.batchMs) return true;
      for (const s of states.values()) if (s.idle(now, idleCloseMs)) return true;
      return false;
    },
    async assigned() {
      // After a rebalance every assigned partition is fetched again from its committed offset, the
      // ones this member keeps included. So every partition state is dropped, with its
      // uncommitted buffer, and rebuilt from the committed offset and its metadata: exactly what
      // a restart does. Storage deduplicates the rows stored twice.
      rewound.clear();
      for (const state of states.values()) state.dispose();
      states.clear();
      current = undefined;
      bufferedRows = 0;
      hasDeadLetters = false;
      dirtySince = undefined;
    },
  };

  const lifecycle = new ConsumerLifecycle({
    consumer,
    processor,
    topics,
    logger: log,
    clock,
    ...(options.retry ? { retry: options.retry } : {}),
    tickMs: Math.max(10, Math.floor(options.batchMs / 4)),
    offsets: { admin, groupId },
    onClose: async () => {
      await producer.disconnect();
      await admin.disconnect();
      await sketchThread.close();
    },
  });
  await lifecycle.start();

  // A model added later gets a topic this consumer is not subscribed to.
  let resubscribing: Promise<void> = Promise.resolve();
  const topicTimer = options.topics
    ? undefined
    : setInterval(() => {
        resubscribing = resubscribing
          .then(async () => {
            const found = (await admin.listTopics()).filter(
              (t) => PREDICTIONS_TOPIC_PATTERN.test(t) && !lifecycle.topics().includes(t),
            );
            if (found.length === 0) return;
            await lifecycle.subscribe(found);
            log.info({ topics: found }, 'subscribed to new topics');
          })
          .catch((error: unknown) => log.warn({ err: error }, 'looking for new topics failed'));
      }, options.topicRefreshMs ?? 30_000);

  log.info({ groupId, topics }, 'store consumer started');

  return {
    groupId,
    telemetry: lifecycle,
    stats: () => {
      const life = lifecycle.stats();
      let openPanes = 0;
      for (const s of states.values()) openPanes += s.panes?.openPanes ?? 0;
      return {
        ...counts,
        bufferedRows,
        openPanes,
        commits: life.commits,
        failedFlushes: life.failedFlushes,
        paused: life.paused,
      };
    },
    topics: () => lifecycle.topics(),
    flush(flushOptions = {}) {
      if (flushOptions.closeOpenPanes === true) closeAllPanes = true;
      return lifecycle.flush();
    },
    async stop() {
      clearInterval(topicTimer);
      await resubscribing;
      await lifecycle.stop();
    },
    async abort() {
      clearInterval(topicTimer);
      await resubscribing;
      await lifecycle.abort();
    },
  };
}

/**
 * The end of the newest pane a store consumer group has emitted for a topic, over all its
 * partitions (from the committed offsets' metadata); events before it would be late.
 */
export async function committedPaneEnd(admin: Admin, groupId: string, topic: string): Promise<number | undefined> {
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const ends = (offsets?.partitions ?? [])
    .map((p) => decodeCheckpoint(p.metadata).closedThrough)
    .filter((t) => Number.isFinite(t));
  return ends.length > 0 ? Math.max(...ends) : undefined;
}
