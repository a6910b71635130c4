import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { uniqueName } from '../../test-support/names.ts';
import { DriftlineError, ErrorCode } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { AvroCodec, schemaIdOf } from './avro.ts';
import { connectAdmin, createKafka, ensureTopics } from './client.ts';

const services = inject('services');
const logger = createLogger('silent');

const sampleSchema = (name: string, extraFields: object[] = []) => ({
  type: 'record',
  name,
  namespace: 'driftline.test',
  fields: [
    { name: 'event_id', type: 'string' },
    { name: 'event_time', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'med_inc', type: 'double' },
    { name: 'segment', type: ['null', 'string'], default: null },
    ...extraFields,
  ],
});

describe('Avro through the schema registry and Kafka', () => {
  let kafka: Kafka;
  const codec = new AvroCodec({ url: services.schemaRegistryUrl });

  beforeAll(() => {
    kafka = createKafka({ brokers: services.kafkaBrokers, clientId: 'avro-test', connectTimeoutMs: 10_000, logger });
  });

  it('a produced record comes back from a consumer equal, framed with the registry schema id', async () => {
    const topic = uniqueName('avro_roundtrip');
    const admin = await connectAdmin(kafka, { brokers: services.kafkaBrokers, connectTimeoutMs: 10_000 });
    expect(await ensureTopics(admin, [{ topic, partitions: 2 }], 1)).toEqual([topic]);
    expect(await ensureTopics(admin, [{ topic, partitions: 2 }], 1)).toEqual([]);
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0]?.partitions).toHaveLength(2);
    await admin.disconnect();

    const schemaId = await codec.register(`${topic}-value`, sampleSchema(`Rec${topic.replace(/\W/g, '')}`));
    expect(await codec.latestSchemaId(`${topic}-value`)).toBe(schemaId);

    const sent = { event_id: 'e-1', event_time: new Date(1_700_000_000_123), med_inc: 8.3252, segment: 'north' };
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: sent.event_id, value: await codec.encode(schemaId, sent) }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: uniqueName('g') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no message within 30 s')), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          clearTimeout(timer);
          resolve(message.value as Buffer);
        },
      });
    });
    await consumer.disconnect();

    expect(received[0]).toBe(0);
    expect(received.readUInt32BE(1)).toBe(schemaId);
    expect(schemaIdOf(received)).toBe(schemaId);
    const decoded = await codec.decode(received, { topic, partition: 0, offset: '0' });
    expect(decoded).toEqual(sent);
  });

  it('decodes without a promise once a schema was met: the same values, and the same refusal of a bad message', async () => {
    const codec2 = new AvroCodec({ url: services.schemaRegistryUrl });
    const subject = `${uniqueName('known')}-value`;
    const schemaId = await codec2.register(subject, sampleSchema(`Rec${subject.replace(/\W/g, '')}`));
    const sent = { event_id: 'e-2', event_time: new Date(1_700_000_000_456), med_inc: 1.5, segment: null };
    const bytes = await codec2.encode(schemaId, sent);
    expect(codec2.decodeKnown(bytes)).toBeUndefined(); // not decoded yet: the caller awaits decode
    expect(await codec2.decode(bytes)).toEqual(sent);
    expect(codec2.decodeKnown(bytes)).toEqual({ value: sent });
    const truncated = bytes.subarray(0, bytes.length - 3);
    const origin = { topic: 't', partition: 0, offset: '7' };
    const refusals = [
      () => codec2.decodeKnown(truncated, origin),
      () => codec2.decodeKnown(Buffer.concat([bytes, Buffer.from([1])]), origin),
    ];
    for (const refusal of refusals) {
      const error = (() => {
        try {
          refusal();
        } catch (e) {
          return e as DriftlineError;
        }
        throw new Error('expected a refusal');
      })();
      expect(error.code).toBe(ErrorCode.DECODE_FAILED);
      expect(error.details).toMatchObject({ schemaId, ...origin });
    }
    // The promise path refuses the same bytes alike.
    await expect(codec2.decode(truncated, origin)).rejects.toMatchObject({ code: ErrorCode.DECODE_FAILED });
  });

  it('accepts a backward-compatible change and refuses an incompatible one before producing', async () => {
    const subject = `${uniqueName('compat')}-value`;
    const name = `Rec${subject.replace(/\W/g, '')}`;
    const v1 = await codec.register(subject, sampleSchema(name));
    const v2 = await codec.register(
      subject,
      sampleSchema(name, [{ name: 'house_age', type: ['null', 'double'], default: null }]),
    );
    expect(v2).not.toBe(v1);
    const refused = await codec
      .register(subject, sampleSchema(name, [{ name: 'required_new', type: 'double' }]))
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DriftlineError);
    expect((refused as DriftlineError).code).toBe(ErrorCode.SCHEMA_REJECTED);
    expect(await codec.latestSchemaId(subject)).toBe(v2);
  });

  it('a message outside the wire format is a DECODE_FAILED error carrying its origin', async () => {
    const error = await codec
      .decode(Buffer.from('{"not":"avro"}'), { topic: 't', partition: 1, offset: '42' })
      .catch((e: unknown) => e);
    expect((error as DriftlineError).code).toBe(ErrorCode.DECODE_FAILED);
    const unknownId = Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 1, 2]);
    const error2 = await codec.decode(unknownId, { topic: 't', partition: 1, offset: '43' }).catch((e: unknown) => e);
    expect((error2 as DriftlineError).code).toBe(ErrorCode.DECODE_FAILED);
    expect((error2 as DriftlineError).details).toMatchObject({ topic: 't', partition: 1, offset: '43' });
  });

  afterAll(async () => {});
});
