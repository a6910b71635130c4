/**
 * The storage port against real ClickHouse: the server from the global setup, and embedded chDB in
 * a fresh directory. One body, run for both adapters; a fresh table per test, dropped after.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clickhouseServerUrl, freshChdbPath } from '../../test-support/storage.ts';
import { parseConfig } from '../config.ts';
import { type DriftlineError, ErrorCode, isDriftlineError } from '../errors.ts';
import { createLogger, type Logger } from '../logger.ts';
import { openStorage, type Storage } from './index.ts';
import { RowBinaryRows } from './row-binary.ts';
import { identifier, sql } from './sql.ts';

const config = parseConfig({ CLICKHOUSE_DATABASE: 'driftline_test', LOG_LEVEL: 'silent' });
const silent = createLogger('silent');
const chdbPath = freshChdbPath();

afterAll(() => {
  rmSync(chdbPath, { recursive: true, force: true });
});

interface Adapter {
  name: 'server' | 'embedded';
  open(logger?: Logger): Promise<Storage>;
}

const adapters: Adapter[] = [
  { name: 'server', open: (logger = silent) => openStorage(config, logger, { clickhouseUrl: clickhouseServerUrl() }) },
  { name: 'embedded', open: (logger = silent) => openStorage(config, logger, { chdbPath }) },
];

async function rejection(promise: Promise<unknown>): Promise<DriftlineError> {
  try {
    await promise;
  } catch (error) {
    if (isDriftlineError(error)) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

function freshTable(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

describe.each(adapters)('storage port: $name', (adapter) => {
  let storage: Storage;
  let table: string;
  const t = () => identifier(table).text;

  beforeAll(async () => {
    storage = await adapter.open();
  });
  afterAll(async () => {
    await storage?.close();
  });
  beforeEach(() => {
    table = freshTable('storage');
  });
  afterEach(async () => {
    await storage.command(`DROP TABLE IF EXISTS ${t()}`);
  });

  it('reports its kind and database, and statements run against that database', async () => {
    expect(storage.kind).toBe(adapter.name);
    expect(storage.database).toBe('driftline_test');
    await storage.ping();
    await storage.command(`CREATE TABLE ${t()} (x UInt8) ENGINE = MergeTree ORDER BY x`);
    const rows = await storage.query(
      sql`SELECT currentDatabase() AS db, count() AS n FROM system.tables WHERE database = ${'driftline_test'} AND name = ${table}`
        .text,
    );
    expect(rows).toEqual([{ db: 'driftline_test', n: 1 }]);
  });

  it('reads back the rows it inserted, column types alike', async () => {
    await storage.command(`
      CREATE TABLE ${t()} (
        id String,
        label String,
        score Float64,
        count UInt64,
        delta Int64,
        note Nullable(String),
        weight Nullable(Float64),
        at DateTime('UTC'),
        at_server DateTime,
        features Array(Float64)
      ) ENGINE = MergeTree ORDER BY id`);
    const at = new Date('2024-03-04T05:06:07Z');
    const rows = [
      {
        id: 'a',
        label: 'it\'s a \\ "quoted"\nline',
        score: 0.1 + 0.2,
        count: Number.MAX_SAFE_INTEGER,
        delta: -Number.MAX_SAFE_INTEGER,
        note: null,
        weight: 2.5,
        at,
        at_server: at,
        features: [1.5, -2.25, 0, 1e300, 5e-324],
      },
      {
        id: 'b',
        label: 'ünïcödé 🎉',
        score: -1e-10,
        count: 0,
        delta: 0,
        note: 'present',
        weight: null,
        at: new Date('1970-01-02T00:00:00Z'),
        at_server: new Date('1970-01-02T00:00:00Z'),
        features: [],
      },
    ];
    await storage.insert(table, rows);

    const back = await storage.query(
      `SELECT id, label, score, count, delta, note, weight, at, toUnixTimestamp(at_server) AS at_server, features
       FROM ${t()} ORDER BY id`,
    );
    expect(back).toEqual(
      rows.map((row) => ({
        ...row,
        // DateTime('UTC') renders as UTC wall time; a zone-less DateTime is compared as an instant.
        at: row.at.toISOString().slice(0, 19).replace('T', ' '),
        at_server: row.at_server.getTime() / 1000,
        // Subnormal floats are flushed to 0 on both adapters (18.16 would store 0 anyway).
        features: row.features.map((f) => (f === 5e-324 ? 0 : f)),
      })),
    );
  });

  it('keeps every bit of a bigint when read back as a string', async () => {
    await storage.command(`CREATE TABLE ${t()} (u UInt64, i Int64) ENGINE = MergeTree ORDER BY u`);
    await storage.insert(table, [{ u: 18446744073709551615n, i: -9223372036854775808n }]);
    const [row] = await storage.query(`SELECT toString(u) AS u_text, toString(i) AS i_text, u, i FROM ${t()}`);
    expect(row).toMatchObject({ u_text: '18446744073709551615', i_text: '-9223372036854775808' });
    // 64-bit integers are JSON numbers on both adapters (not quoted strings), exact only to ±2^53.
    expect(row?.u).toBe(Number('18446744073709551615'));
    expect(row?.i).toBe(Number('-9223372036854775808'));
  });

  it('collapses duplicates with SELECT … FINAL on ReplacingMergeTree', async () => {
    await storage.command(
      `CREATE TABLE ${t()} (key String, version UInt32, value Float64) ENGINE = ReplacingMergeTree(version) ORDER BY key`,
    );
    // Separate inserts make separate parts, so only FINAL (not a background merge) can collapse them.
    await storage.insert(table, [
      { key: 'k1', version: 1, value: 1 },
      { key: 'k2', version: 1, value: 10 },
    ]);
    await storage.insert(table, [{ key: 'k1', version: 2, value: 2 }]);
    await storage.insert(table, [{ key: 'k1', version: 3, value: 3 }]);

    const all = await storage.query(`SELECT count() AS n FROM ${t()}`);
    expect(all).toEqual([{ n: 4 }]);
    const final = await storage.query(`SELECT key, version, value FROM ${t()} FINAL ORDER BY key`);
    expect(final).toEqual([
      { key: 'k1', version: 3, value: 3 },
      { key: 'k2', version: 1, value: 10 },
    ]);
  });

  it('inserts a 10,000-row batch', async () => {
    await storage.command(`CREATE TABLE ${t()} (i UInt32, s String, f Float64) ENGINE = MergeTree ORDER BY i`);
    const rows = Array.from({ length: 10_000 }, (_, i) => ({ i, s: `row ${i}`, f: i / 7 }));
    await storage.insert(table, rows);
    expect(await storage.query(`SELECT count() AS n, sum(i) AS total FROM ${t()}`)).toEqual([
      { n: 10_000, total: (9_999 * 10_000) / 2 },
    ]);
  });

  it('inserts RowBinary rows in several chunks, every type the encoder writes, unnamed columns taking defaults', async () => {
    await storage.command(`
      CREATE TABLE ${t()} (
        id UInt64, name String, maybe Nullable(String), x Float64, y Nullable(Float64),
        small UInt8, mid UInt32, at DateTime('UTC'), untouched Float64 DEFAULT 7
      ) ENGINE = MergeTree ORDER BY id`);
    const columns = [
      { name: 'id', type: 'UInt64' },
      { name: 'name', type: 'String' },
      { name: 'maybe', type: 'Nullable(String)' },
      { name: 'x', type: 'Float64' },
      { name: 'y', type: 'Nullable(Float64)' },
      { name: 'small', type: 'UInt8' },
      { name: 'mid', type: 'UInt32' },
      { name: 'at', type: 'DateTime' },
    ] as const;
    const long = 'é'.repeat(200); // 400 UTF-8 bytes: a two-byte length
    const first = new RowBinaryRows();
    const second = new RowBinaryRows();
    const rows = [
      {
        id: 2 ** 40 + 3,
        name: 'Montréal',
        maybe: null,
        x: 0.1 + 0.2,
        y: null,
        small: 255,
        mid: 4_000_000_000,
        at: 1_700_000_000,
      },
      { id: 1, name: long, maybe: '', x: -1e-300, y: Number.NaN, small: 0, mid: 0, at: 0 },
      { id: 3, name: '', maybe: 'zz', x: Number.POSITIVE_INFINITY, y: 2.5, small: 1, mid: 1, at: 4_000_000_000 },
    ];
    for (const [i, row] of rows.entries()) {
      const into = i === 0 ? first : second;
      into.uint64(row.id);
      into.string(row.name);
      into.nullableString(row.maybe);
      into.float64(row.x);
      into.nullableFloat64(row.y);
      into.uint8(row.small);
      into.uint32(row.mid);
      into.uint32(row.at);
      into.endRow();
    }
    expect(second.rowCount).toBe(2);
    await storage.insertRowBinary(table, columns, [first.rows(), second.rows(0, 1), second.rows(1, 2)]);
    const back = await storage.query(
      `SELECT toString(id) AS id, name, maybe, toString(x) AS x, toString(y) AS y, small, mid, toUnixTimestamp(at) AS at, untouched FROM ${t()} ORDER BY small`,
    );
    expect(back).toEqual([
      { id: '1', name: long, maybe: '', x: '-1e-300', y: 'nan', small: 0, mid: 0, at: 0, untouched: 7 },
      { id: '3', name: '', maybe: 'zz', x: 'inf', y: '2.5', small: 1, mid: 1, at: 4_000_000_000, untouched: 7 },
      {
        id: String(2 ** 40 + 3),
        name: 'Montréal',
        maybe: null,
        x: '0.30000000000000004',
        y: null,
        small: 255,
        mid: 4_000_000_000,
        at: 1_700_000_000,
        untouched: 7,
      },
    ]);
  });

  it('reports a bad query as STORAGE_QUERY_FAILED with the ClickHouse code', async () => {
    const syntax = await rejection(storage.query('SELEC 1'));
    expect(syntax.code).toBe(ErrorCode.STORAGE_QUERY_FAILED);
    expect(syntax.retriable).toBe(false);
    // 18.16 says 62 (SYNTAX_ERROR); the 26.x analyzer reads `SELEC 1` as an unknown identifier (47).
    expect([62, 47]).toContain(syntax.details.clickhouseCode);

    const unknownTable = await rejection(storage.query(`SELECT * FROM ${identifier(freshTable('missing')).text}`));
    expect(unknownTable).toMatchObject({ code: ErrorCode.STORAGE_QUERY_FAILED, retriable: false });
    expect(unknownTable.details.clickhouseCode).toBe(60);

    const badCast = await rejection(storage.command("SELECT toUInt8('not a number')"));
    expect(badCast).toMatchObject({ code: ErrorCode.STORAGE_QUERY_FAILED, retriable: false });
    expect(badCast.details.clickhouseCode).toBe(6);
  });

  it('reports a row ClickHouse cannot parse as STORAGE_QUERY_FAILED, and one we cannot encode before sending', async () => {
    await storage.command(`CREATE TABLE ${t()} (n UInt64) ENGINE = MergeTree ORDER BY n`);
    const parse = await rejection(storage.insert(table, [{ n: 'not a number' }]));
    expect(parse).toMatchObject({ code: ErrorCode.STORAGE_QUERY_FAILED, retriable: false });
    expect(parse.details.clickhouseCode).toBe(27);

    const encode = await rejection(storage.insert(table, [{ n: 1 }, { n: Number.NaN }]));
    expect(encode.code).toBe(ErrorCode.SQL_VALUE_INVALID);
    expect(await storage.query(`SELECT count() AS n FROM ${t()}`)).toEqual([{ n: 0 }]);

    const badName = await rejection(storage.insert('x; DROP TABLE y', [{ n: 1 }]));
    expect(badName.code).toBe(ErrorCode.SQL_VALUE_INVALID);
  });

  it('opens idempotently: a second storage on the same place works, and closing it leaves the first open', async () => {
    const second = await adapter.open();
    await second.ping();
    expect(await second.query('SELECT currentDatabase() AS db')).toEqual([{ db: 'driftline_test' }]);
    await second.close();
    await second.close();
    await storage.ping();
    const closed = await rejection(second.ping());
    expect(closed).toMatchObject({ code: ErrorCode.STORAGE_UNAVAILABLE, retriable: false });
  });
});

describe('storage port: unavailable server', () => {
  it('an unreachable server → STORAGE_UNAVAILABLE, retriable, within a bounded time', async () => {
    const started = Date.now();
    const error = await rejection(openStorage(config, silent, { clickhouseUrl: 'http://127.0.0.1:1' }));
    expect(error).toMatchObject({ code: ErrorCode.STORAGE_UNAVAILABLE, retriable: true });
    expect(error.details).toMatchObject({ adapter: 'server', operation: 'open', errno: 'ECONNREFUSED' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a server that goes away after opening → ping and query reject as STORAGE_UNAVAILABLE, retriable', async () => {
    const upstream = new URL(clickhouseServerUrl());
    const sockets = new Set<Socket>();
    const proxy = createServer((client) => {
      const server = connect(Number(upstream.port || 80), upstream.hostname);
      client.pipe(server).pipe(client);
      for (const s of [client, server]) {
        sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => sockets.delete(s));
      }
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const address = proxy.address();
    if (address === null || typeof address === 'string') throw new Error('no proxy port');

    const storage = await openStorage(config, silent, { clickhouseUrl: `http://127.0.0.1:${address.port}` });
    try {
      await storage.ping();
      await new Promise<void>((resolve) => {
        proxy.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      const started = Date.now();
      for (const attempt of [storage.ping(), storage.query('SELECT 1')]) {
        const error = await rejection(attempt);
        expect(error).toMatchObject({ code: ErrorCode.STORAGE_UNAVAILABLE, retriable: true });
      }
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await storage.close();
    }
  });

  it('wrong credentials → STORAGE_QUERY_FAILED (authentication); the password is in no error or log line', async () => {
    const password = `hunter2-${randomBytes(4).toString('hex')}`;
    const lines: string[] = [];
    const logger = createLogger('trace', { write: (line: string) => lines.push(line) });
    const withPassword = parseConfig({ CLICKHOUSE_DATABASE: 'driftline_test', CLICKHOUSE_PASSWORD: password });
    const error = await rejection(openStorage(withPassword, logger, { clickhouseUrl: clickhouseServerUrl() }));
    expect(error).toMatchObject({ code: ErrorCode.STORAGE_QUERY_FAILED, retriable: false });
    expect(error.details.reason).toBe('authentication');
    const seen = JSON.stringify({
      message: error.message,
      details: error.details,
      stack: error.stack,
      cause: String(error.cause),
    });
    expect(seen).not.toContain(password);
    expect(lines.length).toBeGreaterThan(0);
    const logged = lines.join('\n');
    expect(logged).not.toContain(password);
    // Nor the Basic auth header that carries it.
    expect(logged).not.toContain(Buffer.from(`default:${password}`).toString('base64'));
  });
});

describe('storage port: embedded, one data directory per process', () => {
  it('refuses a second chDB directory while one is open, and says why', async () => {
    const first = await openStorage(config, silent, { chdbPath });
    const otherPath = freshChdbPath();
    try {
      const error = await rejection(openStorage(config, silent, { chdbPath: otherPath }));
      expect(error).toMatchObject({ code: ErrorCode.STORAGE_UNAVAILABLE, retriable: false });
      expect(error.details).toMatchObject({ reason: 'other-data-directory' });
    } finally {
      await first.close();
      rmSync(otherPath, { recursive: true, force: true });
    }
  });
});
