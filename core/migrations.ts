/**
 * Versioned DDL from `clickhouse/migrations/NNNN_name.sql`, applied in order, once each, and
 * recorded in `schema_migrations`. Runs at start-up of every service that writes, and through
 * `driftline migrate`.
 */
import { readdir, readFile } from 'node:fs/promises';
import { DriftlineError, ErrorCode } from './errors.ts';
import type { Storage } from './storage/index.ts';

export const MIGRATIONS_DIR = new URL('../clickhouse/migrations/', import.meta.url);
const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export interface Migration {
  version: number;
  name: string;
  statements: string[];
}

/** Splits a file into statements at semicolons that end a line; `--` comments are dropped. */
export function splitStatements(text: string): string[] {
  const withoutComments = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n');
  return withoutComments
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export async function loadMigrations(dir: URL = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = FILE_PATTERN.exec(file);
    if (!match) {
      throw new DriftlineError(ErrorCode.STORAGE_QUERY_FAILED, `migration file ${file} must be named NNNN_name.sql`);
    }
    migrations.push({
      version: Number(match[1]),
      name: match[2] as string,
      statements: splitStatements(await readFile(new URL(file, dir), 'utf8')),
    });
  }
  return migrations;
}

/** Applies the migrations not applied yet; returns their versions. */
export async function migrate(storage: Storage, migrations?: readonly Migration[]): Promise<number[]> {
  await storage.command(
    "CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, applied_at DateTime('UTC')) ENGINE = MergeTree ORDER BY version",
  );
  const applied = new Set(
    (await storage.query<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => Number(r.version)),
  );
  const done: number[] = [];
  for (const migration of migrations ?? (await loadMigrations())) {
    if (applied.has(migration.version)) continue;
    for (const statement of migration.statements) await storage.command(statement);
    await storage.insert('schema_migrations', [
      { version: migration.version, name: migration.name, applied_at: new Date() },
    ]);
    done.push(migration.version);
  }
  return done;
}
