/**
 * kafkajs client factory: one place that sets timeouts, retries and logging, and that turns
 * kafkajs errors into Driftline errors.
 */
import {
  type Admin,
  type ITopicConfig,
  Kafka,
  type KafkaConfig,
  logLevel as KafkaLogLevel,
  type LogEntry,
  type Message,
  Partitioners,
  type Producer,
} from 'kafkajs';
import { DriftlineError, ErrorCode } from '../errors.ts';
import type { Logger } from '../logger.ts';

export interface KafkaClientOptions {
  brokers: readonly string[];
  clientId: string;
  /** Upper bound for reaching the cluster at start-up; past it, KAFKA_UNREACHABLE. */
  connectTimeoutMs: number;
  logger: Logger;
}

export interface TopicSpec {
  topic: string;
  partitions?: number;
  /** Topic-level configs, e.g. { 'retention.ms': '604800000' }. */
  configs?: Record<string, string>;
}

export function createKafka(options: KafkaClientOptions): Kafka {
  const log = options.logger.child({ component: 'kafkajs' });
  const config: KafkaConfig = {
    clientId: options.clientId,
    brokers: [...options.brokers],
    connectionTimeout: Math.min(options.connectTimeoutMs, 5_000),
    requestTimeout: 30_000,
    // Bounded: a dead cluster surfaces as an error instead of an endless reconnect loop.
    retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 5_000 },
    logLevel: KafkaLogLevel.INFO,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        if (level === KafkaLogLevel.ERROR) log.error({ kafkajs: rest }, message);
        else if (level === KafkaLogLevel.WARN) log.warn({ kafkajs: rest }, message);
        else log.debug({ kafkajs: rest }, message);
      },
  };
  return new Kafka(config);
}

/**
 * Every Driftline producer: the murmur2 partitioner Java clients use (so keys land where they
 * would from any client), and no topic created by accident. Not idempotent: every event
 * carries an id that storage deduplicates on, and an idempotent producer would need unbounded
 * retries, which would hang requests during a broker outage instead of failing them.
 */
export function createProducer(kafka: Kafka): Producer {
  return kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
}

/**
 * Bytes of message payload per produce request: well under the broker's default 1 MiB
 * `max.message.bytes`, which a whole batch (not just one message) must fit in. One request over
 * it is refused outright, and would be again at every retry.
 */
export const MAX_REQUEST_PAYLOAD_BYTES = 512 * 1024;

function approximateSize(message: Message): number {
  let size = 64 + byteLength(message.key) + byteLength(message.value);
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    size += name.length + (Array.isArray(value) ? value.reduce((n, v) => n + byteLength(v), 0) : byteLength(value));
  }
  return size;
}

function byteLength(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (Buffer.isBuffer(value)) return value.length;
  return Buffer.byteLength(String(value));
}

/** Sends `messages` (acks=all) in requests of at most MAX_REQUEST_PAYLOAD_BYTES each, in order. */
export async function sendInChunks(
  producer: Producer,
  topic: string,
  messages: readonly Message[],
  maxBytes = MAX_REQUEST_PAYLOAD_BYTES,
): Promise<void> {
  let chunk: Message[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = approximateSize(message);
    if (chunk.length > 0 && bytes + size > maxBytes) {
      await producer.send({ topic, acks: -1, messages: chunk });
      chunk = [];
      bytes = 0;
    }
    chunk.push(message);
    bytes += size;
  }
  if (chunk.length > 0) await producer.send({ topic, acks: -1, messages: chunk });
}

/**
 * A consumer group that never committed starts at the topic's end instead of its beginning:
 * history is not acted on again. Returns true when it did so (the group had no offsets).
 */
export async function startNewGroupAtEnd(admin: Admin, groupId: string, topic: string): Promise<boolean> {
  const [committed] = await whileLoading(() => admin.fetchOffsets({ groupId, topics: [topic] }));
  if (committed?.partitions.some((p) => BigInt(p.offset) >= 0n)) return false;
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.setOffsets({ groupId, topic, partitions: ends.map((o) => ({ partition: o.partition, offset: o.high })) });
  return true;
}

/**
 * Runs `request` again while it fails with a retriable Kafka error, for up to `budgetMs`. On a
 * fresh cluster the first request about a group meets a coordinator still loading its offsets
 * topic for some seconds, longer than an admin client's own few retries.
 */
async function whileLoading<T>(request: () => Promise<T>, budgetMs = 30_000): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (let waitMs = 200; ; waitMs = Math.min(2_000, waitMs * 2)) {
    try {
      return await request();
    } catch (error) {
      if (!hasRetriableKafkaCause(error) || Date.now() + waitMs > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}

/**
 * True when the error, or what it wraps, is a retriable Kafka error: kafkajs wraps the last
 * retriable error of its own retries in a non-retriable KafkaJSNumberOfRetriesExceeded.
 */
export function hasRetriableKafkaCause(error: unknown): boolean {
  for (let e = error, depth = 0; typeof e === 'object' && e !== null && depth < 5; depth++) {
    if ((e as { retriable?: unknown }).retriable === true) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Connects an admin client, failing with KAFKA_UNREACHABLE once `connectTimeoutMs` passes, so a
 * wrong address never hangs a service or a test.
 */
export async function connectAdmin(kafka: Kafka, options: Pick<KafkaClientOptions, 'brokers' | 'connectTimeoutMs'>) {
  const admin = kafka.admin({ retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2_000 } });
  await withDeadline(
    (async () => {
      await admin.connect();
      // connect() alone may succeed lazily; a metadata round-trip proves the cluster answers.
      await admin.describeCluster();
    })(),
    options.connectTimeoutMs,
    () => unreachable(options.brokers, options.connectTimeoutMs),
  ).catch((error: unknown) => {
    // Not awaited: against a peer that never answers, disconnect waits for the request timeout.
    void admin.disconnect().catch(() => {});
    throw error instanceof DriftlineError ? error : unreachable(options.brokers, options.connectTimeoutMs, error);
  });
  return admin;
}

/** Creates the topics that do not exist yet; existing ones are left as they are. */
export async function ensureTopics(
  admin: Admin,
  specs: readonly TopicSpec[],
  defaultPartitions: number,
): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing: ITopicConfig[] = specs
    .filter((spec) => !existing.has(spec.topic))
    .map((spec) => ({
      topic: spec.topic,
      numPartitions: spec.partitions ?? defaultPartitions,
      replicationFactor: -1,
      configEntries: Object.entries(spec.configs ?? {}).map(([name, value]) => ({ name, value })),
    }));
  if (missing.length === 0) return [];
  try {
    await admin.createTopics({ topics: missing, waitForLeaders: true });
  } catch (error) {
    // Another process may have created the same topic between list and create.
    if (kafkaErrorType(error) !== 'TOPIC_ALREADY_EXISTS') {
      throw new DriftlineError(
        ErrorCode.KAFKA_REQUEST_FAILED,
        `Creating topics ${missing.map((t) => t.topic).join(', ')} failed`,
        {
          cause: error,
          retriable: hasRetriableKafkaCause(error),
        },
      );
    }
  }
  return missing.map((t) => t.topic);
}

function kafkaErrorType(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { type, errors } = error as { type?: unknown; errors?: unknown };
  if (typeof type === 'string') return type;
  // createTopics wraps per-topic failures in KafkaJSAggregateError.errors.
  if (Array.isArray(errors) && errors.length > 0) return kafkaErrorType(errors[0]);
  return undefined;
}

function unreachable(brokers: readonly string[], timeoutMs: number, cause?: unknown): DriftlineError {
  return new DriftlineError(
    ErrorCode.KAFKA_UNREACHABLE,
    `Kafka at ${brokers.join(',')} did not answer within ${timeoutMs} ms (check KAFKA_BROKERS, or run \`driftline stack up\`)`,
    { cause, retriable: true, details: { brokers: [...brokers], timeoutMs } },
  );
}

/** Resolves with `work`, or rejects with `onTimeout()` once `ms` pass. */
export async function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
