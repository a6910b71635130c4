import type { ConsumerRunConfig, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { DriftlineError, ErrorCode } from '../errors.ts';
import { createLogger } from '../logger.ts';
import {
  ActiveClock,
  type CommitEntry,
  ConsumerLifecycle,
  isDependencyFailure,
  type LifecycleConsumer,
  type LifecycleOptions,
  type Processor,
} from './consumer-lifecycle.ts';

const TOPIC = 't';

function message(offset: number, value = `v${offset}`): KafkaMessage {
  return {
    offset: String(offset),
    key: null,
    value: Buffer.from(value),
    timestamp: '0',
    attributes: 0,
    headers: {},
  } as KafkaMessage;
}

/**
 * Stands in for a kafkajs consumer on one partition: `deliver()` hands the messages from the
 * current position to eachBatch, the way a fetch would, honouring pause, seek and stop.
 */
class FakeConsumer {
  readonly log: string[] = [];
  readonly commits: CommitEntry[][] = [];
  readonly messages: KafkaMessage[] = [];
  position = 0;
  paused = false;
  running = false;
  private run: ConsumerRunConfig | undefined;
  private readonly handlers = new Map<string, (event: unknown) => void>();
  events = { GROUP_JOIN: 'consumer.group_join' } as LifecycleConsumer['events'];

  /** The group assigns partitions, as kafkajs's GROUP_JOIN event says. */
  join(memberAssignment: Record<string, number[]>): void {
    this.handlers.get(this.events.GROUP_JOIN)?.({ payload: { memberAssignment } });
  }

  asConsumer(): LifecycleConsumer {
    return {
      subscribe: async () => {},
      run: async (config?: ConsumerRunConfig) => {
        this.run = config;
        this.running = true;
      },
      pause: () => {
        this.paused = true;
        this.log.push('pause');
      },
      resume: () => {
        this.paused = false;
        this.log.push('resume');
      },
      seek: ({ offset }: { offset: string }) => {
        this.position = Number(offset);
        this.log.push(`seek ${offset}`);
      },
      commitOffsets: async (entries: CommitEntry[]) => {
        if (!this.running) throw new Error('commit refused: the consumer is stopped');
        this.commits.push(entries);
        this.log.push(`commit ${entries.map((e) => e.offset).join(',')}`);
      },
      stop: async () => {
        this.running = false;
        this.log.push('stop');
      },
      disconnect: async () => {
        this.log.push('disconnect');
      },
      on: (event: string, handler: (event: unknown) => void) => {
        this.handlers.set(event, handler);
        return () => this.handlers.delete(event);
      },
      events: this.events,
    } as unknown as LifecycleConsumer;
  }

  /** One fetch: every message from the position on, unless paused. */
  async deliver(): Promise<void> {
    if (this.paused || !this.running || !this.run?.eachBatch) return;
    const batch = this.messages.slice(this.position);
    if (batch.length === 0) return;
    const before = this.position;
    let resolved = before - 1;
    await this.run.eachBatch({
      batch: { topic: TOPIC, partition: 0, messages: batch },
      resolveOffset: (offset: string) => {
        resolved = Number(offset);
      },
      heartbeat: async () => {},
      isRunning: () => this.running,
      isStale: () => false,
    } as unknown as EachBatchPayload);
    // kafkajs goes on after the last resolved offset unless a seek moved the position.
    if (this.position === before) this.position = resolved + 1;
  }
}

/** A processor that stores message values; a dependency can be made to fail. */
class RecordingProcessor implements Processor {
  readonly taken: string[] = [];
  readonly rejected: string[] = [];
  stored: string[] = [];
  private buffer: string[] = [];
  private next: number | undefined;
  dependencyDown = false;
  flushFails = false;

  async handle(_topic: string, _partition: number, m: KafkaMessage) {
    if (m.value?.toString() === 'poison') throw new TypeError('cannot read this message');
    if (this.dependencyDown) {
      throw new DriftlineError(ErrorCode.REGISTRY_UNAVAILABLE, 'registry down', { retriable: true });
    }
    this.taken.push(m.offset);
    this.buffer.push(m.value?.toString() ?? '');
    this.next = Number(m.offset) + 1;
    return undefined;
  }
  reject(_topic: string, _partition: number, m: KafkaMessage) {
    this.rejected.push(m.offset);
    this.next = Number(m.offset) + 1;
  }
  async flush(): Promise<CommitEntry[]> {
    if (this.flushFails) throw new DriftlineError(ErrorCode.STORAGE_UNAVAILABLE, 'down', { retriable: true });
    this.stored.push(...this.takeBuffer());
    return this.next === undefined ? [] : [{ topic: TOPIC, partition: 0, offset: String(this.next) }];
  }
  protected takeBuffer(): string[] {
    const taken = this.buffer;
    this.buffer = [];
    return taken;
  }
  protected nextOffset(): number | undefined {
    return this.next;
  }
  due() {
    return false;
  }
  async assigned() {}
}

/**
 * A processor whose buffers are detached and written while consumption goes on; each write can be
 * held back (`gate`) or made to fail.
 */
class DetachingProcessor extends RecordingProcessor {
  gate: Promise<void> = Promise.resolve();
  writeFails = false;
  /** Writes holding this value fail. */
  poisonedWrite: string | undefined;
  writesStarted = 0;
  detached = 0;

  detach() {
    this.detached++;
    const values = this.takeBuffer();
    const next = this.nextOffset();
    return async (): Promise<CommitEntry[]> => {
      this.writesStarted++;
      await this.gate;
      if (this.writeFails || (this.poisonedWrite !== undefined && values.includes(this.poisonedWrite)))
        throw new DriftlineError(ErrorCode.STORAGE_UNAVAILABLE, 'down', { retriable: true });
      this.stored.push(...values);
      values.length = 0; // a retry stores nothing twice
      return next === undefined ? [] : [{ topic: TOPIC, partition: 0, offset: String(next) }];
    };
  }
}

/** A promise and the function that settles it. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

function setup(options: Pick<LifecycleOptions, 'offsets'> = {}, processor = new RecordingProcessor()) {
  const fake = new FakeConsumer();
  const lifecycle = new ConsumerLifecycle({
    consumer: fake.asConsumer(),
    processor,
    topics: [TOPIC],
    logger: createLogger('silent'),
    retry: { initialMs: 5, maxMs: 20 },
    tickMs: 1_000,
    ...options,
  });
  return { fake, processor, lifecycle };
}

/** High and low watermarks and the group's committed offsets, as an admin client reports them. */
function fakeOffsets(topics: Record<string, { high: number; low: number; committed?: number }[]>) {
  return {
    fetchTopicOffsets: async (topic: string) =>
      (topics[topic] ?? []).map((p, partition) => ({
        partition,
        offset: String(p.high),
        high: String(p.high),
        low: String(p.low),
      })),
    fetchOffsets: async ({ topics: names = [] }: { groupId: string; topics?: string[] }) =>
      names.map((topic) => ({
        topic,
        partitions: (topics[topic] ?? []).map((p, partition) => ({
          partition,
          offset: String(p.committed ?? -1),
          metadata: null,
        })),
      })),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ConsumerLifecycle', () => {
  it('a message whose handling hit a dependency failure is read again, never skipped or committed past', async () => {
    const { fake, processor, lifecycle } = setup();
    await lifecycle.start();
    fake.messages.push(message(0), message(1), message(2));
    processor.dependencyDown = true;
    await fake.deliver();
    expect(processor.taken).toEqual([]);
    expect(fake.paused).toBe(true);
    expect(fake.position).toBe(0);
    await lifecycle.flush();
    expect(fake.commits).toEqual([]); // nothing handled, nothing committed

    processor.dependencyDown = false;
    await sleep(20); // the backoff resumes consumption
    expect(fake.paused).toBe(false);
    await fake.deliver();
    expect(processor.taken).toEqual(['0', '1', '2']);
    await lifecycle.flush();
    expect(fake.commits.at(-1)).toEqual([{ topic: TOPIC, partition: 0, offset: '3' }]);
    await lifecycle.abort();
  });

  it('a dependency failure mid-batch keeps what was handled before it and re-reads from the failed message', async () => {
    const { fake, processor, lifecycle } = setup();
    await lifecycle.start();
    fake.messages.push(message(0), message(1));
    await fake.deliver();
    fake.messages.push(message(2), message(3));
    const original = processor.handle.bind(processor);
    let failures = 0;
    processor.handle = async (topic, partition, m) => {
      if (m.offset === '3' && failures++ === 0)
        throw new DriftlineError(ErrorCode.STORAGE_UNAVAILABLE, 'x', { retriable: true });
      return original(topic, partition, m);
    };
    await fake.deliver();
    expect(processor.taken).toEqual(['0', '1', '2']);
    expect(fake.log).toContain('seek 3');
    await sleep(20);
    await fake.deliver();
    expect(processor.taken).toEqual(['0', '1', '2', '3']);
    await lifecycle.abort();
  });

  it('a message that fails for its own content is rejected and the partition moves on', async () => {
    const { fake, processor, lifecycle } = setup();
    await lifecycle.start();
    fake.messages.push(message(0), message(1, 'poison'), message(2));
    await fake.deliver();
    expect(processor.rejected).toEqual(['1']);
    expect(processor.taken).toEqual(['0', '2']);
    expect(fake.paused).toBe(false);
    await lifecycle.abort();
  });

  it('stop flushes and commits before it stops the consumer (kafkajs refuses commits afterwards)', async () => {
    const { fake, processor, lifecycle } = setup();
    await lifecycle.start();
    fake.messages.push(message(0), message(1));
    await fake.deliver();
    await lifecycle.stop();
    expect(processor.stored).toEqual(['v0', 'v1']);
    expect(fake.log.slice(-3)).toEqual(['commit 2', 'stop', 'disconnect']);
  });

  it('a failed flush pauses, commits nothing, and resumes once a retry succeeds', async () => {
    const { fake, processor, lifecycle } = setup();
    await lifecycle.start();
    fake.messages.push(message(0));
    await fake.deliver();
    processor.flushFails = true;
    await expect(lifecycle.flush()).rejects.toThrow('down');
    expect(fake.paused).toBe(true);
    expect(fake.commits).toEqual([]);
    processor.flushFails = false;
    await sleep(30);
    expect(fake.paused).toBe(false);
    expect(fake.commits).toEqual([[{ topic: TOPIC, partition: 0, offset: '1' }]]);
    await lifecycle.abort();
  });

  it('abort lets a flush under way finish, then runs no queued flush and commits nothing more', async () => {
    const { fake, processor, lifecycle } = setup();
    await lifecycle.start();
    fake.messages.push(message(0));
    await fake.deliver();
    let release!: () => void;
    const slow = new Promise<void>((resolve) => {
      release = resolve;
    });
    const flush = processor.flush.bind(processor);
    let flushes = 0;
    processor.flush = async () => {
      flushes++;
      await slow;
      return flush();
    };
    const underWay = lifecycle.flush();
    await sleep(1);
    expect(flushes).toBe(1);
    const queued = lifecycle.flush();
    const aborting = lifecycle.abort();
    await sleep(5);
    expect(fake.log).not.toContain('disconnect'); // still writing: the group has not moved on
    release();
    await Promise.all([underWay, queued, aborting]);
    expect(flushes).toBe(1);
    expect(processor.stored).toEqual(['v0']);
    expect(fake.log.slice(-3)).toEqual(['commit 1', 'stop', 'disconnect']);
  });

  it('counts the messages taken in by topic, dead-lettered ones too, not the ones to read again', async () => {
    const { fake, processor, lifecycle } = setup();
    await lifecycle.start();
    fake.messages.push(message(0), message(1, 'poison'), message(2));
    await fake.deliver();
    expect(lifecycle.messagesByTopic()).toEqual(new Map([[TOPIC, 3]]));
    fake.messages.push(message(3));
    processor.dependencyDown = true;
    await fake.deliver();
    expect(lifecycle.messagesByTopic().get(TOPIC)).toBe(3);
    await lifecycle.abort();
  });

  it('tells flush listeners how long each flush-and-commit took, until they unsubscribe', async () => {
    const { fake, processor, lifecycle } = setup();
    const seconds: number[] = [];
    const unsubscribe = lifecycle.onFlush((s) => seconds.push(s));
    await lifecycle.start();
    fake.messages.push(message(0));
    await fake.deliver();
    const flush = processor.flush.bind(processor);
    processor.flush = async () => {
      await sleep(30);
      return flush();
    };
    await lifecycle.flush();
    expect(seconds).toHaveLength(1);
    expect(seconds[0]).toBeGreaterThanOrEqual(0.025);
    processor.flushFails = true;
    await lifecycle.flush().catch(() => {});
    expect(seconds).toHaveLength(1); // a failed flush is counted in failedFlushes, not timed
    processor.flushFails = false;
    unsubscribe();
    await lifecycle.flush();
    expect(seconds).toHaveLength(1);
    await lifecycle.abort();
  });

  it('lag: high watermark − committed offset of each partition it owns, from the low watermark when none is committed', async () => {
    const admin = fakeOffsets({
      [TOPIC]: [
        { high: 120, low: 0, committed: 100 },
        { high: 50, low: 10 },
        { high: 9, low: 0, committed: 9 },
      ],
      other: [{ high: 7, low: 0, committed: 2 }],
    });
    const { fake, lifecycle } = setup({ offsets: { admin, groupId: 'g' } });
    await lifecycle.start();
    expect(await lifecycle.lag()).toEqual([]); // nothing assigned yet
    fake.join({ [TOPIC]: [0, 1, 2] });
    await sleep(1);
    expect(await lifecycle.lag()).toEqual([
      { topic: TOPIC, partition: 0, lag: 20 },
      { topic: TOPIC, partition: 1, lag: 40 },
      { topic: TOPIC, partition: 2, lag: 0 },
    ]);
    // A rebalance took partitions 0 and 1 away: only what it owns now.
    fake.join({ [TOPIC]: [2], other: [0] });
    await sleep(1);
    expect(await lifecycle.lag()).toEqual([
      { topic: TOPIC, partition: 2, lag: 0 },
      { topic: 'other', partition: 0, lag: 5 },
    ]);
    await lifecycle.abort();

    const without = setup();
    await without.lifecycle.start();
    without.fake.join({ [TOPIC]: [0] });
    expect(await without.lifecycle.lag()).toEqual([]);
    await without.lifecycle.abort();
  });
});

describe('ConsumerLifecycle with a processor that detaches its buffers', () => {
  it('goes on consuming while a write is under way, and commits each write in order once it is stored', async () => {
    const processor = new DetachingProcessor();
    const { fake, lifecycle } = setup({}, processor);
    await lifecycle.start();
    const slow = gate();
    processor.gate = slow.promise;
    fake.messages.push(message(0), message(1));
    await fake.deliver();
    const first = lifecycle.flush();
    await sleep(1);
    expect(processor.writesStarted).toBe(1);
    fake.messages.push(message(2));
    await fake.deliver(); // not held up by the write
    expect(processor.taken).toEqual(['0', '1', '2']);
    const second = lifecycle.flush(); // waits for the first write: one at a time
    await sleep(5);
    expect(processor.writesStarted).toBe(1);
    expect(fake.commits).toEqual([]); // nothing stored yet, nothing committed
    slow.open();
    await Promise.all([first, second]);
    expect(processor.stored).toEqual(['v0', 'v1', 'v2']);
    expect(fake.commits).toEqual([
      [{ topic: TOPIC, partition: 0, offset: '2' }],
      [{ topic: TOPIC, partition: 0, offset: '3' }],
    ]);
    await lifecycle.abort();
  });

  it('detaches the next batch while a write is under way, but holds a third until the first write is done', async () => {
    const processor = new DetachingProcessor();
    const { fake, lifecycle } = setup({}, processor);
    await lifecycle.start();
    const slow = gate();
    processor.gate = slow.promise;
    const flushes: Promise<void>[] = [];
    for (const offset of [0, 1, 2]) {
      fake.messages.push(message(offset));
      await fake.deliver();
      flushes.push(lifecycle.flush());
      await sleep(2);
    }
    // The first write is under way and the second detached behind it; the third waits to detach.
    expect(processor.detached).toBe(2);
    expect(processor.writesStarted).toBe(1);
    slow.open();
    await Promise.all(flushes);
    expect(processor.detached).toBe(3);
    expect(processor.stored).toEqual(['v0', 'v1', 'v2']);
    expect(fake.commits.map((c) => c[0]?.offset)).toEqual(['1', '2', '3']);
    await lifecycle.abort();
  });

  it('a failed write pauses consumption and is retried before any later write; then consumption resumes', async () => {
    const processor = new DetachingProcessor();
    const { fake, lifecycle } = setup({}, processor);
    await lifecycle.start();
    fake.messages.push(message(0));
    await fake.deliver();
    processor.writeFails = true;
    await expect(lifecycle.flush()).rejects.toThrow('down');
    expect(fake.paused).toBe(true);
    const later = lifecycle.flush();
    await sleep(10);
    expect(fake.commits).toEqual([]);
    processor.writeFails = false;
    await later;
    expect(fake.paused).toBe(false);
    expect(processor.stored).toEqual(['v0']);
    expect(fake.commits[0]).toEqual([{ topic: TOPIC, partition: 0, offset: '1' }]);
    await lifecycle.abort();
  });

  it('a rebalance gives up a write waiting out an outage: nothing detached before it is committed', async () => {
    const processor = new DetachingProcessor();
    const { fake, lifecycle } = setup({}, processor);
    await lifecycle.start();
    fake.join({ [TOPIC]: [0] });
    fake.messages.push(message(0));
    await fake.deliver();
    processor.writeFails = true;
    await expect(lifecycle.flush()).rejects.toThrow('down');
    fake.join({ [TOPIC]: [0] }); // the group moved on: message 0 is read again from the committed offset
    processor.writeFails = false;
    await sleep(30);
    expect(fake.paused).toBe(false);
    expect(fake.commits).toEqual([]);
    fake.messages.push(message(1));
    await fake.deliver();
    await lifecycle.flush(); // detached under the new assignment: committed
    expect(fake.commits).toEqual([[{ topic: TOPIC, partition: 0, offset: '2' }]]);
    await lifecycle.abort();
  });

  it('stop tries a failing write once more; when that fails, it commits nothing past it', async () => {
    const processor = new DetachingProcessor();
    const { fake, lifecycle } = setup({}, processor);
    await lifecycle.start();
    const slow = gate();
    processor.gate = slow.promise;
    processor.poisonedWrite = 'v0';
    fake.messages.push(message(0));
    await fake.deliver();
    const failing = lifecycle.flush();
    fake.messages.push(message(1));
    await fake.deliver(); // taken while message 0's write is under way
    slow.open();
    await expect(failing).rejects.toThrow('down');
    await lifecycle.stop();
    expect(processor.writesStarted).toBeGreaterThanOrEqual(3); // the failed write, once more, the final one
    expect(processor.stored).toEqual(['v1']);
    expect(fake.commits).toEqual([]); // message 0 was never stored: committing 1 would skip it
    expect(fake.log.slice(-2)).toEqual(['stop', 'disconnect']);
  });

  it('stop writes and commits what is buffered after the last write', async () => {
    const processor = new DetachingProcessor();
    const { fake, lifecycle } = setup({}, processor);
    await lifecycle.start();
    fake.messages.push(message(0));
    await fake.deliver();
    await lifecycle.flush();
    fake.messages.push(message(1));
    await fake.deliver();
    await lifecycle.stop();
    expect(processor.stored).toEqual(['v0', 'v1']);
    expect(fake.log.slice(-3)).toEqual(['commit 2', 'stop', 'disconnect']);
  });
});

describe('ActiveClock', () => {
  it('does not run while paused', () => {
    let wall = 1_000;
    const clock = new ActiveClock(() => wall);
    const start = clock.now();
    wall += 100;
    clock.pause();
    wall += 60_000; // an outage
    expect(clock.now() - start).toBe(100);
    clock.resume();
    wall += 50;
    expect(clock.now() - start).toBe(150);
  });
});

describe('isDependencyFailure', () => {
  it('reads the retriable flag, never the message', () => {
    expect(isDependencyFailure(new DriftlineError(ErrorCode.STORAGE_UNAVAILABLE, 'x', { retriable: true }))).toBe(true);
    expect(isDependencyFailure(new DriftlineError(ErrorCode.DECODE_FAILED, 'unavailable'))).toBe(false);
    expect(
      isDependencyFailure(Object.assign(new Error('x'), { name: 'KafkaJSConnectionError', retriable: true })),
    ).toBe(true);
    expect(isDependencyFailure(new TypeError('x'))).toBe(false);
    // kafkajs's own retries used up on a retriable error (a coordinator still loading): still an
    // outage, never the message's fault.
    const loading = Object.assign(new Error('loading'), { name: 'KafkaJSProtocolError', retriable: true });
    const exhausted = Object.assign(new Error('retries'), {
      name: 'KafkaJSNumberOfRetriesExceeded',
      retriable: false,
      cause: loading,
    });
    expect(isDependencyFailure(exhausted)).toBe(true);
    expect(
      isDependencyFailure(Object.assign(new Error('x'), { name: 'KafkaJSNonRetriableError', retriable: false })),
    ).toBe(false);
  });
});
