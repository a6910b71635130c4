/**
 * The retraining loop on real services: concept drift → retraining → a new version promoted and
 * deployed → the predict service answers with it → on fresh post-drift traffic it beats the old
 * version → later windows are compared with the new version's reference profile.
 *
 * Real: Kafka, the schema registry, ClickHouse (18.16 server), the model registry on disk, the
 * predict service (in-process, HTTP), the store consumer (predictions and delayed ground truth into
 * ClickHouse, sketches), the retrain consumer and, for the last part, the drift consumer. The
 * trigger is a real DriftEvent (`degraded` realized performance, computed from the labelled traffic
 * in ClickHouse) on a test-owned drift-events topic, instead of waiting for the drift consumer's
 * windows: that keeps the test fast; the labelled data the cycle trains on is the real traffic.
 *
 * Concept drift: from the first row, the house value north of latitude 37.5 (≈ 30 % of rows, the
 * Bay Area and north) is 1.8 times what it was; features are unchanged.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type DriftConsumer, startDriftConsumer } from '../consumers/drift/consumer.ts';
import { type RetrainConsumer, startRetrainConsumer } from '../consumers/retrain/consumer.ts';
import { createRetrainer, type Retrainer } from '../consumers/retrain/cycle.ts';
import { labelledCountSql } from '../consumers/retrain/queries.ts';
import { type StoreConsumer, startStoreConsumer } from '../consumers/store/consumer.ts';
import { type Config, parseConfig } from '../core/config.ts';
import { publishDeployment } from '../core/deployments.ts';
import { connectAdmin, ensureTopics, startNewGroupAtEnd } from '../core/kafka/client.ts';
import { createLogger } from '../core/logger.ts';
import { migrate } from '../core/migrations.ts';
import { predictionsTable } from '../core/prediction-table.ts';
import { type DriftEvent, driftEventSchema } from '../core/schemas.ts';
import { identifier, openStorage, type Storage, sql, join as sqlJoin } from '../core/storage/index.ts';
import { predictionsTopic, TOPICS, valueSubject } from '../core/topics.ts';
import { type Dataset, loadCaliforniaHousing } from '../model/dataset.ts';
import { regressionMetrics } from '../model/metrics.ts';
import { ModelLoader } from '../model/model-loader.ts';
import { trainModel } from '../model/train.ts';
import { type Runtime, startRuntime } from '../platform/runtime.ts';
import { type RunningPredictService, startPredictService } from '../producers/predict-service/main.ts';
import { httpSender } from '../producers/replay/http-sender.ts';
import { replay } from '../producers/replay/replay.ts';
import { columnStats, createScenario, parseFilter } from '../producers/replay/scenarios.ts';
import { completeWindows, eventTimePanes, QUICK_RETRIES } from '../test-support/pipeline-settings.ts';
import { readTopic } from '../test-support/read-topic.ts';
import { until } from '../test-support/until.ts';

const services = inject('services');
const logger = createLogger('silent');
const PARTITIONS = 3;
const DATABASE = 'driftline_retrain_test';
const STEP_MS = 5;
const PANE_MS = 1_000;
const HOUR = 3_600_000;
/** Drifted traffic two hours ago, fresh traffic one hour ago: both inside RETRAIN_WINDOW_HOURS. */
const DRIFT_START = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
const FRESH_START = DRIFT_START + HOUR;
const DRIFT_ROWS = 5_000;
const FRESH_ROWS = 3_000;
const CONCEPT = { kind: 'concept' as const, factor: 1.8, filter: parseFilter('Latitude>=37.5'), start: 0 };

describe('retraining on concept drift, end to end', () => {
  let config: Readonly<Config>;
  let runtime: Runtime;
  let storage: Storage;
  let home: string;
  let registry: ModelLoader;
  let data: Dataset;
  let predict: RunningPredictService;
  let store: StoreConsumer;
  let retrainer: Retrainer;
  let retrain: RetrainConsumer;
  let drift: DriftConsumer | undefined;
  const model = `retrain-${randomBytes(4).toString('hex')}`;
  const eventsTopic = `retrain-test-events-${randomBytes(4).toString('hex')}`;
  const driftOutTopic = `retrain-test-drift-out-${randomBytes(4).toString('hex')}`;
  let holdoutRmse = 0;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'dl-retrain-'));
    config = parseConfig({
      KAFKA_BROKERS: services.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: services.schemaRegistryUrl,
      CLICKHOUSE_URL: services.clickhouseUrl,
      CLICKHOUSE_DATABASE: DATABASE,
      DRIFTLINE_HOME: home,
      KAFKA_TOPIC_PARTITIONS: String(PARTITIONS),
      RETRAIN_EPOCHS: '12',
    });
    runtime = await startRuntime(config, logger);
    storage = await openStorage(config, logger, { clickhouseUrl: services.clickhouseUrl });
    await migrate(storage);
    registry = ModelLoader.fromConfig(config);
    data = await loadCaliforniaHousing();
    // Version 1: a short training (12 epochs) on the original data, before the drift.
    const v1 = await trainModel({ epochs: 12 });
    try {
      holdoutRmse = v1.metrics.rmse;
      await registry.saveVersion({ ...v1, spec: { ...v1.spec, model }, profile: { ...v1.profile, model } });
    } finally {
      v1.predictor.dispose();
    }
    const admin = await connectAdmin(runtime.kafka, runtime.connect);
    await ensureTopics(
      admin,
      [
        { topic: eventsTopic },
        { topic: driftOutTopic },
        { topic: TOPICS.groundTruth },
        { topic: TOPICS.featureSketches },
      ],
      PARTITIONS,
    );
    // Fresh groups start at the current end of the shared topics: only this test's messages count.
    const storeGroup = `retrain-test-store-${randomUUID()}`;
    await startNewGroupAtEnd(admin, storeGroup, TOPICS.groundTruth);
    await admin.disconnect();

    predict = await startPredictService(config, logger, runtime, model, { host: '127.0.0.1', port: 0 }, registry);
    store = await startStoreConsumer({
      kafka: runtime.kafka,
      codec: runtime.codec,
      storage,
      logger,
      connect: runtime.connect,
      groupId: storeGroup,
      topics: [predictionsTopic(model), TOPICS.groundTruth],
      batchRows: 2_000,
      ...eventTimePanes(PANE_MS),
    });
    retrainer = createRetrainer({
      storage,
      registry,
      settings: config.retrain,
      logger,
      deploy: (deployment) => publishDeployment(runtime.kafka, runtime.codec, deployment, runtime.connect),
    });
    retrain = await startRetrainConsumer({
      kafka: runtime.kafka,
      codec: runtime.codec,
      logger,
      connect: runtime.connect,
      retrainer,
      maxEventAgeMs: config.retrain.windowHours * HOUR,
      groupId: `retrain-test-${randomUUID()}`,
      eventsTopic,
      tickMs: 50,
    });
  });

  afterAll(async () => {
    await drift?.stop().catch(() => {});
    await retrain?.stop().catch(() => {});
    await store?.stop().catch(() => {});
    await predict?.stop().catch(() => {});
    await storage?.command(`DROP TABLE IF EXISTS ${predictionsTable(model)}`).catch(() => {});
    await storage?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  async function sendTraffic(rows: number, eventTimeStart: number, seed: number): Promise<void> {
    await replay({
      featureNames: data.featureNames,
      rows: data.x.map((features, i) => ({ features: [...features], target: data.y[i] as number })),
      scenario: createScenario(
        { features: [], k: 0, ramp: 0, ...CONCEPT },
        data.featureNames,
        columnStats(data.x, data.featureNames.length),
      ),
      sender: httpSender(predict.url),
      seed,
      limit: rows,
      rate: 0,
      batchSize: 250,
      // Ground truth arrives later than its prediction, as labels do.
      feedbackDelayMs: 300,
      eventTimeStart,
      eventTimeStepMs: STEP_MS,
    });
  }

  async function labelled(since: number, until: number): Promise<number> {
    const [row] = await storage.query<{ labelled: number }>(labelledCountSql(model, since, until));
    return Number(row?.labelled ?? 0);
  }

  async function runs(): Promise<Record<string, unknown>[]> {
    return storage.query<Record<string, unknown>>(
      sql`SELECT * FROM retrain_runs WHERE model_name = ${model} ORDER BY started_at_ms`.text,
    );
  }

  /** A DriftEvent as the drift consumer writes it, for version `version`. */
  function driftEvent(
    version: number,
    overrides: Partial<DriftEvent>,
    performance: Partial<DriftEvent['performance']>,
  ): DriftEvent {
    const end = FRESH_START;
    return {
      event_id: randomUUID(),
      model_name: model,
      model_version: version,
      window_start: new Date(end - 5 * PANE_MS),
      window_end: new Date(end),
      pane_ms: PANE_MS,
      window_panes: 5,
      pane_count: 5,
      row_count: 1_000,
      source_partitions: [],
      completion: 'all_sources',
      columns: [],
      drifted_columns: [],
      drifted_features: [],
      prediction_drifted: false,
      evaluated_count: 9,
      drifted_count: 0,
      share_of_drifted_columns: 0,
      drift_share: 0.5,
      state: 'ok',
      previous_state: 'ok',
      transition: false,
      consecutive_drift: 0,
      retrain_after: 3,
      retrain_recommended: false,
      performance: {
        labelled_count: 0,
        rmse: null,
        mae: null,
        holdout_rmse: holdoutRmse,
        holdout_mae: 0.4,
        tolerance: 1.2,
        min_labels: 100,
        verdict: 'ok',
        ...performance,
      },
      report_path: null,
      evaluated_at: new Date(),
      sources_expected: PARTITIONS,
      partial: false,
      revision: 0,
      sketch_count: 45,
      ...overrides,
    };
  }

  async function publishEvent(event: DriftEvent): Promise<void> {
    const schemaId = await runtime.codec.register(valueSubject(eventsTopic), driftEventSchema());
    const producer = runtime.kafka.producer();
    await producer.connect();
    try {
      await producer.send({
        topic: eventsTopic,
        acks: -1,
        messages: [{ key: model, value: await runtime.codec.encode(schemaId, event) }],
      });
    } finally {
      await producer.disconnect();
    }
  }

  it('retrains on degraded performance, promotes and deploys a better version, and refuses a second trigger in the cooldown', async () => {
    // 1. Drifted traffic with delayed labels, served by version 1, stored by the store consumer.
    await sendTraffic(DRIFT_ROWS, DRIFT_START, 1);
    const driftEnd = DRIFT_START + DRIFT_ROWS * STEP_MS;
    await until(
      async () => (await labelled(DRIFT_START, driftEnd)) === DRIFT_ROWS,
      'labels of the drifted traffic in ClickHouse',
    );
    const table = identifier(predictionsTable(model));
    const [realized] = await storage.query<{ rmse: number; n: number }>(
      sql`SELECT sqrt(avg((prediction - actual) * (prediction - actual))) AS rmse, count() AS n
FROM (SELECT event_id, prediction FROM ${table} FINAL WHERE model_version = 1) AS p
ANY INNER JOIN (SELECT event_id, actual FROM ground_truth FINAL WHERE model_name = ${model}) AS g USING event_id`.text,
    );
    const realizedRmse = Number(realized?.rmse);
    expect(realizedRmse).toBeGreaterThan(holdoutRmse * 1.2);

    // 2. The drift event saying so: performance degraded.
    const trigger = driftEvent(
      1,
      {},
      { labelled_count: Number(realized?.n), rmse: realizedRmse, mae: realizedRmse * 0.7, verdict: 'degraded' },
    );
    await publishEvent(trigger);
    await until(async () => (await runs()).length >= 1, 'the retraining cycle to be recorded', 180_000);
    const [cycle] = await runs();
    process.stderr.write(
      `retrain: champion v1 RMSE ${Number(cycle?.champion_rmse).toFixed(4)}, challenger RMSE ${Number(cycle?.challenger_rmse).toFixed(4)} on the recent holdout (${cycle?.holdout_rows} rows); ${cycle?.reason}\n`,
    );
    expect(cycle).toMatchObject({
      trigger: 'performance',
      trigger_event_id: trigger.event_id,
      state: 'promoted',
      champion_version: 1,
      challenger_version: 2,
      deployed: 1,
      labelled_rows: DRIFT_ROWS,
      holdout_rows: DRIFT_ROWS * 0.2,
      recent_train_rows: DRIFT_ROWS * 0.8,
      base_rows: DRIFT_ROWS * 0.8,
    });
    expect(Number(cycle?.challenger_rmse)).toBeLessThan(Number(cycle?.champion_rmse) * 0.98);
    expect(await registry.champion(model)).toBe(2);
    const v2 = (await registry.listVersions(model)).find((v) => v.version === 2);
    expect(v2).toMatchObject({
      status: 'promoted',
      origin: { trigger: 'performance', drift_event_id: trigger.event_id },
    });
    // Its reference profile is its own training data (recent rows + base rows).
    expect((await registry.readVersion(model, 2)).profile.rows).toBe(DRIFT_ROWS * 0.8 * 2);

    // 3. The predict service swapped to version 2.
    await until(async () => {
      const response = await fetch(`${predict.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        // Event time before the fresh traffic: a probe at "now" would move its partition's watermark
        // past the fresh traffic's panes and make that traffic late for the sketches.
        body: JSON.stringify({
          features: Object.fromEntries(data.featureNames.map((f, j) => [f, data.x[0]?.[j] ?? 0])),
          event_time: new Date(FRESH_START - 60_000).toISOString(),
        }),
      });
      return ((await response.json()) as { model_version: number }).model_version === 2;
    }, 'the predict service to answer with version 2');

    // 4. A second trigger inside the cooldown is recorded as refused, not dropped.
    const again = driftEvent(
      2,
      { state: 'drift', consecutive_drift: 3, retrain_recommended: true, drifted_columns: ['MedInc'] },
      {},
    );
    await publishEvent(again);
    await until(async () => (await runs()).length >= 2, 'the second trigger to be recorded');
    const refused = (await runs())[1];
    expect(refused).toMatchObject({
      trigger: 'drift',
      trigger_event_id: again.event_id,
      state: 'refused',
      refusal: 'cooldown',
    });
    expect(refused?.reason).toMatch(/cooldown 1800 s/);
  });

  it('on fresh post-drift traffic the new version beats the old one, and later windows are compared with its reference', async () => {
    // The drift consumer follows this model's sketches from now on, into a test-owned topic.
    const driftGroup = `retrain-test-drift-${randomUUID()}`;
    const admin = await connectAdmin(runtime.kafka, runtime.connect);
    await startNewGroupAtEnd(admin, driftGroup, TOPICS.featureSketches);
    const outFrom = new Map((await admin.fetchTopicOffsets(driftOutTopic)).map((o) => [o.partition, BigInt(o.high)]));
    await admin.disconnect();
    drift = await startDriftConsumer({
      kafka: runtime.kafka,
      codec: runtime.codec,
      storage,
      logger,
      connect: runtime.connect,
      groupId: driftGroup,
      models: [model],
      references: registry,
      eventsTopic: driftOutTopic,
      settings: completeWindows(5),
      ...QUICK_RETRIES,
    });

    await sendTraffic(FRESH_ROWS, FRESH_START, 2);
    const freshEnd = FRESH_START + FRESH_ROWS * STEP_MS;
    await until(async () => (await labelled(FRESH_START, freshEnd)) === FRESH_ROWS, 'labels of the fresh traffic');
    const table = identifier(predictionsTable(model));
    const features = data.featureNames.map((f) => identifier(f));
    const rows = await storage.query<Record<string, number>>(
      sql`SELECT ${sqlJoin(features)}, prediction, model_version, actual
FROM (SELECT * FROM ${table} FINAL WHERE event_time_ms >= ${FRESH_START}) AS p
ANY INNER JOIN (SELECT event_id, actual FROM ground_truth FINAL WHERE model_name = ${model}) AS g USING event_id`.text,
    );
    expect(rows).toHaveLength(FRESH_ROWS);
    expect(new Set(rows.map((r) => Number(r.model_version)))).toEqual(new Set([2]));
    const actual = rows.map((r) => Number(r.actual));
    const v2Rmse = regressionMetrics(
      actual,
      rows.map((r) => Number(r.prediction)),
    ).rmse;
    const v1 = await registry.loadVersion(model, 1);
    let v1Rmse: number;
    try {
      v1Rmse = regressionMetrics(actual, v1.predict(rows.map((r) => data.featureNames.map((f) => Number(r[f]))))).rmse;
    } finally {
      v1.dispose();
    }
    process.stderr.write(
      `fresh post-drift traffic (${FRESH_ROWS} rows): version 1 RMSE ${v1Rmse.toFixed(4)}, version 2 RMSE ${v2Rmse.toFixed(4)}\n`,
    );
    expect(v2Rmse).toBeLessThan(v1Rmse);

    // Windows of version 2 are judged against version 2's profile (its own training rows).
    const v2Profile = (await registry.readVersion(model, 2)).profile;
    const v1Profile = (await registry.readVersion(model, 1)).profile;
    let events: DriftEvent[] = [];
    await until(
      async () => {
        const messages = await readTopic(runtime.kafka, driftOutTopic, (m) => m.key?.toString() === model, outFrom);
        events = await Promise.all(messages.map((m) => runtime.codec.decode<DriftEvent>(m.value as Buffer)));
        return events.some((e) => e.model_version === 2);
      },
      'a drift window of version 2',
      120_000,
    );
    const window = events.find((e) => e.model_version === 2) as DriftEvent;
    const medInc = window.columns.find((c) => c.column === 'MedInc');
    expect(medInc?.reference_count).toBe(v2Profile.rows);
    expect(v2Profile.rows).not.toBe(v1Profile.rows);
    expect(window.performance.holdout_rmse).toBeCloseTo((await registry.readVersion(model, 2)).metrics.rmse, 9);
  });

  it('keeps the champion when the challenger is worse, and retrain_runs says why', async () => {
    // A manual trigger skips the cooldown; one epoch makes a challenger clearly worse than version 2.
    const weak = createRetrainer({
      storage,
      registry,
      settings: { ...config.retrain, epochs: 1 },
      logger,
      deploy: async () => {
        throw new Error('a rejected challenger must not be deployed');
      },
    });
    const run = await weak.run({
      kind: 'manual',
      model,
      eventId: '',
      modelVersion: 0,
      reason: 'test: worse challenger',
      summary: {},
    });
    process.stderr.write(`worse challenger: ${run.reason}\n`);
    expect(run).toMatchObject({ state: 'rejected', champion_version: 2, challenger_version: 3, deployed: false });
    expect(run.challenger_rmse as number).toBeGreaterThan((run.champion_rmse as number) * 0.98);
    expect(await registry.champion(model)).toBe(2);
    const [row] = await storage.query<Record<string, unknown>>(
      sql`SELECT * FROM retrain_runs WHERE run_id = ${run.run_id}`.text,
    );
    expect(row).toMatchObject({ state: 'rejected', trigger: 'manual', deployed: 0 });
    expect(row?.reason).toMatch(/challenger RMSE .* vs champion .* needed \(RETRAIN_MIN_IMPROVEMENT\)/);
    expect(Number(row?.champion_rmse)).toBeCloseTo(run.champion_rmse as number, 9);
    expect((await registry.listVersions(model)).find((v) => v.version === 3)).toMatchObject({ status: 'rejected' });
  });
});
