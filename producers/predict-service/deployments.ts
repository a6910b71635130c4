/**
 * Follows `model-deployments` and swaps the served model when its model gets a new version.
 * Every service instance must see every deployment, so each uses a consumer group of its own.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { AvroCodec } from '../../core/kafka/avro.ts';
import { connectAdmin, ensureTopics } from '../../core/kafka/client.ts';
import type { Logger } from '../../core/logger.ts';
import type { ModelDeployment } from '../../core/schemas.ts';
import { TOPICS } from '../../core/topics.ts';
import type { ModelSlot, ServingModel } from './model-slot.ts';

export interface FollowOptions {
  kafka: Kafka;
  brokers: readonly string[];
  connectTimeoutMs: number;
  partitions: number;
  codec: AvroCodec;
  model: string;
  slot: ModelSlot;
  /** Loads a version completely (weights in memory) before it is swapped in. */
  load(version: number): Promise<ServingModel>;
  logger: Logger;
  /** Called after each swap (tests and metrics). */
  onSwap?(model: ServingModel): void;
}

export async function followDeployments(options: FollowOptions): Promise<{ close(): Promise<void> }> {
  const log = options.logger.child({ component: 'deployments' });
  const admin = await connectAdmin(options.kafka, options);
  // Deployments made before start-up are already reflected in what the service loaded; read
  // from the beginning but act only from the end offsets seen now, so nothing made after this
  // point can be missed (a fresh group's "latest" is resolved later, racily).
  let startOffsets: Map<number, bigint>;
  try {
    await ensureTopics(admin, [{ topic: TOPICS.modelDeployments, partitions: 1 }], options.partitions);
    const offsets = await admin.fetchTopicOffsets(TOPICS.modelDeployments);
    startOffsets = new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  } finally {
    await admin.disconnect();
  }
  const consumer = options.kafka.consumer({ groupId: `predict-service.${options.model}.${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPICS.modelDeployments, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      if (!message.value || BigInt(message.offset) < (startOffsets.get(partition) ?? 0n)) return;
      const deployment = await options.codec
        .decode<ModelDeployment>(message.value, { topic: TOPICS.modelDeployments, partition, offset: message.offset })
        .catch((error: unknown) => {
          log.error({ err: error, offset: message.offset }, 'undecodable deployment event skipped');
          return undefined;
        });
      if (!deployment || deployment.model_name !== options.model) return;
      if (deployment.model_version === options.slot.current?.version) return;
      try {
        const next = await options.load(deployment.model_version);
        options.slot.swap(next);
        log.info({ version: next.version, action: deployment.action }, 'model swapped');
        options.onSwap?.(next);
      } catch (error) {
        // Keep serving the current version: a bad deployment must not take the service down.
        log.error({ err: error, version: deployment.model_version }, 'loading the deployed version failed');
      }
    },
  });
  return { close: () => consumer.disconnect() };
}
