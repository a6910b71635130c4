/**
 * Replay through the predict service: batches to `POST /predict` and `POST /feedback`.
 * Retries 503 (the service is up but cannot deliver yet) a few times with backoff; any other
 * failure stops the replay with the service's own message.
 */
import { DriftlineError, ErrorCode } from '../../core/errors.ts';
import type { ReplaySender } from './replay.ts';

export function httpSender(baseUrl: string, options: { retries?: number; timeoutMs?: number } = {}): ReplaySender {
  const url = baseUrl.replace(/\/+$/, '');
  const retries = options.retries ?? 5;
  const timeoutMs = options.timeoutMs ?? 30_000;

  async function post<T>(path: string, body: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(`${url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        if (attempt < retries) {
          await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
          continue;
        }
        throw new DriftlineError(
          ErrorCode.UPSTREAM_FAILED,
          `predict service at ${url} is unreachable (is \`driftline serve\` running?)`,
          {
            cause: error,
            retriable: true,
          },
        );
      }
      if (response.ok) return (await response.json()) as T;
      const text = await response.text();
      if (response.status === 503 && attempt < retries) {
        await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
        continue;
      }
      throw new DriftlineError(
        ErrorCode.UPSTREAM_FAILED,
        `predict service answered ${response.status} to ${path}: ${text}`,
      );
    }
  }

  return {
    async predict(records) {
      const answer = await post<{ predictions: { event_id: string }[] }>('/predict', { records });
      return answer.predictions.map((p) => p.event_id);
    },
    async feedback(items) {
      await post('/feedback', { records: items });
    },
  };
}
