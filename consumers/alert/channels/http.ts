/**
 * One JSON POST over fetch, with the failure classified (channel.ts). The URL may be a secret
 * (a Slack incoming-webhook URL is its own credential): it appears in no error.
 */
import { type ChannelName, deliveryError, networkReason, retriableStatus, retryAfterMs } from './channel.ts';

export async function postJson(
  channel: ChannelName,
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<{ status: number; text: string }> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw deliveryError(`request failed (${networkReason(error)})`, { channel, retriable: true });
  }
  const text = await response.text().catch(() => '');
  if (response.ok) return { status: response.status, text };
  const after = retryAfterMs(response.headers.get('retry-after'));
  throw deliveryError(`HTTP ${response.status}`, {
    channel,
    status: response.status,
    retriable: retriableStatus(response.status),
    ...(after === undefined ? {} : { retryAfterMs: after }),
  });
}
