/**
 * Follows `model-deployments` and hands each new version of the served model to `deploy`,
 * which checks it and swaps it in or refuses it. Every service instance must see every
 * deployment, so each uses a consumer group of its own.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { AvroCodec } from '../../core/kafka/avro.ts';
import { connectAdmin, ensureTopics } from '../../core/kafka/client.ts';
import type { Logger } from '../../core/logger.ts';
import type { ModelDeployment } from '../../core/schemas.ts';
import { TOPICS } from '../../core/topics.ts';

export interface FollowOptions {
  kafka: Kafka;
  brokers: readonly string[];
  connectTimeoutMs: number;
  partitions: number;
  codec: AvroCodec;
  model: string;
  /**
   * Loads a version, checks it and swaps it in, or refuses it and keeps the current one
   * (PredictService.deploy); deployments are handed over one at a time, in order.
   */
  deploy(version: number): Promise<unknown>;
  logger: Logger;
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
      log.info({ version: deployment.model_version, action: deployment.action }, 'deployment received');
      try {
        await options.deploy(deployment.model_version);
      } catch (error) {
        // Keep following: a bad deployment must not stop the service from seeing the next one.
        log.error({ err: error, version: deployment.model_version }, 'deploying the version failed');
      }
    },
  });
  return { close: () => consumer.disconnect() };
}
