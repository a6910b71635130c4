/**
 * Starts a DAG run through Airflow's stable REST API (RETRAIN_MODE=airflow):
 *
 * - Airflow 2, API v1: `POST {url}/api/v1/dags/{dag_id}/dagRuns`, HTTP basic auth, body
 *   `{ dag_run_id, logical_date, conf, note }` (the `DAGRun` schema's writable fields; `logical_date`
 *   since 2.2, `note` since 2.5);
 * - Airflow 3, API v2: `POST {url}/api/v2/dags/{dag_id}/dagRuns`, bearer token, body
 *   `TriggerDAGRunPostBody` `{ dag_run_id, logical_date, conf, note }` (`logical_date` is required
 *   there, and no other fields are accepted).
 *
 * The run id is derived from the retraining cycle, so a retry after a lost answer meets 409
 * (the run exists) instead of starting a second run: 409 counts as started. Network errors, 5xx
 * and 429 are retried with doubling backoff; anything else, or the last failure, is thrown as
 * UPSTREAM_FAILED with the status and Airflow's `detail`. Credentials never appear in errors.
 */
import type { AirflowConfig } from '../../core/config.ts';
import { DriftlineError, ErrorCode } from '../../core/errors.ts';

export interface DagRunRequest {
  /** `driftline__<run id>`: unique per cycle. */
  dagRunId: string;
  logicalDate: Date;
  conf: Record<string, unknown>;
  note: string;
}

export interface DagRunStarted {
  dagRunId: string;
  /** HTTP requests made, the successful one included. */
  attempts: number;
  /** true when Airflow answered 409: an earlier attempt had started it. */
  existed: boolean;
}

export interface AirflowClientOptions {
  /** First backoff, doubled after each failure (default 500 ms). */
  backoffMs?: number;
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (info: { attempt: number; status: number | null; retryInMs: number; message: string }) => void;
}

/** The URL and request body the configured API version documents. */
export function dagRunRequest(
  config: AirflowConfig,
  run: DagRunRequest,
): { url: string; body: Record<string, unknown> } {
  const base = `${config.url}/api/v${config.apiVersion}/dags/${encodeURIComponent(config.dagId)}/dagRuns`;
  return {
    url: base,
    body: {
      dag_run_id: run.dagRunId,
      logical_date: run.logicalDate.toISOString(),
      conf: run.conf,
      note: run.note,
    },
  };
}

function authorization(config: AirflowConfig): string {
  if (config.apiVersion === 2) return `Bearer ${config.token ?? ''}`;
  return `Basic ${Buffer.from(`${config.username ?? ''}:${config.password ?? ''}`).toString('base64')}`;
}

export async function triggerDagRun(
  config: AirflowConfig,
  run: DagRunRequest,
  options: AirflowClientOptions = {},
): Promise<DagRunStarted> {
  const { url, body } = dagRunRequest(config, run);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const backoffMs = options.backoffMs ?? 500;
  const timeoutMs = options.timeoutMs ?? 30_000;
  let last: { status: number | null; message: string; cause?: unknown } = { status: null, message: '' };
  let attempts = 0;
  for (let attempt = 1; attempt <= config.retries + 1; attempt++) {
    let response: Response | undefined;
    attempts = attempt;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          authorization: authorization(config),
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      last = {
        status: null,
        message: `Airflow at ${config.url} is unreachable: ${(error as Error).message}`,
        cause: error,
      };
    }
    if (response) {
      if (response.ok) {
        const answer = (await response.json().catch(() => ({}))) as { dag_run_id?: unknown };
        const dagRunId = typeof answer.dag_run_id === 'string' ? answer.dag_run_id : run.dagRunId;
        return { dagRunId, attempts: attempt, existed: false };
      }
      if (response.status === 409) return { dagRunId: run.dagRunId, attempts: attempt, existed: true };
      const detail = await detailOf(response);
      last = { status: response.status, message: `Airflow answered ${response.status} to POST ${url}${detail}` };
      const retriable = response.status >= 500 || response.status === 429;
      if (!retriable) break;
    }
    if (attempt <= config.retries) {
      const retryInMs = backoffMs * 2 ** (attempt - 1);
      options.onRetry?.({ attempt, status: last.status, retryInMs, message: last.message });
      await sleep(retryInMs);
    }
  }
  const retriable = last.status === null || last.status >= 500 || last.status === 429;
  throw new DriftlineError(ErrorCode.UPSTREAM_FAILED, `${last.message} (${attempts} attempts)`, {
    cause: last.cause,
    retriable,
    details: { url, status: last.status, dagId: config.dagId, attempts },
  });
}

async function detailOf(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const parsed = JSON.parse(text) as { detail?: unknown; title?: unknown };
    const detail = parsed.detail ?? parsed.title;
    if (detail !== undefined) return `: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`.slice(0, 500);
  } catch {
    // not JSON
  }
  return text === '' ? '' : `: ${text.slice(0, 300)}`;
}
