/**
 * What the Kafka-reading benches share: a fresh topic of California-housing-shaped prediction
 * events (8 numeric features, Avro through the registry), produced 10 ms of event time apart.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { ModelSpec } from '../core/feature-spec.ts';
import type { AvroCodec } from '../core/kafka/avro.ts';
import { createProducer } from '../core/kafka/client.ts';
import { mulberry32 } from '../core/random.ts';
import type { PredictionEvent } from '../core/schemas.ts';
import { CALIFORNIA_FEATURES } from '../model/dataset.ts';
import { createModelTopic } from '../test-support/model-topic.ts';

/** Event time between consecutive events. */
export const EVENT_SPACING_MS = 10;

/** A model of the housing features under a fresh name starting with `prefix`. */
function housingSpec(prefix: string): ModelSpec {
  return {
    model: `${prefix}-${randomBytes(3).toString('hex')}`,
    target: 'MedHouseVal',
    features: CALIFORNIA_FEATURES.map((name) => ({ name, type: 'double' as const, optional: false })),
  };
}

function housingEvent(spec: ModelSpec, i: number, random: () => number, base: number): PredictionEvent {
  const medInc = 0.5 + -Math.log(1 - random()) * 3;
  const rooms = 3 + random() * 5;
  return {
    event_id: randomUUID(),
    model_name: spec.model,
    model_version: 1,
    event_time: new Date(base + i * EVENT_SPACING_MS),
    features: {
      MedInc: medInc,
      HouseAge: Math.round(1 + random() * 51),
      AveRooms: rooms,
      AveBedrms: rooms * (0.18 + random() * 0.06),
      Population: Math.round(-Math.log(1 - random()) * 1400),
      AveOccup: 2 + random() * 2,
      Latitude: 32.5 + random() * 9.5,
      Longitude: -124.3 + random() * 10,
    },
    prediction: 0.4 * medInc + 0.3,
    latency_ms: 0.3 + random(),
    entity_id: null,
    segment: null,
  };
}

/** A fresh model topic of `partitions` holding `events` housing events; its spec, name and schema. */
export async function housingTopic(
  runtime: { kafka: Kafka; codec: AvroCodec; connect: { brokers: readonly string[]; connectTimeoutMs: number } },
  prefix: string,
  partitions: number,
  events: number,
): Promise<{ spec: ModelSpec; topic: string; schemaId: number }> {
  const { kafka, codec } = runtime;
  const spec = housingSpec(prefix);
  const { topic, schemaId } = await createModelTopic(kafka, codec, spec, runtime.connect, partitions);
  await produceHousingEvents(kafka, codec, { spec, topic, schemaId, partitions }, events);
  return { spec, topic, schemaId };
}

/**
 * Produces `events` events to `topic`, round-robin over `partitions`, from a recent past hour on
 * (about 33 one-minute panes at 200,000).
 */
async function produceHousingEvents(
  kafka: Kafka,
  codec: AvroCodec,
  target: { spec: ModelSpec; topic: string; schemaId: number; partitions: number },
  events: number,
): Promise<void> {
  const base = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 2 * 3_600_000;
  const random = mulberry32(42);
  const producer = createProducer(kafka);
  await producer.connect();
  try {
    for (let start = 0; start < events; start += 5_000) {
      const chunk = [];
      for (let i = start; i < Math.min(events, start + 5_000); i++) {
        const value = await codec.encode(target.schemaId, housingEvent(target.spec, i, random, base));
        chunk.push({ partition: i % target.partitions, value });
      }
      await producer.send({ topic: target.topic, acks: -1, messages: chunk });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Polls `condition` every 2 ms until it holds; throws after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Deletes the bench's topic: a store that follows every predictions topic would read it. */
export async function deleteTopic(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();
}
