import { afterEach, describe, expect, it } from 'vitest';
import type { AirflowConfig } from '../../core/config.ts';
import { DriftlineError, ErrorCode } from '../../core/errors.ts';
import { type AirflowStandIn, startAirflowStandIn } from '../../test-support/airflow-server.ts';
import { triggerDagRun } from './airflow.ts';

let server: AirflowStandIn | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const run = {
  dagRunId: 'driftline__run-1',
  logicalDate: new Date('2025-05-01T12:00:00.000Z'),
  conf: { model: 'california-housing', trigger: 'performance', drift_event_id: 'e-1' },
  note: 'realized RMSE degraded',
};

function config(url: string, overrides: Partial<AirflowConfig> = {}): AirflowConfig {
  return {
    url,
    dagId: 'driftline_retraining',
    apiVersion: 1,
    username: 'admin',
    password: 's3cret-pw',
    token: undefined,
    retries: 3,
    ...overrides,
  };
}

const noSleep = async () => {};

describe('triggerDagRun', () => {
  it('Airflow 2 (API v1): POST /api/v1/dags/{dag_id}/dagRuns with basic auth and the DAGRun body', async () => {
    server = await startAirflowStandIn([{ status: 200 }]);
    const started = await triggerDagRun(config(server.url), run, { sleep: noSleep });
    expect(started).toEqual({ dagRunId: 'driftline__run-1', attempts: 1, existed: false });
    const [request] = server.received;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/api/v1/dags/driftline_retraining/dagRuns');
    expect(request?.headers.authorization).toBe(`Basic ${Buffer.from('admin:s3cret-pw').toString('base64')}`);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.body).toEqual({
      dag_run_id: 'driftline__run-1',
      logical_date: '2025-05-01T12:00:00.000Z',
      conf: run.conf,
      note: run.note,
    });
  });

  it('Airflow 3 (API v2): POST /api/v2/dags/{dag_id}/dagRuns with a bearer token and logical_date', async () => {
    server = await startAirflowStandIn([{ status: 200 }]);
    await triggerDagRun(
      config(server.url, { apiVersion: 2, username: undefined, password: undefined, token: 'tok-123' }),
      run,
      { sleep: noSleep },
    );
    const [request] = server.received;
    expect(request?.path).toBe('/api/v2/dags/driftline_retraining/dagRuns');
    expect(request?.headers.authorization).toBe('Bearer tok-123');
    // TriggerDAGRunPostBody: logical_date is required; no field outside the documented ones.
    expect(Object.keys(request?.body as object).sort()).toEqual(['conf', 'dag_run_id', 'logical_date', 'note']);
    expect((request?.body as { logical_date?: string } | undefined)?.logical_date).toBe('2025-05-01T12:00:00.000Z');
  });

  it('retries a 5xx with doubling backoff and succeeds when Airflow recovers', async () => {
    server = await startAirflowStandIn([{ status: 503 }, { status: 500 }, { status: 200 }]);
    const waits: number[] = [];
    const started = await triggerDagRun(config(server.url), run, {
      backoffMs: 100,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    expect(started.attempts).toBe(3);
    expect(waits).toEqual([100, 200]);
    expect(server.received).toHaveLength(3);
  });

  it('reports a 5xx that lasts past the retries, with status and attempts, never the credentials', async () => {
    server = await startAirflowStandIn([{ status: 502 }]);
    const error = await triggerDagRun(config(server.url, { retries: 2 }), run, { sleep: noSleep }).catch((e) => e);
    expect(error).toBeInstanceOf(DriftlineError);
    expect(error.code).toBe(ErrorCode.UPSTREAM_FAILED);
    expect(error.retriable).toBe(true);
    expect(error.details).toMatchObject({ status: 502, attempts: 3 });
    expect(error.message).toContain('Airflow answered 502');
    expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain('s3cret-pw');
    expect(server.received).toHaveLength(3);
  });

  it('does not retry a refusal (401), and takes 409 as a run an earlier attempt started', async () => {
    server = await startAirflowStandIn([{ status: 401, body: { detail: 'Unauthorized' } }]);
    const error = await triggerDagRun(config(server.url), run, { sleep: noSleep }).catch((e) => e);
    expect(error.message).toContain('401');
    expect(error.message).toContain('Unauthorized');
    expect(error.retriable).toBe(false);
    expect(server.received).toHaveLength(1);
    await server.close();
    server = await startAirflowStandIn([{ status: 503 }, { status: 409 }]);
    expect(await triggerDagRun(config(server.url), run, { sleep: noSleep })).toEqual({
      dagRunId: 'driftline__run-1',
      attempts: 2,
      existed: true,
    });
  });

  it('retries an unreachable Airflow, then says so', async () => {
    const error = await triggerDagRun(config('http://127.0.0.1:1', { retries: 1 }), run, { sleep: noSleep }).catch(
      (e) => e,
    );
    expect(error.message).toContain('unreachable');
    expect(error.details.attempts).toBe(2);
  });
});
