/**
 * Reading a model's drift events back in a test: where `drift-events` ends before the test
 * produces anything, and the model's events after that, decoded and in window order.
 */
import type { Admin, Kafka } from 'kafkajs';
import type { AvroCodec } from '../core/kafka/avro.ts';
import type { DriftEvent } from '../core/schemas.ts';
import { TOPICS } from '../core/topics.ts';
import { readTopic } from './read-topic.ts';

/** The end of `drift-events` per partition now: events from there on are this test's. */
export async function driftEventsEnd(admin: Admin): Promise<Map<number, bigint>> {
  return new Map((await admin.fetchTopicOffsets(TOPICS.driftEvents)).map((o) => [o.partition, BigInt(o.high)]));
}

/** The model's drift events produced since `from`, by window end, then version, then revision. */
export async function readDriftEvents(
  kafka: Kafka,
  codec: AvroCodec,
  model: string,
  from: ReadonlyMap<number, bigint>,
): Promise<DriftEvent[]> {
  const messages = await readTopic(kafka, TOPICS.driftEvents, (m) => m.key?.toString() === model, from);
  const events = await Promise.all(messages.map((m) => codec.decode<DriftEvent>(m.value as Buffer)));
  return events.sort(
    (a, b) =>
      a.window_end.getTime() - b.window_end.getTime() ||
      a.model_version - b.model_version ||
      (a.revision ?? 0) - (b.revision ?? 0),
  );
}
