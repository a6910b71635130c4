/**
 * `driftline alert test`: one test message through each configured channel, a few quick retries
 * on what is worth retrying (Retry-After honoured up to 5 s), and one result per channel.
 */
import { DriftlineError, describeError } from '../../core/errors.ts';
import type { AlertChannel } from './channels/channel.ts';
import { backoffMs } from './consumer.ts';
import { testAlertMessage } from './message.ts';

export interface TestResult {
  channel: string;
  ok: boolean;
  /** Message id / Slack ts on success, the reason on failure. */
  detail: string;
  attempts: number;
}

export async function sendTestAlerts(
  channels: readonly AlertChannel[],
  options: { dashboardUrl?: string | undefined; attempts?: number } = {},
): Promise<TestResult[]> {
  const message = testAlertMessage({ dashboardUrl: options.dashboardUrl });
  const maxAttempts = options.attempts ?? 3;
  const results: TestResult[] = [];
  for (const channel of channels) {
    for (let attempt = 1; ; attempt++) {
      try {
        const delivered = await channel.send(message, undefined);
        results.push({ channel: channel.name, ok: true, detail: delivered.messageId, attempts: attempt });
        break;
      } catch (error) {
        const retriable = error instanceof DriftlineError && error.retriable;
        if (!retriable || attempt >= maxAttempts) {
          results.push({ channel: channel.name, ok: false, detail: describeError(error), attempts: attempt });
          break;
        }
        const after = (error as DriftlineError).details.retryAfterMs;
        const wait = Math.min(5_000, typeof after === 'number' ? after : backoffMs(attempt));
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
    await channel.close?.().catch(() => {});
  }
  return results;
}
