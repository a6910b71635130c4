import { describe, expect, it } from 'vitest';
import { addedColumns, loadMigrations, splitStatements } from './migrations.ts';

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

  it('reads the table and columns of an ADD COLUMN statement, and nothing of any other', async () => {
    const shipped = (await loadMigrations()).flatMap((m) => m.statements.map((statement) => addedColumns(statement)));
    expect(shipped.filter((a) => a !== undefined)).toEqual([
      { table: 'drift_events', columns: ['sources_expected', 'partial', 'revision', 'sketch_count'] },
      { table: 'feature_sketches', columns: ['centroid_point_masses'] },
    ]);
    expect(addedColumns('alter table t add column `x` UInt8')).toBeUndefined(); // quoted: not read, run as it is
    expect(addedColumns('ALTER TABLE t ADD COLUMN a UInt8, DROP COLUMN b')).toBeUndefined();
    expect(addedColumns('ALTER TABLE t MODIFY COLUMN a UInt16')).toBeUndefined();
    expect(addedColumns('ALTER TABLE t ADD COLUMN kafka_partition UInt32')).toEqual({
      table: 't',
      columns: ['kafka_partition'],
    });
    expect(addedColumns("alter table t add column a Array(String) DEFAULT ['x, y'], add column b UInt8")).toEqual({
      table: 't',
      columns: ['a', 'b'],
    });
  });
});
