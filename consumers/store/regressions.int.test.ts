/**
 * Regressions of the store consumer found by running the real code: each test failed before its
 * fix. Real Kafka, registry and ClickHouse; the only thing simulated is a registry blip, by a
 * codec that fails once the way an unreachable registry does.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../../core/config.ts';
import { DriftlineError, ErrorCode } from '../../core/errors.ts';
import type { ModelSpec } from '../../core/feature-spec.ts';
import { AvroCodec } from '../../core/kafka/avro.ts';
import { createKafka, createProducer } from '../../core/kafka/client.ts';
import { createLogger } from '../../core/logger.ts';
import { migrate } from '../../core/migrations.ts';
import { predictionsTable } from '../../core/prediction-table.ts';
import type { PredictionEvent } from '../../core/schemas.ts';
import { openStorage, type Storage } from '../../core/storage/index.ts';
import { createModelTopic } from '../../test-support/model-topic.ts';
import { until } from '../../test-support/until.ts';
import { type StoreConsumer, type StoreConsumerOptions, startStoreConsumer } from './consumer.ts';

const services = inject('services');
const logger = createLogger('silent');
const connect = { brokers: services.kafkaBrokers, connectTimeoutMs: 10_000, partitions: 1 };

describe('store consumer regressions', () => {
  let kafka: Kafka;
  let codec: AvroCodec;
  let storage: Storage;
  const consumers: StoreConsumer[] = [];

  beforeAll(async () => {
    kafka = createKafka({
      brokers: services.kafkaBrokers,
      clientId: 'store-regressions',
      connectTimeoutMs: 10_000,
      logger,
    });
    codec = new AvroCodec({ url: services.schemaRegistryUrl });
    storage = await openStorage(parseConfig({ CLICKHOUSE_DATABASE: 'driftline_store_test' }), logger, {
      clickhouseUrl: services.clickhouseUrl,
    });
    await migrate(storage);
  });

  afterAll(async () => {
    for (const c of consumers) await c.abort().catch(() => {});
    await storage?.close();
  });

  async function modelWithEvents(n: number) {
    const spec: ModelSpec = {
      model: `regress-${randomBytes(4).toString('hex')}`,
      target: 'y',
      features: [{ name: 'x', type: 'double', optional: false }],
    };
    const { topic, schemaId } = await createModelTopic(kafka, codec, spec, connect, 1);
    const now = Date.now();
    const events: PredictionEvent[] = Array.from({ length: n }, (_, i) => ({
      event_id: randomUUID(),
      model_name: spec.model,
      model_version: 1,
      event_time: new Date(now - 60_000 + i),
      features: { x: i },
      prediction: i,
      latency_ms: 0.1,
      entity_id: null,
      segment: null,
    }));
    const producer = createProducer(kafka);
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: await Promise.all(events.map(async (e) => ({ value: await codec.encode(schemaId, e) }))),
    });
    await producer.disconnect();
    const count = async () =>
      Number(
        (
          await storage
            .query<{ n: number }>(`SELECT count() AS n FROM ${predictionsTable(spec.model)} FINAL`)
            .catch(() => [{ n: 0 }])
        )[0]?.n,
      );
    return { spec, topic, events, count };
  }

  async function start(topic: string, overrides: Partial<StoreConsumerOptions> = {}): Promise<StoreConsumer> {
    const consumer = await startStoreConsumer({
      kafka,
      codec,
      storage,
      logger,
      connect,
      groupId: `regress-${randomUUID()}`,
      topics: [topic],
      batchRows: 1_000,
      batchMs: 100,
      panes: { paneMs: 10_000, allowedLatenessMs: 0 },
      retry: { initialMs: 100, maxMs: 500 },
      ...overrides,
    });
    consumers.push(consumer);
    return consumer;
  }

  it('a message whose decoding hit a registry outage is read again and stored, not skipped', async () => {
    const { topic, events, count } = await modelWithEvents(20);
    // The registry is "down" for the 8th message, once.
    let failed = false;
    const flaky = Object.create(codec) as AvroCodec;
    let decodes = 0;
    // Every message through the registry client, as the first message of each schema goes.
    flaky.decodeKnown = () => undefined;
    flaky.decode = async <T>(value: Buffer, origin?: Parameters<AvroCodec['decode']>[1]): Promise<T> => {
      decodes++;
      if (decodes === 8 && !failed) {
        failed = true;
        throw new DriftlineError(ErrorCode.REGISTRY_UNAVAILABLE, 'registry unreachable (simulated)', {
          retriable: true,
        });
      }
      return codec.decode<T>(value, origin);
    };
    await start(topic, { codec: flaky });
    await until(async () => (await count()) === events.length, 'every event stored', 30_000);
    expect(failed).toBe(true);
    expect(await count()).toBe(events.length);
  });

  it('a graceful stop flushes and commits what it consumed', async () => {
    const { topic, events, count } = await modelWithEvents(30);
    // Batches never fill and never age: only stop() flushes.
    const groupId = `regress-stop-${randomUUID()}`;
    const consumer = await start(topic, { groupId, batchRows: 100_000, batchMs: 600_000 });
    await until(() => consumer.stats().commits === 0 && consumersHaveRead(consumer), 'messages consumed', 30_000);
    expect(await count()).toBe(0);
    await consumer.stop();
    expect(await count()).toBe(events.length);
    const admin = kafka.admin();
    await admin.connect();
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    await admin.disconnect();
    // The pane is still open, so the commit stays at its first message, with the pane state.
    const partition = offsets?.partitions[0];
    expect(partition?.offset).toBe('0');
    expect(partition?.metadata).toContain('"v":2');
  });
});

/** The consumer has taken messages in (they wait in its buffers). */
function consumersHaveRead(consumer: StoreConsumer): boolean {
  return consumer.stats().bufferedRows > 0;
}
