/** Slack incoming webhook (SLACK_WEBHOOK_URL): the same Block Kit, no threads. */
import { type AlertMessage, slackBlocks, textLines } from '../message.ts';
import type { AlertChannel, Delivered } from './channel.ts';
import { postJson } from './http.ts';

export class SlackWebhookChannel implements AlertChannel {
  readonly name = 'slack-webhook' as const;
  readonly #url: string;

  constructor(
    url: string,
    private readonly timeoutMs = 10_000,
  ) {
    this.#url = url;
  }

  async send(message: AlertMessage): Promise<Delivered> {
    const body = JSON.stringify({ text: textLines(message).join('\n'), blocks: slackBlocks(message) });
    await postJson(this.name, this.#url, body, {}, this.timeoutMs);
    return { messageId: '' };
  }
}
