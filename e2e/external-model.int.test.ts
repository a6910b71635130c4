/**
 * A model served elsewhere, monitored by Driftline: registered from its validation file with
 * `driftline models register`, its own producer writing PredictionEvents (Avro through the
 * registry, with the schema `models schema` prints) straight to its predictions topic, and the
 * real store and drift consumers — against real Kafka, schema registry and ClickHouse (18.16).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { modelsCommand } from '../cli/models.ts';
import { startDriftConsumer } from '../consumers/drift/consumer.ts';
import { startStoreConsumer } from '../consumers/store/consumer.ts';
import { parseConfig } from '../core/config.ts';
import type { AvroCodec } from '../core/kafka/avro.ts';
import { connectAdmin, createProducer, startNewGroupAtEnd } from '../core/kafka/client.ts';
import { createLogger } from '../core/logger.ts';
import { predictionsTable } from '../core/prediction-table.ts';
import type { DriftEvent, PredictionEvent } from '../core/schemas.ts';
import { identifier, type Storage, sql } from '../core/storage/index.ts';
import { TOPICS } from '../core/topics.ts';
import { startDashboard } from '../dashboard/main.ts';
import { loadCaliforniaHousing, splitDataset } from '../model/dataset.ts';
import { ModelRegistry } from '../model/registry.ts';
import { columnStats } from '../producers/replay/scenarios.ts';
import { launchChromium } from '../test-support/browser.ts';
import { driftEventsEnd, readDriftEvents } from '../test-support/drift-events.ts';
import { createModelTopic } from '../test-support/model-topic.ts';
import { openPipelineServices } from '../test-support/pipeline-services.ts';
import { completeWindows, eventTimePanes, QUICK_RETRIES } from '../test-support/pipeline-settings.ts';
import { until } from '../test-support/until.ts';

const services = inject('services');
const logger = createLogger('silent');
const PARTITIONS = 3;
const connect = { brokers: services.kafkaBrokers, connectTimeoutMs: 10_000, partitions: PARTITIONS };
const DATABASE = 'driftline_external_test';
const PANE_MS = 1_000;
const STEP_MS = 5;
const ROWS_PER_PANE = PANE_MS / STEP_MS;
const WINDOW_PANES = 5;
const ROWS = 4_000; // 20 panes; the shift starts at row 2,000 = pane 10
const SHIFT_PANE = ROWS / 2 / ROWS_PER_PANE;
const SHIFTED = ['AveRooms', 'MedInc'];
/** Halfway, every event comes from the north as well: a categorical input drifts too. */
const DRIFTED = [...SHIFTED, 'region'].sort();
const BASE_TIME = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3 * 3_600_000;

/** The owner's model: not Driftline's, and nothing Driftline could load. */
const ownersModel = (features: readonly number[]) => 0.45 * (features[0] ?? 0) + 0.5;
/** A categorical input, as such models have: the store keeps its category counts. */
const regionOf = (latitude: number) => (latitude >= 36 ? 'north' : 'south');

describe('a model served elsewhere', () => {
  let kafka: Kafka;
  let codec: AvroCodec;
  let storage: Storage;
  let producer: Producer;
  let home: string;
  const cleanup: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    ({ kafka, codec, storage } = await openPipelineServices({
      clientId: 'external-test',
      database: DATABASE,
      topics: [TOPICS.groundTruth, TOPICS.featureSketches, TOPICS.driftEvents],
      partitions: PARTITIONS,
      logger,
    }));
    producer = createProducer(kafka);
    await producer.connect();
    home = await mkdtemp(join(tmpdir(), 'dl-external-'));
  });

  afterAll(async () => {
    for (const close of cleanup.reverse()) await close().catch(() => {});
    await producer?.disconnect();
    await storage?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('is registered from its validation file, and a shift in its own events, numeric and categorical, is flagged naming the shifted features', async () => {
    const model = `ext-${randomBytes(4).toString('hex')}`;
    const data = await loadCaliforniaHousing();
    const { train: validation, holdout: live } = splitDataset(data, 1);
    const latitude = data.featureNames.indexOf('Latitude');

    // 1. The owner's validation set: inputs, their model's predictions, the targets.
    const csv = join(home, `${model}.csv`);
    const header = [...data.featureNames, 'region', 'predicted', 'MedHouseVal'];
    const lines = validation.x.map((x, i) =>
      [...x, regionOf(x[latitude] as number), ownersModel(x), validation.y[i]].join(','),
    );
    await writeFile(csv, `${[header.join(','), ...lines].join('\n')}\n`);
    const out = new PassThrough();
    const config = parseConfig({ DRIFTLINE_HOME: home });
    const registered = await modelsCommand.run(
      ['register', model, '--reference', csv, '--prediction', 'predicted', '--target', 'MedHouseVal', '--local'],
      { config, logger, out },
    );
    expect(registered).toBe(0);
    const registry = new ModelRegistry(join(home, 'models'));
    const { spec, metrics } = await registry.readVersion(model, 'champion');
    expect(spec.features.find((f) => f.name === 'region')).toMatchObject({ type: 'string' });

    // 2. Driftline's store and drift consumers, on fresh groups.
    const { topic, schemaId } = await createModelTopic(kafka, codec, spec, connect, PARTITIONS);
    cleanup.push(() => storage.command(`DROP TABLE IF EXISTS ${identifier(predictionsTable(model)).text}`));
    const storeGroup = `external-store-${randomUUID()}`;
    const driftGroup = `external-drift-${randomUUID()}`;
    const admin = await connectAdmin(kafka, connect);
    await startNewGroupAtEnd(admin, storeGroup, TOPICS.groundTruth);
    await startNewGroupAtEnd(admin, driftGroup, TOPICS.featureSketches);
    const eventsFrom = await driftEventsEnd(admin);
    await admin.disconnect();
    const store = await startStoreConsumer({
      kafka,
      codec,
      storage,
      logger,
      connect,
      groupId: storeGroup,
      topics: [topic, TOPICS.groundTruth],
      batchRows: 2_000,
      ...eventTimePanes(PANE_MS),
    });
    cleanup.push(() => store.stop());
    const drift = await startDriftConsumer({
      kafka,
      codec,
      storage,
      logger,
      connect,
      groupId: driftGroup,
      models: [model],
      references: registry,
      // Two of nine columns move (and the prediction with MedInc): judged at a share of 0.2.
      settings: completeWindows(WINDOW_PANES, { evaluation: { driftShare: 0.2 } }),
      ...QUICK_RETRIES,
    });
    cleanup.push(() => drift.stop());

    // 3. The owner's producer: events of its live traffic; halfway MedInc and AveRooms go up by
    //    1 σ and every region reads north.
    const stats = columnStats(live.x, data.featureNames.length);
    const shifted = SHIFTED.map((name) => data.featureNames.indexOf(name));
    for (let start = 0; start < ROWS; start += ROWS_PER_PANE) {
      const messages = [];
      for (let i = start; i < start + ROWS_PER_PANE; i++) {
        const x = [...(live.x[i % live.x.length] as number[])];
        if (i >= ROWS / 2) for (const c of shifted) x[c] = (x[c] as number) + (stats[c]?.std as number);
        const event: PredictionEvent = {
          event_id: randomUUID(),
          model_name: model,
          model_version: 1,
          event_time: new Date(BASE_TIME + i * STEP_MS),
          features: {
            ...Object.fromEntries(data.featureNames.map((name, c) => [name, x[c] as number])),
            region: i >= ROWS / 2 ? 'north' : regionOf(x[latitude] as number),
          },
          prediction: ownersModel(x),
          latency_ms: 3,
          entity_id: null,
          segment: null,
        };
        messages.push({ key: event.event_id, value: await codec.encode(schemaId, event) });
      }
      await producer.send({ topic, acks: -1, messages });
    }

    // 4. Windows end at panes 4 … 18 (pane 19 stays open): 15 evaluations.
    const expected = ROWS / ROWS_PER_PANE - 2 - (WINDOW_PANES - 1);
    await until(() => drift.stats().eventsEmitted >= expected, `${expected} drift events`, 120_000);
    const events = await readDriftEvents(kafka, codec, model, eventsFrom);
    expect(events).toHaveLength(expected);
    const paneOf = (e: DriftEvent) => (e.window_end.getTime() - BASE_TIME) / PANE_MS - 1;
    const before = events.filter((e) => paneOf(e) < SHIFT_PANE);
    expect(before.map((e) => e.state)).toEqual(before.map(() => 'ok'));
    const first = events.find((e) => e.state === 'drift') as DriftEvent;
    expect(first).toBeDefined();
    expect(paneOf(first) - SHIFT_PANE).toBeLessThanOrEqual(2);
    // The numeric shift shows first; the categorical one once enough of the window is northern.
    expect(first.drifted_features).toEqual(expect.arrayContaining(SHIFTED));
    expect(DRIFTED).toEqual(expect.arrayContaining([...first.drifted_features]));
    const last = events.at(-1) as DriftEvent;
    expect([...last.drifted_features].sort()).toEqual(DRIFTED);
    // Every feature, numeric or categorical, and the prediction are compared.
    expect(last.columns.map((c) => c.column).sort()).toEqual([...data.featureNames, 'prediction', 'region'].sort());
    // The categorical one by its category counts against the validation file's (Jensen–Shannon
    // for a reference of more than 1,000 rows, as Evidently's preset).
    expect(last.columns.find((c) => c.column === 'region')).toMatchObject({
      kind: 'categorical',
      method: 'jensenshannon',
      drifted: true,
      current_count: WINDOW_PANES * ROWS_PER_PANE,
    });
    const quiet = before.at(-1)?.columns.find((c) => c.column === 'region');
    expect(quiet).toMatchObject({ kind: 'categorical', drifted: false });
    // The error it is judged against is the one its validation file showed.
    expect(first.performance.holdout_rmse).toBeCloseTo(metrics.rmse, 12);

    // The store kept the categorical input as it came, and its category counts per pane.
    const [regions] = await storage.query<{ north: number; rows: number }>(
      sql`SELECT countIf(region = 'north') AS north, count() AS rows FROM ${identifier(predictionsTable(model))}`.text,
    );
    expect(Number(regions?.rows)).toBe(ROWS);
    expect(Number(regions?.north)).toBeGreaterThan(0);
    const [sketches] = await storage.query<{ n: number }>(
      sql`SELECT count() AS n FROM feature_sketches WHERE model_name = ${model} AND column_name = 'region'`.text,
    );
    expect(Number(sketches?.n)).toBeGreaterThan(0);

    // The dashboard shows the categorical column as category shares: reference vs the newest window.
    const dashboard = await startDashboard({ config, logger, storage, port: 0 });
    cleanup.push(() => dashboard.close());
    const response = await fetch(`${dashboard.url}/api/models/${model}/columns/region`);
    expect(response.status).toBe(200);
    const view = (await response.json()) as { kind: string; categories: string[]; current: number[] };
    expect(view.kind, JSON.stringify(view)).toBe('categorical');
    expect(view.current[view.categories.indexOf('north')], JSON.stringify(view)).toBe(1);
    const browser = await launchChromium();
    cleanup.push(() => browser.close());
    const page = await browser.newPage();
    await page.goto(`${dashboard.url}/#/model/${model}?range=24h&column=region`);
    await page.waitForSelector('body[data-loaded="model"]');
    await expect(page.locator('#chart-distribution .category-row').count()).resolves.toBe(view.categories.length);
    await expect(page.locator('#distribution-note').textContent()).resolves.toContain('category shares');
  }, 240_000);
});
