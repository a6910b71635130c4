/**
 * The retrain consumer's Kafka adapter, on the shared consumer lifecycle: reads `drift-events`
 * (group `driftline-retrain`), hands every trigger (retrain_recommended, degraded performance) to
 * the retraining cycle (cycle.ts) and commits an event's offset once its cycle is recorded.
 *
 * A cycle trains for seconds to minutes; run inside the batch handler it would keep kafkajs from
 * heartbeating and cost the member its partitions. So `handle` only starts the cycle, and the
 * commit of a partition stops before its oldest event whose cycle has not ended: a crash re-reads
 * that event, and the cycle runs again (the cooldown and lock still apply). Events evaluated more
 * than RETRAIN_WINDOW_HOURS ago (a new group reading history) are skipped: their data lies outside
 * what a retraining would read.
 */
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { DriftlineError, describeError } from '../../core/errors.ts';
import type { AvroCodec } from '../../core/kafka/avro.ts';
import { connectAdmin, ensureTopics, startNewGroupAtEnd } from '../../core/kafka/client.ts';
import {
  type CommitEntry,
  ConsumerLifecycle,
  type LifecycleTelemetry,
  type Processor,
} from '../../core/kafka/consumer-lifecycle.ts';
import type { Logger } from '../../core/logger.ts';
import type { DriftEvent } from '../../core/schemas.ts';
import { TOPICS } from '../../core/topics.ts';
import type { Retrainer, RetrainRun } from './cycle.ts';
import { triggerOf } from './decision.ts';

export interface RetrainConsumerOptions {
  kafka: Kafka;
  codec: AvroCodec;
  logger: Logger;
  connect: { brokers: readonly string[]; connectTimeoutMs: number; partitions: number };
  retrainer: Retrainer;
  /** Events evaluated longer ago than this are skipped (ms; RETRAIN_WINDOW_HOURS). */
  maxEventAgeMs: number;
  groupId?: string;
  /** A new group starts at the topic's end ('end') instead of its beginning (default). */
  startAt?: 'beginning' | 'end';
  /** Topic drift events come from (default `drift-events`). */
  eventsTopic?: string;
  retry?: { initialMs: number; maxMs: number };
  tickMs?: number;
  now?: () => number;
}

export interface RetrainStats {
  eventsRead: number;
  triggers: number;
  skippedOld: number;
  undecodable: number;
  cycles: Record<RetrainRun['state'], number>;
  running: number;
  commits: number;
  paused: boolean;
}

export interface RetrainConsumer {
  readonly groupId: string;
  /** Lag, messages read and flush durations, for the metrics server. */
  readonly telemetry: LifecycleTelemetry;
  stats(): RetrainStats;
  /** Resolves when every cycle started so far has ended (tests, shutdown). */
  idle(): Promise<void>;
  /** Waits for running cycles, commits and leaves the group. */
  stop(): Promise<void>;
}

export const DEFAULT_RETRAIN_GROUP = 'driftline-retrain';

interface PartitionState {
  /** Offsets of events whose cycle has not ended, in order. */
  inFlight: bigint[];
  /** Last message handled + 1. */
  next: bigint | undefined;
  committed: bigint | undefined;
}

export async function startRetrainConsumer(options: RetrainConsumerOptions): Promise<RetrainConsumer> {
  const log = options.logger.child({ component: 'retrain-consumer' });
  const groupId = options.groupId ?? DEFAULT_RETRAIN_GROUP;
  const topic = options.eventsTopic ?? TOPICS.driftEvents;
  const now = options.now ?? Date.now;
  const { kafka, codec, retrainer } = options;

  // Kept connected for the lag of /metrics; disconnected when the lifecycle closes.
  const admin = await connectAdmin(kafka, options.connect);
  try {
    await ensureTopics(admin, [{ topic }], options.connect.partitions);
    if (options.startAt === 'end') await startNewGroupAtEnd(admin, groupId, topic);
  } catch (error) {
    await admin.disconnect();
    throw error;
  }
  const consumer: Consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 250, sessionTimeout: 30_000 });
  await consumer.connect();

  const stats: Omit<RetrainStats, 'commits' | 'paused' | 'running'> = {
    eventsRead: 0,
    triggers: 0,
    skippedOld: 0,
    undecodable: 0,
    cycles: { promoted: 0, rejected: 0, refused: 0, dag_triggered: 0, failed: 0 },
  };
  const partitions = new Map<number, PartitionState>();
  const cycles = new Set<Promise<void>>();
  let settled = false;

  const stateOf = (partition: number): PartitionState => {
    let state = partitions.get(partition);
    if (!state) {
      state = { inFlight: [], next: undefined, committed: undefined };
      partitions.set(partition, state);
    }
    return state;
  };

  const processor: Processor = {
    async handle(_topic, partition, message: KafkaMessage) {
      const state = stateOf(partition);
      const offset = BigInt(message.offset);
      stats.eventsRead++;
      state.next = offset + 1n;
      if (!message.value) return undefined;
      let event: DriftEvent;
      try {
        event = await codec.decode<DriftEvent>(message.value, { topic, partition, offset: message.offset });
      } catch (error) {
        // A registry outage is retried by the lifecycle; a broken message is not a trigger.
        if (error instanceof DriftlineError && error.retriable) throw error;
        stats.undecodable++;
        log.warn({ err: error, partition, offset: message.offset }, 'undecodable drift event skipped');
        return undefined;
      }
      const trigger = triggerOf(event);
      if (!trigger) return undefined;
      if (now() - event.evaluated_at.getTime() > options.maxEventAgeMs) {
        stats.skippedOld++;
        return undefined;
      }
      stats.triggers++;
      state.inFlight.push(offset);
      const cycle = retrainer
        .run(trigger)
        .then((run) => {
          stats.cycles[run.state]++;
        })
        .catch((error: unknown) => {
          // run() records its own failures; this is a bug, not an outage: say it, move on.
          stats.cycles.failed++;
          log.error({ err: error, model: trigger.model, event: trigger.eventId }, describeError(error));
        })
        .finally(() => {
          state.inFlight.splice(state.inFlight.indexOf(offset), 1);
          cycles.delete(cycle);
          settled = true;
        });
      cycles.add(cycle);
      return undefined;
    },
    reject(_topic, partition, message, error) {
      log.warn({ err: error, partition, offset: message.offset }, 'drift event refused by an unexpected error');
      stateOf(partition).next = BigInt(message.offset) + 1n;
    },
    async flush() {
      settled = false;
      const commits: CommitEntry[] = [];
      for (const [partition, state] of partitions) {
        if (state.next === undefined) continue;
        const offset = state.inFlight[0] ?? state.next;
        if (offset !== state.committed) commits.push({ topic, partition, offset: String(offset) });
      }
      return commits;
    },
    committed(entries) {
      for (const entry of entries) {
        const state = partitions.get(entry.partition);
        if (state) state.committed = BigInt(entry.offset);
      }
    },
    due: () =>
      settled ||
      [...partitions.values()].some((s) => s.next !== undefined && (s.inFlight[0] ?? s.next) !== s.committed),
    async assigned(assignment) {
      const keep = new Set(assignment.get(topic) ?? []);
      for (const partition of partitions.keys()) if (!keep.has(partition)) partitions.delete(partition);
    },
  };

  const lifecycle = new ConsumerLifecycle({
    consumer,
    processor,
    topics: [topic],
    logger: log,
    ...(options.retry ? { retry: options.retry } : {}),
    tickMs: Math.max(10, options.tickMs ?? 250),
    offsets: { admin, groupId },
    onClose: () => admin.disconnect(),
  });
  await lifecycle.start();
  log.info({ groupId, topic }, 'retrain consumer started');

  const idle = async () => {
    while (cycles.size > 0) await Promise.allSettled([...cycles]);
  };

  return {
    groupId,
    telemetry: lifecycle,
    stats: () => {
      const life = lifecycle.stats();
      return {
        ...stats,
        cycles: { ...stats.cycles },
        running: cycles.size,
        commits: life.commits,
        paused: life.paused,
      };
    },
    idle,
    async stop() {
      // Cycles running now end first (a version half-announced helps nobody); then the commit.
      await idle();
      await lifecycle.stop();
    },
  };
}
