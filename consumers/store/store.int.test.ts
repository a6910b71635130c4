import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../../core/config.ts';
import type { ModelSpec } from '../../core/feature-spec.ts';
import { AvroCodec } from '../../core/kafka/avro.ts';
import { connectAdmin, createKafka, createProducer } from '../../core/kafka/client.ts';
import { createLogger } from '../../core/logger.ts';
import { migrate } from '../../core/migrations.ts';
import { predictionsTable } from '../../core/prediction-table.ts';
import { mulberry32 } from '../../core/random.ts';
import type { PredictionEvent } from '../../core/schemas.ts';
import { NumericSketch } from '../../core/sketch/index.ts';
import { numericSketchJsonOf, type SketchSnapshot } from '../../core/sketch-snapshot.ts';
import { identifier, openStorage, type Storage, sql } from '../../core/storage/index.ts';
import { predictionsTopic, TOPICS } from '../../core/topics.ts';
import { createModelTopic } from '../../test-support/model-topic.ts';
import { readTopic } from '../../test-support/read-topic.ts';
import { until } from '../../test-support/until.ts';
import { type StoreConsumer, startStoreConsumer } from './consumer.ts';

const services = inject('services');
const logger = createLogger((process.env.TEST_LOG as 'warn' | undefined) ?? 'silent');
const connect = { brokers: services.kafkaBrokers, connectTimeoutMs: 10_000, partitions: 2 };
const PANE_MS = 1_000;
/** A recent whole hour: event times must be within MAX_EVENT_AGE_DAYS of the time they are produced. */
const BASE_TIME = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 6 * 3_600_000;

function toySpec(): ModelSpec {
  return {
    model: `store-${randomBytes(4).toString('hex')}`,
    target: 'y',
    features: [
      { name: 'MedInc', type: 'double', optional: false },
      { name: 'HouseAge', type: 'double', optional: true },
      { name: 'Region', type: 'string', optional: false },
    ],
  };
}

/** n events, event times 5 ms apart from BASE_TIME (10 panes per 2,000), seeded values. */
function makeEvents(spec: ModelSpec, n: number, seed: number, startIndex = 0): PredictionEvent[] {
  const random = mulberry32(seed);
  return Array.from({ length: n }, (_, k) => {
    const i = startIndex + k;
    const medInc = -Math.log(1 - random()) * 3; // exponential: skewed, like incomes
    return {
      event_id: randomUUID(),
      model_name: spec.model,
      model_version: 1,
      event_time: new Date(BASE_TIME + i * 5),
      features: {
        MedInc: medInc,
        HouseAge: i % 7 === 0 ? null : Math.round(random() * 50),
        Region: ['north', 'south', 'coast'][i % 3] as string,
      },
      prediction: medInc * 0.4 + 0.5,
      latency_ms: 0.2,
      entity_id: null,
      segment: null,
    };
  });
}

describe.each([['server'], ['embedded']] as const)('store consumer on ClickHouse %s', (kind) => {
  let kafka: Kafka;
  let codec: AvroCodec;
  let storage: Storage;
  let schemaId: number;
  const spec = toySpec();
  const topic = predictionsTopic(spec.model);
  const consumers: StoreConsumer[] = [];

  async function produce(events: PredictionEvent[], partitionOf = (i: number) => i % 2): Promise<void> {
    const producer = createProducer(kafka);
    await producer.connect();
    const messages = await Promise.all(
      events.map(async (e, i) => ({ partition: partitionOf(i), value: await codec.encode(schemaId, e) })),
    );
    for (let i = 0; i < messages.length; i += 500) {
      await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 500) });
    }
    await producer.disconnect();
  }

  async function start(groupId: string): Promise<StoreConsumer> {
    const consumer = await startStoreConsumer({
      kafka,
      codec,
      storage,
      logger,
      connect,
      groupId,
      topics: [topic, TOPICS.groundTruth],
      batchRows: 300,
      batchMs: 200,
      panes: { paneMs: PANE_MS, allowedLatenessMs: 0 },
      retry: { initialMs: 100, maxMs: 1_000 },
    });
    consumers.push(consumer);
    return consumer;
  }

  const countRows = async () =>
    Number(
      (await storage.query<{ n: number }>(`SELECT count() AS n FROM ${predictionsTable(spec.model)} FINAL`))[0]?.n ?? 0,
    );

  beforeAll(async () => {
    kafka = createKafka({ brokers: services.kafkaBrokers, clientId: 'store-test', connectTimeoutMs: 10_000, logger });
    codec = new AvroCodec({ url: services.schemaRegistryUrl });
    ({ schemaId } = await createModelTopic(kafka, codec, spec, connect, 2));
    const config = parseConfig({ CLICKHOUSE_DATABASE: 'driftline_store_test', LOG_LEVEL: 'silent' });
    storage = await openStorage(
      config,
      logger,
      kind === 'server'
        ? { clickhouseUrl: services.clickhouseUrl }
        : { chdbPath: mkdtempSync(join(tmpdir(), 'dl-chdb-')) },
    );
    await migrate(storage);
  });

  afterAll(async () => {
    for (const c of consumers) await c.stop().catch(() => {});
    await storage?.command(`DROP TABLE IF EXISTS ${predictionsTable(spec.model)}`);
    await storage?.close();
  });

  it('stores N events as exactly N rows, also when the consumer dies mid-stream and restarts', async () => {
    const groupId = `store-${randomUUID()}`;
    const events = makeEvents(spec, 4_000, 1);
    const first = await start(groupId);
    await produce(events.slice(0, 2_000));
    await until(async () => first.stats().predictionsStored >= 600, 'some rows stored');
    // Dies without flushing or committing what it buffered; the rest keeps arriving meanwhile.
    await first.abort();
    await produce(events.slice(2_000), (i) => (i + 2_000) % 2);
    const second = await start(groupId);
    await until(async () => (await countRows()) >= events.length, `${events.length} rows`);
    await second.flush();
    expect(await countRows()).toBe(events.length);
    const [distinct] = await storage.query<{ n: number }>(
      `SELECT uniqExact(event_id) AS n FROM ${predictionsTable(spec.model)}`,
    );
    expect(Number(distinct?.n)).toBe(events.length);
    const [row] = await storage.query<Record<string, unknown>>(
      sql`SELECT MedInc, HouseAge, prediction, model_version, event_time_ms FROM ${identifier(predictionsTable(spec.model))} WHERE event_id = ${events[7]?.event_id ?? ''}`
        .text,
    );
    expect(row).toMatchObject({
      MedInc: events[7]?.features.MedInc,
      HouseAge: null,
      prediction: events[7]?.prediction,
      model_version: 1,
      event_time_ms: BASE_TIME + 7 * 5,
    });
    await second.stop();
  });

  it('parks a poison message in the dead-letter topic with its reason and origin, and stores the next one', async () => {
    const groupId = `store-${randomUUID()}`;
    // The dead-letter topic is shared and large: read only what arrives from now on.
    const admin = await connectAdmin(kafka, connect);
    const lettersBefore = await admin.fetchTopicOffsets(TOPICS.deadLetter).catch(() => []);
    await admin.disconnect();
    const consumer = await start(groupId);
    const producer = createProducer(kafka);
    await producer.connect();
    const [poisonAck] = await producer.send({
      topic,
      acks: -1,
      messages: [{ partition: 0, key: 'poison', value: Buffer.from('{"this":"is not avro"}') }],
    });
    const good = makeEvents(spec, 1, 99, 100_000);
    await producer.send({
      topic,
      acks: -1,
      messages: [{ partition: 0, value: await codec.encode(schemaId, good[0]) }],
    });
    await producer.disconnect();

    await until(async () => {
      // The table is created with the first good message: until then the query fails.
      const rows = await storage
        .query(
          sql`SELECT event_id FROM ${identifier(predictionsTable(spec.model))} WHERE event_id = ${good[0]?.event_id ?? ''}`
            .text,
        )
        .catch(() => []);
      return rows.length === 1;
    }, 'the good message after the poison one');
    // A write inserts its rows before it sends its dead letters: the letter may follow the row.
    let letter: KafkaMessage | undefined;
    await until(async () => {
      const letters = await readTopic(
        kafka,
        TOPICS.deadLetter,
        (m) => header(m, 'dl-topic') === topic && m.key?.toString() === 'poison',
        new Map(lettersBefore.map((o) => [o.partition, BigInt(o.offset)])),
      );
      letter = letters.find((m) => header(m, 'dl-offset') === poisonAck?.baseOffset);
      return letter !== undefined;
    }, 'the poison message in the dead-letter topic');
    await until(async () => consumer.stats().deadLettered >= 1, 'the poison message counted');
    expect(letter).toBeDefined();
    expect(header(letter as KafkaMessage, 'dl-partition')).toBe('0');
    expect(header(letter as KafkaMessage, 'dl-reason')).toContain('not in the Confluent wire format');
    expect(header(letter as KafkaMessage, 'dl-error-code')).toBe('DL_DECODE_FAILED');
    expect(letter?.value?.toString()).toBe('{"this":"is not avro"}');
    await consumer.stop();
  });
});

describe('sketches over event-time panes', () => {
  let kafka: Kafka;
  let codec: AvroCodec;
  let storage: Storage;
  let schemaId: number;
  const spec = toySpec();
  const topic = predictionsTopic(spec.model);
  const events = makeEvents(spec, 4_000, 5);

  beforeAll(async () => {
    kafka = createKafka({ brokers: services.kafkaBrokers, clientId: 'sketch-test', connectTimeoutMs: 10_000, logger });
    codec = new AvroCodec({ url: services.schemaRegistryUrl });
    ({ schemaId } = await createModelTopic(kafka, codec, spec, connect, 2));
    storage = await openStorage(parseConfig({ CLICKHOUSE_DATABASE: 'driftline_store_test' }), logger, {
      clickhouseUrl: services.clickhouseUrl,
    });
    await migrate(storage);
    const producer = createProducer(kafka);
    await producer.connect();
    const messages = await Promise.all(
      events.map(async (e, i) => ({ partition: i % 2, value: await codec.encode(schemaId, e) })),
    );
    // A last event far ahead on each partition moves both watermarks past every pane above.
    const closers = makeEvents(spec, 2, 6, 1_000_000);
    for (const [p, e] of closers.entries()) messages.push({ partition: p, value: await codec.encode(schemaId, e) });
    await producer.send({ topic, acks: -1, messages });
    await producer.disconnect();
  });

  afterAll(async () => {
    await storage?.command(`DROP TABLE IF EXISTS ${predictionsTable(spec.model)}`);
    await storage?.close();
  });

  /** Runs `instances` consumers of a fresh group to the end; returns the snapshots they emitted. */
  async function sketchWith(instances: number): Promise<SketchSnapshot[]> {
    const admin = await connectAdmin(kafka, connect);
    const before = await admin.fetchTopicOffsets(TOPICS.featureSketches);
    await admin.disconnect();
    const groupId = `sketch-${randomUUID()}`;
    const consumers: StoreConsumer[] = [];
    for (let i = 0; i < instances; i++) {
      consumers.push(
        await startStoreConsumer({
          kafka,
          codec,
          storage,
          logger,
          connect,
          groupId,
          topics: [topic],
          batchRows: 500,
          batchMs: 200,
          panes: { paneMs: PANE_MS, allowedLatenessMs: 0 },
          // Only the watermark closes panes here, so the count of snapshots is exact.
          idleCloseMs: 600_000,
        }),
      );
    }
    // 4,000 events over 20 panes, 4 columns (3 numeric, 1 categorical), 2 partitions.
    const expected = 20 * 4 * 2;
    await until(
      () => consumers.reduce((n, c) => n + c.stats().snapshotsEmitted, 0) >= expected,
      `${expected} snapshots from ${instances} consumer(s)`,
      90_000,
    );
    for (const c of consumers) await c.stop();
    const start = new Map(before.map((o) => [o.partition, BigInt(o.offset)]));
    const messages = await readTopic(kafka, TOPICS.featureSketches, () => true, start);
    const snapshots = await Promise.all(messages.map((m) => codec.decode<SketchSnapshot>(m.value as Buffer)));
    return snapshots.filter((s) => s.model_name === spec.model);
  }

  function mergedByPane(snapshots: SketchSnapshot[]): Map<string, NumericSketch> {
    const merged = new Map<string, NumericSketch>();
    for (const snap of snapshots) {
      if (snap.kind !== 'numeric') continue;
      const key = `${snap.column}@${snap.pane_start.getTime()}`;
      const sketch = NumericSketch.fromJSON(numericSketchJsonOf(snap));
      const existing = merged.get(key);
      if (existing) existing.merge(sketch);
      else merged.set(key, sketch);
    }
    return merged;
  }

  it('quantiles of each pane agree with exact quantiles of its events; two consumers merge to one consumer', async () => {
    const single = await sketchWith(1);
    const double = await sketchWith(2);
    expect(single).toHaveLength(160);
    expect(double).toHaveLength(160);
    // Each partition's partial sketches are identical whoever consumed them…
    const byPartition = (snapshots: SketchSnapshot[]) =>
      new Map(
        snapshots.map(
          (snap) => [`${snap.column}@${snap.pane_start.getTime()}#${snap.source_partition}`, snap] as const,
        ),
      );
    const partsOfOne = byPartition(single);
    const partsOfTwo = byPartition(double);
    expect(partsOfOne.size).toBe(160);
    for (const [key, snap] of partsOfOne) {
      const other = partsOfTwo.get(key);
      expect(other && { ...other, late_count: 0 }, key).toEqual({ ...snap, late_count: 0 });
    }

    // …and merged, they give each pane's distribution: merging in any order, the quantiles
    // agree with the exact ones (merge order changes only floating-point rounding).
    const fromOne = mergedByPane(single);
    const fromTwo = mergedByPane(double);
    expect([...fromTwo.keys()].sort()).toEqual([...fromOne.keys()].sort());

    const qs = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99];
    for (const [key, sketch] of [...fromOne, ...fromTwo]) {
      const [column, paneStart] = key.split('@') as [string, string];
      const values = events
        .filter((e) => Math.floor(e.event_time.getTime() / PANE_MS) * PANE_MS === Number(paneStart))
        .map((e) => (column === 'prediction' ? e.prediction : e.features[column]))
        .filter((v): v is number => typeof v === 'number')
        .sort((a, b) => a - b);
      expect(sketch.count, key).toBe(values.length);
      for (const q of qs) {
        // The t-digest (δ = 0.01) bounds the rank error by about 2·δ·q·(1−q), plus one value's
        // share of the pane; on tied (integer) values it may also land between two neighbouring
        // values (NumericSketch's documented behaviour). So the estimate must lie between the
        // exact quantiles at q ± bound, widened by one distinct value on each side.
        const estimate = sketch.quantile(q);
        const bound = 2 * 0.01 * q * (1 - q) + 1 / values.length;
        const n = values.length;
        const lower = values[Math.max(0, Math.floor((q - bound) * n))] as number;
        const upper = values[Math.min(n - 1, Math.ceil((q + bound) * n))] as number;
        const below = values.filter((v) => v < lower).at(-1) ?? lower;
        const above = values.find((v) => v > upper) ?? upper;
        expect(estimate, `${key} q=${q}`).toBeGreaterThanOrEqual(below);
        expect(estimate, `${key} q=${q}`).toBeLessThanOrEqual(above);
      }
    }
    const [stored] = await storage.query<{ n: number }>(
      sql`SELECT count() AS n FROM feature_sketches FINAL WHERE model_name = ${spec.model}`.text,
    );
    expect(Number(stored?.n)).toBe(160);

    // The categorical column: merged category counts per pane equal the exact counts.
    const categoricalPanes = new Map<number, Map<string, number>>();
    for (const snap of single.filter((s) => s.kind === 'categorical')) {
      const counts = categoricalPanes.get(snap.pane_start.getTime()) ?? new Map<string, number>();
      for (const c of snap.categories) counts.set(c.value, (counts.get(c.value) ?? 0) + c.count);
      categoricalPanes.set(snap.pane_start.getTime(), counts);
    }
    expect(categoricalPanes.size).toBe(20);
    for (const [paneStart, counts] of categoricalPanes) {
      const exact = new Map<string, number>();
      for (const e of events.filter((e) => Math.floor(e.event_time.getTime() / PANE_MS) * PANE_MS === paneStart)) {
        const region = e.features.Region as string;
        exact.set(region, (exact.get(region) ?? 0) + 1);
      }
      expect(counts, `Region@${paneStart}`).toEqual(exact);
    }
  });
});

function header(message: KafkaMessage, name: string): string | undefined {
  return message.headers?.[name]?.toString();
}

describe('a model added while the store consumer runs', () => {
  it('is followed: its new predictions topic is subscribed and stored without a restart', async () => {
    const kafka = createKafka({
      brokers: services.kafkaBrokers,
      clientId: 'follow-test',
      connectTimeoutMs: 10_000,
      logger,
    });
    const codec = new AvroCodec({ url: services.schemaRegistryUrl });
    const storage = await openStorage(parseConfig({ CLICKHOUSE_DATABASE: 'driftline_store_test' }), logger, {
      clickhouseUrl: services.clickhouseUrl,
    });
    await migrate(storage);
    const consumer = await startStoreConsumer({
      kafka,
      codec,
      storage,
      logger,
      connect,
      groupId: `follow-${randomUUID()}`,
      batchRows: 500,
      batchMs: 200,
      panes: { paneMs: PANE_MS, allowedLatenessMs: 0 },
      topicRefreshMs: 500,
    });
    const spec = toySpec();
    const topic = predictionsTopic(spec.model);
    try {
      expect(consumer.topics()).not.toContain(topic);
      const { schemaId } = await createModelTopic(kafka, codec, spec, connect, 2);
      const events = makeEvents(spec, 50, 11);
      const producer = createProducer(kafka);
      await producer.connect();
      await producer.send({
        topic,
        acks: -1,
        messages: await Promise.all(events.map(async (e) => ({ value: await codec.encode(schemaId, e) }))),
      });
      await producer.disconnect();

      await until(() => consumer.topics().includes(topic), `a subscription to ${topic}`, 30_000);
      const count = async () =>
        Number(
          (
            await storage
              .query<{ n: number }>(`SELECT count() AS n FROM ${predictionsTable(spec.model)} FINAL`)
              .catch(() => [])
          )[0]?.n ?? 0,
        );
      await until(async () => (await count()) === events.length, `${events.length} rows of the new model`, 60_000);
    } finally {
      await consumer.stop();
      await storage.command(`DROP TABLE IF EXISTS ${predictionsTable(spec.model)}`);
      await storage.close();
    }
  });
});
