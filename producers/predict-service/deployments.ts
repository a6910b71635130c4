/**
 * Follows `model-deployments` and hands each new version of the served model to `deploy`,
 * which checks it and swaps it in or refuses it. Every service instance must see every
 * deployment, so each uses a consumer group of its own, removed again on close.
 *
 * Start-up order matters: take the topic's end offsets (`deploymentsEndOffsets`) first, then
 * read the version to serve, then follow from those offsets. A deployment made after the
 * offsets were taken, even while the version is being read, is then applied (or found to be
 * the version already served); taken after the read, it could fall in between and be missed.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { AvroCodec } from '../../core/kafka/avro.ts';
import { connectAdmin, ensureTopics } from '../../core/kafka/client.ts';
import type { Logger } from '../../core/logger.ts';
import type { ModelDeployment } from '../../core/schemas.ts';
import { TOPICS } from '../../core/topics.ts';

export interface DeploymentsTopicOptions {
  kafka: Kafka;
  brokers: readonly string[];
  connectTimeoutMs: number;
  partitions: number;
}

export interface FollowOptions extends DeploymentsTopicOptions {
  codec: AvroCodec;
  model: string;
  /**
   * From `deploymentsEndOffsets`, taken before the served version was read: deployments from
   * here on are applied; earlier ones are already reflected in what the service loaded.
   */
  startOffsets: ReadonlyMap<number, bigint>;
  /**
   * Loads a version, checks it and swaps it in, or refuses it and keeps the current one
   * (PredictService.deploy); deployments are handed over one at a time, in order.
   */
  deploy(version: number): Promise<unknown>;
  logger: Logger;
}

export interface DeploymentFollower {
  /** This instance's own consumer group, `predict-service.<model>.<uuid>`. */
  readonly groupId: string;
  /** Stops following and removes the consumer group (a failure to remove it is logged). */
  close(): Promise<void>;
}

/**
 * The end offsets of `model-deployments` now (the topic is created if missing). Explicit
 * offsets rather than a fresh group's "latest", which is resolved later, racily.
 */
export async function deploymentsEndOffsets(options: DeploymentsTopicOptions): Promise<Map<number, bigint>> {
  const admin = await connectAdmin(options.kafka, options);
  try {
    await ensureTopics(admin, [{ topic: TOPICS.modelDeployments, partitions: 1 }], options.partitions);
    const offsets = await admin.fetchTopicOffsets(TOPICS.modelDeployments);
    return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  } finally {
    await admin.disconnect();
  }
}

export async function followDeployments(options: FollowOptions): Promise<DeploymentFollower> {
  const log = options.logger.child({ component: 'deployments' });
  const { startOffsets } = options;
  const groupId = `predict-service.${options.model}.${randomUUID()}`;
  const consumer = options.kafka.consumer({ groupId });
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
  return {
    groupId,
    async close() {
      await consumer.disconnect();
      // The group holds no state worth keeping (offsets are chosen at start), and a new one is
      // made per start; left behind, they pile up. A crashed instance still leaves its group,
      // empty, for the broker to expire (offsets.retention.minutes) or an operator to delete.
      try {
        const admin = await connectAdmin(options.kafka, options);
        try {
          await admin.deleteGroups([groupId]);
        } finally {
          await admin.disconnect();
        }
      } catch (error) {
        log.warn({ err: error, groupId }, 'removing the consumer group failed; it stays behind, empty');
      }
    },
  };
}
