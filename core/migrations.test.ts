import { describe, expect, it } from 'vitest';
import { loadMigrations, splitStatements } from './migrations.ts';

describe('migrations', () => {
  it('splits a file into statements at line-ending semicolons and drops comments', () => {
    expect(splitStatements('-- a comment\nCREATE TABLE a (x String);\n\nCREATE TABLE b (y String);\n')).toEqual([
      'CREATE TABLE a (x String)',
      'CREATE TABLE b (y String)',
    ]);
  });

  it('loads the shipped migrations in version order', async () => {
    const migrations = await loadMigrations();
    expect(migrations.map((m) => m.version)).toEqual([...migrations.map((m) => m.version)].sort((a, b) => a - b));
    expect(migrations[0]).toMatchObject({ version: 1, name: 'ground_truth' });
    for (const m of migrations) {
      expect(m.statements.length).toBeGreaterThan(0);
      for (const statement of m.statements)
        expect(statement).not.toMatch(/DateTime64|LowCardinality|IF NOT EXISTS\s+\w+\s+ADD/);
    }
  });
});
