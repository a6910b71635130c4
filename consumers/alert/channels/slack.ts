/**
 * Slack through the Web API (`@slack/web-api`): `chat.postMessage` with Block Kit; updates and the
 * resolution are replies in the opening message's thread (`thread_ts`). SLACK_API_URL points the
 * client at a Slack-compatible gateway or a test server. The client's own retries are off (the
 * alert consumer retries with its budget) and a 429 is handed back with its Retry-After.
 */
import { LogLevel, type Logger as SlackLogger, WebClient } from '@slack/web-api';
import { type AlertMessage, slackBlocks, textLines } from '../message.ts';
import { type AlertChannel, type Delivered, deliveryError, networkReason, retriableStatus, scrub } from './channel.ts';

/** Platform errors (`ok: false`) that are Slack's trouble, not ours. */
const TRANSIENT_PLATFORM_ERRORS = new Set([
  'ratelimited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
]);

const quiet: SlackLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => LogLevel.ERROR,
  setName() {},
};

export class SlackChannel implements AlertChannel {
  readonly name = 'slack' as const;
  readonly #client: WebClient;
  readonly #token: string;

  constructor(
    options: { botToken: string; channel: string; apiUrl: string },
    private readonly slackChannel = options.channel,
  ) {
    this.#token = options.botToken;
    this.#client = new WebClient(options.botToken, {
      slackApiUrl: `${options.apiUrl.replace(/\/+$/, '')}/`,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: 10_000,
      logger: quiet,
    });
  }

  async send(message: AlertMessage, thread: string | undefined): Promise<Delivered> {
    try {
      const result = await this.#client.chat.postMessage({
        channel: this.slackChannel,
        text: textLines(message).join('\n'),
        blocks: slackBlocks(message) as never,
        unfurl_links: false,
        ...(thread ? { thread_ts: thread } : {}),
      });
      return { messageId: String(result.ts ?? '') };
    } catch (error) {
      throw this.convert(error);
    }
  }

  private convert(error: unknown) {
    const e = error as {
      code?: string;
      retryAfter?: number;
      statusCode?: number;
      data?: { error?: string };
      message?: string;
    };
    const channel = this.name;
    switch (e.code) {
      case 'slack_webapi_rate_limited_error':
        return deliveryError('rate limited (HTTP 429)', {
          channel,
          status: 429,
          retriable: true,
          retryAfterMs: (e.retryAfter ?? 1) * 1000,
        });
      case 'slack_webapi_http_error':
        return deliveryError(`HTTP ${e.statusCode}`, {
          channel,
          status: e.statusCode ?? 0,
          retriable: retriableStatus(e.statusCode ?? 500),
        });
      case 'slack_webapi_platform_error': {
        const code = String(e.data?.error ?? 'unknown_error');
        return deliveryError(`Slack refused the message: ${code}`, {
          channel,
          retriable: TRANSIENT_PLATFORM_ERRORS.has(code),
        });
      }
      case 'slack_webapi_request_error':
        return deliveryError(`request failed (${networkReason((error as { original?: unknown }).original)})`, {
          channel,
          retriable: true,
        });
      default:
        // Anything else (a 429 without a usable Retry-After…): worth another try within the budget.
        return deliveryError(scrub(String(e.message ?? error), [this.#token]).slice(0, 300), {
          channel,
          retriable: true,
        });
    }
  }
}
