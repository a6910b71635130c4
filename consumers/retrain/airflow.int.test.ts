/**
 * The cycle in RETRAIN_MODE=airflow against real ClickHouse and a local HTTP stand-in for Airflow:
 * the DAG run is started with the drift summary in `conf` and recorded in retrain_runs; a 5xx that
 * lasts is retried, then recorded as failed with the attempts (never swallowed).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { type AirflowConfig, parseConfig, type RetrainConfig } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { migrate } from '../../core/migrations.ts';
import { openStorage, type Storage, sql } from '../../core/storage/index.ts';
import { ModelLoader } from '../../model/model-loader.ts';
import { trainModel } from '../../model/train.ts';
import { type AirflowStandIn, startAirflowStandIn } from '../../test-support/airflow-server.ts';
import { uniqueName } from '../../test-support/names.ts';
import { createRetrainer } from './cycle.ts';
import type { RetrainTrigger } from './decision.ts';

const services = inject('services');
const logger = createLogger('silent');

describe('retraining cycle in Airflow mode', () => {
  let storage: Storage;
  let home: string;
  let registry: ModelLoader;
  let server: AirflowStandIn | undefined;
  const model = uniqueName('airflow').replace(/_/g, '-').toLowerCase();

  beforeAll(async () => {
    storage = await openStorage(parseConfig({ CLICKHOUSE_DATABASE: 'driftline_retrain_test' }), logger, {
      clickhouseUrl: services.clickhouseUrl,
    });
    await migrate(storage);
    home = await mkdtemp(join(tmpdir(), 'dl-airflow-'));
    registry = new ModelLoader(join(home, 'models'));
    const trained = await trainModel({ maxRows: 500, epochs: 1 });
    try {
      await registry.saveVersion({
        ...trained,
        spec: { ...trained.spec, model },
        profile: { ...trained.profile, model },
      });
    } finally {
      trained.predictor.dispose();
    }
  });

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  afterAll(async () => {
    await storage?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  function retrainer(airflow: AirflowConfig) {
    const settings: RetrainConfig = { ...parseConfig({}).retrain, mode: 'airflow', airflow, cooldownSeconds: 0 };
    return createRetrainer({
      storage,
      registry,
      settings,
      logger,
      deploy: async () => {
        throw new Error('airflow mode never deploys in-process');
      },
      airflowClient: { backoffMs: 10 },
    });
  }

  const trigger = (eventId: string): RetrainTrigger => ({
    kind: 'drift',
    model,
    eventId,
    modelVersion: 1,
    reason: 'drift for 3 windows in a row (MedInc)',
    summary: { drift_event_id: eventId, drifted_features: ['MedInc'], performance: { verdict: 'ok' } },
  });

  it('starts the DAG run with the drift summary in conf (API v2 for Airflow 3) and records it', async () => {
    server = await startAirflowStandIn([{ status: 200 }]);
    const run = await retrainer({
      url: server.url,
      dagId: 'driftline_retraining',
      apiVersion: 2,
      username: undefined,
      password: undefined,
      token: 'tok-xyz',
      retries: 2,
    }).run(trigger('e-42'));
    expect(run).toMatchObject({ state: 'dag_triggered', attempts: 1, mode: 'airflow' });
    const [request] = server.received;
    expect(request?.path).toBe('/api/v2/dags/driftline_retraining/dagRuns');
    expect(request?.headers.authorization).toBe('Bearer tok-xyz');
    const body = request?.body as { dag_run_id: string; logical_date: string; conf: Record<string, unknown> };
    expect(body.dag_run_id).toBe(run.dag_run_id);
    expect(body.conf).toMatchObject({
      model,
      trigger: 'drift',
      drift_event_id: 'e-42',
      retrain_run_id: run.run_id,
      drifted_features: ['MedInc'],
    });
    const [row] = await storage.query<Record<string, unknown>>(
      sql`SELECT state, dag_run_id, attempts FROM retrain_runs WHERE run_id = ${run.run_id}`.text,
    );
    expect(row).toEqual({ state: 'dag_triggered', dag_run_id: run.dag_run_id, attempts: 1 });
  });

  it('retries a 5xx, then records the failure with the attempts, never the password', async () => {
    server = await startAirflowStandIn([{ status: 503 }]);
    const run = await retrainer({
      url: server.url,
      dagId: 'driftline_retraining',
      apiVersion: 1,
      username: 'admin',
      password: 'pw-never-shown',
      token: undefined,
      retries: 2,
    }).run(trigger('e-43'));
    expect(server.received).toHaveLength(3);
    expect(server.received[0]?.path).toBe('/api/v1/dags/driftline_retraining/dagRuns');
    expect(run).toMatchObject({ state: 'failed', attempts: 3 });
    const [row] = await storage.query<Record<string, unknown>>(
      sql`SELECT state, reason, attempts FROM retrain_runs WHERE run_id = ${run.run_id}`.text,
    );
    expect(row?.state).toBe('failed');
    expect(row?.attempts).toBe(3);
    expect(row?.reason).toMatch(/Airflow answered 503 .* \(3 attempts\) \[DL_UPSTREAM_FAILED\]/);
    expect(JSON.stringify(row)).not.toContain('pw-never-shown');
  });
});
