import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ModelDeployment } from '../../core/schemas.ts';
import { retryAfterMs, scrub } from './channels/channel.ts';
import { signature } from './channels/webhook.ts';
import {
  buildDeploymentMessage,
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

describe('deployment messages', () => {
  const deployment: ModelDeployment = {
    model_name: 'california-housing',
    model_version: 4,
    action: 'promote',
    metrics: { rmse: 0.5123, mae: 0.36, r2: 0.81 },
    location: 'models/california-housing/4',
    deployed_at: new Date(Date.UTC(2026, 0, 5, 11, 0)),
  };
  const resolve = buildDeploymentMessage(
    { kind: 'resolve', alertId: 'a3', severity: 'critical', reasons: ['retrained'] },
    3,
    'deploy-1',
    deployment,
    { dashboardUrl: 'https://dash/x' },
  );
  const notice = buildDeploymentMessage(
    { kind: 'deployed', alertId: 'd4', severity: 'info', reasons: ['retrained'] },
    4,
    'deploy-1',
    deployment,
  );

  it("a resolution by deployment names the alert's version, the deployed version and its holdout RMSE, in every rendering", () => {
    expect(titleOf(resolve)).toBe(
      '[RESOLVED] Drift alert resolved: california-housing v3 — retrained and deployed v4 (holdout RMSE 0.512)',
    );
    const text = textLines(resolve).join('\n');
    expect(text).toContain('why: the model was retrained and a new version deployed');
    expect(text).toContain('alert on version: 3  now serving: v4');
    expect(text).toContain('holdout RMSE 0.512  MAE 0.360  R² 0.810');
    expect(text).toContain('from: models/california-housing/4');
    expect(text).toContain('dashboard: https://dash/x');
    const blocks = JSON.stringify(slackBlocks(resolve));
    expect(blocks).toContain('retrained and deployed v4 (holdout RMSE 0.512)');
    expect(blocks).toContain('*Now serving*\\nv4');
    expect(blocks).toContain('https://dash/x');
    expect(emailSubject(resolve, { reply: true })).toBe('Re: [Driftline] california-housing v3 drift alert');
    expect(emailHtml(resolve)).toContain('retrained and deployed v4 (holdout RMSE 0.512)');
    expect(emailHtml(resolve)).toContain('<th align="left">Alert on version</th><td>3</td>');
    const body = JSON.parse(webhookBody(resolve));
    expect(body.type).toBe('driftline.alert.resolve');
    expect(body.alert.deployment).toMatchObject({ version: 4, action: 'promote', holdoutRmse: 0.5123 });
    expect(terminalLine(resolve)).toBe(
      'ALERT RESOLVE critical california-housing v3 deployed=v4 (retrained) holdout_rmse=0.512 alert=a3',
    );
    // The message survives its JSON round trip through the decision row.
    expect(JSON.parse(JSON.stringify(resolve))).toEqual(resolve);
  });

  it('a deployed notice (no alert was open) and a rollback', () => {
    expect(titleOf(notice)).toBe('[DEPLOYED] california-housing retrained and deployed v4 (holdout RMSE 0.512)');
    expect(terminalLine(notice)).toBe(
      'ALERT DEPLOYED info california-housing deployed=v4 (retrained) holdout_rmse=0.512 alert=d4',
    );
    expect(emailSubject(notice, { reply: false })).toBe(`[Driftline] ${titleOf(notice)}`);
    expect(JSON.parse(webhookBody(notice)).type).toBe('driftline.alert.deployed');
    expect(textLines(notice)[2]).toBe('model: california-housing  now serving: v4');
    const rollback = buildDeploymentMessage(
      { kind: 'resolve', alertId: 'a4', severity: 'warning', reasons: ['rolled_back'] },
      4,
      'deploy-2',
      { ...deployment, model_version: 3, action: 'rollback', metrics: { rmse: 0.53, mae: 0.38, r2: 0.8 } },
    );
    expect(titleOf(rollback)).toBe(
      '[RESOLVED] Drift alert resolved: california-housing v4 — rolled back: v3 deployed (holdout RMSE 0.530)',
    );
    expect(textLines(rollback)[1]).toBe('why: the model was rolled back to another version');
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

describe('featureLine', () => {
  it('reads every statistical test on its p-value, and a distance on its statistic', () => {
    for (const method of ['ks', 'chisquare', 'chisquare_contingency', 'z']) {
      expect(featureLine({ column: 'x', method, statistic: 2.5, threshold: 0.05, pValue: 0.01 })).toBe(
        `x: ${method} p=0.0100 < 0.0500 (statistic 2.500)`,
      );
    }
    expect(featureLine({ column: 'x', method: 'wasserstein', statistic: 0.412, threshold: 0.1, pValue: null })).toBe(
      'x: wasserstein 0.412 ≥ 0.100',
    );
  });
});
