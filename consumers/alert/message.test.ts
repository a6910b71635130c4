import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { retryAfterMs, scrub } from './channels/channel.ts';
import { signature } from './channels/webhook.ts';
import {
  emailHtml,
  emailSubject,
  featureLine,
  slackBlocks,
  terminalLine,
  testAlertMessage,
  textLines,
  titleOf,
  webhookBody,
} from './message.ts';

const message = { ...testAlertMessage({ now: Date.UTC(2026, 0, 5, 10, 5), dashboardUrl: 'https://dash/x' }) };

describe('alert message renderings', () => {
  it('names the model, version, state, drift share, each feature against its threshold, RMSE vs holdout, samples, report and dashboard', () => {
    const text = textLines({ ...message, kind: 'open', reasons: ['drift'], reportPath: 'reports/r.html' }).join('\n');
    expect(text).toContain('[WARNING] Drift alert opened: driftline-test v1');
    expect(text).toContain('why: data drift');
    expect(text).toContain('state: drift');
    expect(text).toContain('drift share: 25% of columns (threshold 25%)');
    expect(text).toContain('MedInc: wasserstein 0.412 ≥ 0.100');
    expect(text).toContain('realized RMSE 0.550 vs holdout 0.530 (×1.2 allowed): ok, 1000 labelled');
    expect(text).toContain('samples: 6000');
    expect(text).toContain('report: reports/r.html');
    expect(text).toContain('dashboard: https://dash/x');
  });

  it('a test-based method shows its p-value against the threshold', () => {
    expect(featureLine({ column: 'x', method: 'ks', statistic: 0.08, threshold: 0.05, pValue: 0.001 })).toBe(
      'x: ks p=0.0010 < 0.0500 (statistic 0.080)',
    );
  });

  it('Slack blocks: a header, fields, features, performance, context and a dashboard button', () => {
    const blocks = slackBlocks({ ...message, kind: 'open' });
    expect(blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'section', 'context', 'actions']);
    expect(JSON.stringify(blocks)).toContain('https://dash/x');
  });

  it('a resolution is titled RESOLVED; email replies are "Re:"; HTML is escaped', () => {
    expect(titleOf({ ...message, kind: 'resolve' })).toBe('[RESOLVED] Drift alert resolved: driftline-test v1');
    expect(emailSubject({ ...message, kind: 'update' }, { reply: true })).toBe(
      'Re: [Driftline] driftline-test v1 drift alert',
    );
    const html = emailHtml({ ...message, model: '<script>' });
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
  });

  it('webhook body is the message with a type; one terminal line', () => {
    const body = JSON.parse(webhookBody({ ...message, kind: 'update' }));
    expect(body.type).toBe('driftline.alert.update');
    expect(body.alert.model).toBe('driftline-test');
    expect(terminalLine(message)).toMatch(
      /^ALERT TEST warning driftline-test v1 state=drift share=25% features=MedInc /,
    );
  });
});

describe('channel helpers', () => {
  it('signature is sha256=HMAC-SHA256(body, secret) in hex', () => {
    const body = '{"a":1}';
    expect(signature(body, 'k')).toBe(`sha256=${createHmac('sha256', 'k').update(body).digest('hex')}`);
  });

  it('Retry-After: seconds or an HTTP date', () => {
    expect(retryAfterMs('1')).toBe(1_000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });

  it('scrub removes secrets, URL-encoded ones too', () => {
    expect(scrub('auth p@ss failed for smtp://u:p%40ss@h', ['p@ss'])).toBe(
      'auth [redacted] failed for smtp://u:[redacted]@h',
    );
  });
});
