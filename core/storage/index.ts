/**
 * The storage port's entry point: `openStorage` picks the adapter — a ClickHouse server when a
 * URL is configured, embedded chDB otherwise — and makes sure the configured database exists.
 */
import type { Config } from '../config.ts';
import { DriftlineError, ErrorCode } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { openEmbeddedStorage } from './chdb.ts';
import { openServerStorage } from './clickhouse-server.ts';
import type { Storage } from './port.ts';

export type { Storage, StorageKind } from './port.ts';
export {
  assertIdentifier,
  IDENTIFIER_PATTERN,
  identifier,
  join,
  literal,
  SqlFragment,
  type SqlValue,
  sql,
} from './sql.ts';

export interface StorageOverrides {
  /** Use this ClickHouse server instead of `config.clickhouseUrl`. */
  clickhouseUrl?: string;
  /** Use embedded chDB at this directory; given alone, it selects chDB even when `config.clickhouseUrl` is set. */
  chdbPath?: string;
}

/**
 * Opens the storage: the server adapter when `overrides.clickhouseUrl` or (without an
 * `overrides.chdbPath`) `config.clickhouseUrl` is set, embedded chDB at `overrides.chdbPath ??
 * config.chdbPath` otherwise. Runs `CREATE DATABASE IF NOT EXISTS` for `config.clickhouseDatabase`,
 * and every statement afterwards runs against that database.
 */
export async function openStorage(
  config: Readonly<Config>,
  logger: Logger,
  overrides: StorageOverrides = {},
): Promise<Storage> {
  const url = overrides.clickhouseUrl ?? (overrides.chdbPath === undefined ? config.clickhouseUrl : undefined);
  if (url !== undefined) {
    assertHttpUrl(url);
    return openServerStorage({
      url,
      username: config.clickhouseUser,
      password: config.clickhousePassword,
      database: config.clickhouseDatabase,
      logger,
    });
  }
  return openEmbeddedStorage({
    path: overrides.chdbPath ?? config.chdbPath,
    database: config.clickhouseDatabase,
    logger,
  });
}

function assertHttpUrl(url: string): void {
  let protocol: string | undefined;
  try {
    protocol = new URL(url).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new DriftlineError(
      ErrorCode.CONFIG_INVALID,
      'The ClickHouse URL must be an http(s) URL (for example http://127.0.0.1:8123)',
      { details: { problems: ['clickhouseUrl is not an http(s) URL'] } },
    );
  }
}
