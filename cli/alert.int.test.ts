/** `driftline alerts` over an `alerts` table on the ClickHouse server (18.16), as a table and as JSON. */
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { testAlertMessage } from '../consumers/alert/message.ts';
import { decisionRow, deliveryRow } from '../consumers/alert/store.ts';
import { parseConfig } from '../core/config.ts';
import { createLogger } from '../core/logger.ts';
import { migrate } from '../core/migrations.ts';
import { openStorage, type Storage } from '../core/storage/index.ts';
import { alertsCommand } from './alert.ts';

const services = inject('services');
const DATABASE = 'driftline_alerts_cli_test';
const logger = createLogger('silent');
const config = parseConfig({ CLICKHOUSE_URL: services.clickhouseUrl, CLICKHOUSE_DATABASE: DATABASE });

async function run(args: string[]): Promise<{ code: number; text: string }> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => {
    text += c.toString();
  });
  const code = await alertsCommand.run(args, { config, logger, out });
  return { code, text };
}

describe('driftline alerts', () => {
  let storage: Storage;
  const model = `cli-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    storage = await openStorage(config, logger, { clickhouseUrl: services.clickhouseUrl });
    await migrate(storage);
    const t0 = Date.UTC(2026, 0, 5, 10, 5);
    const base = { ...testAlertMessage({ now: t0 }), model, alertId: 'a1b2c3', severity: 'warning' as const };
    const open = decisionRow(
      { kind: 'open', alertId: 'a1b2c3', severity: 'warning', reasons: ['drift'] },
      { ...base, kind: 'open', eventId: 'e1' },
      null,
      0,
      t0,
    );
    const resolve = decisionRow(
      { kind: 'resolve', alertId: 'a1b2c3', severity: 'warning', reasons: ['recovered'] },
      { ...base, kind: 'resolve', eventId: 'e2', evaluatedAtMs: t0 + 60_000, state: 'ok' },
      null,
      0,
      t0 + 60_000,
    );
    const delivered = (row: typeof open, channel: 'slack' | 'webhook', at: number, error = '') =>
      deliveryRow(
        row,
        {
          channel,
          status: error ? 'failed' : 'delivered',
          messageId: error ? '' : '1700000000.000001',
          thread: '',
          attempts: error ? 9 : 1,
          error,
        },
        at,
      );
    await storage.insert('alerts', [
      open,
      delivered(open, 'slack', t0 + 1),
      delivered(open, 'webhook', t0 + 2, 'webhook: HTTP 503'),
      resolve,
      delivered(resolve, 'slack', t0 + 60_001),
      delivered(resolve, 'webhook', t0 + 60_002),
    ]);
  });

  afterAll(async () => {
    await storage?.close();
  });

  it('prints one line per message with its deliveries', async () => {
    const { code, text } = await run(['--model', model]);
    expect(code).toBe(0);
    const lines = text.trim().split('\n');
    expect(lines[0]).toMatch(/^ALERT\s+MODEL\s+STATUS\s+MESSAGE\s+DECIDED\s+DELIVERIES$/);
    expect(lines[1]).toMatch(
      new RegExp(
        `^a1b2c3\\s+${model} v1\\s+resolved \\(warning\\)\\s+open\\s+2026-01-05T10:05:00Z\\s+slack:delivered webhook:failed×9 \\(webhook: HTTP 503\\)$`,
      ),
    );
    expect(lines[2]).toMatch(/^\s+resolve\s+2026-01-05T10:06:00Z\s+slack:delivered webhook:delivered$/);
  });

  it('--json gives each alert with its messages and deliveries', async () => {
    const { text } = await run(['--model', model, '--json']);
    const [alert, ...rest] = JSON.parse(text);
    expect(rest).toEqual([]);
    expect(alert).toMatchObject({ alert_id: 'a1b2c3', model_name: model, status: 'resolved' });
    expect(alert.messages.map((m: { kind: string }) => m.kind)).toEqual(['open', 'resolve']);
    expect(alert.messages[0].deliveries).toContainEqual(
      expect.objectContaining({ channel: 'webhook', status: 'failed', attempts: 9, error: 'webhook: HTTP 503' }),
    );
  });

  it('says so when there is nothing', async () => {
    expect((await run(['--model', 'no-such-model'])).text).toBe('(no alerts)\n');
  });
});
