/**
 * The drift consumer's Kafka adapter: sketches from `feature-sketches`, checked on arrival
 * (sketch-validation.ts) and taken into windows (windows.ts); each window due is compared with its
 * version's reference profile and becomes a `DriftEvent` on `drift-events` and a `drift_events`
 * row (and an HTML report when the state turns to drift). Runs on the shared consumer lifecycle.
 *
 * The invariant: an event is produced, then its row stored, then offsets committed — never past a
 * sketch whose pane is not decided — so what a restart needs is always durable (restore.ts).
 */
import { join } from 'node:path';
import type { Consumer, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { DatasetDriftOptions } from '../../core/drift/index.ts';
import { DriftlineError, describeError, ErrorCode } from '../../core/errors.ts';
import { DEFAULT_EVENT_TIME_BOUNDS } from '../../core/event-contract.ts';
import type { AvroCodec } from '../../core/kafka/avro.ts';
import {
  connectAdmin,
  createProducer,
  ensureTopics,
  hasRetriableKafkaCause,
  sendInChunks,
  startNewGroupAtEnd,
} from '../../core/kafka/client.ts';
import {
  ActiveClock,
  type CommitEntry,
  ConsumerLifecycle,
  type LifecycleTelemetry,
  type Processor,
} from '../../core/kafka/consumer-lifecycle.ts';
import { type DeadLetter, deadLetterMessage } from '../../core/kafka/dead-letter.ts';
import type { Logger } from '../../core/logger.ts';
import { type DriftEvent, driftEventSchema } from '../../core/schemas.ts';
import type { SketchSnapshot } from '../../core/sketch-snapshot.ts';
import type { Storage } from '../../core/storage/index.ts';
import { TOPICS, valueSubject } from '../../core/topics.ts';
import { evaluateWindow, type PerformanceOptions, realizedPerformance } from './evaluation.ts';
import { buildDriftEvent, driftEventRow, reportFileName } from './event.ts';
import { queryErrorSums } from './queries.ts';
import { ReferenceCache, type ReferenceSource } from './references.ts';
import { loadVersionState } from './restore.ts';
import { checkSnapshot } from './sketch-validation.ts';
import { SourcePartitions } from './source-partitions.ts';
import { INITIAL_STATE, type MonitorState, revise, step } from './state.ts';
import { renderWindowReport, writeReportFile } from './window-report.ts';
import { DriftWindows, type PartPlacement } from './windows.ts';

export interface DriftSettings {
  /** Window length in panes; the window slides by one pane. */
  windowPanes: number;
  /** Completeness rule 2 (windows.ts); 0: off. */
  gracePanes: number;
  /** Completeness rule 3 (windows.ts), ms of active time (it stops while consumption is paused); 0: off. */
  graceMs: number;
  /**
   * MAX_CLOCK_SKEW_SECONDS in ms: a sketch's pane may start at most this long after the message's
   * timestamp (sketch-validation.ts); default 300 s.
   */
  maxClockSkewMs?: number;
  /** retrain_recommended after this many drifting evaluations in a row. */
  retrainAfter: number;
  evaluation: DatasetDriftOptions;
  performance: PerformanceOptions;
  /** Where HTML reports go when a state turns to drift; null: no reports. */
  reportsDir: string | null;
}

export interface DriftConsumerOptions {
  kafka: Kafka;
  codec: AvroCodec;
  storage: Storage;
  logger: Logger;
  connect: { brokers: readonly string[]; connectTimeoutMs: number; partitions: number };
  /** The model registry (reference profiles and holdout metrics). */
  references: ReferenceSource;
  settings: DriftSettings;
  groupId?: string;
  /** Monitor only these models (default: every model with sketches). */
  models?: readonly string[];
  /**
   * Where a group that never committed starts reading sketches: 'beginning' (default: every
   * sketch still in the topic is judged) or 'end' (only what is emitted from now on).
   */
  startAt?: 'beginning' | 'end';
  /** Topic drift events go to (default `drift-events`). */
  eventsTopic?: string;
  retry?: { initialMs: number; maxMs: number };
  /** How often the time-based rules (grace, idle versions) and retries are looked at, ms (default 250). */
  tickMs?: number;
  now?: () => number;
}

export interface DriftStats {
  /** Sketches taken into windows. */
  snapshotsRead: number;
  /** Sketches of other models, or of versions without a profile. */
  snapshotsSkipped: number;
  /** Sketches that arrived after their pane was decided. */
  lateSnapshots: number;
  deadLettered: number;
  evaluations: number;
  /** Re-evaluations of partial windows (events with revision > 0), counted in `evaluations` too. */
  revisions: number;
  eventsEmitted: number;
  transitions: number;
  reportsWritten: number;
  /** Model versions seen without a reference profile in the registry. */
  unmonitoredVersions: number;
  /** Panes held in memory. */
  panes: number;
  /** Model versions held in memory. */
  versions: number;
  /** Model versions dropped from memory after idling (restored from ClickHouse if they come back). */
  droppedVersions: number;
  commits: number;
  failedFlushes: number;
  paused: boolean;
  /** Wall-clock time (s since the epoch) of the newest window evaluation; 0 before the first. */
  lastEvaluationTimestampSeconds: number;
  /** Partition assignments received (each drops the state: models are restored on their next sketch). */
  rebalances: number;
}

export interface DriftConsumer {
  readonly groupId: string;
  /** Lag, messages read and flush durations, for the metrics server. */
  readonly telemetry: LifecycleTelemetry;
  stats(): DriftStats;
  /** Evaluates what is complete, produces and stores the events, commits. */
  flush(): Promise<void>;
  /**
   * Stops fetching, flushes and commits once, then leaves the group and disconnects. A final flush
   * that fails is logged, not retried: what it covered is read again after a restart.
   */
  stop(): Promise<void>;
  /** Disconnects without flushing or committing: what a crash looks like. */
  abort(): Promise<void>;
}

interface PartitionState {
  partition: number;
  /** Last message handled + 1. */
  nextOffset: bigint | undefined;
  committed: bigint | undefined;
}

interface PendingEvent {
  event: DriftEvent;
  /** Produced to Kafka already (a retry then only inserts the row). */
  sent: boolean;
}

const DEFAULT_GROUP = 'driftline-drift';

export async function startDriftConsumer(options: DriftConsumerOptions): Promise<DriftConsumer> {
  const log = options.logger.child({ component: 'drift' });
  const groupId = options.groupId ?? DEFAULT_GROUP;
  const sketchesTopic = TOPICS.featureSketches;
  const eventsTopic = options.eventsTopic ?? TOPICS.driftEvents;
  const now = options.now ?? Date.now;
  const { kafka, codec, storage, settings } = options;
  const models = options.models ? new Set(options.models) : undefined;

  const admin = await connectAdmin(kafka, options.connect);
  await ensureTopics(
    admin,
    [{ topic: sketchesTopic }, { topic: eventsTopic }, { topic: TOPICS.deadLetter }],
    options.connect.partitions,
  );
  if (options.startAt === 'end') await startNewGroupAtEnd(admin, groupId, sketchesTopic);
  const eventSchemaId = await codec.register(valueSubject(eventsTopic), driftEventSchema());
  const producer: Producer = createProducer(kafka);
  await producer.connect();
  const consumer: Consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 250, sessionTimeout: 30_000 });
  await consumer.connect();

  const keyOf = (model: string, version: number) => `${model}\u0000${version}`;
  const newWindows = () =>
    new DriftWindows({
      windowPanes: settings.windowPanes,
      gracePanes: settings.gracePanes,
      graceMs: settings.graceMs,
    });
  let windows = newWindows();
  const maxSkewMs = settings.maxClockSkewMs ?? DEFAULT_EVENT_TIME_BOUNDS.maxSkewMs;
  // The windows' time: wall-clock time that stops while consumption is paused, so an outage does
  // not count as waiting for a partition (windows.ts, rules 3 and idle versions).
  const clock = new ActiveClock(now);
  const activeNow = () => clock.now();
  // Partition counts of the source topics (windows.ts, rule 1).
  const sourcePartitions = new SourcePartitions(
    async (topic) => {
      try {
        const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
        return metadata.topics.find((t) => t.name === topic)?.partitions.length;
      } catch (error) {
        if (kafkaErrorTypes(error).includes('UNKNOWN_TOPIC_OR_PARTITION')) return undefined;
        throw new DriftlineError(ErrorCode.KAFKA_REQUEST_FAILED, `Reading the partitions of ${topic} failed`, {
          cause: error,
          retriable: hasRetriableKafkaCause(error),
          details: { topic },
        });
      }
    },
    { now },
  );
  const stats: DriftStats = {
    snapshotsRead: 0,
    snapshotsSkipped: 0,
    lateSnapshots: 0,
    deadLettered: 0,
    evaluations: 0,
    revisions: 0,
    eventsEmitted: 0,
    transitions: 0,
    reportsWritten: 0,
    unmonitoredVersions: 0,
    panes: 0,
    versions: 0,
    droppedVersions: 0,
    commits: 0,
    failedFlushes: 0,
    paused: false,
    lastEvaluationTimestampSeconds: 0,
    rebalances: 0,
  };
  const unmonitored = new Set<string>();
  const references = new ReferenceCache(options.references, {
    now,
    onMissing: (model, version, error) => {
      const key = keyOf(model, version);
      if (unmonitored.has(key)) return;
      unmonitored.add(key);
      stats.unmonitoredVersions = unmonitored.size;
      log.warn({ model, version, err: error }, 'no reference profile for this model version; its sketches are skipped');
    },
  });
  const monitors = new Map<string, MonitorState>();
  const partitions = new Map<number, PartitionState>();
  let pending: PendingEvent[] = [];
  let deadLetters: DeadLetter[] = [];
  /** Something arrived or changed since the last successful flush. */
  let dirty = false;
  /** A sketch keyed `model/column` (written before sketches were keyed by model) was seen. */
  let legacyKeyWarned = false;

  /**
   * Makes sure the version is known: its profile loaded and, after a restart or after it was
   * dropped for idleness, its state restored (restore.ts).
   */
  async function ensureVersion(model: string, version: number): Promise<boolean> {
    if (windows.has(model, version)) return true;
    const reference = await references.get(model, version);
    if (!reference) return false;
    const restored = await loadVersionState(storage, model, version, {
      windowPanes: settings.windowPanes,
      revisePanes: settings.windowPanes,
      maxSkewMs,
    });
    if (restored.windows) {
      windows.restore(model, version, restored.windows, activeNow());
      log.info(
        {
          model,
          version,
          windowEnd: Number.isFinite(restored.windows.evaluatedThrough)
            ? new Date(restored.windows.evaluatedThrough)
            : null,
          firstPane: restored.windows.firstPaneStart === undefined ? null : new Date(restored.windows.firstPaneStart),
          revisable: restored.windows.revisable?.length ?? 0,
          state: restored.monitor.state,
          consecutiveDrift: restored.monitor.consecutiveDrift,
        },
        'drift state restored',
      );
    }
    monitors.set(keyOf(model, version), restored.monitor);
    return true;
  }

  function partitionState(partition: number): PartitionState {
    let state = partitions.get(partition);
    if (!state) {
      state = { partition, nextOffset: undefined, committed: undefined };
      partitions.set(partition, state);
    }
    return state;
  }

  /**
   * Takes in one message. Every await that can fail for an outage (the registry, ClickHouse for a
   * restore, Kafka for partition counts) comes before the windows change: the lifecycle then
   * reads the message again, and nothing was half-taken.
   */
  async function handle(partition: number, message: KafkaMessage): Promise<void> {
    const offset = BigInt(message.offset);
    dirty = true;
    // The key is the model (`<model>/<column>` before): other models are skipped without decoding.
    const key = message.key?.toString();
    const keyModel = key?.split('/')[0];
    if (!legacyKeyWarned && key !== undefined && key !== keyModel) {
      legacyKeyWarned = true;
      // Such sketches spread a model over partitions: members sharing the group would each see
      // only some of its columns.
      log.warn(
        { partition, key },
        'sketches keyed model/column (written before keying by model): drain them with one drift consumer in the group',
      );
    }
    if (models && keyModel !== undefined && !models.has(keyModel)) {
      stats.snapshotsSkipped++;
      return;
    }
    if (!message.value) {
      deadLetters.push({
        message,
        topic: sketchesTopic,
        partition,
        reason: 'message has no value',
        code: ErrorCode.DECODE_FAILED,
      });
      return;
    }
    let snapshot: SketchSnapshot;
    try {
      snapshot = await codec.decode<SketchSnapshot>(message.value, {
        topic: sketchesTopic,
        partition,
        offset: message.offset,
      });
    } catch (error) {
      // A registry outage is not the message's fault: let it surface and be retried.
      if (error instanceof DriftlineError && error.retriable) throw error;
      const code = error instanceof DriftlineError ? error.code : ErrorCode.DECODE_FAILED;
      deadLetters.push({ message, topic: sketchesTopic, partition, reason: describeError(error), code });
      return;
    }
    // Checked once, here: nothing accepted may make a later flush throw (sketch-validation.ts).
    const verdict = checkSnapshot(snapshot, {
      timestampMs: Number(message.timestamp),
      maxSkewMs,
      windowPanes: settings.windowPanes,
    });
    if (verdict.kind === 'refused') {
      deadLetters.push({
        message,
        topic: sketchesTopic,
        partition,
        reason: verdict.reason,
        code: ErrorCode.EVENT_INVALID,
      });
      return;
    }
    const part = verdict.part;
    if ((models && !models.has(part.model)) || !(await ensureVersion(part.model, part.version))) {
      stats.snapshotsSkipped++;
      return;
    }
    const partitionCount = await sourcePartitions.count(snapshot.source_topic, snapshot.source_partition);
    if (partitionCount !== undefined) {
      if (snapshot.source_partition >= partitionCount) {
        deadLetters.push({
          message,
          topic: sketchesTopic,
          partition,
          reason: `invalid sketch snapshot: source_partition ${snapshot.source_partition} does not exist (${snapshot.source_topic} has ${partitionCount} partitions)`,
          code: ErrorCode.EVENT_INVALID,
        });
        return;
      }
      windows.setSourcePartitions(part.model, snapshot.source_topic, partitionCount);
    }
    let result: PartPlacement;
    try {
      result = windows.add(part, activeNow(), { partition, offset });
    } catch (error) {
      deadLetters.push({
        message,
        topic: sketchesTopic,
        partition,
        reason: describeError(error),
        code: ErrorCode.DECODE_FAILED,
      });
      return;
    }
    stats.snapshotsRead++;
    if (result === 'late') stats.lateSnapshots++;
  }

  /** Evaluates every complete window (in pane order per version) and every revision due. */
  async function evaluateReady(): Promise<void> {
    // Versions idle past the bounds leave memory: their state is durable (restore.ts) — once no
    // event is waiting to be stored, which is when a restore would find every evaluation.
    if (pending.length === 0) {
      for (const { model, version } of windows.dropIdle(activeNow())) {
        monitors.delete(keyOf(model, version));
        references.forget(model, version);
        stats.droppedVersions++;
        if (log.isLevelEnabled('debug')) log.debug({ model, version }, 'idle model version dropped from memory');
      }
    }
    for (let window = windows.next(activeNow()); window; window = windows.next(activeNow())) {
      const { model, version } = window;
      const reference = await references.get(model, version);
      if (!reference) {
        windows.forget(model, version);
        continue;
      }
      const evaluation = evaluateWindow(reference, window, settings.evaluation);
      const sums = await queryErrorSums(storage, model, version, window.start, window.end);
      const performance = realizedPerformance(sums, reference.holdout, settings.performance);
      const key = keyOf(model, version);
      // A revision reports against the window's first evaluation and leaves the running state be.
      const next = window.original
        ? revise(window.original, evaluation.result.state, settings.retrainAfter)
        : step(monitors.get(key) ?? INITIAL_STATE, evaluation.result.state, settings.retrainAfter);
      let reportPath: string | null = null;
      if (next.transition && next.state === 'drift' && settings.reportsDir !== null) {
        const path = join(settings.reportsDir, reportFileName(model, version, window.end));
        try {
          const html = renderWindowReport({
            reference,
            window,
            evaluation,
            performance,
            state: {
              state: next.state,
              consecutiveDrift: next.consecutiveDrift,
              retrainRecommended: next.retrainRecommended,
            },
            generatedAt: new Date(now()),
          });
          reportPath = await writeReportFile(path, html);
          stats.reportsWritten++;
        } catch (error) {
          // A report is a convenience: a full disk must not stop drift events.
          log.error({ err: error, path }, 'writing the drift report failed');
        }
      }
      const event = buildDriftEvent({
        window,
        windowPanes: settings.windowPanes,
        reference,
        evaluation,
        step: next,
        retrainAfter: settings.retrainAfter,
        performance,
        reportPath,
        evaluatedAt: new Date(now()),
      });
      pending.push({ event, sent: false });
      const reported = { state: next.state, consecutiveDrift: next.consecutiveDrift };
      if (!window.original) monitors.set(key, reported);
      windows.markEvaluated(window, reported);
      stats.evaluations++;
      stats.lastEvaluationTimestampSeconds = now() / 1000;
      if (window.revision > 0) stats.revisions++;
      if (next.transition) {
        stats.transitions++;
        log.info(
          {
            model,
            version,
            windowEnd: event.window_end,
            state: next.state,
            previousState: next.previousState,
            driftedColumns: event.drifted_columns,
            retrainRecommended: next.retrainRecommended,
            partial: window.partial,
            revision: window.revision,
            report: reportPath,
          },
          window.revision > 0 ? 'drift state of a revised window changed' : 'drift state changed',
        );
      } else if (log.isLevelEnabled('debug')) {
        log.debug(
          { model, version, windowEnd: event.window_end, state: next.state, driftedColumns: event.drifted_columns },
          'window evaluated',
        );
      }
    }
    stats.panes = windows.paneCount;
    stats.versions = windows.versionCount;
  }

  async function flush(): Promise<CommitEntry[]> {
    // 1. Dead letters first: a poison message's offset is committed only once it is parked.
    if (deadLetters.length > 0) {
      await sendInChunks(producer, TOPICS.deadLetter, deadLetters.map(deadLetterMessage));
      stats.deadLettered += deadLetters.length;
      deadLetters = [];
    }
    // 2. Complete windows become events.
    await evaluateReady();
    // 3. Events to Kafka, then their rows: the row is the state a restart resumes from. A crash
    // between the two evaluates the window again after the restart: its event is on the topic
    // twice with the same event_id (event.ts, driftEventId), and in ClickHouse once.
    const unsent = pending.filter((p) => !p.sent);
    if (unsent.length > 0) {
      const messages = await Promise.all(
        unsent.map(async ({ event }) => ({ key: event.model_name, value: await codec.encode(eventSchemaId, event) })),
      );
      await sendInChunks(producer, eventsTopic, messages);
      for (const p of unsent) p.sent = true;
    }
    if (pending.length > 0) {
      await storage.insert(
        'drift_events',
        pending.map((p) => driftEventRow(p.event)),
      );
      stats.eventsEmitted += pending.length;
      pending = [];
    }
    dirty = false;
    // 4. Commit what is handled, but not past a sketch of a pane still to be evaluated.
    const held = windows.heldOffsets();
    const commits: CommitEntry[] = [];
    for (const s of partitions.values()) {
      if (s.nextOffset === undefined) continue;
      const hold = held.get(s.partition);
      const offset = hold !== undefined && hold < s.nextOffset ? hold : s.nextOffset;
      if (s.committed !== offset)
        commits.push({ topic: sketchesTopic, partition: s.partition, offset: String(offset) });
    }
    return commits;
  }

  function take(partition: number, message: KafkaMessage): void {
    partitionState(partition).nextOffset = BigInt(message.offset) + 1n;
  }

  const processor: Processor = {
    async handle(_topic, partition, message) {
      await handle(partition, message);
      take(partition, message);
      return undefined;
    },
    reject(_topic, partition, message, error) {
      log.warn({ err: error, partition, offset: message.offset }, 'sketch refused by an unexpected error');
      deadLetters.push({
        message,
        topic: sketchesTopic,
        partition,
        reason: describeError(error),
        code: error instanceof DriftlineError ? error.code : ErrorCode.EVENT_INVALID,
      });
      take(partition, message);
    },
    flush: () => flush(),
    committed(entries) {
      for (const entry of entries) {
        const state = partitions.get(entry.partition);
        if (state) state.committed = BigInt(entry.offset);
      }
    },
    // Windows completed by the grace in time, idle versions, and events waiting to be stored;
    // with nothing due the lifecycle's timer does nothing.
    due: () => dirty || pending.length > 0 || deadLetters.length > 0 || windows.dueAt() <= activeNow(),
    async assigned(assignment) {
      // feature-sketches is keyed by model, so a partition carries whole models and a member owns
      // the models of its partitions. After a rebalance every assigned partition is read again
      // from its committed offset, the kept ones included: the state is dropped — the models of
      // revoked partitions with it — and each model is restored from ClickHouse on its first
      // sketch (ensureVersion), exactly as after a restart. An event evaluated but not stored is
      // dropped too: the partition's owner evaluates its window again (same event_id).
      windows = newWindows();
      monitors.clear();
      partitions.clear();
      pending = [];
      deadLetters = [];
      dirty = false;
      stats.rebalances++;
      log.info({ groupId, partitions: assignment.get(sketchesTopic) ?? [] }, 'feature-sketches partitions assigned');
    },
  };

  const lifecycle = new ConsumerLifecycle({
    consumer,
    processor,
    topics: [sketchesTopic],
    logger: log,
    clock,
    ...(options.retry ? { retry: options.retry } : {}),
    tickMs: Math.max(10, options.tickMs ?? 250),
    offsets: { admin, groupId },
    onClose: async () => {
      await producer.disconnect();
      await admin.disconnect();
    },
  });
  await lifecycle.start();

  log.info({ groupId, topic: sketchesTopic, eventsTopic, models: options.models }, 'drift consumer started');

  return {
    groupId,
    telemetry: lifecycle,
    stats: () => {
      const life = lifecycle.stats();
      return {
        ...stats,
        panes: windows.paneCount,
        versions: windows.versionCount,
        commits: life.commits,
        failedFlushes: life.failedFlushes,
        paused: life.paused,
      };
    },
    flush: () => lifecycle.flush(),
    stop: () => lifecycle.stop(),
    abort: () => lifecycle.abort(),
  };
}

/** The kafkajs error types in an error and its causes (retries wrap the original). */
function kafkaErrorTypes(error: unknown): string[] {
  const types: string[] = [];
  for (let e = error, depth = 0; typeof e === 'object' && e !== null && depth < 5; depth++) {
    const { type, originalError, cause } = e as { type?: unknown; originalError?: unknown; cause?: unknown };
    if (typeof type === 'string') types.push(type);
    e = originalError ?? cause;
  }
  return types;
}
