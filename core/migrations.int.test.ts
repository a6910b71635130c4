/**
 * Migrations against real ClickHouse (the server of the global setup, and chDB): an ADD COLUMN
 * migration that was applied but not recorded, or that two services run at the same moment, ends
 * applied and recorded instead of failing on "column already exists". A fresh database per test.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { clickhouseServerUrl, freshChdbPath } from '../test-support/storage.ts';
import { parseConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { type Migration, migrate } from './migrations.ts';
import { openStorage, type Storage } from './storage/index.ts';

const silent = createLogger('silent');
const chdbPath = freshChdbPath();
afterAll(() => rmSync(chdbPath, { recursive: true, force: true }));

const MIGRATIONS: Migration[] = [
  { version: 1, name: 'things', statements: ['CREATE TABLE things (id String) ENGINE = MergeTree ORDER BY id'] },
  {
    version: 2,
    name: 'thing_details',
    statements: ["ALTER TABLE things ADD COLUMN size UInt32 DEFAULT 0, ADD COLUMN colour String DEFAULT ''"],
  },
];

const adapters = [
  { name: 'server', open: (database: string) => open(database, { clickhouseUrl: clickhouseServerUrl() }) },
  { name: 'embedded', open: (database: string) => open(database, { chdbPath }) },
];

async function open(database: string, where: { clickhouseUrl: string } | { chdbPath: string }): Promise<Storage> {
  const storage = await openStorage(parseConfig({ CLICKHOUSE_DATABASE: database, LOG_LEVEL: 'silent' }), silent, where);
  // The first storage of a database drops it (a request naming a dropped database is refused).
  const dropsIt = !dropping.has(database);
  dropping.add(database);
  onTestFinished(async () => {
    if (dropsIt) await storage.command(`DROP DATABASE IF EXISTS ${database}`);
    await storage.close();
  });
  return storage;
}

const dropping = new Set<string>();
const freshDatabase = () => `driftline_migrations_${randomBytes(4).toString('hex')}`;

async function columns(storage: Storage): Promise<string[]> {
  const rows = await storage.query<{ name: string }>(
    "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = 'things' ORDER BY name",
  );
  return rows.map((r) => r.name);
}

async function recorded(storage: Storage): Promise<number[]> {
  const rows = await storage.query<{ version: number }>(
    'SELECT DISTINCT version FROM schema_migrations ORDER BY version',
  );
  return rows.map((r) => Number(r.version));
}

describe.each(adapters)('migrate: $name', (adapter) => {
  it('records an ADD COLUMN migration that ran before it could be recorded, instead of failing', async () => {
    const storage = await adapter.open(freshDatabase());
    expect(await migrate(storage, MIGRATIONS.slice(0, 1))).toEqual([1]);
    // A run stopped between the ALTER and its schema_migrations row.
    await storage.command(MIGRATIONS[1]?.statements[0] as string);
    expect(await migrate(storage, MIGRATIONS)).toEqual([2]);
    expect(await recorded(storage)).toEqual([1, 2]);
    expect(await columns(storage)).toEqual(['colour', 'id', 'size']);
    expect(await migrate(storage, MIGRATIONS)).toEqual([]);
  });

  it('two services migrating the same database at once both succeed', async () => {
    const database = freshDatabase();
    const [one, other] = [await adapter.open(database), await adapter.open(database)];
    await migrate(one, MIGRATIONS.slice(0, 1));
    await Promise.all([migrate(one, MIGRATIONS), migrate(other, MIGRATIONS)]);
    expect(await recorded(one)).toEqual([1, 2]);
    expect(await columns(one)).toEqual(['colour', 'id', 'size']);
  });

  it('still fails when only some of the columns exist: that needs a person', async () => {
    const storage = await adapter.open(freshDatabase());
    await migrate(storage, MIGRATIONS.slice(0, 1));
    await storage.command('ALTER TABLE things ADD COLUMN size UInt32 DEFAULT 0');
    await expect(migrate(storage, MIGRATIONS)).rejects.toThrow();
    expect(await recorded(storage)).toEqual([1]);
  });
});
