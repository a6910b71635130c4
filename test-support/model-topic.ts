import type { Kafka } from 'kafkajs';
import type { ModelSpec } from '../core/feature-spec.ts';
import type { AvroCodec } from '../core/kafka/avro.ts';
import { connectAdmin, ensureTopics } from '../core/kafka/client.ts';
import { predictionEventSchema } from '../core/schemas.ts';
import { predictionsTopic, valueSubject } from '../core/topics.ts';

/** A model's predictions topic with `partitions` partitions and its schema registered. */
export async function createModelTopic(
  kafka: Kafka,
  codec: AvroCodec,
  spec: ModelSpec,
  connect: { brokers: readonly string[]; connectTimeoutMs: number },
  partitions: number,
): Promise<{ topic: string; schemaId: number }> {
  const topic = predictionsTopic(spec.model);
  const admin = await connectAdmin(kafka, connect);
  try {
    await ensureTopics(admin, [{ topic, partitions }], partitions);
  } finally {
    await admin.disconnect();
  }
  return { topic, schemaId: await codec.register(valueSubject(topic), predictionEventSchema(spec)) };
}
