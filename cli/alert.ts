/** `driftline alert test` and `driftline alerts`: try the alert channels; list alerts and their deliveries. */
import { parseArgs } from 'node:util';
import { channelsFromConfig } from '../consumers/alert/channels/index.ts';
import { listAlerts } from '../consumers/alert/store.ts';
import { sendTestAlerts } from '../consumers/alert/test-alert.ts';
import { migrate } from '../core/migrations.ts';
import { openStorage } from '../core/storage/index.ts';
import { type Command, usageError } from './command.ts';
import { formatTable } from './table.ts';

/** `--channel` values and the channels each selects. */
const SELECTORS: Readonly<Record<string, readonly string[]>> = {
  slack: ['slack', 'slack-webhook'],
  email: ['email'],
  webhook: ['webhook'],
};

export const alertCommand: Command = {
  name: 'alert',
  usage: 'alert test [--channel slack|webhook|email]',
  summary:
    'send a test alert through every configured channel (or one); one line per channel with its result, non-zero exit if any failed',
  async run(args, { config, logger, out }) {
    let parsed: { positionals: string[]; values: { channel?: string } };
    try {
      parsed = parseArgs({ args: [...args], options: { channel: { type: 'string' } }, allowPositionals: true });
    } catch (error) {
      throw usageError((error as Error).message);
    }
    if (parsed.positionals.length !== 1 || parsed.positionals[0] !== 'test') {
      throw usageError('usage: driftline alert test [--channel slack|webhook|email]');
    }
    const selector = parsed.values.channel;
    if (selector !== undefined && !(selector in SELECTORS)) {
      throw usageError(
        `--channel must be one of ${Object.keys(SELECTORS).join(', ')}; got ${JSON.stringify(selector)}`,
      );
    }
    const all = channelsFromConfig(config.alerting, { logger, out: null });
    const channels = selector === undefined ? all : all.filter((c) => SELECTORS[selector]?.includes(c.name));
    if (channels.length === 0) {
      out.write(
        `no ${selector} channel is configured (see README, Configuration: SLACK_BOT_TOKEN/SLACK_CHANNEL or SLACK_WEBHOOK_URL, SMTP_URL/ALERT_EMAIL_FROM/ALERT_EMAIL_TO, ALERT_WEBHOOK_URL/ALERT_WEBHOOK_SECRET)\n`,
      );
      return 1;
    }
    const results = await sendTestAlerts(channels, { dashboardUrl: config.alerting.dashboardUrl });
    for (const r of results) {
      out.write(
        r.ok
          ? `${r.channel}: ok${r.detail ? ` (${r.detail})` : ''}${r.attempts > 1 ? ` after ${r.attempts} attempts` : ''}\n`
          : `${r.channel}: failed after ${r.attempts} attempt${r.attempts === 1 ? '' : 's'}: ${r.detail}\n`,
      );
    }
    return results.every((r) => r.ok) ? 0 : 1;
  },
};

export const alertsCommand: Command = {
  name: 'alerts',
  usage: 'alerts [--model M] [--json]',
  summary: 'list alerts (newest first), each message (open, update, resolve) and its delivery per channel',
  async run(args, { config, logger, out }) {
    let values: { model?: string; json?: boolean };
    try {
      ({ values } = parseArgs({ args: [...args], options: { model: { type: 'string' }, json: { type: 'boolean' } } }));
    } catch (error) {
      throw usageError((error as Error).message);
    }
    const storage = await openStorage(config, logger);
    try {
      await migrate(storage);
      const alerts = await listAlerts(storage, values.model === undefined ? {} : { model: values.model });
      if (values.json) {
        out.write(`${JSON.stringify(alerts)}\n`);
        return 0;
      }
      if (alerts.length === 0) {
        out.write('(no alerts)\n');
        return 0;
      }
      const rows = alerts.flatMap((a) =>
        a.messages.map((m, i) => [
          i === 0 ? a.alert_id : '',
          i === 0 ? `${a.model_name} v${a.model_version}` : '',
          i === 0 ? `${a.status} (${a.severity})` : '',
          m.kind,
          m.decided_at.replace('.000Z', 'Z'),
          m.deliveries
            .map(
              (d) =>
                `${d.channel}:${d.status}${d.attempts > 1 ? `×${d.attempts}` : ''}${d.error ? ` (${d.error})` : ''}`,
            )
            .join(' ') || '(not delivered yet)',
        ]),
      );
      out.write(`${formatTable(['ALERT', 'MODEL', 'STATUS', 'MESSAGE', 'DECIDED', 'DELIVERIES'], rows)}\n`);
      return 0;
    } finally {
      await storage.close();
    }
  },
};
