/**
 * What a pipeline test talks to: a Kafka client, the Avro codec on the schema registry, the shared
 * topics it needs, and a migrated ClickHouse database of its own (the 18.16 server).
 */
import type { Kafka } from 'kafkajs';
import { inject } from 'vitest';
import { parseConfig } from '../core/config.ts';
import { AvroCodec } from '../core/kafka/avro.ts';
import { connectAdmin, createKafka, ensureTopics } from '../core/kafka/client.ts';
import type { Logger } from '../core/logger.ts';
import { migrate } from '../core/migrations.ts';
import { openStorage, type Storage } from '../core/storage/index.ts';

export interface PipelineServices {
  kafka: Kafka;
  codec: AvroCodec;
  storage: Storage;
}

export async function openPipelineServices(options: {
  clientId: string;
  database: string;
  topics: readonly string[];
  partitions: number;
  logger: Logger;
}): Promise<PipelineServices> {
  const services = inject('services');
  const { logger } = options;
  const kafka = createKafka({
    brokers: services.kafkaBrokers,
    clientId: options.clientId,
    connectTimeoutMs: 10_000,
    logger,
  });
  const codec = new AvroCodec({ url: services.schemaRegistryUrl });
  const connect = { brokers: services.kafkaBrokers, connectTimeoutMs: 10_000 };
  const admin = await connectAdmin(kafka, connect);
  try {
    await ensureTopics(
      admin,
      options.topics.map((topic) => ({ topic })),
      options.partitions,
    );
  } finally {
    await admin.disconnect();
  }
  const storage = await openStorage(parseConfig({ CLICKHOUSE_DATABASE: options.database }), logger, {
    clickhouseUrl: services.clickhouseUrl,
  });
  await migrate(storage);
  return { kafka, codec, storage };
}
