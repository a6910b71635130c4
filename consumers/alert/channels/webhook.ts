/**
 * The JSON webhook: the alert message as the body, `X-Driftline-Signature: sha256=<hex>` the
 * HMAC-SHA256 of those exact bytes under ALERT_WEBHOOK_SECRET, and `X-Driftline-Delivery`
 * (alert id:event id) a key the receiver can deduplicate on.
 */
import { createHmac } from 'node:crypto';
import { type AlertMessage, webhookBody } from '../message.ts';
import type { AlertChannel, Delivered } from './channel.ts';
import { postJson } from './http.ts';

export function signature(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

export class WebhookChannel implements AlertChannel {
  readonly name = 'webhook' as const;
  readonly #url: string;
  readonly #secret: string;

  constructor(
    options: { url: string; secret: string },
    private readonly timeoutMs = 10_000,
  ) {
    this.#url = options.url;
    this.#secret = options.secret;
  }

  async send(message: AlertMessage): Promise<Delivered> {
    const body = webhookBody(message);
    const delivery = `${message.alertId}:${message.eventId}`;
    await postJson(
      this.name,
      this.#url,
      body,
      { 'x-driftline-signature': signature(body, this.#secret), 'x-driftline-delivery': delivery },
      this.timeoutMs,
    );
    return { messageId: delivery };
  }
}
