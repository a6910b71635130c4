import { describe, expect, it } from 'vitest';
import { DriftlineError, ErrorCode } from '../errors.ts';
import { insertIsolating, insertRowBinaryIsolating, isDataError } from './isolating-insert.ts';
import { encodeJsonEachRow } from './json-each-row.ts';

/** A table that refuses rows whose `v` is negative, as ClickHouse refuses a value it cannot parse. */
function picky() {
  const stored: number[] = [];
  let inserts = 0;
  return {
    stored,
    inserts: () => inserts,
    storage: {
      async insert(_table: string, rows: readonly Record<string, unknown>[]) {
        inserts++;
        encodeJsonEachRow(rows); // the real encoder's refusals (NaN…) name the row
        if (rows.some((r) => (r.v as number) < 0)) {
          throw new DriftlineError(ErrorCode.STORAGE_QUERY_FAILED, 'Cannot parse input (code 27)', {
            details: { clickhouseCode: 27 },
          });
        }
        stored.push(...rows.map((r) => r.v as number));
      },
    },
  };
}

const rows = (values: number[]) => values.map((v) => ({ v }));

describe('insertIsolating', () => {
  it('stores the good rows beside one ClickHouse refuses, and returns the refused one', async () => {
    const table = picky();
    const refused = await insertIsolating(table.storage, 't', rows([1, 2, 3, -4, 5, 6, 7, 8]), (r) => r);
    expect(refused.map((r) => r.item.v)).toEqual([-4]);
    expect(table.stored.sort()).toEqual([1, 2, 3, 5, 6, 7, 8]);
  });

  it('takes the row the encoder names without searching for it', async () => {
    const table = picky();
    const refused = await insertIsolating(table.storage, 't', rows([1, Number.NaN, 3]), (r) => r);
    expect(refused.map((r) => r.error.code)).toEqual([ErrorCode.SQL_VALUE_INVALID]);
    expect(table.stored).toEqual([1, 3]);
    expect(table.inserts()).toBe(2);
  });

  it('throws when every row of a batch is refused: the table, not the data, is wrong', async () => {
    const table = picky();
    await expect(insertIsolating(table.storage, 't', rows([-1, -2, -3, -4, -5, -6]), (r) => r)).rejects.toThrow(
      /Cannot parse/,
    );
  });

  it('never isolates an outage or a missing table: those are thrown for the caller to retry', async () => {
    const down = new DriftlineError(ErrorCode.STORAGE_UNAVAILABLE, 'down', { retriable: true });
    const missing = new DriftlineError(ErrorCode.STORAGE_QUERY_FAILED, 'no table (code 60)', {
      details: { clickhouseCode: 60 },
    });
    for (const error of [down, missing]) {
      expect(isDataError(error)).toBe(false);
      const storage = {
        async insert() {
          throw error;
        },
      };
      await expect(insertIsolating(storage, 't', rows([1, 2]), (r) => r)).rejects.toBe(error);
    }
  });
});

describe('insertRowBinaryIsolating', () => {
  /** Batches of one-byte rows; the table refuses any chunk holding a byte ≥ 200. */
  function byteTable() {
    const stored: number[] = [];
    let inserts = 0;
    return {
      stored,
      inserts: () => inserts,
      storage: {
        async insertRowBinary(_table: string, _columns: unknown, chunks: readonly Uint8Array[]) {
          inserts++;
          const bytes = chunks.flatMap((c) => [...c]);
          if (bytes.some((b) => b >= 200)) {
            throw new DriftlineError(ErrorCode.STORAGE_QUERY_FAILED, 'Cannot parse input (code 27)', {
              details: { clickhouseCode: 27 },
            });
          }
          stored.push(...bytes);
        },
      },
    };
  }
  const batch = (bytes: number[]) => ({
    rowCount: bytes.length,
    rows: (from: number, to: number) => Uint8Array.from(bytes.slice(from, to)),
  });

  it('sends every batch in one insert when nothing is refused', async () => {
    const table = byteTable();
    expect(await insertRowBinaryIsolating(table.storage, 't', [], [batch([1, 2]), batch([3])])).toEqual([]);
    expect(table.stored).toEqual([1, 2, 3]);
    expect(table.inserts()).toBe(1);
  });

  it('finds the refused rows across batches, stores the rest, and names each by batch and row', async () => {
    const table = byteTable();
    const refused = await insertRowBinaryIsolating(table.storage, 't', [], [batch([1, 250, 3]), batch([4, 5, 201])]);
    expect(refused.map((r) => r.item)).toEqual([
      { batch: 0, row: 1 },
      { batch: 1, row: 2 },
    ]);
    expect(refused[0]?.error.code).toBe(ErrorCode.STORAGE_QUERY_FAILED);
    expect(table.stored.sort((a, b) => a - b)).toEqual([1, 3, 4, 5]);
  });

  it('throws an outage as it is, and a batch refused entirely (the table is wrong, not the rows)', async () => {
    const down = {
      async insertRowBinary() {
        throw new DriftlineError(ErrorCode.STORAGE_UNAVAILABLE, 'down', { retriable: true });
      },
    };
    await expect(insertRowBinaryIsolating(down, 't', [], [batch([1])])).rejects.toThrow('down');
    const table = byteTable();
    await expect(insertRowBinaryIsolating(table.storage, 't', [], [batch([210, 220, 230, 240])])).rejects.toThrow(
      'Cannot parse',
    );
  });
});
