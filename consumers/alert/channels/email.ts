/**
 * Email over SMTP with nodemailer: HTML and plain-text parts; updates and the resolution reply to
 * the opening message (`In-Reply-To`, `References`), so mail clients thread them. Message-IDs are
 * derived from the alert and event, so a message resent after a crash carries the same id.
 */
import { createTransport, type Transporter } from 'nodemailer';
import { type AlertMessage, emailHtml, emailSubject, textLines } from '../message.ts';
import { type AlertChannel, type Delivered, deliveryError, scrub } from './channel.ts';

/** Connection-level failures, worth another try. */
const TRANSIENT_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNREFUSED', 'ECONNRESET']);

export class EmailChannel implements AlertChannel {
  readonly name = 'email' as const;
  readonly #transport: Transporter;
  readonly #secrets: string[];

  constructor(private readonly options: { smtpUrl: string; from: string; to: readonly string[] }) {
    this.#transport = createTransport({
      url: options.smtpUrl,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000,
    } as never);
    const url = new URL(options.smtpUrl);
    this.#secrets = [options.smtpUrl, decodeURIComponent(url.password), url.password].filter((s) => s !== '');
  }

  async send(message: AlertMessage, thread: string | undefined): Promise<Delivered> {
    const domain = this.options.from.slice(this.options.from.lastIndexOf('@') + 1) || 'driftline';
    const messageId = `<${message.alertId}.${message.eventId}@${domain}>`;
    try {
      await this.#transport.sendMail({
        from: this.options.from,
        to: [...this.options.to],
        subject: emailSubject(message, { reply: thread !== undefined }),
        text: textLines(message).join('\n'),
        html: emailHtml(message),
        messageId,
        ...(thread ? { inReplyTo: thread, references: [thread] } : {}),
        headers: { 'X-Driftline-Alert': message.alertId },
      });
      return { messageId };
    } catch (error) {
      const e = error as { code?: string; responseCode?: number; message?: string };
      const transient =
        (e.code !== undefined && TRANSIENT_CODES.has(e.code)) ||
        (e.responseCode !== undefined && e.responseCode >= 400 && e.responseCode < 500);
      const text = scrub(`${e.code ?? 'error'}: ${e.message ?? String(error)}`, this.#secrets).slice(0, 300);
      return Promise.reject(
        deliveryError(text, {
          channel: this.name,
          retriable: transient,
          ...(e.responseCode ? { status: e.responseCode } : {}),
        }),
      );
    }
  }

  async close(): Promise<void> {
    this.#transport.close();
  }
}
