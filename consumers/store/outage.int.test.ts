/**
 * A real ClickHouse outage: the store consumer writes to a ClickHouse server of its own (started
 * from the local stack in a home and on ports of this test's), which is stopped mid-stream and
 * started again. Nothing is committed while it is down, and nothing is lost.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Config, parseConfig } from '../../core/config.ts';
import type { ModelSpec } from '../../core/feature-spec.ts';
import { AvroCodec } from '../../core/kafka/avro.ts';
import { createKafka, createProducer } from '../../core/kafka/client.ts';
import { createLogger } from '../../core/logger.ts';
import { migrate } from '../../core/migrations.ts';
import { predictionsTable } from '../../core/prediction-table.ts';
import type { PredictionEvent } from '../../core/schemas.ts';
import { openStorage, type Storage } from '../../core/storage/index.ts';
import { predictionsTopic } from '../../core/topics.ts';
import { stackDown, stackUp } from '../../stack/index.ts';
import { createModelTopic } from '../../test-support/model-topic.ts';
import { until } from '../../test-support/until.ts';
import { type StoreConsumer, startStoreConsumer } from './consumer.ts';

const services = inject('services');
const logger = createLogger('silent');
const connect = { brokers: services.kafkaBrokers, connectTimeoutMs: 10_000, partitions: 1 };
const CLICKHOUSE_ONLY = { services: ['clickhouse'] } as const;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('store consumer during a ClickHouse outage', () => {
  let home: string;
  let stackConfig: Readonly<Config>;
  let kafka: Kafka;
  let codec: AvroCodec;
  let storage: Storage;
  let schemaId: number;
  let consumer: StoreConsumer | undefined;
  const spec: ModelSpec = {
    model: `outage-${randomBytes(4).toString('hex')}`,
    target: 'y',
    features: [{ name: 'x', type: 'double', optional: false }],
  };
  const topic = predictionsTopic(spec.model);

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'dl-outage-'));
    stackConfig = parseConfig(
      {
        DRIFTLINE_HOME: home,
        STACK_CLICKHOUSE_HTTP_PORT: String(await freePort()),
        STACK_CLICKHOUSE_TCP_PORT: String(await freePort()),
      },
      home,
    );
    const { endpoints } = await stackUp(stackConfig, logger, CLICKHOUSE_ONLY);
    storage = await openStorage(parseConfig({ CLICKHOUSE_DATABASE: 'driftline_outage' }), logger, {
      clickhouseUrl: endpoints.clickhouseUrl,
    });
    await migrate(storage);
    kafka = createKafka({ brokers: services.kafkaBrokers, clientId: 'outage-test', connectTimeoutMs: 10_000, logger });
    codec = new AvroCodec({ url: services.schemaRegistryUrl });
    ({ schemaId } = await createModelTopic(kafka, codec, spec, connect, 1));
  });

  afterAll(async () => {
    await consumer?.stop().catch(() => {});
    await storage?.close();
    await stackDown(stackConfig, logger, CLICKHOUSE_ONLY);
    await rm(home, { recursive: true, force: true });
  });

  it('pauses, commits nothing while ClickHouse is down, and stores everything once it is back', async () => {
    const event = (i: number): PredictionEvent => ({
      event_id: randomUUID(),
      model_name: spec.model,
      model_version: 1,
      event_time: new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000 + i * 10),
      features: { x: i },
      prediction: i / 2,
      latency_ms: 0.1,
      entity_id: null,
      segment: null,
    });
    const producer = createProducer(kafka);
    await producer.connect();
    const send = async (from: number, to: number) => {
      const messages = [];
      for (let i = from; i < to; i++) messages.push({ value: await codec.encode(schemaId, event(i)) });
      await producer.send({ topic, acks: -1, messages });
    };
    const count = async () =>
      Number(
        (await storage.query<{ n: number }>(`SELECT count() AS n FROM ${predictionsTable(spec.model)} FINAL`))[0]?.n,
      );
    const groupId = `outage-${randomUUID()}`;
    const committed = async () => {
      const admin = kafka.admin();
      await admin.connect();
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      await admin.disconnect();
      return offsets?.partitions[0]?.offset;
    };

    consumer = await startStoreConsumer({
      kafka,
      codec,
      storage,
      logger,
      connect,
      groupId,
      topics: [topic],
      batchRows: 100,
      batchMs: 100,
      panes: { paneMs: 1_000, allowedLatenessMs: 0 },
      retry: { initialMs: 200, maxMs: 1_000 },
    });
    await send(0, 500);
    await until(async () => (await count().catch(() => 0)) === 500, 'the first 500 rows');
    // Once the last pane has closed (its partition idle for a pane length), all 500 are committed.
    await until(async () => (await committed()) === '500', 'all 500 committed');
    const committedBefore = await committed();

    await stackDown(stackConfig, logger, CLICKHOUSE_ONLY);
    await send(500, 1_000);
    await until(() => consumer?.stats().paused === true, 'the consumer to pause');
    await new Promise((r) => setTimeout(r, 1_500));
    expect(consumer.stats().failedFlushes).toBeGreaterThan(0);
    expect(await committed()).toBe(committedBefore);

    await stackUp(stackConfig, logger, CLICKHOUSE_ONLY);
    await until(async () => (await count().catch(() => 0)) === 1_000, 'all 1,000 rows after the outage');
    await until(() => consumer?.stats().paused === false, 'the consumer to resume');
    await producer.disconnect();
    expect(await count()).toBe(1_000);
  });
});
