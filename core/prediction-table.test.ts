import { describe, expect, it } from 'vitest';
import { DriftlineError, ErrorCode } from './errors.ts';
import { createPredictionsTableSql, ensurePredictionsTable, predictionsTable } from './prediction-table.ts';
import type { Storage } from './storage/index.ts';

describe('predictions table DDL', () => {
  it('has one column per feature, nullable when optional, ordered for time-range queries', () => {
    const ddl = createPredictionsTableSql('california-housing', [
      { name: 'MedInc', type: 'double', optional: false },
      { name: 'Coast', type: 'double', optional: true },
      { name: 'Region', type: 'string', optional: false },
    ]);
    expect(predictionsTable('california-housing')).toBe('predictions_california_housing');
    expect(ddl).toContain('CREATE TABLE IF NOT EXISTS `predictions_california_housing`');
    expect(ddl).toContain('`MedInc` Float64,');
    expect(ddl).toContain('`Coast` Nullable(Float64),');
    expect(ddl).toContain('`Region` String,');
    expect(ddl).toContain('ENGINE = ReplacingMergeTree');
    expect(ddl).toContain('PARTITION BY toYYYYMMDD(event_time)');
    expect(ddl).toContain('ORDER BY (event_time, event_id)');
    expect(ddl).not.toMatch(/DateTime64|LowCardinality|Map\(/);
  });

  it('refuses a feature named like a fixed column, and a name that is not an identifier', () => {
    expect(() => createPredictionsTableSql('m', [{ name: 'prediction', type: 'double', optional: false }])).toThrow(
      /clashes/,
    );
    expect(() => createPredictionsTableSql('m', [{ name: 'a`b', type: 'double', optional: false }])).toThrow();
  });
});

describe('ensurePredictionsTable', () => {
  /** A storage whose table already has `columns`; another instance adds `raced` just before us. */
  function racingStorage(columns: string[], raced: string) {
    const have = new Set(columns);
    const commands: string[] = [];
    const storage: Storage = {
      kind: 'server',
      database: 'd',
      async command(text) {
        commands.push(text);
        if (text.startsWith('ALTER') && text.includes(`\`${raced}\``)) {
          have.add(raced); // the other store instance won the race
          throw new DriftlineError(ErrorCode.STORAGE_QUERY_FAILED, 'column already exists (code 44)');
        }
      },
      async query<T>() {
        return [...have].map((name) => ({ name, type: 'Float64' })) as T[];
      },
      async insert() {},
      async insertRowBinary() {},
      async ping() {},
      async close() {},
    };
    return { storage, commands };
  }

  it('takes a column another store instance added a moment earlier as added, not as a failure', async () => {
    const { storage } = racingStorage(['event_id', 'x'], 'y');
    const features = [
      { name: 'x', type: 'double', optional: false },
      { name: 'y', type: 'double', optional: true },
    ] as const;
    await expect(ensurePredictionsTable(storage, 'm', features)).resolves.toEqual([]);
  });

  it('still fails when the column is not there after ALTER failed', async () => {
    const { storage } = racingStorage(['event_id'], 'nobody-adds-this');
    const failing: Storage = {
      ...storage,
      async command(text) {
        if (text.startsWith('ALTER')) throw new DriftlineError(ErrorCode.STORAGE_QUERY_FAILED, 'refused');
      },
    };
    await expect(ensurePredictionsTable(failing, 'm', [{ name: 'z', type: 'double', optional: true }])).rejects.toThrow(
      'refused',
    );
  });
});
