/**
 * What most commands need before they work: services resolved (environment, containers or the
 * local stack), a kafkajs client and the Avro codec, built once per command.
 */
import type { Kafka } from 'kafkajs';
import type { Config } from '../core/config.ts';
import { AvroCodec } from '../core/kafka/avro.ts';
import { createKafka } from '../core/kafka/client.ts';
import type { Logger } from '../core/logger.ts';
import { migrate } from '../core/migrations.ts';
import { openStorage, type Storage } from '../core/storage/index.ts';
import { type ResolvedServices, resolveServices, type ServiceNeeds } from './services.ts';

export interface Runtime {
  services: ResolvedServices;
  kafka: Kafka;
  codec: AvroCodec;
  /** The options `connectAdmin`/`ensureTopics` users take. */
  connect: { brokers: string[]; connectTimeoutMs: number; partitions: number };
}

export async function startRuntime(
  config: Readonly<Config>,
  logger: Logger,
  needs: ServiceNeeds = { kafka: true, registry: true, clickhouseServer: false },
): Promise<Runtime> {
  const services = await resolveServices(config, logger, needs);
  const kafka = createKafka({
    brokers: services.kafkaBrokers,
    clientId: config.kafkaClientId,
    connectTimeoutMs: config.kafkaConnectTimeoutMs,
    logger,
  });
  const codec = new AvroCodec({
    url: services.schemaRegistryUrl,
    username: config.schemaRegistryUsername,
    password: config.schemaRegistryPassword,
  });
  return {
    services,
    kafka,
    codec,
    connect: {
      brokers: services.kafkaBrokers,
      connectTimeoutMs: config.kafkaConnectTimeoutMs,
      partitions: config.kafkaTopicPartitions,
    },
  };
}

/**
 * The ClickHouse every service that writes uses: the runtime's server when it resolved one, else
 * what the configuration says (embedded chDB), with the versioned DDL applied.
 */
export async function openMigratedStorage(
  config: Readonly<Config>,
  logger: Logger,
  runtime: Runtime,
): Promise<Storage> {
  const storage = await openStorage(
    config,
    logger,
    runtime.services.clickhouseUrl ? { clickhouseUrl: runtime.services.clickhouseUrl } : {},
  );
  await migrate(storage);
  return storage;
}

/** Resolves when the process is asked to stop (SIGINT/SIGTERM). */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
