/**
 * The dashboard's API on both storage adapters — the ClickHouse 18.16 server and embedded chDB —
 * over rows written as the consumers write them: predictions in `predictions_<model>`, windows in
 * `drift_events`, a retraining run in `retrain_runs`, and a model version in the registry.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../core/config.ts';
import { createLogger } from '../core/logger.ts';
import { migrate } from '../core/migrations.ts';
import { createPredictionsTableSql, predictionsTable } from '../core/prediction-table.ts';
import { identifier, openStorage, type Storage } from '../core/storage/index.ts';
import { ModelRegistry } from '../model/registry.ts';
import { trainModel } from '../model/train.ts';
import { clickhouseServerUrl, freshChdbPath } from '../test-support/storage.ts';
import type { DashboardActions } from './actions.ts';
import { changedKinds, readChangeStamp } from './queries.ts';
import { buildDashboard } from './server.ts';

const logger = createLogger('silent');
const MODEL = `api-${randomBytes(3).toString('hex')}`;
const NOW = Date.now();
const home = mkdtempSync(join(tmpdir(), 'dl-dashboard-api-'));
const chdbPath = freshChdbPath();
const registry = new ModelRegistry(join(home, 'models'));
let features: string[] = [];
let trained: Awaited<ReturnType<typeof trainModel>>;

/** Actions are not what these tests are about: they only record being called. */
const calls: string[] = [];
const actions: DashboardActions = {
  async retrain(model) {
    calls.push(`retrain ${model}`);
    return { started: true };
  },
  async rollback(model) {
    calls.push(`rollback ${model}`);
    return { champion: 1, from: 2 };
  },
  async testAlert() {
    return [];
  },
  async close() {},
};

beforeAll(async () => {
  trained = await trainModel({ epochs: 1 });
  features = trained.spec.features.map((f) => f.name);
  await registry.saveVersion({
    ...trained,
    spec: { ...trained.spec, model: MODEL },
    profile: { ...trained.profile, model: MODEL },
  });
}, 120_000);

afterAll(() => {
  trained?.predictor.dispose();
  rmSync(home, { recursive: true, force: true });
  rmSync(chdbPath, { recursive: true, force: true });
});

const adapters = [
  {
    name: 'server',
    open: () =>
      openStorage(parseConfig({ CLICKHOUSE_DATABASE: 'driftline_dashboard_api_test' }), logger, {
        clickhouseUrl: clickhouseServerUrl(),
      }),
  },
  { name: 'embedded', open: () => openStorage(parseConfig({}), logger, { chdbPath }) },
];

function driftRow(i: number, state: 'ok' | 'drift') {
  const columns = [...features, 'prediction'];
  const end = NOW - (10 - i) * 60_000;
  return {
    event_id: `${MODEL}-${i}`,
    model_name: MODEL,
    model_version: 1,
    window_start: new Date(end - 300_000),
    window_end: new Date(end),
    window_start_ms: end - 300_000,
    window_end_ms: end,
    pane_ms: 60_000,
    window_panes: 5,
    pane_count: 5,
    row_count: 1_000,
    source_partitions: [],
    completion: 'all_sources',
    state,
    previous_state: null,
    transition: 0,
    consecutive_drift: state === 'drift' ? 1 : 0,
    retrain_after: 3,
    retrain_recommended: 0,
    drift_share: 0.25,
    share_of_drifted_columns: state === 'drift' ? 1 / columns.length : 0,
    evaluated_count: columns.length,
    drifted_count: state === 'drift' ? 1 : 0,
    drifted_columns: state === 'drift' ? ['MedInc'] : [],
    drifted_features: state === 'drift' ? ['MedInc'] : [],
    prediction_drifted: 0,
    column_names: columns,
    column_methods: columns.map(() => 'wasserstein'),
    column_verdicts: columns.map((c) => (state === 'drift' && c === 'MedInc' ? 'drift' : 'ok')),
    column_statistics: columns.map((c) => (state === 'drift' && c === 'MedInc' ? 0.4 : i === 0 ? null : 0.02)),
    column_thresholds: columns.map(() => 0.1),
    column_p_values: columns.map(() => null),
    columns_json: '[]',
    labelled_count: i * 100,
    rmse: i >= 5 ? 0.6 + i / 100 : null,
    mae: i >= 5 ? 0.4 : null,
    holdout_rmse: 0.55,
    holdout_mae: 0.4,
    performance_tolerance: 1.2,
    performance_verdict: i >= 5 ? 'ok' : 'insufficient_labels',
    report_path: null,
    evaluated_at: new Date(end + 1_000),
  };
}

describe.each(adapters)('dashboard API on $name', (adapter) => {
  let storage: Storage;
  let app: FastifyInstance;

  beforeAll(async () => {
    storage = await adapter.open();
    await migrate(storage);
    const spec = (await registry.readVersion(MODEL, 1)).spec;
    await storage.command(createPredictionsTableSql(MODEL, spec.features));
    const start = NOW - 10 * 60_000;
    await storage.command(
      `INSERT INTO ${identifier(predictionsTable(MODEL)).text}
  (event_id, model_name, model_version, event_time, event_time_ms, ${features.map((f) => identifier(f).text).join(', ')},
   prediction, latency_ms, kafka_partition, kafka_offset, ingested_at, late)
SELECT toString(number), '${MODEL}', 1, toDateTime(intDiv(${start} + number * 60, 1000)), ${start} + number * 60,
  ${features.map(() => '1.5').join(', ')}, number % 10, 1.5, number % 3, number, now(), 0
FROM system.numbers LIMIT 10000`,
    );
    await storage.insert(
      'drift_events',
      Array.from({ length: 10 }, (_, i) => driftRow(i, i < 7 ? 'ok' : 'drift')),
    );
    await storage.insert('retrain_runs', [
      {
        run_id: `run-${MODEL}`,
        model_name: MODEL,
        trigger: 'manual',
        trigger_event_id: '',
        trigger_model_version: 0,
        trigger_reason: 'manual',
        mode: 'inprocess',
        state: 'rejected',
        refusal: '',
        reason: 'challenger not better',
        champion_version: 1,
        challenger_version: 2,
        champion_rmse: 0.6,
        challenger_rmse: 0.61,
        started_at: new Date(NOW - 60_000),
        started_at_ms: NOW - 60_000,
        finished_at_ms: NOW - 30_000,
        duration_ms: 30_000,
      },
    ]);
    app = await buildDashboard({
      storage,
      registry,
      actions,
      token: undefined,
      windowPanes: 5,
      reportsDir: join(home, 'reports'),
      logger,
    });
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await storage?.command(`DROP TABLE IF EXISTS ${identifier(predictionsTable(MODEL)).text}`).catch(() => {});
    await storage?.close();
  });

  const get = async (url: string) => {
    const response = await app.inject({ url });
    return { status: response.statusCode, body: response.json() };
  };

  it('GET /api/models: champion, state since its run began, events per minute', async () => {
    const { status, body } = await get('/api/models');
    expect(status).toBe(200);
    const row = (body as Record<string, unknown>[]).find((m) => m.model === MODEL);
    expect(row).toMatchObject({
      model: MODEL,
      champion: 1,
      state: 'drift',
      version: 1,
      // evaluated_at is a DateTime: whole seconds.
      since: Math.floor(driftRow(7, 'drift').evaluated_at.getTime() / 1000) * 1000,
      openAlerts: 0,
    });
    // 10,000 predictions ingested just now: 2,000 a minute over the last five minutes.
    expect(row?.eventsPerMinute).toBe(2_000);
  });

  it('GET /api/models/:model/windows: windows in order and per-column statistics', async () => {
    const { status, body } = await get(`/api/models/${MODEL}/windows?since=1h`);
    expect(status).toBe(200);
    expect(body.windows.map((w: { state: string }) => w.state)).toEqual([
      ...Array(7).fill('ok'),
      ...Array(3).fill('drift'),
    ]);
    const medInc = body.columns.find((c: { column: string }) => c.column === 'MedInc');
    expect(medInc).toMatchObject({ method: 'wasserstein', threshold: 0.1, statistic: 0.4, verdict: 'drift' });
    expect(medInc.statistics).toEqual([null, ...Array(6).fill(0.02), 0.4, 0.4, 0.4]);
    expect(body.windows.at(-1)).toMatchObject({ rmse: 0.69, holdoutRmse: 0.55, driftedFeatures: ['MedInc'] });
    // `since` narrows the windows.
    const recent = await get(`/api/models/${MODEL}/windows?since=${driftRow(8, 'drift').window_end_ms}`);
    expect(recent.body.windows).toHaveLength(2);
  });

  it('GET /api/models/:model/predictions: mean and quantiles per bucket', async () => {
    const { status, body } = await get(`/api/models/${MODEL}/predictions?since=1h`);
    expect(status).toBe(200);
    // 10,000 predictions 60 ms apart span 600 s: 5 s buckets.
    expect(body.bucketMs).toBe(5_000);
    expect(body.count.reduce((a: number, b: number) => a + b, 0)).toBe(10_000);
    // Predictions cycle 0…9: every full bucket (≈ 83 of them) has a mean near 4.5; the edge buckets are partial.
    const total = body.mean.reduce((a: number, m: number, i: number) => a + m * body.count[i], 0);
    expect(total / 10_000).toBeCloseTo(4.5, 1);
    for (const [i, mean] of body.mean.entries()) if (body.count[i] >= 80) expect(mean).toBeCloseTo(4.5, 0);
    for (const [i, p50] of body.p50.entries()) {
      expect(body.p10[i]).toBeLessThanOrEqual(p50);
      expect(body.p90[i]).toBeGreaterThanOrEqual(p50);
    }
  });

  it('GET /api/models/:model/columns/:column: the reference from the profile; no sketches yet', async () => {
    const { status, body } = await get(`/api/models/${MODEL}/columns/MedInc`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ model: MODEL, version: 1, column: 'MedInc', currentCount: 0, windowEnd: null });
    expect(body.referenceCount).toBeGreaterThan(10_000);
    expect(body.reference).toHaveLength(40);
    expect((await get(`/api/models/${MODEL}/columns/NoSuchColumn`)).body).toMatchObject({ field: 'column' });
    expect((await get(`/api/models/${MODEL}/columns/MedInc?version=x`)).status).toBe(400);
  });

  it('GET /api/retrain-runs and /api/alerts', async () => {
    const runs = await get(`/api/retrain-runs?model=${MODEL}&since=1h`);
    expect(runs.body).toEqual([
      expect.objectContaining({ run_id: `run-${MODEL}`, state: 'rejected', champion_rmse: 0.6, challenger_version: 2 }),
    ]);
    expect((await get(`/api/alerts?model=${MODEL}&since=1h`)).body).toEqual([]);
  });

  it("GET /api/models/:model: each deployment at the event time of its version's first traffic after it", async () => {
    // A model of its own: promoting here must not move the champion the other tests read.
    const model = `${MODEL}-${adapter.name}`;
    const save = () =>
      registry.saveVersion({ ...trained, spec: { ...trained.spec, model }, profile: { ...trained.profile, model } });
    await save();
    await save();
    const spec = (await registry.readVersion(model, 1)).spec;
    const table = identifier(predictionsTable(model)).text;
    await storage.command(createPredictionsTableSql(model, spec.features));
    try {
      // Replayed traffic: event time two days back, whatever the wall clock says.
      const replayStart = NOW - 2 * 86_400_000;
      const insert = (version: number, firstEventMs: number, ingestedAt: string) =>
        storage.command(
          `INSERT INTO ${table}
  (event_id, model_name, model_version, event_time, event_time_ms, ${features.map((f) => identifier(f).text).join(', ')},
   prediction, latency_ms, kafka_partition, kafka_offset, ingested_at, late)
SELECT concat('${version}-', toString(number)), '${model}', ${version}, toDateTime(intDiv(${firstEventMs} + number * 50, 1000)),
  ${firstEventMs} + number * 50, ${features.map(() => '1.5').join(', ')}, 2, 1.5, 0, number, ${ingestedAt}, 0
FROM system.numbers LIMIT 100`,
        );
      const nextSecond = () => new Promise((r) => setTimeout(r, 1_100));
      // Version 1 was promoted when it was saved; its replayed traffic is stored after that.
      await insert(1, replayStart, 'now()');
      await nextSecond();
      await registry.promote(model, 2);
      const promotedSecond = Math.floor(Date.now() / 1000);
      // Version 2's traffic is stored after its promotion; rows of it stored ten seconds before
      // (as a previous champion's are) do not count.
      await insert(2, replayStart + 30_000, 'now()');
      await insert(2, replayStart + 10_000, `toDateTime(${promotedSecond - 10})`);
      await nextSecond();
      // Back to version 1, which has served nothing since: no event time yet.
      await registry.rollback(model);
      const body = (await get(`/api/models/${model}`)).body as { champion: number; deployments: { at: number }[] };
      expect(body.champion).toBe(1);
      expect(body.deployments).toEqual([
        expect.objectContaining({ action: 'promote', version: 1, from: null, eventAt: replayStart }),
        expect.objectContaining({ action: 'promote', version: 2, from: 1, eventAt: replayStart + 30_000 }),
        expect.objectContaining({ action: 'rollback', version: 1, from: 2, eventAt: null }),
      ]);
      // `at` stays the wall-clock time of the change.
      expect(Math.abs(body.deployments[2]!.at - Date.now())).toBeLessThan(60_000);
    } finally {
      await storage.command(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
    }
  });

  it('GET /metrics counts requests by route pattern and status; /healthz is ok while ClickHouse answers', async () => {
    const before = await metricValue(`/api/models/:model`, '200');
    await get(`/api/models/${MODEL}`);
    await get(`/api/models/${MODEL}`);
    await get('/api/models/no-such-model');
    expect(await metricValue(`/api/models/:model`, '200')).toBe(before + 2);
    expect(await metricValue(`/api/models/:model`, '404')).toBeGreaterThanOrEqual(1);
    const text = (await app.inject({ url: '/metrics' })).body;
    // One series per route, whatever the model in the URL.
    expect(text).not.toContain(`route="/api/models/${MODEL}"`);
    expect(text).toMatch(/driftline_dashboard_request_duration_seconds_count\{route="\/api\/models\/:model"\} \d+/);
    expect(text).toContain('driftline_dashboard_live_clients 0');
    expect(await get('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
  });

  /** The requests counter for GET on a route with a status, from the dashboard's /metrics. */
  async function metricValue(route: string, status: string): Promise<number> {
    const text = (await app.inject({ url: '/metrics' })).body;
    const line = text
      .split('\n')
      .find((l) =>
        l.startsWith(`driftline_dashboard_requests_total{route="${route}",method="GET",status="${status}"}`),
      );
    return line === undefined ? 0 : Number(line.split(' ').at(-1));
  }

  it('answers bad input with a 4xx naming the field', async () => {
    expect(await get(`/api/models/${MODEL}/windows?since=yesterday`)).toMatchObject({
      status: 400,
      body: { field: 'since' },
    });
    expect(await get('/api/models/Not_A_Model/windows')).toMatchObject({ status: 400, body: { field: 'model' } });
    expect(await get('/api/models/no-such-model/windows')).toMatchObject({ status: 404, body: { field: 'model' } });
    const csrf = await app.inject({ url: '/api/csrf' });
    const post = await app.inject({
      method: 'POST',
      url: `/api/models/${MODEL}/retrain`,
      headers: { cookie: String(csrf.headers['set-cookie']).split(';')[0], 'x-csrf-token': csrf.json().token },
      payload: { reason: 42 },
    });
    expect(post.statusCode).toBe(400);
    expect(post.json()).toMatchObject({ field: 'reason' });
    expect(calls).toEqual([]);
  });

  it('the live stamp moves when a drift event is stored', async () => {
    const before = await readChangeStamp(storage, 'd');
    await storage.insert('drift_events', [{ ...driftRow(10, 'drift'), evaluated_at: new Date(NOW + 120_000) }]);
    const after = await readChangeStamp(storage, 'd');
    expect(changedKinds(before, after)).toEqual(['drift']);
  });
});
