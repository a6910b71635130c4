/**
 * Versioned DDL from `clickhouse/migrations/NNNN_name.sql`, applied in order, once each, and
 * recorded in `schema_migrations`. Runs at start-up of every service that writes, and through
 * `driftline migrate`.
 */
import { readdir, readFile } from 'node:fs/promises';
import { DriftlineError, ErrorCode } from './errors.ts';
import type { Storage } from './storage/index.ts';
import { sql } from './storage/sql.ts';

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
    for (const statement of migration.statements) await apply(storage, statement);
    await storage.insert('schema_migrations', [
      { version: migration.version, name: migration.name, applied_at: new Date() },
    ]);
    done.push(migration.version);
  }
  return done;
}

/**
 * Runs one statement. An `ALTER TABLE … ADD COLUMN …` whose columns all exist already is done:
 * a run that stopped between the statement and its `schema_migrations` row, or another service
 * migrating at the same moment (every service that writes migrates at start-up). ClickHouse 18.16
 * has no `ADD COLUMN IF NOT EXISTS` to say so in the file.
 */
async function apply(storage: Storage, statement: string): Promise<void> {
  const added = addedColumns(statement);
  if (added && (await hasColumns(storage, added))) return;
  try {
    await storage.command(statement);
  } catch (error) {
    if (added && (await hasColumns(storage, added))) return;
    throw error;
  }
}

/** The table and columns of `ALTER TABLE t ADD COLUMN a …, ADD COLUMN b …`; undefined for any other statement. */
export function addedColumns(statement: string): { table: string; columns: string[] } | undefined {
  const alter = /^ALTER\s+TABLE\s+([A-Za-z_][A-Za-z0-9_]*)\s+(ADD\s+COLUMN\s[\s\S]*)$/i.exec(statement.trim());
  // Nothing but ADD COLUMN: another action in the same ALTER would not be known done.
  if (
    !alter ||
    /\b(DROP|MODIFY|RENAME|CLEAR|COMMENT|MATERIALIZE)\s+COLUMN\b|\b(DELETE|UPDATE|PARTITION|INDEX)\b/i.test(statement)
  )
    return undefined;
  const clauses = (alter[2] as string).split(/,\s*(?=ADD\s+COLUMN\s)/i);
  const columns: string[] = [];
  for (const clause of clauses) {
    const column = /^ADD\s+COLUMN\s+([A-Za-z_][A-Za-z0-9_]*)\s/i.exec(clause.trim());
    if (!column) return undefined;
    columns.push(column[1] as string);
  }
  return { table: alter[1] as string, columns };
}

async function hasColumns(storage: Storage, added: { table: string; columns: string[] }): Promise<boolean> {
  const rows = await storage.query<{ name: string }>(
    sql`SELECT name FROM system.columns WHERE database = currentDatabase() AND table = ${added.table}`.text,
  );
  const existing = new Set(rows.map((r) => r.name));
  return added.columns.every((c) => existing.has(c));
}
