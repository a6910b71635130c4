/**
 * The README's main job, end to end on the real services: `driftline demo` in a fresh home
 * (so it trains its model), with the store and drift consumers on embedded chDB.
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

  it('serves, stores and sketches a drifting replay, and turns the state to drift naming the shifted features', async () => {
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
    const code = await demoCommand.run(['--rate', '4000'], { config, logger: createLogger('silent'), out });
    expect(code, text).toBe(0);

    expect(text).toContain('no trained model yet: training one');
    expect(text).toContain('replay        12000 predictions, 12000 ground-truth values');
    expect(text).toContain('store         12000 prediction rows, 12000 ground-truth rows in ClickHouse (embedded)');
    const timeline = text.slice(text.indexOf('WINDOW END'));
    const rows = timeline.split('\n').filter((line) => /^\d\d:\d\d /.test(line));
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

    const reports = await readdir(join(home, 'reports'));
    expect(reports).toHaveLength(1);
    const html = await readFile(join(home, 'reports', reports[0] as string), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('MedInc');
    expect(text).toContain(`drift report: ${join(home, 'reports', reports[0] as string)}`);
  });
});
