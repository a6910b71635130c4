/**
 * The `embedded` adapter: ClickHouse in-process through chDB (engine 26.7), data in a directory.
 * Uses chDB's async calls only: they run off the event loop, and their errors carry the
 * ClickHouse code (`clickhouseCode`), which the synchronous `query` loses behind a "Query failed:"
 * prefix.
 */
import { mkdirSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { drainPending, Session } from 'chdb';
import { DriftlineError, ErrorCode } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { encodeJsonEachRow } from './json-each-row.ts';
import type { Storage } from './port.ts';
import { type RowBinaryColumn, rowBinaryColumnList, rowBinaryStructure } from './row-binary.ts';
import { assertIdentifier, identifier, literal } from './sql.ts';
import { type StorageErrorContext, type StorageOperation, toStorageError } from './storage-error.ts';

export interface EmbeddedStorageOptions {
  path: string;
  database: string;
  logger: Logger;
}

/**
 * Arguments given when a session connects. chDB already renders 64-bit integers unquoted; pinning
 * it keeps both adapters alike should that default change.
 */
const CONNECTION_ARGS = ['--output_format_json_quote_64bit_integers=0'];

interface SharedSession {
  readonly path: string;
  readonly session: Session;
  /** Resolves once the database exists and the session has `USE`d it. */
  readonly ready: Promise<void>;
  refs: number;
}

/**
 * Open sessions, one per (data directory, database), shared by every storage opened on them.
 *
 * Why a module-level cache: the chDB engine lives once per process and binds ONE data directory;
 * a Session at a second directory is refused while any session is open ("only one active data
 * directory per process"). So opening must be idempotent — a second `openStorage` for the same
 * place shares the live session (reference-counted; the last close releases it, after which a
 * different directory can be opened) instead of failing or racing the first.
 * Keyed by database as well because `USE` is per session: two databases on one directory get one
 * session each, which chDB allows at the same path.
 */
const sessions = new Map<string, SharedSession>();

/** Names the files RowBinary inserts go through. */
let insertFiles = 0;

export async function openEmbeddedStorage(options: EmbeddedStorageOptions): Promise<Storage> {
  assertIdentifier(options.database);
  const path = resolve(options.path);
  const log = options.logger.child({ component: 'storage', adapter: 'embedded' });
  const context = (operation: StorageOperation): StorageErrorContext => ({
    adapter: 'embedded',
    operation,
    target: path,
  });
  const key = `${path}\0${options.database}`;

  let shared = sessions.get(key);
  if (shared === undefined) {
    shared = openSession(path, options.database, context('open'));
    sessions.set(key, shared);
    log.info({ path, database: options.database }, 'chDB storage opened');
  }
  shared.refs++;
  try {
    await shared.ready;
  } catch (error) {
    await release(key, shared);
    throw toStorageError(error, context('open'));
  }
  return new EmbeddedStorage(key, shared, options.database, log, context);
}

function openSession(path: string, database: string, context: StorageErrorContext): SharedSession {
  const other = [...sessions.values()].find((s) => s.path !== path);
  if (other !== undefined) {
    throw new DriftlineError(
      ErrorCode.STORAGE_UNAVAILABLE,
      `chDB at ${path} cannot open while chDB at ${other.path} is open: the engine holds one data directory per process; close the other storage first`,
      { retriable: false, details: { ...context, reason: 'other-data-directory', openPath: other.path } },
    );
  }
  let session: Session;
  try {
    mkdirSync(path, { recursive: true });
    session = new Session(path, { connectionArgs: CONNECTION_ARGS });
  } catch (error) {
    throw toStorageError(error, context);
  }
  const db = identifier(database).text;
  const ready = (async () => {
    await session.queryAsync(`CREATE DATABASE IF NOT EXISTS ${db}`);
    // Sticks for every later statement on this session (one native connection per Session).
    await session.queryAsync(`USE ${db}`);
  })();
  // Awaited by every opener; this only keeps an early failure from being reported as unhandled.
  ready.catch(() => {});
  return { path, session, ready, refs: 0 };
}

async function release(key: string, shared: SharedSession): Promise<void> {
  shared.refs--;
  if (shared.refs > 0) return;
  if (sessions.get(key) === shared) sessions.delete(key);
  shared.session.close();
  // close() defers the native teardown while operations are still running; wait for it, so a
  // different data directory can be opened as soon as this resolves.
  await drainPending();
}

class EmbeddedStorage implements Storage {
  readonly kind = 'embedded';
  #closed = false;

  constructor(
    private readonly key: string,
    private readonly shared: SharedSession,
    readonly database: string,
    private readonly log: Logger,
    private readonly context: (operation: StorageOperation) => StorageErrorContext,
  ) {}

  async command(sql: string): Promise<void> {
    const session = this.session('command');
    try {
      await session.queryAsync(sql);
    } catch (error) {
      throw toStorageError(error, this.context('command'));
    }
  }

  async query<T extends Record<string, unknown> = Record<string, unknown>>(sql: string): Promise<T[]> {
    const session = this.session('query');
    try {
      return parseJsonEachRow<T>((await session.queryAsync(sql, { format: 'JSONEachRow' })).text());
    } catch (error) {
      throw toStorageError(error, this.context('query'));
    }
  }

  async insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
    const session = this.session('insert');
    assertIdentifier(table);
    if (rows.length === 0) return;
    const payload = Buffer.from(encodeJsonEachRow(rows));
    try {
      // chDB validates `table` itself (dotted [A-Za-z0-9_] names, no backquotes); both parts
      // passed assertIdentifier above.
      await session.insert({ table: `${this.database}.${table}`, values: payload, format: 'JSONEachRow' });
    } catch (error) {
      throw toStorageError(error, this.context('insert'));
    }
    if (this.log.isLevelEnabled('trace')) this.log.trace({ table, rows: rows.length }, 'inserted');
  }

  /**
   * chDB's insert takes text formats only, so the bytes go through a file that `file()` reads
   * (in the session's data directory: on the same disk, and removed with it).
   */
  async insertRowBinary(
    table: string,
    columns: readonly RowBinaryColumn[],
    chunks: readonly Uint8Array[],
  ): Promise<void> {
    const session = this.session('insert');
    const target = identifier(table).text;
    if (chunks.every((c) => c.byteLength === 0)) return;
    const file = join(this.shared.path, `insert-${process.pid}-${++insertFiles}.rowbinary`);
    try {
      await writeFile(file, chunks);
      await session.queryAsync(
        `INSERT INTO ${target} ${rowBinaryColumnList(columns)} SELECT * FROM file(${literal(file).text}, 'RowBinary', ${literal(rowBinaryStructure(columns)).text})`,
      );
    } catch (error) {
      throw toStorageError(error, this.context('insert'));
    } finally {
      await rm(file, { force: true });
    }
  }

  async ping(): Promise<void> {
    const session = this.session('ping');
    try {
      await session.queryAsync('SELECT 1');
    } catch (error) {
      throw toStorageError(error, this.context('ping'));
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await release(this.key, this.shared);
    this.log.info({ path: this.shared.path }, 'chDB storage closed');
  }

  private session(operation: StorageOperation): Session {
    if (!this.#closed) return this.shared.session;
    throw new DriftlineError(ErrorCode.STORAGE_UNAVAILABLE, `chDB storage is closed (${operation})`, {
      retriable: false,
      details: { adapter: 'embedded', operation, target: this.shared.path, reason: 'closed' },
    });
  }
}

function parseJsonEachRow<T>(text: string): T[] {
  const rows: T[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    if (end > start) rows.push(JSON.parse(text.slice(start, end)) as T);
    start = end + 1;
  }
  return rows;
}
