/**
 * `driftline alert test` against local servers speaking the real protocols (a Slack Web API
 * stand-in, a real SMTP server, a webhook receiver checking the signature); no Kafka needed.
 */
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../core/config.ts';
import { createLogger } from '../core/logger.ts';
import { FakeSlackApi, MailSink, WebhookReceiver } from '../test-support/alert-servers.ts';
import { alertCommand } from './alert.ts';

const TOKEN = 'xoxb-cli-test';
const SECRET = 'cli-webhook-secret';

describe('driftline alert test', () => {
  let slack: FakeSlackApi;
  let mail: MailSink;
  let hook: WebhookReceiver;

  beforeAll(async () => {
    slack = await new FakeSlackApi(TOKEN).start();
    mail = await new MailSink('bot@example.com', 'smtp-pass').start();
    hook = await new WebhookReceiver(SECRET).start();
  });
  afterAll(async () => {
    await slack.stop();
    await mail.stop();
    await hook.stop();
  });

  async function run(args: string[], env: Record<string, string>): Promise<{ code: number; text: string }> {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => {
      text += c.toString();
    });
    const code = await alertCommand.run(args, { config: parseConfig(env), logger: createLogger('silent'), out });
    return { code, text };
  }

  const env = () => ({
    SLACK_BOT_TOKEN: TOKEN,
    SLACK_CHANNEL: '#ml-alerts',
    SLACK_API_URL: slack.url,
    SMTP_URL: mail.url,
    ALERT_EMAIL_FROM: 'driftline@example.com',
    ALERT_EMAIL_TO: 'ml@example.com',
    ALERT_WEBHOOK_URL: hook.url,
    ALERT_WEBHOOK_SECRET: SECRET,
  });

  it('sends one test alert per configured channel and prints one line each', async () => {
    const { code, text } = await run(['test'], env());
    expect(code, text).toBe(0);
    expect(text).toMatch(/^slack: ok \(1700000000\.\d{6}\)$/m);
    expect(text).toMatch(/^email: ok \(<test-.*@example\.com>\)$/m);
    expect(text).toMatch(/^webhook: ok/m);
    expect(text).toMatch(/^log: ok$/m);
    expect(slack.messages.at(-1)?.text).toContain('Driftline test alert');
    expect(mail.mails.at(-1)?.subject).toContain('Driftline test alert');
    expect(hook.accepted.at(-1)?.verified).toBe(true);
  });

  it('--channel picks one; a failing channel is reported and the exit code is 1, with no secret shown', async () => {
    hook.down = true;
    try {
      const { code, text } = await run(['test', '--channel', 'webhook'], env());
      expect(code).toBe(1);
      expect(text.trim()).toMatch(/^webhook: failed after 3 attempts: webhook: HTTP 503 \[DL_ALERT_DELIVERY_FAILED\]$/);
      expect(text).not.toContain(SECRET);
    } finally {
      hook.down = false;
    }
    const refused = await run(['test', '--channel', 'slack'], { ...env(), SLACK_BOT_TOKEN: 'xoxb-wrong' });
    expect(refused.code).toBe(1);
    expect(refused.text).toContain('slack: failed after 1 attempt: slack: Slack refused the message: invalid_auth');
    expect(refused.text).not.toContain('xoxb-wrong');
  });

  it('a channel that cannot be reached is retried, then reported failed with the network error and no secret URL', async () => {
    // A port nothing listens on: the stopped webhook receiver's.
    const closed = await new WebhookReceiver('x').start();
    await closed.stop();
    const { code, text } = await run(['test', '--channel', 'slack'], {
      SLACK_WEBHOOK_URL: `${closed.url}/T000/B000/very-secret-path`,
    });
    expect(code).toBe(1);
    expect(text.trim()).toBe(
      'slack-webhook: failed after 3 attempts: slack-webhook: request failed (ECONNREFUSED) [DL_ALERT_DELIVERY_FAILED]',
    );
  });

  it('says so when the chosen channel is not configured', async () => {
    const { code, text } = await run(['test', '--channel', 'email'], {});
    expect(code).toBe(1);
    expect(text).toContain('no email channel is configured');
  });
});
