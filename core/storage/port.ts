/**
 * The storage port: what Driftline needs from ClickHouse, behind one interface with two adapters —
 * a ClickHouse server over HTTP (`server`) and embedded chDB (`embedded`). Both run the same SQL
 * dialect; write SQL that ClickHouse 18.16 accepts (no query parameters, DateTime64, Map,
 * LowCardinality, `ADD COLUMN IF NOT EXISTS`, toStartOfInterval) and build values with `sql.ts`.
 *
 * Every method rejects only with a `DriftlineError`: `STORAGE_UNAVAILABLE` (unreachable, timed
 * out, overloaded, closed; `retriable` says whether trying again can help) or
 * `STORAGE_QUERY_FAILED` (ClickHouse refused the statement; `details.clickhouseCode` when known),
 * or `SQL_VALUE_INVALID` for a row that cannot be encoded.
 */

import type { RowBinaryColumn } from './row-binary.ts';

export type StorageKind = 'server' | 'embedded';

export interface Storage {
  readonly kind: StorageKind;
  /** The database every statement runs against (unqualified names resolve here). */
  readonly database: string;
  /** DDL and statements without a result. One statement per call. */
  command(sql: string): Promise<void>;
  /**
   * A SELECT; rows as objects (JSONEachRow). 64-bit integers come back as JS numbers on both
   * adapters (exact up to ±2^53; select `toString(x)` when a value may be larger). DateTime
   * comes back as 'YYYY-MM-DD hh:mm:ss' in the column's time zone, or the server's (chDB: the
   * process's) when the column has none: declare `DateTime('UTC')` or select
   * `toUnixTimestamp(t)` for a time-zone-independent result.
   */
  query<T extends Record<string, unknown> = Record<string, unknown>>(sql: string): Promise<T[]>;
  /**
   * Batch insert of rows into a table of `database` (JSONEachRow). Values: string, finite
   * number, bigint (sent quoted, exact), boolean (1/0), null, Date (whole Unix seconds), and
   * arrays of those; a key left `undefined` takes the column default. Nothing is sent when any
   * row fails to encode.
   */
  insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void>;
  /**
   * Batch insert of rows already encoded as RowBinary (row-binary.ts) for `columns`, in that
   * order; the table's other columns take their defaults. `chunks` are sent one after another.
   */
  insertRowBinary(table: string, columns: readonly RowBinaryColumn[], chunks: readonly Uint8Array[]): Promise<void>;
  /** Resolves when ClickHouse answers a query; throws STORAGE_UNAVAILABLE when down. */
  ping(): Promise<void>;
  /** Releases the client or the chDB session. Idempotent; later calls reject as unavailable. */
  close(): Promise<void>;
}
