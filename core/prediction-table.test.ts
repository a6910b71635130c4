import { describe, expect, it } from 'vitest';
import { createPredictionsTableSql, predictionsTable } from './prediction-table.ts';

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
