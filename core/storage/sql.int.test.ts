/**
 * Hostile values through real ClickHouse, server and chDB alike: rendered by `literal`, stored by
 * `insert`, compared in SQL and read back — each must come back unchanged.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOSTILE_STRINGS, storageAdapters } from '../../test-support/storage.ts';
import { parseConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import type { Storage } from './index.ts';
import { identifier, literal, type SqlValue, sql } from './sql.ts';

const config = parseConfig({ CLICKHOUSE_DATABASE: 'driftline_test', LOG_LEVEL: 'silent' });
const logger = createLogger('silent');
const adapters = storageAdapters(config, logger);

describe.each(adapters)('SQL values through ClickHouse: $name', ({ open }) => {
  let storage: Storage;
  const table = `hostile_${randomBytes(6).toString('hex')}`;
  const t = identifier(table);

  beforeAll(async () => {
    storage = await open();
    await storage.command(sql`CREATE TABLE ${t} (i UInt32, s String) ENGINE = MergeTree ORDER BY i`.text);
  });
  afterAll(async () => {
    await storage?.command(sql`DROP TABLE IF EXISTS ${t}`.text);
    await storage?.close();
  });

  it('returns every hostile string unchanged from a literal', async () => {
    // One query holding all literals at once: any escape that leaked would break the rest.
    const columns = HOSTILE_STRINGS.map((value, i) => sql`${value} AS ${identifier(`s${i}`)}`);
    const [row] = await storage.query(sql`SELECT ${columns.reduce((a, b) => sql`${a}, ${b}`)}`.text);
    expect(row).toEqual(Object.fromEntries(HOSTILE_STRINGS.map((value, i) => [`s${i}`, value])));
  });

  it('stores hostile strings by insert and finds each by a literal', async () => {
    await storage.insert(
      table,
      HOSTILE_STRINGS.map((s, i) => ({ i, s })),
    );
    const rows = await storage.query<{ i: number; s: string }>(sql`SELECT i, s FROM ${t} ORDER BY i`.text);
    expect(rows.map((r) => r.s)).toEqual(HOSTILE_STRINGS);
    for (const [i, value] of HOSTILE_STRINGS.entries()) {
      const found = await storage.query(sql`SELECT i FROM ${t} WHERE s = ${value}`.text);
      expect(found, JSON.stringify(value)).toEqual([{ i }]);
    }
    // The table survived every `'; DROP TABLE` in the data.
    expect(await storage.query(sql`SELECT count() AS n FROM ${t}`.text)).toEqual([{ n: HOSTILE_STRINGS.length }]);
  });

  it('returns numbers, booleans, null, arrays and dates from literals', async () => {
    const values: Record<string, SqlValue> = {
      int: 42,
      negative: -7,
      fraction: 0.1,
      sum: 0.1 + 0.2,
      big: 1e21,
      tiny: 5e-324,
      yes: true,
      nothing: null,
      floats: [1.5, -2.25, 0],
      nested: [['a', "'"], []],
    };
    const select = Object.entries(values).map(([name, value]) => sql`${value} AS ${identifier(name)}`);
    const [row] = await storage.query(sql`SELECT ${select.reduce((a, b) => sql`${a}, ${b}`)}`.text);
    expect(row).toEqual({ ...values, yes: 1, tiny: 0 });

    const bigint = 18446744073709551615n;
    const date = new Date('2024-03-04T05:06:07.890Z');
    const [exact] = await storage.query(
      sql`SELECT toString(${bigint}) AS big, toUnixTimestamp(${date}) AS unix, 1-${-1} AS two`.text,
    );
    expect(exact).toEqual({ big: '18446744073709551615', unix: Math.floor(date.getTime() / 1000), two: 2 });
    expect(literal(date).text).toBe(`toDateTime(${Math.floor(date.getTime() / 1000)})`);
  });
});
