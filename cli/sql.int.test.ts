import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../core/config.ts';
import { createLogger } from '../core/logger.ts';
import { migrateCommand, sqlCommand } from './sql.ts';

const services = inject('services');
const logger = createLogger('silent');

function capture() {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return { out, text: () => text };
}

describe.each([['server'], ['embedded']] as const)('driftline migrate and sql on ClickHouse %s', (kind) => {
  let home: string | undefined;
  afterAll(async () => {
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('migrates, then prints query results as a table or as JSON', async () => {
    home = await mkdtemp(join(tmpdir(), 'dl-sql-'));
    const config = parseConfig(
      {
        // A database of this run's own: the server outlives runs, and the test counts migrations.
        CLICKHOUSE_DATABASE: `driftline_sql_${kind}_${randomBytes(4).toString('hex')}`,
        CHDB_PATH: join(home, 'chdb'),
        ...(kind === 'server' ? { CLICKHOUSE_URL: services.clickhouseUrl } : {}),
      },
      home,
    );
    const migrated = capture();
    expect(await migrateCommand.run([], { config, logger, out: migrated.out })).toBe(0);
    const versions = (await readdir(new URL('../clickhouse/migrations/', import.meta.url)))
      .filter((f) => f.endsWith('.sql'))
      .map((f) => Number(f.slice(0, 4)))
      .sort((a, b) => a - b);
    expect(migrated.text()).toBe(`applied migrations ${versions.join(', ')}\n`);

    const table = capture();
    const query = 'SELECT number AS n, toString(number * 2) AS twice FROM system.numbers LIMIT 3';
    expect(await sqlCommand.run([query], { config, logger, out: table.out })).toBe(0);
    expect(table.text()).toBe('n  twice\n0  0\n1  2\n2  4\n(3 rows)\n');

    const json = capture();
    expect(await sqlCommand.run([query, '--json'], { config, logger, out: json.out })).toBe(0);
    expect(JSON.parse(json.text())).toEqual([
      { n: 0, twice: '0' },
      { n: 1, twice: '2' },
      { n: 2, twice: '4' },
    ]);

    const tables = capture();
    await sqlCommand.run(['SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name'], {
      config,
      logger,
      out: tables.out,
    });
    for (const name of ['drift_events', 'feature_sketches', 'ground_truth', 'schema_migrations']) {
      expect(tables.text()).toContain(name);
    }
    if (kind === 'server') {
      await sqlCommand.run([`DROP DATABASE ${config.clickhouseDatabase}`], { config, logger, out: capture().out });
    }
  });

  it('refuses an empty query as a usage error', async () => {
    const config = parseConfig({ CHDB_PATH: join(home ?? tmpdir(), 'chdb') });
    await expect(sqlCommand.run([], { config, logger, out: capture().out })).rejects.toThrow(/sql needs a query/);
  });
});
