/**
 * The README's main job, end to end on the real services: `driftline demo` in a fresh home
 * (so it trains its model), with the store, drift, alert and retrain consumers on embedded chDB:
 * drift found, a retrained version promoted and deployed, its windows ok.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../core/config.ts';
import { createLogger } from '../core/logger.ts';
import { demoCommand } from './demo.ts';

const services = inject('services');

describe('driftline demo', () => {
  let home: string | undefined;
  afterAll(async () => {
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('turns the state to drift naming the shifted features, retrains, deploys v2 and sees v2 ok on the drifted traffic', async () => {
    home = await mkdtemp(join(tmpdir(), 'dl-demo-'));
    const config = parseConfig(
      {
        KAFKA_BROKERS: services.kafkaBrokers.join(','),
        SCHEMA_REGISTRY_URL: services.schemaRegistryUrl,
        DRIFTLINE_HOME: home,
        DRIFT_REPORTS_DIR: join(home, 'reports'),
      },
      home,
    );
    const out = new PassThrough();
    let text = '';
    out.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    // The demo's own budget stays under the test's timeout: a slow, shared machine gets a
    // truncated run (and a failing assertion naming what is missing) rather than a bare timeout.
    const code = await demoCommand.run(['--rate', '4000', '--duration', '270s'], {
      config,
      logger: createLogger('silent'),
      out,
    });
    expect(code, text).toBe(0);

    expect(text).toContain('no trained model yet: training one');
    // 12,000 rows drifting halfway, 2,400 drifted rows to v1 (the retraining's trigger), 7,200 to v2.
    expect(text).toContain('replay        21600 predictions, 21600 ground-truth values');
    expect(text).toContain('store         21600 prediction rows, 21600 ground-truth rows in ClickHouse (embedded)');
    const timeline = text.slice(text.indexOf('WINDOW END'));
    const all = timeline.split('\n').filter((line) => /^\d\d:\d\d /.test(line));
    const rows = all.filter((line) => / v1 /.test(line));
    expect(rows.length, text).toBeGreaterThanOrEqual(5);
    // Windows before the shift are ok; the state turns to drift once shifted panes enter the
    // window, naming exactly the two shifted features; retraining is recommended after three.
    expect(rows[0]).toMatch(/ ok /);
    const firstDrift = rows.findIndex((line) => line.includes('drift (changed)'));
    expect(firstDrift, text).toBeGreaterThan(0);
    for (const line of rows.slice(firstDrift)) expect(line).toMatch(/drift\s.*MedInc, AveRooms\s/);
    expect(rows.at(-1)).toContain('recommended');
    expect(rows.at(-1)).toContain('(degraded)');

    // The alert consumer ran beside drift and, with no channel configured, printed the alert here.
    expect(text).toMatch(
      /ALERT OPEN (warning|critical) california-housing v\d+ state=drift .*features=MedInc, AveRooms/,
    );
    expect(text).toMatch(/alerts\s+[1-9]\d* opened/);

    // The retrain consumer trained a challenger on the drifted traffic, promoted it as v2 and
    // announced it; the predict service swapped and answered every later request with v2.
    expect(text).toMatch(/retraining started: \d+ recent labelled rows/);
    expect(text).toMatch(/retraining promoted: v2 — challenger RMSE [\d.]+ vs champion [\d.]+ on the recent holdout/);
    expect(text).toContain('deployed: the predict service now serves v2');
    expect(text).toContain('the predict service answered 7200 requests with v2\n');
    expect(text).toMatch(/retraining\s+v2 promoted: RMSE [\d.]+ vs v1's [\d.]+/);
    // Alerts are per version: v2's deployment resolves v1's open alert (the alert consumer reads model-deployments).
    expect(text).toMatch(/ALERT RESOLVE \w+ california-housing v1 deployed=v2 \(retrained\)/);
    // v2's windows (its reference is the drifted traffic it was trained on) were evaluated: ok.
    const v2 = all.filter((line) => / v2 /.test(line));
    expect(v2.length, text).toBeGreaterThanOrEqual(1);
    expect(all.at(-1), text).toBe(v2.at(-1));
    expect(v2.at(-1), text).toMatch(/ v2 +ok /);

    const reports = await readdir(join(home, 'reports'));
    expect(reports).toHaveLength(1);
    const html = await readFile(join(home, 'reports', reports[0] as string), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('MedInc');
    expect(text).toContain(`drift report: ${join(home, 'reports', reports[0] as string)}`);
    // The dashboard ran on the demo's storage; piped output has no status block (no escape codes).
    expect(text).toMatch(/dashboard: http:\/\/127\.0\.0\.1:\d+\n/);
    expect(text).not.toContain('\u001b[');
    // Plain status lines follow the states as they change (polled: the first may already be drift).
    expect(text).toMatch(/ {4}status: california-housing v1 (\w+ → )?drift \(MedInc, AveRooms\)\n/);
  }, 300_000);
});
