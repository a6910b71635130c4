/**
 * Scale-out: two store consumers and two drift consumers, each pair in one group, on 3-partition
 * predictions topics of two models, one member of each group killed mid-stream, then a
 * replacement drift member joining (the survivor gives a model up) — against real Kafka, schema
 * registry and ClickHouse (18.16 server). The end state is compared with a run of one
 * store and one drift consumer over the same messages, in a ClickHouse database of its own:
 *   - every prediction stored once: the predictions table (ReplacingMergeTree on (event_time,
 *     event_id)) holds each event id once read FINAL; a raw row stored twice is what at-least-once
 *     gives after the kill (the survivor reads again what the killed member had not committed);
 *   - the same drift events, window by window;
 *   - no window evaluated twice: each window's event once on the drift-events topic (which nothing
 *     merges), and the members' evaluations add up to the windows.
 * feature-sketches is keyed by model, so each drift member owns whole models: the two models are
 * named so that their sketches land in the first two partitions the topic's metadata lists, which
 * the round-robin assignor gives to different members.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { AssignerProtocol, type Kafka, Partitioners, type PartitionMetadata } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type DriftConsumer, startDriftConsumer } from '../consumers/drift/consumer.ts';
import type { ReferenceSource } from '../consumers/drift/references.ts';
import { type StoreConsumer, startStoreConsumer } from '../consumers/store/consumer.ts';
import { parseConfig } from '../core/config.ts';
import type { ModelSpec } from '../core/feature-spec.ts';
import { AvroCodec } from '../core/kafka/avro.ts';
import { connectAdmin, createKafka, createProducer, ensureTopics, startNewGroupAtEnd } from '../core/kafka/client.ts';
import { createLogger } from '../core/logger.ts';
import { migrate } from '../core/migrations.ts';
import { predictionsTable } from '../core/prediction-table.ts';
import { mulberry32 } from '../core/random.ts';
import type { DriftEvent, PredictionEvent } from '../core/schemas.ts';
import { NumericSketch } from '../core/sketch/index.ts';
import { openStorage, type Storage, sql } from '../core/storage/index.ts';
import { predictionsTopic, TOPICS } from '../core/topics.ts';
import { startMetricsServer } from '../platform/metrics-server.ts';
import { createModelTopic } from '../test-support/model-topic.ts';
import { completeWindows, eventTimePanes, QUICK_RETRIES } from '../test-support/pipeline-settings.ts';
import { readTopic } from '../test-support/read-topic.ts';
import { until } from '../test-support/until.ts';

const services = inject('services');
const logger = createLogger((process.env.TEST_LOG as 'warn' | undefined) ?? 'silent');
const PARTITIONS = 3;
const connect = { brokers: services.kafkaBrokers, connectTimeoutMs: 10_000, partitions: PARTITIONS };
/** Event times 5 ms apart, panes of 1 s: 200 predictions per pane and model, over 3 partitions. */
const PANE_MS = 1_000;
const STEP_MS = 5;
const ROWS_PER_PANE = PANE_MS / STEP_MS;
const WINDOW_PANES = 3;
/** Per model: 20 panes. The store closes panes 0…18; a window ends at a pane every partition has passed: 2…17. */
const ROWS = 4_000;
const WINDOWS = ROWS / ROWS_PER_PANE - 2 - (WINDOW_PANES - 1);
/** The first half is consumed by both members of each group; the second is sent in slices around the kill. */
const SLICES = [2_000, 2_500, 3_000, 3_500, 4_000];
/** A recent, pane-aligned hour: within the event contract's bounds of the messages' create time. */
const BASE_TIME = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3 * 3_600_000;

function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

const spec = (model: string): ModelSpec => ({
  model,
  target: 'y',
  features: [
    { name: 'x1', type: 'double', optional: false },
    { name: 'x2', type: 'double', optional: false },
  ],
});

/** x1, x2 ~ N(0, 1), prediction (x1 + x2) / 2; with `shift`, x1 moves by 1.5 σ from the second half on. */
function makeEvents(model: string, seed: number, shift: boolean): PredictionEvent[] {
  const random = mulberry32(seed);
  return Array.from({ length: ROWS }, (_, i) => {
    const x1 = normal(random) + (shift && i >= ROWS / 2 ? 1.5 : 0);
    const x2 = normal(random);
    return {
      event_id: randomUUID(),
      model_name: model,
      model_version: 1,
      event_time: new Date(BASE_TIME + i * STEP_MS),
      features: { x1, x2 },
      prediction: (x1 + x2) / 2,
      latency_ms: 0.3,
      entity_id: null,
      segment: null,
    };
  });
}

/** The reference profile of both models: the unshifted population. */
const references = (() => {
  const random = mulberry32(7);
  const x1 = Array.from({ length: 5_000 }, () => normal(random));
  const x2 = Array.from({ length: 5_000 }, () => normal(random));
  const profile = {
    features: { x1: NumericSketch.of(x1).toJSON(), x2: NumericSketch.of(x2).toJSON() },
    prediction: NumericSketch.of(x1.map((v, i) => (v + (x2[i] as number)) / 2)).toJSON(),
  };
  return { readVersion: async () => ({ profile, metrics: { rmse: 1, mae: 0.8 } }) } as unknown as ReferenceSource;
})();

/** A fresh model name whose feature-sketches key lands in `partition` (kafkajs's default partitioner). */
function modelOnPartition(partition: number, partitions: number): string {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from(
    { length: partitions },
    (_, partitionId) =>
      ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }) as PartitionMetadata,
  );
  for (;;) {
    const model = `scale-${randomBytes(4).toString('hex')}`;
    if (
      partitioner({ topic: TOPICS.featureSketches, partitionMetadata, message: { key: model, value: null } }) ===
      partition
    )
      return model;
  }
}

/** One drift_events row as compared between the runs (FINAL: one per window). */
type WindowRow = {
  event_id: string;
  model_name: string;
  window_end_ms: string;
  pane_count: number;
  row_count: string;
  sketch_count: string;
  source_partitions: string[];
  completion: string;
  partial: number;
  revision: number;
  state: string;
  previous_state: string | null;
  transition: number;
  consecutive_drift: number;
  retrain_recommended: number;
  drifted_columns: string[];
  column_names: string[];
  column_verdicts: string[];
  column_statistics: (number | null)[];
};

describe('scale-out: two store and two drift consumers per group, one of each killed mid-stream', () => {
  let kafka: Kafka;
  let codec: AvroCodec;
  let scaled: Storage;
  let single: Storage;
  const models: string[] = [];
  const cleanup: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    kafka = createKafka({
      brokers: services.kafkaBrokers,
      clientId: 'scale-out-test',
      connectTimeoutMs: 10_000,
      logger,
    });
    codec = new AvroCodec({ url: services.schemaRegistryUrl });
    const admin = await connectAdmin(kafka, connect);
    await ensureTopics(admin, [{ topic: TOPICS.featureSketches }, { topic: TOPICS.deadLetter }], PARTITIONS);
    const [sketches] = (await admin.fetchTopicMetadata({ topics: [TOPICS.featureSketches] })).topics;
    await admin.disconnect();
    // kafkajs's round-robin assignor deals partitions in the order the metadata lists them, which
    // on a fresh cluster is not sorted (e.g. 1, 2, 0): the models go to the first two listed.
    const listed = sketches?.partitions.map((p) => p.partitionId) ?? [0, 1, 2];
    models.push(
      modelOnPartition(listed[0] as number, listed.length),
      modelOnPartition(listed[1] as number, listed.length),
    );
    scaled = await openStorage(parseConfig({ CLICKHOUSE_DATABASE: 'driftline_scale_out_test' }), logger, {
      clickhouseUrl: services.clickhouseUrl,
    });
    single = await openStorage(parseConfig({ CLICKHOUSE_DATABASE: 'driftline_scale_out_single_test' }), logger, {
      clickhouseUrl: services.clickhouseUrl,
    });
    await migrate(scaled);
    await migrate(single);
  });

  afterAll(async () => {
    for (const close of cleanup.reverse()) await close().catch(() => {});
    for (const storage of [scaled, single]) {
      for (const model of models) await storage?.command(`DROP TABLE IF EXISTS ${predictionsTable(model)}`);
      await storage?.close();
    }
  });

  function startStore(storage: Storage, groupId: string): Promise<StoreConsumer> {
    return startStoreConsumer({
      kafka,
      codec,
      storage,
      logger,
      connect,
      groupId,
      topics: models.map(predictionsTopic),
      batchRows: 500,
      ...eventTimePanes(PANE_MS),
      retry: QUICK_RETRIES.retry,
    });
  }

  function startDrift(storage: Storage, groupId: string, eventsTopic: string): Promise<DriftConsumer> {
    return startDriftConsumer({
      kafka,
      codec,
      storage,
      logger,
      connect,
      groupId,
      eventsTopic,
      models,
      references,
      // Windows complete only when every source partition has passed them: what is evaluated
      // does not depend on timing, so the two runs must agree window by window.
      settings: completeWindows(WINDOW_PANES),
      ...QUICK_RETRIES,
    });
  }

  /** A fresh group that starts at the current end of feature-sketches (other tests write to it too). */
  async function driftGroupAtEnd(): Promise<string> {
    const groupId = `scale-drift-${randomUUID()}`;
    const admin = await connectAdmin(kafka, connect);
    await startNewGroupAtEnd(admin, groupId, TOPICS.featureSketches);
    await admin.disconnect();
    return groupId;
  }

  /** Waits until the group is stable with `members` members, each owning some partition. */
  async function stableGroup(groupId: string, members: number): Promise<void> {
    const admin = await connectAdmin(kafka, connect);
    try {
      await until(async () => {
        const [group] = (await admin.describeGroups([groupId])).groups;
        if (group?.state !== 'Stable' || group.members.length !== members) return false;
        return group.members.every((m) => {
          const owned = AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment ?? {};
          return Object.values(owned).some((partitions) => partitions.length > 0);
        });
      }, `${members} members of ${groupId} with partitions`);
    } finally {
      await admin.disconnect();
    }
  }

  const rowsOf = async (storage: Storage, model: string) => {
    const [row] = await storage.query<{ rows: string; ids: string }>(
      `SELECT count() AS rows, uniqExact(event_id) AS ids FROM ${predictionsTable(model)} FINAL`,
    );
    return { rows: Number(row?.rows ?? 0), ids: Number(row?.ids ?? 0) };
  };

  const windowsOf = (storage: Storage) =>
    storage.query<WindowRow>(
      sql`SELECT event_id, model_name, window_end_ms, pane_count, row_count, sketch_count, source_partitions,
          completion, partial, revision, state, previous_state, transition, consecutive_drift,
          retrain_recommended, drifted_columns, column_names, column_verdicts, column_statistics
        FROM drift_events FINAL WHERE model_name IN (${models[0] as string}, ${models[1] as string})
        ORDER BY model_name, window_end_ms`.text,
    );

  async function eventsOn(topic: string): Promise<DriftEvent[]> {
    const messages = await readTopic(kafka, topic, () => true);
    return Promise.all(messages.map((m) => codec.decode<DriftEvent>(m.value as Buffer)));
  }

  it('stores every event once and evaluates every window once, as one consumer of each does', async () => {
    const events = [makeEvents(models[0] as string, 1, true), makeEvents(models[1] as string, 2, false)];
    const schemaIds: number[] = [];
    for (const model of models)
      schemaIds.push((await createModelTopic(kafka, codec, spec(model), connect, PARTITIONS)).schemaId);
    const producer = createProducer(kafka);
    await producer.connect();
    cleanup.push(() => producer.disconnect());
    /** Rows [from, to) of both models, row i to partition i mod 3. */
    const produce = async (from: number, to: number) => {
      for (const [m, model] of models.entries()) {
        const messages = await Promise.all(
          (events[m] as PredictionEvent[]).slice(from, to).map(async (e, k) => ({
            partition: (from + k) % PARTITIONS,
            value: await codec.encode(schemaIds[m] as number, e),
          })),
        );
        await producer.send({ topic: predictionsTopic(model), acks: -1, messages });
      }
    };

    // --- Scaled out: two members per group.
    const scaledEvents = `scale-drift-events-${randomBytes(4).toString('hex')}`;
    const storeGroup = `scale-store-${randomUUID()}`;
    const driftGroup = await driftGroupAtEnd();
    const stores = await Promise.all([startStore(scaled, storeGroup), startStore(scaled, storeGroup)]);
    const drifts = await Promise.all([
      startDrift(scaled, driftGroup, scaledEvents),
      startDrift(scaled, driftGroup, scaledEvents),
    ]);
    for (const c of [...stores, ...drifts]) cleanup.push(() => c.stop());
    await Promise.all([stableGroup(storeGroup, 2), stableGroup(driftGroup, 2)]);

    await produce(0, SLICES[0] as number);
    // Each drift member owns one model (its sketches' partition) and evaluates only its windows:
    // panes 0…8 closed, windows ending at panes 2…7.
    const firstHalf = SLICES[0] as number;
    const firstWindows = firstHalf / ROWS_PER_PANE - 2 - (WINDOW_PANES - 1);
    await until(
      () => drifts.every((d) => d.stats().evaluations >= firstWindows),
      `${firstWindows} windows on each drift member`,
    );
    expect(drifts.map((d) => d.stats().evaluations)).toEqual([firstWindows, firstWindows]);
    expect(stores.every((s) => s.stats().predictionsStored > 0)).toBe(true);

    // Mid-stream: one member of each group dies while the second half arrives.
    await produce(SLICES[0] as number, SLICES[2] as number);
    const [doomedStore, survivingStore] = stores as [StoreConsumer, StoreConsumer];
    const [doomedDrift, survivingDrift] = drifts as [DriftConsumer, DriftConsumer];
    const storedBefore = doomedStore.stats().predictionsStored;
    await until(
      () => doomedStore.stats().predictionsStored > storedBefore && doomedDrift.stats().evaluations > firstWindows,
      'the doomed members at work on the second half',
    );
    await Promise.all([doomedStore.abort(), doomedDrift.abort()]);
    await produce(SLICES[2] as number, SLICES[3] as number);
    // The survivor owns every partition now and took the doomed member's model over (restored
    // from ClickHouse). Then a replacement joins: the survivor gives one model's partition up, and
    // the model with it; the replacement restores that model.
    await until(() => survivingDrift.stats().versions === 2, 'the surviving drift member holding both models');
    const replacement = await startDrift(scaled, driftGroup, scaledEvents);
    cleanup.push(() => replacement.stop());
    await stableGroup(driftGroup, 2);
    await produce(SLICES[3] as number, SLICES[4] as number);

    await until(async () => {
      const windows = await windowsOf(scaled);
      const stored = await Promise.all(models.map((m) => rowsOf(scaled, m)));
      return windows.length >= 2 * WINDOWS && stored.every((s) => s.rows >= ROWS);
    }, 'every window evaluated and every event stored by the survivors');
    await new Promise((r) => setTimeout(r, 1_000)); // anything evaluated twice would show by now
    // Each holds only the model it owns now: nothing left of the one given up.
    expect([survivingDrift.stats().versions, replacement.stats().versions]).toEqual([1, 1]);
    const evaluations = [doomedDrift, survivingDrift, replacement].map((d) => d.stats().evaluations);
    await replacement.stop();
    await survivingDrift.stop();
    await survivingStore.stop();

    // Every event stored once.
    for (const model of models) {
      expect(await rowsOf(scaled, model), model).toEqual({ rows: ROWS, ids: ROWS });
      const [raw] = await scaled.query<{ rows: string; ids: string }>(
        `SELECT count() AS rows, uniqExact(event_id) AS ids FROM ${predictionsTable(model)}`,
      );
      // Raw rows beyond ROWS are re-reads of what the killed store had not committed, collapsed
      // by the ReplacingMergeTree (FINAL above); no event is missing and none is foreign.
      expect(Number(raw?.ids)).toBe(ROWS);
      expect(Number(raw?.rows)).toBeGreaterThanOrEqual(ROWS);
    }

    // No window evaluated twice: once on the topic (nothing merges it), once in ClickHouse
    // before any merge, and the members' evaluations add up to the windows.
    const onTopic = await eventsOn(scaledEvents);
    expect(onTopic).toHaveLength(2 * WINDOWS);
    expect(new Set(onTopic.map((e) => e.event_id)).size).toBe(2 * WINDOWS);
    expect(onTopic.every((e) => e.revision === 0 && e.completion === 'all_sources')).toBe(true);
    const [rawWindows] = await scaled.query<{ rows: string }>(
      sql`SELECT count() AS rows FROM drift_events
        WHERE model_name IN (${models[0] as string}, ${models[1] as string})`.text,
    );
    expect(Number(rawWindows?.rows)).toBe(2 * WINDOWS);
    expect(evaluations.reduce((a, b) => a + b)).toBe(2 * WINDOWS);
    expect(evaluations.every((n) => n > 0)).toBe(true);

    // --- One member per group over the same messages, into a database of its own. Its store
    // cannot insert until released: the lag on /metrics is then every message of each partition.
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const gated: Storage = {
      kind: single.kind,
      database: single.database,
      command: (text) => single.command(text),
      query: (text) => single.query(text),
      insert: async (table, rows) => {
        await released;
        return single.insert(table, rows);
      },
      insertRowBinary: async (table, columns, chunks) => {
        await released;
        return single.insertRowBinary(table, columns, chunks);
      },
      ping: () => single.ping(),
      close: async () => {},
    };
    const singleEvents = `scale-drift-events-${randomBytes(4).toString('hex')}`;
    const oneDrift = await startDrift(single, await driftGroupAtEnd(), singleEvents);
    cleanup.push(() => oneDrift.stop());
    const oneStore = await startStore(gated, `scale-store-${randomUUID()}`);
    cleanup.push(() => oneStore.stop());
    const metrics = await startMetricsServer({
      consumers: [{ name: 'store', stats: () => oneStore.stats(), telemetry: oneStore.telemetry }],
      host: '127.0.0.1',
      port: 0,
      logger,
    });
    cleanup.push(() => metrics.close());
    const lagOf = async () => {
      const text = await (await fetch(`${metrics.url}/metrics`)).text();
      return text
        .split('\n')
        .filter((line) => line.startsWith('driftline_consumer_lag{'))
        .map((line) => line.replace(/^driftline_consumer_lag\{consumer="store",/, '').replace(/"/g, ''))
        .sort();
    };
    const perPartition = (p: number) => Math.floor(ROWS / PARTITIONS) + (p < ROWS % PARTITIONS ? 1 : 0);
    const everything = models
      .flatMap((m) => [0, 1, 2].map((p) => `topic=${predictionsTopic(m)},partition=${p}} ${perPartition(p)}`))
      .sort();
    await until(async () => (await lagOf()).length === 6, 'lag of the 6 partitions on /metrics');
    expect(await lagOf()).toEqual(everything);
    release();
    // Once stored, the store commits up to its open panes: the last pane's rows stay behind the
    // committed offset (read again by the next owner, which rebuilds the pane).
    const lastPane = (p: number) =>
      Array.from({ length: ROWS_PER_PANE }, (_, k) => ROWS - ROWS_PER_PANE + k).filter((i) => i % PARTITIONS === p)
        .length;
    const caughtUp = models
      .flatMap((m) => [0, 1, 2].map((p) => `topic=${predictionsTopic(m)},partition=${p}} ${lastPane(p)}`))
      .sort();
    await until(async () => JSON.stringify(await lagOf()) === JSON.stringify(caughtUp), 'lag down to the open panes');

    await until(
      async () => (await windowsOf(single)).length >= 2 * WINDOWS,
      'the single run evaluated every window',
    ).catch(async (error: unknown) => {
      const state = { windows: (await windowsOf(single)).length, drift: oneDrift.stats(), store: oneStore.stats() };
      throw new Error(`${String(error)}: ${JSON.stringify(state)}`);
    });
    await new Promise((r) => setTimeout(r, 500));

    // The same drift events, window by window.
    // Statistics to 12 significant digits: a member that restored a model read its sketches back
    // from feature_sketches, and ClickHouse 18.16 parses a Float64 it is sent to within one ulp
    // (-0.12345678901234567 is stored as …566), so a restored sketch may differ in the last bit.
    const comparable = (rows: WindowRow[]) =>
      rows.map((w) => ({
        ...w,
        column_statistics: w.column_statistics.map((v) => (v === null ? null : Number(v.toPrecision(12)))),
      }));
    const scaledWindows = await windowsOf(scaled);
    const singleWindows = await windowsOf(single);
    expect(singleWindows).toHaveLength(2 * WINDOWS);
    expect(comparable(scaledWindows)).toEqual(comparable(singleWindows));
    for (const model of models) expect(await rowsOf(single, model)).toEqual({ rows: ROWS, ids: ROWS });
    // Not a trivial agreement: the shifted model turned to drift, the other stayed ok.
    const states = (model: string) => scaledWindows.filter((w) => w.model_name === model).map((w) => w.state);
    expect(states(models[0] as string)).toContain('drift');
    expect(states(models[1] as string).every((s) => s === 'ok')).toBe(true);
  });
});
