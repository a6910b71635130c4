/** The channels the configuration turns on (each when its variables are set), log and terminal always. */
import type { AlertingConfig } from '../../../core/config.ts';
import type { Logger } from '../../../core/logger.ts';
import type { AlertChannel } from './channel.ts';
import { ConsoleChannel } from './console.ts';
import { EmailChannel } from './email.ts';
import { SlackChannel } from './slack.ts';
import { SlackWebhookChannel } from './slack-webhook.ts';
import { WebhookChannel } from './webhook.ts';

export type { AlertChannel, ChannelName, Delivered } from './channel.ts';
export { CHANNEL_NAMES } from './channel.ts';

export function channelsFromConfig(
  alerting: AlertingConfig,
  options: { logger: Logger; out: NodeJS.WritableStream | null },
): AlertChannel[] {
  const channels: AlertChannel[] = [];
  if (alerting.slack) channels.push(new SlackChannel(alerting.slack));
  if (alerting.slackWebhookUrl) channels.push(new SlackWebhookChannel(alerting.slackWebhookUrl));
  if (alerting.email) channels.push(new EmailChannel(alerting.email));
  if (alerting.webhook) channels.push(new WebhookChannel(alerting.webhook));
  channels.push(new ConsoleChannel(options.logger.child({ component: 'alert' }), options.out));
  return channels;
}

/** Every secret of the alerting configuration, for scrubbing foreign error text. */
export function alertingSecrets(alerting: AlertingConfig): string[] {
  const secrets: string[] = [];
  if (alerting.slack) secrets.push(alerting.slack.botToken);
  if (alerting.slackWebhookUrl) secrets.push(alerting.slackWebhookUrl);
  if (alerting.email) {
    secrets.push(alerting.email.smtpUrl);
    const password = new URL(alerting.email.smtpUrl).password;
    if (password) secrets.push(password, decodeURIComponent(password));
  }
  if (alerting.webhook) secrets.push(alerting.webhook.secret);
  return secrets;
}
