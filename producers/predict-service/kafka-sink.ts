/**
 * The predict service's Kafka side: Avro-encodes prediction and ground-truth events and sends
 * them in batches shared by concurrent requests; each request's promise resolves on the ack
 * (acks=all) of the batch that carried its event, and rejects alone when its event cannot be
 * encoded.
 */
import type { Kafka, Producer } from 'kafkajs';
import { DriftlineError, ErrorCode } from '../../core/errors.ts';
import type { ModelSpec } from '../../core/feature-spec.ts';
import type { AvroCodec } from '../../core/kafka/avro.ts';
import { connectAdmin, createProducer, ensureTopics } from '../../core/kafka/client.ts';
import type { Logger } from '../../core/logger.ts';
import { groundTruthSchema, predictionEventSchema } from '../../core/schemas.ts';
import { predictionsTopic, TOPICS, valueSubject } from '../../core/topics.ts';
import type { EventSink } from '../../model/scoring.ts';
import { Batcher } from './batcher.ts';

export interface KafkaSinkOptions {
  kafka: Kafka;
  brokers: readonly string[];
  connectTimeoutMs: number;
  codec: AvroCodec;
  /**
   * The spec the sink starts with: its model names the topic, and events of a version never
   * given to `registerVersion` are encoded with its schema (a producer of one fixed version).
   */
  spec: ModelSpec;
  partitions: number;
  logger: Logger;
  /** Producer batching across requests. */
  maxBatch?: number;
  lingerMs?: number;
  maxPending?: number;
}

/** A Kafka message ready to send: the event already Avro-encoded. */
interface Message {
  key: string;
  value: Buffer;
}

export interface KafkaSink extends EventSink {
  readonly predictionsTopic: string;
  close(): Promise<void>;
}

export async function createKafkaSink(options: KafkaSinkOptions): Promise<KafkaSink> {
  const { kafka, codec, spec } = options;
  const topic = predictionsTopic(spec.model);
  const admin = await connectAdmin(kafka, options);
  try {
    await ensureTopics(admin, [{ topic }, { topic: TOPICS.groundTruth }], options.partitions);
  } finally {
    await admin.disconnect();
  }
  // Registering before serving means an incompatible schema change stops the service at start,
  // before anything is produced with it.
  const predictionSchemaId = await codec.register(valueSubject(topic), predictionEventSchema(spec));
  // Schema id per model version: a version with other features is encoded with its own schema.
  const versionSchemaIds = new Map<number, number>();
  const truthSchemaId = await codec.register(valueSubject(TOPICS.groundTruth), groundTruthSchema());

  const producer: Producer = createProducer(kafka);
  await producer.connect();
  let connected = true;
  producer.on(producer.events.DISCONNECT, () => {
    connected = false;
  });
  producer.on(producer.events.CONNECT, () => {
    connected = true;
  });

  const batchOptions = {
    maxBatch: options.maxBatch ?? 500,
    lingerMs: options.lingerMs ?? 5,
    maxPending: options.maxPending ?? 20_000,
  };
  // Each event is encoded by its own sender, before it joins a batch: a batch fails as one (one
  // produce request), so an event that cannot be encoded (say, an Invalid Date) must fail only
  // its own promise and never reach the batch it would have sunk.
  // Messages keep Kafka's own create time: event_time comes from clients, and the broker refuses
  // timestamps more than log.message.timestamp.after.max.ms (1 hour by default) ahead.
  const predictions = new Batcher<Message>({
    ...batchOptions,
    flush: async (messages) => {
      await producer.send({ topic, acks: -1, messages });
    },
  });
  const truths = new Batcher<Message>({
    ...batchOptions,
    flush: async (messages) => {
      await producer.send({ topic: TOPICS.groundTruth, acks: -1, messages });
    },
  });

  return {
    predictionsTopic: topic,
    sendPrediction: async (event) => {
      const schemaId = versionSchemaIds.get(event.model_version) ?? predictionSchemaId;
      return predictions.add({ key: event.entity_id ?? event.event_id, value: await codec.encode(schemaId, event) });
    },
    sendGroundTruth: async (event) =>
      truths.add({ key: event.event_id, value: await codec.encode(truthSchemaId, event) }),
    ready: () => connected,
    async registerVersion(model) {
      if (model.spec.model !== spec.model) {
        throw new DriftlineError(
          ErrorCode.SCHEMA_REJECTED,
          `Model ${model.spec.model} has no place in ${topic}, the topic of model ${spec.model}`,
          { details: { model: model.spec.model, topic } },
        );
      }
      // The subject's compatibility (BACKWARD) decides: a new required feature is refused here,
      // before the version is swapped in, not when its first event fails to encode.
      versionSchemaIds.set(model.version, await codec.register(valueSubject(topic), predictionEventSchema(model.spec)));
    },
    async close() {
      await Promise.all([predictions.drain(), truths.drain()]);
      await producer.disconnect();
    },
  };
}
