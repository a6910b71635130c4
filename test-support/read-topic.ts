import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';

/**
 * Reads a topic from `start` offsets (default: the beginning) up to its end as of the call,
 * keeping the messages `keep` accepts. Fails after `timeoutMs`.
 */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  keep: (m: KafkaMessage) => boolean,
  start?: ReadonlyMap<number, bigint>,
  timeoutMs = 60_000,
): Promise<KafkaMessage[]> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `reader-${randomUUID()}`;
  const ends = await admin.fetchTopicOffsets(topic);
  const from = (partition: number, low: bigint) => start?.get(partition) ?? low;
  const remaining = new Map(
    ends.filter((o) => BigInt(o.high) > from(o.partition, BigInt(o.low))).map((o) => [o.partition, BigInt(o.high)]),
  );
  // The reader's group starts at the given offsets: a shared topic (dead letters) can hold
  // millions of older messages that reading from the beginning would wade through.
  if (start && start.size > 0) {
    const partitions = [...start].map(([partition, offset]) => ({ partition, offset: offset.toString() }));
    await admin.setOffsets({ groupId, topic, partitions });
  }
  await admin.disconnect();
  const out: KafkaMessage[] = [];
  if (remaining.size === 0) return out;
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        if (BigInt(message.offset) >= from(partition, 0n) && keep(message)) out.push(message);
        const end = remaining.get(partition);
        if (end !== undefined && BigInt(message.offset) + 1n >= end) remaining.delete(partition);
        if (remaining.size === 0) resolve();
      },
    });
  });
  try {
    await Promise.race([
      done,
      new Promise((_, reject) => setTimeout(() => reject(new Error(`reading ${topic} timed out`)), timeoutMs)),
    ]);
  } finally {
    await consumer.disconnect();
  }
  return out;
}
