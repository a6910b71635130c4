/**
 * What every alert channel is, and how its failures become one error: DL_ALERT_DELIVERY_FAILED
 * with `retriable` (network errors, 5xx, 429 — with `details.retryAfterMs` when the server said
 * when) or not (a refusal: bad token, unknown channel, 4xx). Messages name the channel and the
 * failure, never a URL, token, password or secret: `scrub` removes them from any foreign text.
 */
import { DriftlineError, ErrorCode } from '../../../core/errors.ts';
import type { AlertMessage } from '../message.ts';

export const CHANNEL_NAMES = ['slack', 'slack-webhook', 'email', 'webhook', 'log'] as const;
export type ChannelName = (typeof CHANNEL_NAMES)[number];

export interface Delivered {
  /** Slack `ts`, email Message-ID, webhook delivery id; '' when the channel has none. */
  messageId: string;
}

export interface AlertChannel {
  readonly name: ChannelName;
  /**
   * Sends one message. `thread` is the id of the alert's first delivered message on this channel
   * (Slack thread_ts, email Message-ID), when there is one. Rejects only with DL_ALERT_DELIVERY_FAILED.
   */
  send(message: AlertMessage, thread: string | undefined): Promise<Delivered>;
  close?(): Promise<void>;
}

export interface DeliveryErrorDetails {
  channel: ChannelName;
  status?: number;
  retryAfterMs?: number;
}

export function deliveryError(text: string, options: DeliveryErrorDetails & { retriable: boolean }): DriftlineError {
  const { retriable, ...details } = options;
  return new DriftlineError(ErrorCode.ALERT_DELIVERY_FAILED, `${options.channel}: ${text}`, { retriable, details });
}

/** `Retry-After` as ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, now = Date.now()): number | undefined {
  if (header === null || header === undefined || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** 429 and 5xx are worth trying again; other statuses are refusals. */
export function retriableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** Replaces every secret found in `text` (and URL-encoded forms of it) with [redacted]. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join('[redacted]');
  }
  return out;
}

/** The code of a network error (ECONNREFUSED…) from fetch's `cause`, or the error's name. */
export function networkReason(error: unknown): string {
  let e: unknown = error;
  for (let depth = 0; depth < 4 && typeof e === 'object' && e !== null; depth++) {
    const { code, cause, name } = e as { code?: unknown; cause?: unknown; name?: unknown };
    if (typeof code === 'string' && code !== '') return code;
    if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
    e = cause;
  }
  return 'network error';
}
