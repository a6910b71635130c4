/**
 * The consumer lifecycle every Driftline consumer runs: subscribe, hand each message to a
 * processor, flush-then-commit, pause and retry on dependency failures, rebalance, stop.
 *
 * The rule it enforces: a message is taken as handled (its offset resolved) only once the
 * processor took it in. A processor throws only for a dependency failure (registry, ClickHouse,
 * Kafka), and then the partition is sought back to that very message, consumption pauses and
 * resumes after a backoff: nothing is skipped. Any other error is the message's own fault and the
 * message is rejected (dead-lettered by the processor) so the partition moves on.
 */
import { performance } from 'node:perf_hooks';
import type { Admin, Consumer, ConsumerRunConfig, KafkaMessage } from 'kafkajs';
import { DriftlineError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { hasRetriableKafkaCause } from './client.ts';
import { FlushLoop } from './flush-loop.ts';
import { WriteLane } from './write-lane.ts';

export interface CommitEntry {
  topic: string;
  partition: number;
  offset: string;
  metadata?: string;
}

/**
 * Undefined when the message was taken in; `{ seek }` to read again from an earlier offset. A
 * processor answers without a promise when it needs no I/O (the common case): no promise per message.
 */
export type HandleOutcome = undefined | { seek: bigint };

/** Stores what a processor detached; resolves with the offsets it may then commit. */
export type PendingWrite = () => Promise<CommitEntry[]>;

/** topic → partitions this member owns. */
export type Assignment = ReadonlyMap<string, readonly number[]>;

/** What a consumer's core does with its messages; the lifecycle does the rest. */
export interface Processor {
  /**
   * Takes one message in. Throws only when a dependency failed, and then must have changed
   * nothing (the message is delivered again). `{ seek }` asks to read the partition again from an
   * earlier offset (a state restored from its committed offset must see every message from there).
   */
  handle(topic: string, partition: number, message: KafkaMessage): HandleOutcome | Promise<HandleOutcome>;
  /** `handle` failed for a reason in the message itself: park it (dead letter) and move on. */
  reject(topic: string, partition: number, message: KafkaMessage, error: unknown): void;
  /** Writes everything buffered and returns what may now be committed. Throws on dependency failure. */
  flush(options: { final: boolean }): Promise<CommitEntry[]>;
  /**
   * Optional, for writing while consumption goes on: takes everything buffered, now (later
   * messages go to fresh buffers), and returns the write of it, which returns what may be
   * committed once it succeeded. After a failure the write is called again and must go on where it
   * failed (each of its steps drops what it stored). Writes are called one at a time, in the
   * order they were detached, and at most two are outstanding: a processor may start storing at
   * `detach` (beside the write before) as long as what must follow that write — such as messages
   * to other consumers — waits for the call. Without `detach`, `flush` runs with consumption stopped.
   */
  detach?(options: { final: boolean }): PendingWrite;
  /** The entries `flush` returned are committed now. */
  committed?(entries: readonly CommitEntry[]): void;
  /** Whether a flush is due (a full batch, a timer, panes to close). */
  due(): boolean;
  /**
   * The group's assignment changed. Every assigned partition is fetched again from its committed
   * offset, the ones this member keeps included: drop what is uncommitted.
   */
  assigned(assignment: Assignment): Promise<void>;
}

/**
 * Wall-clock time that runs only while consumption runs: idle and grace timers measured with it
 * do not expire during an outage, when a paused partition is silent through no fault of its own.
 */
export class ActiveClock {
  private pausedTotal = 0;
  private pausedSince: number | undefined;

  constructor(private readonly wallClock: () => number = Date.now) {}

  now(): number {
    const wall = this.wallClock();
    return wall - this.pausedTotal - (this.pausedSince === undefined ? 0 : wall - this.pausedSince);
  }

  pause(): void {
    this.pausedSince ??= this.wallClock();
  }

  resume(): void {
    if (this.pausedSince === undefined) return;
    this.pausedTotal += this.wallClock() - this.pausedSince;
    this.pausedSince = undefined;
  }

  get paused(): boolean {
    return this.pausedSince !== undefined;
  }
}

/** The part of a kafkajs consumer the lifecycle uses (a fake stands in for it in unit tests). */
export type LifecycleConsumer = Pick<
  Consumer,
  'subscribe' | 'run' | 'pause' | 'resume' | 'seek' | 'commitOffsets' | 'stop' | 'disconnect' | 'on' | 'events'
>;

export interface LifecycleOptions {
  consumer: LifecycleConsumer;
  processor: Processor;
  topics: readonly string[];
  logger: Logger;
  clock?: ActiveClock;
  retry?: { initialMs: number; maxMs: number };
  /** How often `processor.due()` is asked, ms. */
  tickMs: number;
  /** Closes the processor's own clients (producer, admin) after the consumer disconnected. */
  onClose?: () => Promise<void>;
  /** Where `lag()` reads high watermarks and the group's committed offsets (no lag without it). */
  offsets?: { admin: Pick<Admin, 'fetchTopicOffsets' | 'fetchOffsets'>; groupId: string };
}

/** How far the group's committed offset of one partition is behind its high watermark, in messages. */
export interface PartitionLag {
  topic: string;
  partition: number;
  lag: number;
}

/** What a consumer's lifecycle tells a metrics server (platform/metrics-server.ts). */
export interface LifecycleTelemetry {
  /** Messages taken in (handled or dead-lettered) since start, by topic. */
  messagesByTopic(): ReadonlyMap<string, number>;
  /** Lag of every partition this member owns now; empty without `offsets`. */
  lag(): Promise<PartitionLag[]>;
  /** Calls `listener` with the seconds every successful flush-and-commit took; returns the unsubscribe. */
  onFlush(listener: (seconds: number) => void): () => void;
}

export interface LifecycleStats {
  commits: number;
  failedFlushes: number;
  /** Messages delivered again after a dependency failed while handling them. */
  redeliveries: number;
  paused: boolean;
}

export class ConsumerLifecycle implements LifecycleTelemetry {
  readonly clock: ActiveClock;
  private readonly loop: FlushLoop;
  /** Writes of detached buffers (processors with `detach`), overlapping consumption. */
  private readonly writes: WriteLane;
  /** Counts group joins: a write detached under an earlier assignment commits nothing. */
  private epoch = 0;
  /**
   * The epoch of the last write given up: nothing detached in it may be committed any more
   * (committing past that write would skip what it held); the next assignment re-reads it.
   */
  private givenUpEpoch = -1;
  /** A flush is queued behind the batch under way (the timer asks no more meanwhile). */
  private flushQueued = false;
  private readonly log: Logger;
  private readonly retry: { initialMs: number; maxMs: number };
  private readonly subscribed: Set<string>;
  private assignment: Assignment = new Map();
  private timer: NodeJS.Timeout | undefined;
  private resumeTimer: NodeJS.Timeout | undefined;
  private handleBackoffMs: number;
  private stopping = false;
  /** After abort(): flushes still queued do nothing (a crashed process writes no more). */
  private aborted = false;
  private readonly counters = { commits: 0, failedFlushes: 0, redeliveries: 0 };
  private readonly messages = new Map<string, number>();
  private readonly flushListeners = new Set<(seconds: number) => void>();

  constructor(private readonly options: LifecycleOptions) {
    this.log = options.logger;
    this.clock = options.clock ?? new ActiveClock();
    this.retry = options.retry ?? { initialMs: 500, maxMs: 30_000 };
    this.handleBackoffMs = this.retry.initialMs;
    this.subscribed = new Set(options.topics);
    const flushOptions = {
      retry: this.retry,
      pause: () => this.pauseAll(),
      resume: () => this.resumeAll(),
      onFailure: (error: unknown, retryInMs: number) => {
        this.counters.failedFlushes++;
        this.log.warn({ err: error, retryInMs }, 'flush failed; consumption paused, nothing committed');
      },
    };
    this.loop = new FlushLoop(flushOptions);
    this.writes = new WriteLane(flushOptions);
  }

  async start(): Promise<void> {
    const { consumer } = this.options;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.assignment = new Map(Object.entries(payload.memberAssignment));
      this.epoch++;
      // Whatever a write waiting out an outage holds is read again from the committed offsets.
      this.writes.giveUpWaiting();
      void this.loop.serialized(async () => {
        this.writes.giveUpWaiting();
        await this.options.processor.assigned(this.assignment);
        // A rebalance resets kafkajs's pause state per partition: keep what we decided.
        if (this.clock.paused) consumer.pause(this.pausedTopics());
      });
    });
    await consumer.subscribe({ topics: [...this.subscribed], fromBeginning: true });
    await consumer.run(this.runConfig());
    this.timer = setInterval(() => {
      if (this.clock.paused || this.stopping || this.flushQueued) return;
      if (this.options.processor.due()) void this.startFlush();
    }, this.options.tickMs);
  }

  /** Runs `work` in turn with batches and flushes (anything that touches the processor's buffers). */
  serialized<T>(work: () => Promise<T>): Promise<T> {
    return this.loop.serialized(work);
  }

  /**
   * Flushes and commits. On failure it rejects, pauses consumption and retries in the background
   * with backoff; consumption resumes when a retry succeeds.
   */
  async flush(): Promise<void> {
    await (await this.startFlush()).written;
  }

  /**
   * Queues a flush behind the batch under way; resolves once its buffers are detached, with the
   * promise of their write. A processor without `detach` flushes with consumption stopped, so
   * that is the whole flush.
   */
  private startFlush(): Promise<{ written: Promise<void> }> {
    const { processor } = this.options;
    this.flushQueued = true;
    const detach = processor.detach?.bind(processor);
    if (!detach) {
      const written = this.loop.run(() => this.flushAndCommit(false));
      written.then(
        () => (this.flushQueued = false),
        () => (this.flushQueued = false),
      );
      return written.then(
        () => ({ written }),
        () => ({ written }),
      );
    }
    return this.loop.serialized(async () => {
      // At most two writes outstanding (the next one's storing may overlap the one before),
      // commits in order: three batches held at most, counting the one being read.
      await this.writes.room();
      this.flushQueued = false;
      if (this.aborted) return { written: Promise.resolve() };
      const epoch = this.epoch;
      const write = detach({ final: false });
      const written = this.writes.run(
        () => this.writeAndCommit(write, epoch),
        () => (this.givenUpEpoch = epoch),
      );
      written.catch(() => {});
      return { written };
    });
  }

  topics(): string[] {
    return [...this.subscribed].sort();
  }

  /**
   * Reads more topics. kafkajs subscribes only before `run`, so what is consumed is flushed, the
   * consumer stopped, subscribed and run again; the rebalance that follows rebuilds every
   * partition from its committed offset.
   */
  async subscribe(topics: readonly string[]): Promise<void> {
    const fresh = topics.filter((t) => !this.subscribed.has(t));
    if (fresh.length === 0 || this.stopping || this.clock.paused) return;
    await this.flush();
    const { consumer } = this.options;
    await consumer.stop();
    await consumer.subscribe({ topics: fresh, fromBeginning: true });
    for (const topic of fresh) this.subscribed.add(topic);
    await consumer.run(this.runConfig());
  }

  stats(): LifecycleStats {
    return { ...this.counters, paused: this.clock.paused };
  }

  /**
   * Stops fetching, flushes and commits what was consumed, then leaves the group. The commit
   * happens before `consumer.stop()`: kafkajs refuses commits from a stopped consumer.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.clearTimers();
    this.pauseAll();
    // A write waiting out an outage is tried once more, not again after that.
    this.writes.close();
    try {
      await this.loop.serialized(async () => {
        await this.writes.settled();
        const { detach } = this.options.processor;
        if (detach) await this.writeAndCommit(detach.call(this.options.processor, { final: true }), this.epoch);
        else await this.flushAndCommit(true);
      });
    } catch (error) {
      this.log.error({ err: error }, 'final flush failed; what was not committed is read again on restart');
    }
    this.loop.close();
    await this.close();
  }

  /**
   * Disconnects without flushing or committing: what a crash looks like to Kafka and storage. A
   * write already under way completes first and nothing queued after it runs: a crashed process
   * writes nothing once the group has moved its partitions on, so their next owner restores a
   * state no one is still changing.
   */
  async abort(): Promise<void> {
    this.stopping = true;
    this.aborted = true;
    this.clearTimers();
    this.loop.close();
    this.writes.close();
    await this.loop.serialized(async () => {});
    await this.writes.settled();
    await this.close();
  }

  messagesByTopic(): ReadonlyMap<string, number> {
    return this.messages;
  }

  /** High watermark − committed offset (the low watermark when nothing is committed) per owned partition. */
  async lag(): Promise<PartitionLag[]> {
    const source = this.options.offsets;
    const owned = [...this.assignment].filter(([, partitions]) => partitions.length > 0);
    if (!source || owned.length === 0) return [];
    const committed = await source.admin.fetchOffsets({ groupId: source.groupId, topics: owned.map(([t]) => t) });
    const lags: PartitionLag[] = [];
    for (const [topic, partitions] of owned) {
      const ends = new Map((await source.admin.fetchTopicOffsets(topic)).map((o) => [o.partition, o]));
      const offsets = new Map(
        (committed.find((c) => c.topic === topic)?.partitions ?? []).map((p) => [p.partition, p.offset]),
      );
      for (const partition of partitions) {
        const end = ends.get(partition);
        if (!end) continue;
        const offset = offsets.get(partition);
        const from = offset === undefined || offset === '-1' ? end.low : offset;
        const lag = BigInt(end.high) - BigInt(from);
        lags.push({ topic, partition, lag: lag > 0n ? Number(lag) : 0 });
      }
    }
    return lags;
  }

  onFlush(listener: (seconds: number) => void): () => void {
    this.flushListeners.add(listener);
    return () => this.flushListeners.delete(listener);
  }

  private async close(): Promise<void> {
    const { consumer } = this.options;
    await consumer.stop().catch((error: unknown) => this.log.warn({ err: error }, 'consumer stop failed'));
    await consumer.disconnect();
    await this.options.onClose?.();
  }

  private clearTimers(): void {
    clearInterval(this.timer);
    clearTimeout(this.resumeTimer);
    this.timer = undefined;
    this.resumeTimer = undefined;
  }

  private flushAndCommit(final: boolean): Promise<void> {
    return this.writeAndCommit(() => this.options.processor.flush({ final }), this.epoch);
  }

  /**
   * Runs a write and commits what it stored — unless the group moved partitions since it was
   * detached, or a write before it was given up (committing past it would skip what it held):
   * then its partitions are read again from their committed offsets, and storage deduplicates.
   */
  private async writeAndCommit(write: PendingWrite, epoch: number): Promise<void> {
    if (this.aborted) return;
    const started = performance.now();
    const entries = await write();
    if (entries.length > 0 && epoch === this.epoch && epoch !== this.givenUpEpoch) {
      await this.options.consumer.commitOffsets(entries);
      this.options.processor.committed?.(entries);
      this.counters.commits++;
    }
    const seconds = (performance.now() - started) / 1000;
    for (const listener of this.flushListeners) listener(seconds);
  }

  private runConfig(): ConsumerRunConfig {
    const { consumer, processor } = this.options;
    return {
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        await this.loop.serialized(async () => {
          let taken = 0;
          /** The last offset taken in, resolved once (kafkajs parses every offset it is given). */
          let lastTaken: string | undefined;
          /** Whether the group may have moved on: only an await lets a rebalance or stop in. */
          let mayBeStale = true;
          for (const message of batch.messages) {
            // A batch fetched before a rebalance revoked its partition: the new owner has it.
            if (mayBeStale) {
              if (!isRunning() || isStale() || this.stopping) break;
              mayBeStale = false;
            }
            let outcome: HandleOutcome | Promise<HandleOutcome>;
            try {
              outcome = processor.handle(batch.topic, batch.partition, message);
              if (outcome instanceof Promise) {
                mayBeStale = true;
                outcome = await outcome;
              }
            } catch (error) {
              if (isDependencyFailure(error)) {
                // Read this message again once the dependency is back: never skip it.
                consumer.seek({ topic: batch.topic, partition: batch.partition, offset: message.offset });
                this.dependencyFailed(error);
                break;
              }
              processor.reject(batch.topic, batch.partition, message, error);
              lastTaken = message.offset;
              taken++;
              continue;
            }
            if (outcome) {
              consumer.seek({ topic: batch.topic, partition: batch.partition, offset: outcome.seek.toString() });
              break;
            }
            lastTaken = message.offset;
            taken++;
            this.handleBackoffMs = this.retry.initialMs;
          }
          // After a seek kafkajs ignores resolved offsets of that partition; without one it goes on
          // after the last resolved.
          if (lastTaken !== undefined) resolveOffset(lastTaken);
          if (taken > 0) this.messages.set(batch.topic, (this.messages.get(batch.topic) ?? 0) + taken);
        });
        await heartbeat();
        // With `detach`, this waits only for the buffers to be taken, not for their write.
        if (!this.stopping && !this.clock.paused && !this.flushQueued && processor.due()) await this.startFlush();
      },
    };
  }

  /** Pauses consumption and resumes after a growing backoff; the failed message is read again. */
  private dependencyFailed(error: unknown): void {
    this.counters.redeliveries++;
    const retryInMs = this.handleBackoffMs;
    this.handleBackoffMs = Math.min(this.retry.maxMs, this.handleBackoffMs * 2);
    this.log.warn(
      { err: error, retryInMs },
      'a dependency failed while handling a message; paused, will read it again',
    );
    this.pauseAll();
    if (this.stopping || this.resumeTimer) return;
    this.resumeTimer = setTimeout(() => {
      this.resumeTimer = undefined;
      // A flush may itself be failing and retrying; it resumes when it succeeds.
      void this.loop.serialized(async () => {
        if (!this.stopping) this.resumeAll();
      });
    }, retryInMs);
  }

  private pausedTopics(): { topic: string }[] {
    return [...this.subscribed].map((topic) => ({ topic }));
  }

  private pauseAll(): void {
    if (this.clock.paused) return;
    this.options.consumer.pause(this.pausedTopics());
    this.clock.pause();
  }

  private resumeAll(): void {
    if (!this.clock.paused || this.stopping) return;
    this.options.consumer.resume(this.pausedTopics());
    this.clock.resume();
  }
}

/**
 * A dependency failure is retried; anything else thrown while handling a message is the
 * message's fault. Driftline's errors say which with `retriable`; kafkajs's errors carry the
 * same flag.
 */
export function isDependencyFailure(error: unknown): boolean {
  if (error instanceof DriftlineError) return error.retriable;
  const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  return typeof name === 'string' && name.startsWith('KafkaJS') && hasRetriableKafkaCause(error);
}
