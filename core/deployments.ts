/**
 * `model-deployments`: the event that tells every predict service to serve another version.
 */
import type { Kafka } from 'kafkajs';
import type { AvroCodec } from './kafka/avro.ts';
import { connectAdmin, createProducer, ensureTopics } from './kafka/client.ts';
import { type ModelDeployment, modelDeploymentSchema } from './schemas.ts';
import { TOPICS, valueSubject } from './topics.ts';

export async function publishDeployment(
  kafka: Kafka,
  codec: AvroCodec,
  deployment: ModelDeployment,
  options: { brokers: readonly string[]; connectTimeoutMs: number; partitions: number },
): Promise<void> {
  const admin = await connectAdmin(kafka, options);
  try {
    // One partition: deployments of a model must be seen in the order they were made.
    await ensureTopics(admin, [{ topic: TOPICS.modelDeployments, partitions: 1 }], options.partitions);
  } finally {
    await admin.disconnect();
  }
  const schemaId = await codec.register(valueSubject(TOPICS.modelDeployments), modelDeploymentSchema());
  const producer = createProducer(kafka);
  await producer.connect();
  try {
    await producer.send({
      topic: TOPICS.modelDeployments,
      acks: -1,
      messages: [{ key: deployment.model_name, value: await codec.encode(schemaId, deployment) }],
    });
  } finally {
    await producer.disconnect();
  }
}
