/**
 * One root pino logger; components take `child({ component })`. Secrets are redacted by path
 * so that a config object or an error carrying credentials never reaches the log in clear.
 */
import { createRequire } from 'node:module';
import type { DestinationStream, Logger } from 'pino';
import type { LogLevel } from './config.ts';

export type { Logger } from 'pino';

/** Paths pino censors wherever they appear (top level or one level down). */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  'schemaRegistryPassword',
  '*.schemaRegistryPassword',
  'clickhousePassword',
  '*.clickhousePassword',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'SLACK_BOT_TOKEN',
  'SMTP_PASSWORD',
  // Alerting (core/config.ts AlertingConfig): a config object or a channel's settings.
  'botToken',
  '*.botToken',
  '*.*.botToken',
  'smtpUrl',
  '*.smtpUrl',
  '*.*.smtpUrl',
  'slackWebhookUrl',
  '*.slackWebhookUrl',
  'secret',
  '*.secret',
  '*.*.secret',
  'SLACK_WEBHOOK_URL',
  'SMTP_URL',
  'ALERT_WEBHOOK_SECRET',
  // Retraining (core/config.ts RetrainConfig.airflow): the config, its retrain part or the Airflow settings.
  '*.*.password',
  '*.*.token',
  'AIRFLOW_PASSWORD',
  'AIRFLOW_TOKEN',
  // The dashboard's access token (core/config.ts dashboardToken).
  'dashboardToken',
  '*.dashboardToken',
  'DASHBOARD_TOKEN',
];

// pino loads when the first logger is made, not with this module: a command that never logs
// (a small `compare`) starts ~0.1 s sooner.
const load = () => createRequire(import.meta.url)('pino') as typeof import('pino');

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const { pino } = load();
  return pino(
    { level, base: { app: 'driftline' }, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } },
    destination ?? pino.destination(2),
  );
}
