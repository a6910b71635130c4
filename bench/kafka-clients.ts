/**
 * kafkajs against @platformatic/kafka reading the same topic (issue 15: is the Kafka client the
 * store's ceiling?). Measurement only; the project's Kafka port stays on kafkajs.
 *
 *   npx tsx bench/kafka-clients.ts [--events 200000] [--quick] [--json]
 *
 * Produces `events` California-housing-shaped prediction events (Avro through the registry) to a
 * fresh 3-partition topic, then reads the whole topic four times, each with a fresh consumer
 * group and one after the other (they measure CPU): kafkajs counting only, kafkajs Avro-decoding
 * every message as the store does, and the same two with @platformatic/kafka (raw Buffers).
 * Time runs from the first message to the last message counted; each (partition, offset) is
 * counted once, so a redelivery cannot inflate a rate.
 */
import { randomBytes } from 'node:crypto';
import { Consumer as PlatformaticConsumer } from '@platformatic/kafka';
import { parseConfig } from '../core/config.ts';
import { createLogger } from '../core/logger.ts';
import { startRuntime } from '../platform/runtime.ts';
import { ALL_SERVICES } from '../platform/services.ts';
import { deleteTopic, housingTopic, until } from './housing-topic.ts';
import { type BenchResult, benchFlags, emit, numberArgument, runBench } from './protocol.ts';

const PARTITIONS = 3;
const TIMEOUT_MS = 300_000;

/** Counts each (partition, offset) once and times first to last message. */
class Tally {
  private readonly next = new Map<number, bigint>();
  seen = 0;
  first = 0;
  end = 0;
  constructor(private readonly events: number) {}

  /** True when the message is new (not a redelivery). */
  count(partition: number, offset: bigint): boolean {
    if (offset < (this.next.get(partition) ?? 0n)) return false;
    this.next.set(partition, offset + 1n);
    if (this.seen === 0) this.first = performance.now();
    if (++this.seen === this.events) this.end = performance.now();
    return true;
  }

  get done(): boolean {
    return this.seen >= this.events;
  }

  rate(): number {
    return this.events / ((this.end - this.first) / 1000);
  }
}

async function main() {
  const flags = benchFlags();
  const events = numberArgument('events', flags.quick ? 40_000 : 200_000);
  const config = parseConfig({ ...process.env, LOG_LEVEL: 'warn' });
  const runtime = await startRuntime(config, createLogger('warn'), ALL_SERVICES);
  const { kafka, codec } = runtime;
  const { topic } = await housingTopic(runtime, 'bench-clients', PARTITIONS, events);

  const group = (name: string) => `bench-${name}-${randomBytes(3).toString('hex')}`;
  const nothing = () => undefined;
  // Decoded as the store decodes: in place once the writer schema is known, else through the client.
  const decode = (value: Buffer) => (codec.decodeKnown(value) ? undefined : codec.decode(value));

  async function viaKafkajs(name: string, work: (value: Buffer) => Promise<unknown> | undefined): Promise<number> {
    const tally = new Tally(events);
    const consumer = kafka.consumer({ groupId: group(name), maxWaitTimeInMs: 250 });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          if (tally.count(batch.partition, BigInt(message.offset)) && message.value) await work(message.value);
        }
      },
    });
    await until(() => tally.done, TIMEOUT_MS, `kafkajs ${name}: ${events} messages`);
    await consumer.disconnect();
    return tally.rate();
  }

  async function viaPlatformatic(name: string, work: (value: Buffer) => Promise<unknown> | undefined): Promise<number> {
    const tally = new Tally(events);
    // No deserializers: keys and values arrive as the raw Buffers the codec reads.
    const consumer = new PlatformaticConsumer({
      groupId: group(name),
      clientId: `bench-${name}`,
      bootstrapBrokers: runtime.connect.brokers,
      maxWaitTime: 250,
    });
    try {
      const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
      try {
        for await (const message of stream) {
          if (tally.count(message.partition, message.offset) && message.value) await work(message.value);
          if (tally.done) break;
        }
      } finally {
        await stream.close();
      }
    } finally {
      await consumer.close(true);
    }
    if (!tally.done) throw new Error(`platformatic ${name}: ${tally.seen} of ${events} messages`);
    return tally.rate();
  }

  const kafkajsBare = await viaKafkajs('kafkajs-bare', nothing);
  const kafkajsDecode = await viaKafkajs('kafkajs-decode', decode);
  const platformaticBare = await viaPlatformatic('platformatic-bare', nothing);
  const platformaticDecode = await viaPlatformatic('platformatic-decode', decode);

  await deleteTopic(kafka, topic);
  await runtime.services.stop();

  const results: BenchResult[] = [
    { key: 'kafkajs_bare_events_per_s', value: kafkajsBare, unit: 'events/s' },
    { key: 'kafkajs_decode_events_per_s', value: kafkajsDecode, unit: 'events/s' },
    { key: 'platformatic_bare_events_per_s', value: platformaticBare, unit: 'events/s' },
    { key: 'platformatic_decode_events_per_s', value: platformaticDecode, unit: 'events/s' },
    { key: 'platformatic_vs_kafkajs_bare', value: platformaticBare / kafkajsBare, unit: 'ratio' },
    { key: 'platformatic_vs_kafkajs_decode', value: platformaticDecode / kafkajsDecode, unit: 'ratio' },
    { key: 'kafka_clients_bench_events', value: events, unit: 'events' },
  ];
  emit({ suite: 'kafka-clients', results }, flags);
}

runBench(main);
