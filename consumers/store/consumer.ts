/**
 * The store consumer's Kafka adapter: predictions and ground truth into ClickHouse in batches
 * bounded by rows or time, sketches of closed panes to `feature-sketches` (and ClickHouse), bad
 * messages to the dead-letter topic, offsets committed only after everything they cover is
 * stored. When ClickHouse (or Kafka) fails, consumption pauses, the flush is retried with
 * backoff, and nothing buffered is dropped.
 */
import type { Admin, Consumer, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { DriftlineError, describeError, ErrorCode } from '../../core/errors.ts';
import type { FeatureSpec } from '../../core/feature-spec.ts';
import type { AvroCodec } from '../../core/kafka/avro.ts';
import { connectAdmin, createProducer, ensureTopics } from '../../core/kafka/client.ts';
import { type DeadLetter, deadLetterMessage } from '../../core/kafka/dead-letter.ts';
import { FlushLoop } from '../../core/kafka/flush-loop.ts';
import type { Logger } from '../../core/logger.ts';
import { ensurePredictionsTable, predictionsTable } from '../../core/prediction-table.ts';
import {
  type GroundTruth,
  type PredictionEvent,
  type SketchSnapshot,
  sketchSnapshotSchema,
} from '../../core/schemas.ts';
import type { Storage } from '../../core/storage/index.ts';
import { PREDICTIONS_TOPIC_PATTERN, PREDICTIONS_TOPIC_PREFIX, TOPICS, valueSubject } from '../../core/topics.ts';
import { decodeCheckpoint, encodeCheckpoint, type PaneOptions, PartitionPanes } from './panes.ts';
import { groundTruthRow, predictionRow, sketchInput, snapshotOf, snapshotRow } from './rows.ts';

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
   * A partition that received nothing for this long (wall clock) has its open panes closed:
   * without later events its watermark would never pass them. Default: one pane length.
   */
  idleCloseMs?: number;
  retry?: { initialMs: number; maxMs: number };
}

export interface StoreStats {
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
  /** The topics it reads now. */
  topics(): string[];
  stats(): StoreStats;
  /**
   * Resolves once everything consumed so far is stored and committed. `closeOpenPanes` treats
   * what was consumed as the end of the input: every open pane is closed and emitted.
   */
  flush(options?: { closeOpenPanes?: boolean }): Promise<void>;
  /** Flushes, commits and disconnects. */
  stop(): Promise<void>;
  /** Disconnects without flushing: what a crash looks like to Kafka and ClickHouse. */
  abort(): Promise<void>;
}

interface PartitionState {
  topic: string;
  partition: number;
  /** Null for ground-truth partitions (not sketched). */
  panes: PartitionPanes | null;
  table: string;
  rows: Record<string, unknown>[];
  deadLetters: DeadLetter[];
  snapshots: SketchSnapshot[];
  /** Last message handled + 1; undefined until a message arrives. */
  nextOffset: bigint | undefined;
  /** The committed offset the state was restored from: the first message it must see. */
  resumeFrom: bigint | undefined;
  /** Wall-clock time of the last message, for closing the panes of idle partitions. */
  lastMessageAt: number;
  committed: string | undefined;
}

const DEFAULT_GROUP = 'driftline-store';

export async function startStoreConsumer(options: StoreConsumerOptions): Promise<StoreConsumer> {
  const log = options.logger.child({ component: 'store' });
  const groupId = options.groupId ?? DEFAULT_GROUP;
  const retry = options.retry ?? { initialMs: 500, maxMs: 30_000 };
  const idleCloseMs = options.idleCloseMs ?? options.panes.paneMs;
  const { kafka, codec, storage } = options;

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

  const states = new Map<string, PartitionState>();
  /** Partitions rewound to their committed offset since the last rebalance. */
  const rewound = new Set<string>();
  /** Per writer schema: its predictions table is ensured, and these features are categorical. */
  const ensuredSchemas = new Map<number, Promise<ReadonlySet<string>>>();
  const stats: StoreStats = {
    predictionsStored: 0,
    groundTruthStored: 0,
    deadLettered: 0,
    lateEvents: 0,
    snapshotsEmitted: 0,
    commits: 0,
    failedFlushes: 0,
    paused: false,
  };
  let bufferedRows = 0;
  /** Something was consumed since the last successful flush (rows, letters or offsets). */
  let dirtySince: number | undefined;
  let assigned: { topic: string; partitions: number[] }[] = [];
  let stopping = false;

  // One flush at a time; everything that touches buffers runs through the loop's chain.
  const loop = new FlushLoop({
    retry,
    pause: pauseAll,
    resume: resumeAll,
    onFailure: (error, retryInMs) => {
      stats.failedFlushes++;
      log.warn({ err: error, retryInMs }, 'flush failed; consumption paused, nothing committed');
    },
  });
  const serialized = <T>(work: () => Promise<T>): Promise<T> => loop.serialized(work);

  async function stateFor(topic: string, partition: number): Promise<PartitionState> {
    const key = `${topic}:${partition}`;
    const existing = states.get(key);
    if (existing) return existing;
    const isPredictions = topic.startsWith(PREDICTIONS_TOPIC_PREFIX);
    // The committed offset's metadata carries the pane state a restart must resume from.
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const entry = committed?.partitions.find((p) => p.partition === partition);
    const panes = isPredictions ? new PartitionPanes(options.panes, decodeCheckpoint(entry?.metadata)) : null;
    const state: PartitionState = {
      topic,
      partition,
      panes,
      table: isPredictions ? predictionsTable(topic.slice(PREDICTIONS_TOPIC_PREFIX.length)) : 'ground_truth',
      rows: [],
      deadLetters: [],
      snapshots: [],
      nextOffset: undefined,
      resumeFrom: entry && BigInt(entry.offset) >= 0n ? BigInt(entry.offset) : undefined,
      lastMessageAt: Date.now(),
      committed: undefined,
    };
    states.set(key, state);
    return state;
  }

  async function ensureTable(model: string, schemaId: number): Promise<ReadonlySet<string>> {
    let ensured = ensuredSchemas.get(schemaId);
    if (!ensured) {
      ensured = (async () => {
        const features: FeatureSpec[] = await codec.featuresOf(schemaId);
        const added = await ensurePredictionsTable(storage, model, features);
        if (added.length > 0) log.info({ model, added }, 'predictions table extended');
        return new Set(features.filter((f) => f.type === 'string').map((f) => f.name));
      })();
      ensuredSchemas.set(schemaId, ensured);
      ensured.catch(() => ensuredSchemas.delete(schemaId));
    }
    return ensured;
  }

  async function handle(state: PartitionState, message: KafkaMessage): Promise<void> {
    const origin = { topic: state.topic, partition: state.partition, offset: message.offset };
    const offset = BigInt(message.offset);
    state.nextOffset = offset + 1n;
    state.lastMessageAt = Date.now();
    dirtySince ??= Date.now();
    if (!message.value) {
      state.deadLetters.push({ message, ...at(state), reason: 'message has no value', code: ErrorCode.DECODE_FAILED });
      return;
    }
    const decoded = await decodeOrPark(state, message, message.value, origin);
    if (decoded === undefined) return;
    if (state.panes) {
      const event = decoded as PredictionEvent;
      // Not the message's fault if this fails (ClickHouse or the registry is down): it throws,
      // the batch is retried, and nothing is dead-lettered.
      const categorical = await ensureTable(modelOf(state.topic), message.value.readUInt32BE(1));
      const late = state.panes.add(sketchInput(event, categorical), offset) === 'late';
      if (late) stats.lateEvents++;
      state.rows.push(predictionRow(event, origin, late, new Date()));
    } else {
      state.rows.push(groundTruthRow(decoded as GroundTruth, origin, new Date()));
    }
    bufferedRows++;
  }

  /**
   * Decodes and checks a message; a message that is bad in itself goes to the dead-letter
   * buffer (undefined returned). Outages (retriable errors) are thrown, never parked.
   */
  async function decodeOrPark(
    state: PartitionState,
    message: KafkaMessage,
    value: Buffer,
    origin: { topic: string; partition: number; offset: string },
  ): Promise<PredictionEvent | GroundTruth | undefined> {
    try {
      if (!state.panes) return await codec.decode<GroundTruth>(value, origin);
      const event = await codec.decode<PredictionEvent>(value, origin);
      if (event.model_name !== modelOf(state.topic)) {
        throw new DriftlineError(
          ErrorCode.DECODE_FAILED,
          `model_name ${JSON.stringify(event.model_name)} does not belong in topic ${state.topic}`,
        );
      }
      return event;
    } catch (error) {
      if (error instanceof DriftlineError && error.retriable) throw error;
      const code = error instanceof DriftlineError ? error.code : ErrorCode.DECODE_FAILED;
      state.deadLetters.push({ message, ...at(state), reason: describeError(error), code });
      return undefined;
    }
  }

  function at(state: PartitionState) {
    return { topic: state.topic, partition: state.partition };
  }

  function modelOf(topic: string): string {
    return topic.slice(PREDICTIONS_TOPIC_PREFIX.length);
  }

  async function flushNow(closeOpenPanes = false): Promise<void> {
    const live = [...states.values()];
    // 1. Dead letters first: a poison message's offset is committed only once it is parked.
    const letters = live.flatMap((s) => s.deadLetters);
    if (letters.length > 0) {
      await producer.send({
        topic: TOPICS.deadLetter,
        acks: -1,
        messages: letters.map(deadLetterMessage),
      });
      stats.deadLettered += letters.length;
      for (const s of live) s.deadLetters = [];
    }
    // 2. Rows, one insert per table.
    const byTable = new Map<string, PartitionState[]>();
    for (const s of live) if (s.rows.length > 0) byTable.set(s.table, [...(byTable.get(s.table) ?? []), s]);
    for (const [table, group] of byTable) {
      const rows = group.flatMap((s) => s.rows);
      await storage.insert(table, rows);
      if (table === 'ground_truth') stats.groundTruthStored += rows.length;
      else stats.predictionsStored += rows.length;
      for (const s of group) s.rows = [];
    }
    bufferedRows = 0;
    // 3. Panes the watermark has passed become snapshots, kept until sent and stored.
    const idleSince = Date.now() - idleCloseMs;
    for (const s of live) {
      if (!s.panes) continue;
      const idle = s.panes.openPanes > 0 && s.lastMessageAt <= idleSince;
      const closed = closeOpenPanes || idle ? s.panes.closeAll() : s.panes.closeReady();
      for (const pane of closed) s.snapshots.push(snapshotOf(pane, s.topic, s.partition));
    }
    const snapshots = live.flatMap((s) => s.snapshots);
    if (snapshots.length > 0) {
      const messages = await Promise.all(
        snapshots.map(async (snap) => ({
          key: `${snap.model_name}/${snap.column}`,
          value: await codec.encode(snapshotSchemaId, snap),
        })),
      );
      await producer.send({ topic: TOPICS.featureSketches, acks: -1, messages });
      const emittedAt = new Date();
      await storage.insert(
        'feature_sketches',
        snapshots.map((snap) => snapshotRow(snap, emittedAt)),
      );
      stats.snapshotsEmitted += snapshots.length;
      for (const s of live) s.snapshots = [];
    }
    // 4. Commit what is now safely stored, with the pane state a restart resumes from.
    const commits = live
      .filter((s) => s.nextOffset !== undefined)
      .map((s) => {
        const checkpoint = s.panes?.checkpoint(s.nextOffset as bigint);
        const offset = (checkpoint?.offset ?? s.nextOffset) as bigint;
        return {
          state: s,
          entry: {
            topic: s.topic,
            partition: s.partition,
            offset: offset.toString(),
            ...(checkpoint ? { metadata: encodeCheckpoint(checkpoint) } : {}),
          },
        };
      })
      .filter(({ state, entry }) => state.committed !== `${entry.offset}|${entry.metadata ?? ''}`);
    if (commits.length > 0) {
      await consumer.commitOffsets(commits.map((c) => c.entry));
      for (const { state, entry } of commits) state.committed = `${entry.offset}|${entry.metadata ?? ''}`;
      stats.commits++;
    }
    dirtySince = undefined;
  }

  function pauseAll(): void {
    if (stats.paused || assigned.length === 0) return;
    consumer.pause(assigned.map(({ topic }) => ({ topic })));
    stats.paused = true;
  }

  function resumeAll(): void {
    if (!stats.paused) return;
    consumer.resume(assigned.map(({ topic }) => ({ topic })));
    stats.paused = false;
  }

  /** Flushes; on failure pauses consumption and retries with backoff until it succeeds. */
  function flush(flushOptions: { closeOpenPanes?: boolean } = {}): Promise<void> {
    return loop.run(() => flushNow(flushOptions.closeOpenPanes === true));
  }

  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    assigned = Object.entries(payload.memberAssignment).map(([topic, partitions]) => ({ topic, partitions }));
    // After a rebalance every assigned partition is fetched again from its committed offset,
    // the ones this member keeps included. So every partition state is dropped, with its
    // uncommitted buffer, and rebuilt from the committed offset and its metadata: exactly
    // what a restart does. Storage deduplicates the rows stored twice.
    void serialized(async () => {
      rewound.clear();
      states.clear();
      bufferedRows = 0;
      dirtySince = undefined;
      if (stats.paused) consumer.pause(assigned.map(({ topic }) => ({ topic })));
    });
  });

  await consumer.subscribe({ topics: [...topics], fromBeginning: true });
  const runConfig: Parameters<Consumer['run']>[0] = {
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      await serialized(async () => {
        // A batch fetched before a rebalance revoked its partition: the new owner has it.
        if (isStale()) return;
        const state = await stateFor(batch.topic, batch.partition);
        const key = `${batch.topic}:${batch.partition}`;
        const first = batch.messages[0];
        if (state.nextOffset === undefined && state.resumeFrom !== undefined && first && !rewound.has(key)) {
          // A state restored from the committed offset must see every message from there on, or
          // its panes would miss some (a fetch that ran ahead of a rebalance). Rewind, once:
          // offsets may also skip legitimately (transaction markers).
          if (BigInt(first.offset) > state.resumeFrom) {
            rewound.add(key);
            states.delete(key);
            consumer.seek({ topic: batch.topic, partition: batch.partition, offset: state.resumeFrom.toString() });
            return;
          }
        }
        for (const message of batch.messages) {
          if (!isRunning() || isStale()) break;
          // Already covered: before the restored state's offset, or delivered twice.
          const offset = BigInt(message.offset);
          if ((state.resumeFrom !== undefined && offset < state.resumeFrom) || offset < (state.nextOffset ?? 0n)) {
            resolveOffset(message.offset);
            continue;
          }
          await handle(state, message);
          resolveOffset(message.offset);
        }
      });
      await heartbeat();
      // Full batches go at once; so do poison messages, so the next good one is not held back.
      const hasDeadLetters = [...states.values()].some((s) => s.deadLetters.length > 0);
      if (bufferedRows >= options.batchRows || hasDeadLetters) await flush().catch(() => {});
    },
  };
  await consumer.run(runConfig);

  // A model added later gets a topic this consumer is not subscribed to; kafkajs subscribes
  // only before run, so the consumer is stopped (after a flush), subscribed and run again. The
  // rebalance that follows rebuilds every partition state from its committed offset.
  const subscribed = new Set(topics);
  let resubscribing: Promise<void> = Promise.resolve();
  async function followNewTopics(): Promise<void> {
    const found = (await admin.listTopics()).filter((t) => PREDICTIONS_TOPIC_PATTERN.test(t) && !subscribed.has(t));
    if (found.length === 0 || stopping || stats.paused) return;
    await flush();
    await consumer.stop();
    await consumer.subscribe({ topics: found, fromBeginning: true });
    for (const topic of found) subscribed.add(topic);
    await consumer.run(runConfig);
    log.info({ topics: found }, 'subscribed to new topics');
  }
  const topicTimer = options.topics
    ? undefined
    : setInterval(() => {
        resubscribing = resubscribing
          .then(followNewTopics)
          .catch((error: unknown) => log.warn({ err: error }, 'looking for new topics failed'));
      }, options.topicRefreshMs ?? 30_000);

  // Partial batches go once the oldest unflushed message is batchMs old; idle partitions'
  // panes close once they have waited idleCloseMs.
  const timer = setInterval(
    () => {
      if (stats.paused || stopping) return;
      const due = dirtySince !== undefined && Date.now() - dirtySince >= options.batchMs;
      const idleSince = Date.now() - idleCloseMs;
      const idle = [...states.values()].some((s) => (s.panes?.openPanes ?? 0) > 0 && s.lastMessageAt <= idleSince);
      if (due || idle) void flush().catch(() => {});
    },
    Math.max(10, Math.floor(options.batchMs / 4)),
  );

  log.info({ groupId, topics }, 'store consumer started');

  return {
    groupId,
    stats: () => ({ ...stats }),
    topics: () => [...subscribed].sort(),
    flush,
    async stop() {
      stopping = true;
      clearInterval(timer);
      clearInterval(topicTimer);
      await resubscribing;
      loop.close();
      await consumer.stop();
      await flush().catch((error: unknown) =>
        log.error({ err: error }, 'final flush failed; uncommitted data is re-read on restart'),
      );
      await consumer.disconnect();
      await producer.disconnect();
      await admin.disconnect();
    },
    async abort() {
      stopping = true;
      clearInterval(timer);
      clearInterval(topicTimer);
      await resubscribing;
      loop.close();
      await consumer.disconnect();
      await producer.disconnect();
      await admin.disconnect();
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
