/**
 * Store pipeline throughput against its baselines, all in one run on one topic.
 *
 *   npx tsx bench/store-pipeline.ts [--events 200000] [--passes 3] [--quick] [--json]
 *
 * Produces `events` California-housing-shaped prediction events (8 numeric features, Avro through
 * the registry) to a fresh 3-partition topic, then reads the whole topic four times, each with a
 * fresh consumer group and one after the other (they measure CPU):
 *   - bare:         a kafkajs consumer that only counts messages (the Kafka client's ceiling);
 *   - bare decode:  the same, Avro-decoding every message as the store does (`decodeKnown`,
 *                   the registry client for a schema's first message);
 *   - store server: the store consumer (decode, event contract, panes of sketches, inserts,
 *                   snapshots, commits) into the ClickHouse server;
 *   - store chdb:   the same into embedded chDB.
 * Time runs from the group's join (the topic is full by then) to the last message counted — for
 * the store, to the flush that stored and committed the last one. Rows are then counted in
 * ClickHouse, so a fast but lossy run cannot pass. The four readings make a pass; each figure is
 * the median over `--passes` passes (3; 1 with --quick), each ratio the median of its passes' ratios.
 *
 * `--profile` writes a CPU profile and a sampled allocation profile of each store run to
 * reports/store-<name>.cpuprofile and .heapprofile (open them in Chrome DevTools).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Consumer, Kafka } from 'kafkajs';
import { startStoreConsumer } from '../consumers/store/consumer.ts';
import { parseConfig } from '../core/config.ts';
import { createLogger } from '../core/logger.ts';
import { migrate } from '../core/migrations.ts';
import { predictionsTable } from '../core/prediction-table.ts';
import { openStorage, type Storage } from '../core/storage/index.ts';
import { startRuntime } from '../platform/runtime.ts';
import { ALL_SERVICES } from '../platform/services.ts';
import { deleteTopic, housingTopic, until } from './housing-topic.ts';
import { atLeast, type BenchResult, benchFlags, emit, numberArgument, runBench } from './protocol.ts';

const PARTITIONS = 3;
const TARGET_EVENTS_PER_S = 100_000;
const TARGET_RATIO = 0.5;

/** Resolves with the time the consumer's group join completed (its first assignment). */
function joined(consumer: Consumer): Promise<number> {
  return new Promise((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve(performance.now())));
}

async function main() {
  const flags = benchFlags();
  const events = numberArgument('events', flags.quick ? 40_000 : 200_000);
  const passCount = numberArgument('passes', flags.quick ? 1 : 3);
  const config = parseConfig({ ...process.env, CLICKHOUSE_DATABASE: 'driftline_bench', LOG_LEVEL: 'warn' });
  const logger = createLogger('warn');
  const runtime = await startRuntime(config, logger, ALL_SERVICES);
  const { kafka, codec } = runtime;
  const connect = { ...runtime.connect, partitions: PARTITIONS };
  const { spec, topic } = await housingTopic(runtime, 'bench-housing', PARTITIONS, events);

  const group = (name: string) => `bench-${name}-${randomBytes(3).toString('hex')}`;

  /** A bare kafkajs consumer over the topic; `work` runs per message. Events per second. */
  async function bare(name: string, work: (value: Buffer) => Promise<unknown> | undefined): Promise<number> {
    const consumer = kafka.consumer({ groupId: group(name), maxWaitTimeInMs: 250 });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const start = joined(consumer);
    let seen = 0;
    let end = 0;
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          if (message.value) await work(message.value);
          if (++seen === events) end = performance.now();
        }
      },
    });
    await until(() => seen >= events, 300_000, `${name}: ${events} messages`);
    const seconds = (end - (await start)) / 1000;
    await consumer.disconnect();
    return events / seconds;
  }

  /** The store consumer into `storage`; events per second, rows checked afterwards. */
  async function store(name: string, storage: Storage): Promise<number> {
    const profiler = process.argv.includes('--profile') ? new Session() : undefined;
    if (profiler) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
      await profiler.post('HeapProfiler.startSampling', {
        samplingInterval: 16_384,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
    }
    let start: Promise<number> | undefined;
    // The store builds its consumer inside; this sees it to time from its group join.
    const observed = Object.create(kafka) as Kafka;
    observed.consumer = (options) => {
      const consumer = kafka.consumer(options);
      start = joined(consumer);
      return consumer;
    };
    const consumer = await startStoreConsumer({
      kafka: observed,
      codec,
      storage,
      logger,
      connect,
      groupId: group(name),
      topics: [topic],
      batchRows: config.storeBatchRows,
      batchMs: config.storeBatchMs,
      panes: { paneMs: config.paneSeconds * 1000, allowedLatenessMs: config.allowedLatenessSeconds * 1000 },
    });
    await until(() => consumer.stats().predictionsStored + consumer.stats().bufferedRows >= events, 600_000, name);
    await consumer.flush();
    const end = performance.now();
    if (profiler) {
      const { profile } = await profiler.post('Profiler.stop');
      const { profile: heap } = await profiler.post('HeapProfiler.stopSampling');
      mkdirSync('reports', { recursive: true });
      writeFileSync(`reports/${name}.cpuprofile`, JSON.stringify(profile));
      writeFileSync(`reports/${name}.heapprofile`, JSON.stringify(heap));
      profiler.disconnect();
    }
    const stats = consumer.stats();
    await consumer.stop();
    const [row] = await storage.query<{ n: number }>(`SELECT count() AS n FROM ${predictionsTable(spec.model)} FINAL`);
    const stored = Number(row?.n ?? 0);
    if (stored !== events || stats.deadLettered !== 0) {
      throw new Error(`${name}: ${stored} rows stored, ${stats.deadLettered} dead-lettered, of ${events}`);
    }
    if (!start) throw new Error(`${name}: the store consumer was not observed`);
    return events / ((end - (await start)) / 1000);
  }

  /** One pass: every reader once, back to back (a ratio compares readers of the same moment). */
  async function pass(): Promise<{ bare: number; decode: number; server: number; chdb: number }> {
    const bareRate = await bare('bare', () => undefined);
    // Decoded as the store decodes: in place once the writer schema is known, else through the client.
    const decodeRate = await bare('decode', (value) => (codec.decodeKnown(value) ? undefined : codec.decode(value)));

    const server = await openStorage(config, logger, { clickhouseUrl: runtime.services.clickhouseUrl as string });
    let serverRate: number;
    try {
      await migrate(server);
      await server.command(`DROP TABLE IF EXISTS ${predictionsTable(spec.model)}`);
      serverRate = await store('store-server', server);
      await server.command(`DROP TABLE IF EXISTS ${predictionsTable(spec.model)}`);
    } finally {
      await server.close();
    }

    const chdbPath = mkdtempSync(join(tmpdir(), 'driftline-bench-chdb-'));
    const chdb = await openStorage(config, logger, { chdbPath });
    let chdbRate: number;
    try {
      await migrate(chdb);
      chdbRate = await store('store-chdb', chdb);
    } finally {
      await chdb.close();
      rmSync(chdbPath, { recursive: true, force: true });
    }
    return { bare: bareRate, decode: decodeRate, server: serverRate, chdb: chdbRate };
  }

  // Rates on these shared two cores swing by a fifth from one run to the next: the median of
  // `passes` passes (each figure, each ratio within its pass) is what is reported.
  const passes: Awaited<ReturnType<typeof pass>>[] = [];
  for (let i = 0; i < passCount; i++) passes.push(await pass());
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1
      ? (sorted[middle] as number)
      : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  };
  const of = (pick: (p: (typeof passes)[number]) => number) => median(passes.map(pick));
  const bareRate = of((p) => p.bare);
  const decodeRate = of((p) => p.decode);
  const serverRate = of((p) => p.server);
  const chdbRate = of((p) => p.chdb);
  // The topic is left to nobody: a store that follows every predictions topic would read it.
  await deleteTopic(kafka, topic);
  await runtime.services.stop();

  const results: BenchResult[] = [
    { key: 'store_bare_events_per_s', value: bareRate, unit: 'events/s' },
    { key: 'store_bare_decode_events_per_s', value: decodeRate, unit: 'events/s' },
    atLeast('store_events_per_s', serverRate, 'events/s', TARGET_EVENTS_PER_S),
    atLeast('store_chdb_events_per_s', chdbRate, 'events/s', TARGET_EVENTS_PER_S),
    atLeast(
      'store_vs_bare_decode',
      of((p) => p.server / p.decode),
      'ratio',
      TARGET_RATIO,
    ),
    atLeast(
      'store_chdb_vs_bare_decode',
      of((p) => p.chdb / p.decode),
      'ratio',
      TARGET_RATIO,
    ),
    { key: 'store_bench_events', value: events, unit: 'events' },
    { key: 'store_bench_passes', value: passCount, unit: 'passes' },
  ];
  emit({ suite: 'store-pipeline', results }, flags);
}

runBench(main);
