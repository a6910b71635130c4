/**
 * The drift consumer on hand-made sketch snapshots — real Kafka, schema registry and ClickHouse
 * (18.16 server), no store: each test produces exactly the snapshots (and, where a restart needs
 * them, the feature_sketches rows) the store would have, so the arrival order is under control.
 * Each test gets a fresh model (its own predictions topic with a known partition count), a fresh
 * consumer group starting at the end of feature-sketches, and a fake reference profile.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../../core/config.ts';
import { DriftlineError, ErrorCode } from '../../core/errors.ts';
import { AvroCodec } from '../../core/kafka/avro.ts';
import {
  connectAdmin,
  createKafka,
  createProducer,
  ensureTopics,
  startNewGroupAtEnd,
} from '../../core/kafka/client.ts';
import { createLogger } from '../../core/logger.ts';
import { migrate } from '../../core/migrations.ts';
import { mulberry32 } from '../../core/random.ts';
import { type DriftEvent, sketchSnapshotSchema } from '../../core/schemas.ts';
import { CategoricalSketch, NumericSketch } from '../../core/sketch/index.ts';
import { featureSketchRow, type SketchSnapshot, snapshotOf } from '../../core/sketch-snapshot.ts';
import { openStorage, type Storage, sql } from '../../core/storage/index.ts';
import { predictionsTopic, TOPICS, valueSubject } from '../../core/topics.ts';
import { driftEventsEnd, readDriftEvents } from '../../test-support/drift-events.ts';
import { completeWindows } from '../../test-support/pipeline-settings.ts';
import { readTopic } from '../../test-support/read-topic.ts';
import { until } from '../../test-support/until.ts';
import { type DriftConsumer, type DriftSettings, startDriftConsumer } from './consumer.ts';
import type { ReferenceSource } from './references.ts';

const services = inject('services');
const logger = createLogger('silent');
const connect = { brokers: services.kafkaBrokers, connectTimeoutMs: 10_000, partitions: 3 };
const DATABASE = 'driftline_drift_consumer_test';
const PANE_MS = 1_000;
/** Pane 0 of every test: a recent, pane-aligned time. */
const BASE_TIME = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
const paneOf = (ms: number) => (ms - BASE_TIME) / PANE_MS;

function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

const profile = {
  features: {
    x: NumericSketch.of(
      Array.from(
        { length: 5_000 },
        (
          (r) => () =>
            normal(r)
        )(mulberry32(1)),
      ),
    ).toJSON(),
  },
  prediction: NumericSketch.of(
    Array.from(
      { length: 5_000 },
      (
        (r) => () =>
          normal(r)
      )(mulberry32(2)),
    ),
  ).toJSON(),
};
/** Every version of every model has the same profile (x and the prediction ~ N(0, 1)). */
const references = {
  readVersion: async () => ({ profile, metrics: { rmse: 1, mae: 0.8 } }),
} as unknown as ReferenceSource;

/** One pane's snapshot of column x from one source partition: 200 values ~ N(0, 1). */
function snapshot(model: string, version: number, pane: number, partition: number): SketchSnapshot {
  const random = mulberry32(version * 1_000_003 + pane * 1_009 + partition);
  return snapshotOf(
    {
      modelName: model,
      modelVersion: version,
      column: 'x',
      paneStart: BASE_TIME + pane * PANE_MS,
      paneEnd: BASE_TIME + (pane + 1) * PANE_MS,
      sketch: NumericSketch.of(Array.from({ length: 200 }, () => normal(random))),
      lateCount: 0,
    },
    predictionsTopic(model),
    partition,
  );
}

/** The feature_sketches row the store writes beside a snapshot. */
const sketchRow = (s: SketchSnapshot) => featureSketchRow(s, new Date());

describe('drift consumer on hand-made sketches', () => {
  let kafka: Kafka;
  let codec: AvroCodec;
  let storage: Storage;
  let producer: Producer;
  let schemaId: number;
  const cleanup: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    kafka = createKafka({
      brokers: services.kafkaBrokers,
      clientId: 'drift-consumer-test',
      connectTimeoutMs: 10_000,
      logger,
    });
    codec = new AvroCodec({ url: services.schemaRegistryUrl });
    const admin = await connectAdmin(kafka, connect);
    await ensureTopics(
      admin,
      [{ topic: TOPICS.featureSketches }, { topic: TOPICS.driftEvents }, { topic: TOPICS.deadLetter }],
      3,
    );
    await admin.disconnect();
    schemaId = await codec.register(valueSubject(TOPICS.featureSketches), sketchSnapshotSchema());
    producer = createProducer(kafka);
    await producer.connect();
    storage = await openStorage(parseConfig({ CLICKHOUSE_DATABASE: DATABASE }), logger, {
      clickhouseUrl: services.clickhouseUrl,
    });
    await migrate(storage);
  });

  afterAll(async () => {
    for (const close of cleanup.reverse()) await close().catch(() => {});
    await producer?.disconnect();
    await storage?.close();
  });

  interface Harness {
    model: string;
    groupId: string;
    start(
      settings?: Partial<DriftSettings>,
      options?: { now?: () => number; storage?: Storage; groupId?: string },
    ): Promise<DriftConsumer>;
    /** Produces snapshots in order (one sketches partition: keyed by model, as the store does); returns their offsets. */
    send(snapshots: readonly SketchSnapshot[], timestamp?: number): Promise<bigint[]>;
    events(): Promise<DriftEvent[]>;
    deadLetters(): Promise<KafkaMessage[]>;
    committed(): Promise<bigint | undefined>;
  }

  /** A fresh model whose predictions topic has `partitions` partitions, and a fresh group. */
  async function harness(partitions: number): Promise<Harness> {
    const model = `dc-${randomBytes(4).toString('hex')}`;
    const groupId = `drift-consumer-test-${randomUUID()}`;
    const admin = await connectAdmin(kafka, connect);
    await ensureTopics(admin, [{ topic: predictionsTopic(model), partitions }], partitions);
    await startNewGroupAtEnd(admin, groupId, TOPICS.featureSketches);
    const eventsFrom = await driftEventsEnd(admin);
    const lettersFrom = new Map(
      (await admin.fetchTopicOffsets(TOPICS.deadLetter)).map((o) => [o.partition, BigInt(o.high)]),
    );
    await admin.disconnect();
    let sketchesPartition: number | undefined;
    return {
      model,
      groupId,
      async start(settings = {}, options = {}) {
        const drift = await startDriftConsumer({
          kafka,
          codec,
          storage: options.storage ?? storage,
          logger,
          connect,
          groupId: options.groupId ?? groupId,
          models: [model],
          references,
          settings: completeWindows(1, settings),
          retry: { initialMs: 100, maxMs: 500 },
          tickMs: 50,
          ...(options.now ? { now: options.now } : {}),
        });
        cleanup.push(() => drift.stop());
        return drift;
      },
      async send(snapshots, timestamp) {
        const messages = await Promise.all(
          snapshots.map(async (s) => ({
            key: s.model_name,
            value: await codec.encode(schemaId, s),
            ...(timestamp === undefined ? {} : { timestamp: String(timestamp) }),
          })),
        );
        const [meta] = await producer.send({ topic: TOPICS.featureSketches, acks: -1, messages });
        if (!meta) throw new Error('no record metadata');
        sketchesPartition = meta.partition;
        const base = BigInt(meta.baseOffset ?? '0');
        return snapshots.map((_, i) => base + BigInt(i));
      },
      events: () => readDriftEvents(kafka, codec, model, eventsFrom),
      deadLetters() {
        return readTopic(kafka, TOPICS.deadLetter, (m) => m.key?.toString() === model, lettersFrom);
      },
      async committed() {
        const a = await connectAdmin(kafka, connect);
        try {
          const [topic] = await a.fetchOffsets({ groupId, topics: [TOPICS.featureSketches] });
          const entry = topic?.partitions.find((p) => p.partition === sketchesPartition);
          return entry && entry.offset !== '-1' ? BigInt(entry.offset) : undefined;
        } finally {
          await a.disconnect();
        }
      },
    };
  }

  const pane = (model: string, version: number, panes: number[], partitions: number[]) =>
    panes.flatMap((p) => partitions.map((partition) => snapshot(model, version, p, partition)));

  it('dead-letters a sketch that would break a merge, a far-future pane and category counts that do not add up, with the reason, and goes on', async () => {
    const h = await harness(2);
    const drift = await h.start({ windowPanes: 2 });
    await h.send(pane(h.model, 1, [0, 1], [0, 1]));
    // m2 far beyond what its values allow: NumericSketch rebuilds it, but merged with another it
    // overflows, and the window's sketch then fails in every flush.
    const broken = { ...snapshot(h.model, 1, 2, 0), m2: 1e308 };
    // A pane a day ahead of the message's timestamp: it would complete every pane before it and
    // make every later sketch expire.
    const future = snapshot(h.model, 1, 86_400, 1);
    // Category counts that do not add up to the count they claim.
    const regions = snapshotOf(
      {
        modelName: h.model,
        modelVersion: 1,
        column: 'region',
        paneStart: BASE_TIME + 2 * PANE_MS,
        paneEnd: BASE_TIME + 3 * PANE_MS,
        sketch: CategoricalSketch.of(['north', 'north', 'north']),
        lateCount: 0,
      },
      predictionsTopic(h.model),
      1,
    );
    const categories = { ...regions, count: 9 };
    await h.send([broken, future, categories]);
    await h.send(pane(h.model, 1, [2, 3], [0, 1]));
    await until(() => drift.stats().eventsEmitted >= 2 && drift.stats().deadLettered >= 3, '2 events, 3 dead letters');
    await new Promise((r) => setTimeout(r, 300));
    const events = await h.events();
    // Windows ending at panes 1 and 2 (pane 3 waits for a later pane), on both partitions.
    expect(events.map((e) => [paneOf(e.window_end.getTime()) - 1, e.completion, e.partial])).toEqual([
      [1, 'all_sources', false],
      [2, 'all_sources', false],
    ]);
    for (const e of events) {
      expect(e).toMatchObject({ sources_expected: 2, revision: 0, pane_count: 2, sketch_count: 4 });
      expect(e.source_partitions).toEqual([0, 1].map((p) => `${predictionsTopic(h.model)}:${p}`));
    }
    const letters = await h.deadLetters();
    const reasons = letters.map((m) => m.headers?.['dl-reason']?.toString() ?? '');
    expect(reasons).toHaveLength(3);
    expect(reasons[0]).toMatch(/m2 1e\+308 is larger than 200 values within \[min, max\] allow/);
    expect(reasons[1]).toMatch(/pane_start .* after the message's timestamp .*MAX_CLOCK_SKEW_SECONDS/);
    expect(reasons[2]).toMatch(/counts and otherCount sum to 3, not count 9/);
    expect(letters.map((m) => m.headers?.['dl-error-code']?.toString())).toEqual([
      ErrorCode.EVENT_INVALID,
      ErrorCode.EVENT_INVALID,
      ErrorCode.EVENT_INVALID,
    ]);
    expect(drift.stats()).toMatchObject({ failedFlushes: 0, snapshotsRead: 8 });
  });

  it('waits for every partition of the source topic; a window past the grace is partial and revised when the rest arrives', async () => {
    const h = await harness(3);
    const drift = await h.start({ windowPanes: 1, gracePanes: 1 });
    // Partitions 0 and 1 only: the subpopulation keyed to partition 2 is missing.
    await h.send(pane(h.model, 1, [0, 1], [0, 1]));
    await until(() => drift.stats().eventsEmitted >= 1, 'the partial window');
    await h.send([...pane(h.model, 1, [0, 1], [2]), ...pane(h.model, 1, [2], [0, 1, 2])]);
    await until(() => drift.stats().eventsEmitted >= 3, 'the revision and the next window');
    await new Promise((r) => setTimeout(r, 300));
    const events = await h.events();
    const topic = predictionsTopic(h.model);
    expect(
      events.map((e) => ({
        pane: paneOf(e.window_end.getTime()) - 1,
        completion: e.completion,
        partial: e.partial,
        revision: e.revision,
        sources: e.source_partitions.length,
        expected: e.sources_expected,
        sketches: e.sketch_count,
      })),
    ).toEqual([
      { pane: 0, completion: 'grace_panes', partial: true, revision: 0, sources: 2, expected: 3, sketches: 2 },
      { pane: 0, completion: 'all_sources', partial: false, revision: 1, sources: 3, expected: 3, sketches: 3 },
      { pane: 1, completion: 'all_sources', partial: false, revision: 0, sources: 3, expected: 3, sketches: 3 },
    ]);
    const [first, revised] = events as [DriftEvent, DriftEvent];
    expect(revised.event_id).not.toBe(first.event_id);
    expect(revised.previous_state).toBe(first.state);
    expect(revised.source_partitions).toEqual([0, 1, 2].map((p) => `${topic}:${p}`));
    expect(revised.columns.find((c) => c.column === 'x')?.current_count).toBe(600);
    // ClickHouse keeps the newest revision of each window (read FINAL).
    const rows = await storage.query<{ end_ms: number; revision: number; partial: number; sources_expected: number }>(
      sql`SELECT window_end_ms AS end_ms, revision, partial, sources_expected FROM drift_events FINAL
        WHERE model_name = ${h.model} ORDER BY window_end_ms`.text,
    );
    expect(
      rows.map((r) => [
        paneOf(Number(r.end_ms)) - 1,
        Number(r.revision),
        Number(r.partial),
        Number(r.sources_expected),
      ]),
    ).toEqual([
      [0, 1, 0, 3],
      [1, 0, 0, 3],
    ]);
  });

  it('does not count an outage as grace: the slow partition still completes its window after it', async () => {
    const h = await harness(2);
    let wall = Date.now();
    let down = false;
    const unavailable = () =>
      new DriftlineError(ErrorCode.STORAGE_UNAVAILABLE, 'ClickHouse is down (test)', { retriable: true });
    const flaky: Storage = {
      kind: storage.kind,
      database: storage.database,
      command: (text) => (down ? Promise.reject(unavailable()) : storage.command(text)),
      query: (text) => (down ? Promise.reject(unavailable()) : storage.query(text)),
      insert: (table, rows) => (down ? Promise.reject(unavailable()) : storage.insert(table, rows)),
      insertRowBinary: (table, columns, chunks) =>
        down ? Promise.reject(unavailable()) : storage.insertRowBinary(table, columns, chunks),
      ping: () => storage.ping(),
      close: async () => {},
    };
    const drift = await h.start({ windowPanes: 1, graceMs: 60_000 }, { now: () => wall, storage: flaky });
    await h.send(pane(h.model, 1, [0], [0]));
    await until(() => drift.stats().snapshotsRead >= 1, 'the first sketch');
    // ClickHouse goes down as pane 0 completes; partition 1 has not sent pane 2 (it is slower).
    down = true;
    await h.send([...pane(h.model, 1, [1, 2], [0]), ...pane(h.model, 1, [0, 1], [1])]);
    await until(() => drift.stats().failedFlushes >= 1 && drift.stats().paused, 'the outage');
    wall += 10 * 60_000; // ten minutes of outage: ten times the grace
    await new Promise((r) => setTimeout(r, 300));
    down = false;
    await until(() => drift.stats().eventsEmitted >= 1 && !drift.stats().paused, 'the flush after the outage');
    await new Promise((r) => setTimeout(r, 500));
    // Pane 1 was waiting for partition 1 when the outage began: still waiting.
    expect(drift.stats().evaluations).toBe(1);
    await h.send(pane(h.model, 1, [2], [1]));
    await until(() => drift.stats().eventsEmitted >= 2, 'pane 1 completed by partition 1');
    // And the grace still ends the stream: a minute of consuming time after the last sketch.
    wall += 60_000;
    await until(() => drift.stats().eventsEmitted >= 3, 'pane 2 by the grace');
    const events = await h.events();
    expect(
      events.map((e) => [paneOf(e.window_end.getTime()) - 1, e.completion, e.partial, e.source_partitions.length]),
    ).toEqual([
      [0, 'all_sources', false, 2],
      [1, 'all_sources', false, 2],
      [2, 'grace_time', true, 2],
    ]);
  });

  it('a canary with fewer panes than a window does not hold the commit, and a restart still gives it its first window', async () => {
    const h = await harness(1);
    let wall = Date.now();
    const settings = { windowPanes: 3 };
    const first = await h.start(settings, { now: () => wall });
    // Canary v2 sends two panes, then is rolled back; the champion v1 goes on. The store writes
    // every snapshot to feature_sketches too.
    const canary = pane(h.model, 2, [0, 1], [0]);
    const champion = pane(h.model, 1, [0, 1, 2, 3, 4], [0]);
    await storage.insert('feature_sketches', [...canary, ...champion].map(sketchRow));
    const offsets = await h.send([...canary, ...champion]);
    await until(() => first.stats().eventsEmitted >= 2, "v1's windows ending at panes 2 and 3");
    await until(async () => (await h.committed()) !== undefined, 'a commit');
    // The commit waits only for v1's pane 4, undecided; v2's panes are decided (warm-up).
    expect(await h.committed()).toBe(offsets[6]);
    // Idle versions leave memory: v2 (all decided) once no sketch came for 10 minutes of active time.
    wall += 11 * 60_000;
    await until(() => first.stats().droppedVersions >= 1, 'the idle canary dropped');
    expect(first.stats().versions).toBe(1);
    await first.abort();

    // The canary comes back after a restart: its first window still holds its first two panes.
    const second = await h.start(settings, { now: () => wall });
    const more = [...pane(h.model, 2, [2], [0]), ...pane(h.model, 1, [5], [0])];
    await storage.insert('feature_sketches', more.map(sketchRow));
    await h.send(more);
    await until(async () => (await h.events()).some((e) => e.model_version === 2), "the canary's first window");
    const canaryEvents = (await h.events()).filter((e) => e.model_version === 2);
    expect(canaryEvents).toHaveLength(1);
    expect(canaryEvents[0]).toMatchObject({
      window_start: new Date(BASE_TIME),
      window_end: new Date(BASE_TIME + 3 * PANE_MS),
      pane_count: 3,
      row_count: 600,
      partial: false,
    });
    expect(second.stats().failedFlushes).toBe(0);
  });
});
