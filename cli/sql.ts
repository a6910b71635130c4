import { parseArgs } from 'node:util';
import { migrate } from '../core/migrations.ts';
import { openStorage } from '../core/storage/index.ts';
import { type Command, usageError } from './command.ts';
import { formatTable } from './table.ts';

/** A cell as the table shows it: arrays and objects as JSON, null as NULL. */
export function cell(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function formatRows(rows: readonly Record<string, unknown>[]): string {
  if (rows.length === 0) return '(no rows)';
  const header = Object.keys(rows[0] as Record<string, unknown>);
  return `${formatTable(
    header,
    rows.map((row) => header.map((h) => cell(row[h]))),
  )}\n(${rows.length} row${rows.length === 1 ? '' : 's'})`;
}

export const sqlCommand: Command = {
  name: 'sql',
  usage: 'sql "<query>" [--json]',
  summary: 'run SQL against the configured ClickHouse (server, or embedded chDB) and print a table or JSON',
  async run(args, { config, logger, out }) {
    let parsed: { positionals: string[]; values: { json?: boolean } };
    try {
      parsed = parseArgs({
        args: [...args],
        options: { json: { type: 'boolean' } },
        allowPositionals: true,
        strict: true,
      });
    } catch (error) {
      throw usageError((error as Error).message);
    }
    const query = parsed.positionals.join(' ').trim();
    if (query === '') throw usageError('sql needs a query, e.g. driftline sql "SELECT count() FROM ground_truth"');
    const storage = await openStorage(config, logger);
    try {
      await migrate(storage);
      const isSelect = /^\s*(SELECT|WITH|SHOW|DESCRIBE|DESC|EXISTS)\b/i.test(query);
      if (!isSelect) {
        await storage.command(query);
        out.write('ok\n');
        return 0;
      }
      const rows = await storage.query(query);
      out.write(parsed.values.json ? `${JSON.stringify(rows)}\n` : `${formatRows(rows)}\n`);
      return 0;
    } finally {
      await storage.close();
    }
  },
};

export const migrateCommand: Command = {
  name: 'migrate',
  usage: 'migrate',
  summary: 'apply the ClickHouse DDL in clickhouse/migrations to the configured ClickHouse',
  async run(_args, { config, logger, out }) {
    const storage = await openStorage(config, logger);
    try {
      const applied = await migrate(storage);
      out.write(applied.length > 0 ? `applied migrations ${applied.join(', ')}\n` : 'schema is up to date\n');
      return 0;
    } finally {
      await storage.close();
    }
  },
};
