/**
 * The `server` adapter: a ClickHouse server over HTTP through @clickhouse/client, tested against
 * Debian's ClickHouse 18.16.1 and current releases. The client sends no ClickHouse settings by
 * default (no compression, no progress headers), so nothing needs disabling for 18.16; the one
 * setting we add, `output_format_json_quote_64bit_integers=0`, exists there too. It is sent as a
 * URL parameter on every request because 18.16 ignores a `SETTINGS` clause for output formatting.
 */

import { Readable } from 'node:stream';
import {
  type ClickHouseClient,
  ClickHouseLogLevel,
  type Logger as ClientLogger,
  createClient,
  type ErrorLogParams,
  type LogParams,
  type WarnLogParams,
} from '@clickhouse/client';
import { DriftlineError, ErrorCode } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { encodeJsonEachRow } from './json-each-row.ts';
import type { Storage } from './port.ts';
import { type RowBinaryColumn, rowBinaryColumnList } from './row-binary.ts';
import { identifier } from './sql.ts';
import { type StorageErrorContext, type StorageOperation, safeUrl, toStorageError } from './storage-error.ts';

export interface ServerStorageOptions {
  url: string;
  username: string;
  password: string;
  database: string;
  logger: Logger;
  /** Per-request timeout; also bounds how long an unreachable host takes to fail. */
  requestTimeoutMs?: number;
}

/** Settings sent with every request; each one exists in 18.16. */
const CLICKHOUSE_SETTINGS = {
  // 64-bit integers as JSON numbers, as chDB renders them; exact up to ±2^53.
  output_format_json_quote_64bit_integers: 0,
} as const;

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** Creates `database` if needed, then returns a storage whose client targets it. */
export async function openServerStorage(options: ServerStorageOptions): Promise<Storage> {
  const { url, username, password } = splitCredentials(options);
  const target = safeUrl(url);
  const log = options.logger.child({ component: 'storage', adapter: 'server' });
  const context = (operation: StorageOperation): StorageErrorContext => ({
    adapter: 'server',
    operation,
    target,
    secrets: [password],
  });
  const clientOptions = {
    url,
    username,
    password,
    application: 'driftline',
    request_timeout: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    clickhouse_settings: CLICKHOUSE_SETTINGS,
    log: { LoggerClass: forwardingLoggerClass(options.logger), level: clientLogLevel(log) },
  };

  // The database must exist before a client can name it: 18.16 refuses any request whose
  // `database` parameter names a missing database, CREATE DATABASE included.
  const bootstrap = createClient(clientOptions);
  try {
    await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${identifier(options.database).text}` });
  } catch (error) {
    throw toStorageError(error, context('open'));
  } finally {
    await bootstrap.close();
  }

  const client = createClient({ ...clientOptions, database: options.database });
  log.info({ url: target, database: options.database }, 'ClickHouse server storage opened');
  return new ServerStorage(client, options.database, target, log, context);
}

class ServerStorage implements Storage {
  readonly kind = 'server';
  #closed = false;

  constructor(
    private readonly client: ClickHouseClient,
    readonly database: string,
    private readonly target: string,
    private readonly log: Logger,
    private readonly context: (operation: StorageOperation) => StorageErrorContext,
  ) {}

  async command(sql: string): Promise<void> {
    this.assertOpen('command');
    try {
      await this.client.command({ query: sql });
    } catch (error) {
      throw toStorageError(error, this.context('command'));
    }
  }

  async query<T extends Record<string, unknown> = Record<string, unknown>>(sql: string): Promise<T[]> {
    this.assertOpen('query');
    try {
      const result = await this.client.query({ query: sql, format: 'JSONEachRow' });
      return await result.json<T>();
    } catch (error) {
      throw toStorageError(error, this.context('query'));
    }
  }

  async insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
    this.assertOpen('insert');
    const target = identifier(table).text;
    if (rows.length === 0) return;
    const payload = encodeJsonEachRow(rows);
    try {
      // Data in the body after the statement (ClickHouse's "INSERT … FORMAT" with inline data):
      // the payload is encoded once, exactly as the chDB adapter sends it, rather than handed to
      // the client to JSON-encode again row by row.
      await this.client.command({ query: `INSERT INTO ${target} FORMAT JSONEachRow\n${payload}` });
    } catch (error) {
      throw toStorageError(error, this.context('insert'));
    }
    if (this.log.isLevelEnabled('trace')) this.log.trace({ table, rows: rows.length }, 'inserted');
  }

  async insertRowBinary(
    table: string,
    columns: readonly RowBinaryColumn[],
    chunks: readonly Uint8Array[],
  ): Promise<void> {
    this.assertOpen('insert');
    const target = identifier(table).text;
    if (chunks.every((c) => c.byteLength === 0)) return;
    try {
      // With `values`, the statement goes in the URL and the bytes in the body, as they are.
      const { stream } = await this.client.exec({
        query: `INSERT INTO ${target} ${rowBinaryColumnList(columns)} FORMAT RowBinary`,
        values: Readable.from(chunks, { objectMode: false }),
      });
      for await (const _ of stream) {
        // An insert answers with an empty body; reading it to the end frees the socket.
      }
    } catch (error) {
      throw toStorageError(error, this.context('insert'));
    }
  }

  async ping(): Promise<void> {
    this.assertOpen('ping');
    let result: Awaited<ReturnType<ClickHouseClient['ping']>>;
    try {
      // A SELECT rather than /ping: /ping answers without checking credentials.
      result = await this.client.ping({ select: true });
    } catch (error) {
      throw toStorageError(error, this.context('ping'));
    }
    if (!result.success) throw toStorageError(result.error, this.context('ping'));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.client.close();
    this.log.info({ url: this.target }, 'ClickHouse server storage closed');
  }

  private assertOpen(operation: StorageOperation): void {
    if (!this.#closed) return;
    throw new DriftlineError(ErrorCode.STORAGE_UNAVAILABLE, `ClickHouse storage is closed (${operation})`, {
      retriable: false,
      details: { adapter: 'server', operation, target: this.target, reason: 'closed' },
    });
  }
}

/** Credentials in the URL (http://user:pass@host) win over CLICKHOUSE_USER/PASSWORD; the URL passed on has none. */
function splitCredentials(options: ServerStorageOptions): { url: string; username: string; password: string } {
  const parsed = new URL(options.url);
  const username = parsed.username === '' ? options.username : decodeURIComponent(parsed.username);
  const password = parsed.password === '' ? options.password : decodeURIComponent(parsed.password);
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.toString().replace(/\/$/, ''), username, password };
}

function clientLogLevel(log: Logger): ClickHouseLogLevel {
  if (log.isLevelEnabled('trace')) return ClickHouseLogLevel.TRACE;
  if (log.isLevelEnabled('debug')) return ClickHouseLogLevel.DEBUG;
  return ClickHouseLogLevel.WARN;
}

/**
 * Routes the client's own log lines into pino instead of its console logger. Its error lines
 * describe failures that reach the caller anyway, as a DriftlineError, so they go to debug to
 * avoid logging every failure twice.
 */
function forwardingLoggerClass(root: Logger): new () => ClientLogger {
  const client = root.child({ component: 'clickhouse-client' });
  return class ForwardingLogger implements ClientLogger {
    trace({ module, message, args }: LogParams): void {
      client.trace({ module, args }, message);
    }
    debug({ module, message, args }: LogParams): void {
      client.debug({ module, args }, message);
    }
    info({ module, message, args }: LogParams): void {
      client.info({ module, args }, message);
    }
    warn({ module, message, args, err }: WarnLogParams): void {
      client.warn({ module, args, err }, message);
    }
    error({ module, message, args, err }: ErrorLogParams): void {
      client.debug({ module, args, err }, message);
    }
  };
}
