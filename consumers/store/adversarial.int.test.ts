/**
 * Events a direct producer can write that the predict service would never send: each is stored
 * or dead-lettered with its reason, and the good events behind them (same partition) are stored
 * within seconds and on time — one bad event never stalls a partition or turns its sketches off.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../../core/config.ts';
import type { ModelSpec } from '../../core/feature-spec.ts';
import { AvroCodec } from '../../core/kafka/avro.ts';
import { createKafka, createProducer } from '../../core/kafka/client.ts';
import { createLogger } from '../../core/logger.ts';
import { migrate } from '../../core/migrations.ts';
import { predictionsTable } from '../../core/prediction-table.ts';
import type { PredictionEvent } from '../../core/schemas.ts';
import { identifier, openStorage, type Storage, sql } from '../../core/storage/index.ts';
import { TOPICS } from '../../core/topics.ts';
import { createModelTopic } from '../../test-support/model-topic.ts';
import { readTopic } from '../../test-support/read-topic.ts';
import { until } from '../../test-support/until.ts';
import { type StoreConsumer, startStoreConsumer } from './consumer.ts';

const services = inject('services');
const logger = createLogger('silent');
const connect = { brokers: services.kafkaBrokers, connectTimeoutMs: 10_000, partitions: 1 };
const PANE_MS = 10_000;

const header = (m: KafkaMessage, name: string) => m.headers?.[name]?.toString();

describe.each([['server'], ['embedded']] as const)('adversarial events on ClickHouse %s', (kind) => {
  let kafka: Kafka;
  let codec: AvroCodec;
  let storage: Storage;
  let schemaId: number;
  let consumer: StoreConsumer | undefined;
  const spec: ModelSpec = {
    model: `adversarial-${randomBytes(4).toString('hex')}`,
    target: 'y',
    features: [
      { name: 'x', type: 'double', optional: false },
      { name: 'region', type: 'string', optional: false },
    ],
  };
  let topic: string;

  beforeAll(async () => {
    kafka = createKafka({ brokers: services.kafkaBrokers, clientId: 'adversarial', connectTimeoutMs: 10_000, logger });
    codec = new AvroCodec({ url: services.schemaRegistryUrl });
    ({ topic, schemaId } = await createModelTopic(kafka, codec, spec, connect, 1));
    storage = await openStorage(
      parseConfig({ CLICKHOUSE_DATABASE: 'driftline_adversarial_test', LOG_LEVEL: 'silent' }),
      logger,
      kind === 'server'
        ? { clickhouseUrl: services.clickhouseUrl }
        : { chdbPath: mkdtempSync(join(tmpdir(), 'dl-chdb-')) },
    );
    await migrate(storage);
  });

  afterAll(async () => {
    await consumer?.stop().catch(() => {});
    await storage?.command(`DROP TABLE IF EXISTS ${predictionsTable(spec.model)}`);
    await storage?.close();
  });

  it('stores or dead-letters each bad event, and the good ones after them are stored on time', async () => {
    const now = Date.now();
    const event = (overrides: Partial<PredictionEvent> = {}): PredictionEvent => ({
      event_id: randomUUID(),
      model_name: spec.model,
      model_version: 1,
      event_time: new Date(now - 1_000),
      features: { x: 1.5, region: 'north' },
      prediction: 0.5,
      latency_ms: 0.1,
      entity_id: null,
      segment: null,
      ...overrides,
    });
    const parked = {
      farFuture: event({ event_time: new Date('9999-12-31T00:00:00Z') }),
      pastSkew: event({ event_time: new Date(now + 3_600_000) }),
      before1970: event({ event_time: new Date('1960-06-01T00:00:00Z') }),
      tooOld: event({ event_time: new Date(now - 90 * 86_400_000) }),
      huge: event({ features: { x: 1e200, region: 'north' } }),
      nanPrediction: event({ prediction: Number.NaN }),
      longCategory: event({ features: { x: 1, region: 'r'.repeat(10_000) } }),
      longEntity: event({ entity_id: 'e'.repeat(5_000) }),
      negativeVersion: event({ model_version: -3 }),
    };
    const stored = {
      nan: event({ features: { x: Number.NaN, region: 'north' } }),
      inf: event({ features: { x: Number.NEGATIVE_INFINITY, region: 'south' } }),
      hostile: event({ segment: "'); DROP TABLE ground_truth; --\u0001\u0007\t\n", entity_id: 'a\u0000b' }),
    };
    const good = Array.from({ length: 50 }, (_, i) => event({ event_time: new Date(now - 500 + i) }));

    // Dead letters are read from here on: the shared topic may hold many older ones.
    const admin = kafka.admin();
    await admin.connect();
    const lettersBefore = await admin.fetchTopicOffsets(TOPICS.deadLetter).catch(() => []);
    await admin.disconnect();

    const producer = createProducer(kafka);
    await producer.connect();
    const encoded = async (e: PredictionEvent) => ({ key: e.event_id, value: await codec.encode(schemaId, e) });
    await producer.send({
      topic,
      acks: -1,
      messages: [
        ...(await Promise.all(Object.values(parked).map(encoded))),
        { key: 'random-bytes', value: randomBytes(64) },
        ...(await Promise.all(Object.values(stored).map(encoded))),
        ...(await Promise.all(good.map(encoded))),
      ],
    });
    await producer.disconnect();

    consumer = await startStoreConsumer({
      kafka,
      codec,
      storage,
      logger,
      connect,
      groupId: `adversarial-${randomUUID()}`,
      topics: [topic],
      batchRows: 1_000,
      batchMs: 200,
      panes: { paneMs: PANE_MS, allowedLatenessMs: 0 },
      retry: { initialMs: 100, maxMs: 1_000 },
    });
    const table = identifier(predictionsTable(spec.model));
    const started = Date.now();
    await until(
      async () => {
        const rows = await storage
          .query<{ n: number }>(`SELECT count() AS n FROM ${table.text} FINAL WHERE late = 0`)
          .catch(() => [{ n: 0 }]);
        return Number(rows[0]?.n) === good.length + Object.keys(stored).length;
      },
      'the good events after the bad ones',
      30_000,
    );
    // Every good event is on time: the far-future event moved no watermark.
    expect(Date.now() - started).toBeLessThan(30_000);
    const late = await storage.query<{ n: number }>(`SELECT count() AS n FROM ${table.text} FINAL WHERE late = 1`);
    expect(Number(late[0]?.n)).toBe(0);

    // NaN and −Infinity are stored as they are; hostile strings are stored verbatim.
    // JSON output has no NaN or Infinity: ask ClickHouse what it stored.
    const rows = await storage.query<{
      event_id: string;
      nan: number;
      inf: number;
      negative: number;
      segment: string | null;
      entity_id: string;
    }>(
      sql`SELECT event_id, isNaN(x) AS nan, isInfinite(x) AS inf, x < 0 AS negative, segment, entity_id FROM ${table} FINAL WHERE event_id IN (${stored.nan.event_id}, ${stored.inf.event_id}, ${stored.hostile.event_id})`
        .text,
    );
    const byId = new Map(rows.map((r) => [r.event_id, r]));
    expect(Number(byId.get(stored.nan.event_id)?.nan)).toBe(1);
    expect(Number(byId.get(stored.inf.event_id)?.inf)).toBe(1);
    expect(Number(byId.get(stored.inf.event_id)?.negative)).toBe(1);
    expect(byId.get(stored.hostile.event_id)?.segment).toBe(stored.hostile.segment);
    expect(byId.get(stored.hostile.event_id)?.entity_id).toBe('a\u0000b');
    const tables = await storage.query<{ n: number }>(
      sql`SELECT count() AS n FROM system.tables WHERE database = ${storage.database} AND name = 'ground_truth'`.text,
    );
    expect(Number(tables[0]?.n)).toBe(1);

    // Each bad event is in the dead-letter topic with a reason that names the field.
    await until(() => consumer?.stats().deadLettered === Object.keys(parked).length + 1, 'dead letters counted');
    const letters = await readTopic(
      kafka,
      TOPICS.deadLetter,
      (m) => header(m, 'dl-topic') === topic,
      new Map(lettersBefore.map((o) => [o.partition, BigInt(o.offset)])),
    );
    const reasonOf = (e: PredictionEvent) =>
      header(letters.find((m) => m.key?.toString() === e.event_id) as KafkaMessage, 'dl-reason');
    expect(reasonOf(parked.farFuture)).toMatch(/^event_time must be between 1970-01-01 and 2106-02-07/);
    expect(reasonOf(parked.pastSkew)).toMatch(/^event_time is 60 minutes ahead of the time it was sent/);
    expect(reasonOf(parked.before1970)).toMatch(/^event_time must be between/);
    expect(reasonOf(parked.tooOld)).toMatch(/^event_time is 90 days older than the time it was sent/);
    expect(reasonOf(parked.huge)).toBe('features.x must be within ±1e15; got 1e+200');
    expect(reasonOf(parked.nanPrediction)).toBe('prediction must be a finite number; got NaN');
    expect(reasonOf(parked.longCategory)).toBe('features.region must be at most 256 characters; got 10000');
    expect(reasonOf(parked.longEntity)).toBe('entity_id must be at most 256 characters; got 5000');
    expect(reasonOf(parked.negativeVersion)).toMatch(/^model_version must be a whole number from 1/);
    for (const e of Object.values(parked)) {
      const letter = letters.find((m) => m.key?.toString() === e.event_id);
      expect(header(letter as KafkaMessage, 'dl-error-code')).toBe('DL_EVENT_INVALID');
    }
    const noise = letters.find((m) => m.key?.toString() === 'random-bytes');
    expect(header(noise as KafkaMessage, 'dl-error-code')).toBe('DL_DECODE_FAILED');

    // Sketches stay on: the good events' pane closes at the end of the input, with NaN counted apart.
    await consumer.flush({ closeOpenPanes: true });
    const sketches = await storage.query<{ count: number; nonfinite_count: number; late_count: number }>(
      sql`SELECT sum(count) AS count, sum(nonfinite_count) AS nonfinite_count, sum(late_count) AS late_count FROM feature_sketches FINAL WHERE model_name = ${spec.model} AND column_name = 'x'`
        .text,
    );
    expect(Number(sketches[0]?.count)).toBe(good.length + 1); // the hostile-string event has x = 1.5
    expect(Number(sketches[0]?.nonfinite_count)).toBe(2);
    expect(Number(sketches[0]?.late_count)).toBe(0);
  });
});
