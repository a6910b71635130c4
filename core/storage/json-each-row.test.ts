import { describe, expect, it } from 'vitest';
import { type DriftlineError, ErrorCode, isDriftlineError } from '../errors.ts';
import { encodeAhead, encodeJsonEachRow } from './json-each-row.ts';

function invalidError(fn: () => unknown): DriftlineError {
  try {
    fn();
  } catch (error) {
    if (isDriftlineError(error, ErrorCode.SQL_VALUE_INVALID)) return error;
    throw error;
  }
  throw new Error('expected SQL_VALUE_INVALID');
}

describe('encodeJsonEachRow', () => {
  it('writes one line per row, newline-terminated', () => {
    expect(encodeJsonEachRow([{ a: 'x' }, { a: 'y\nz' }])).toBe('{"a":"x"}\n{"a":"y\\nz"}\n');
    expect(encodeJsonEachRow([])).toBe('');
  });

  it('converts Dates to Unix seconds, bigints to quoted digits, booleans to 1/0', () => {
    const line = encodeJsonEachRow([
      {
        ts: new Date('2024-01-02T03:04:05.999Z'),
        u: 18446744073709551615n,
        i: -9223372036854775808n,
        ok: true,
        off: false,
        days: [new Date(0), new Date(1000)],
        n: null,
      },
    ]);
    expect(JSON.parse(line)).toEqual({
      ts: 1704164645,
      u: '18446744073709551615',
      i: '-9223372036854775808',
      ok: 1,
      off: 0,
      days: [0, 1],
      n: null,
    });
  });

  it('flushes subnormal floats to 0, as ClickHouse 18.16 stores them', () => {
    expect(encodeJsonEachRow([{ f: 5e-324, g: [-1e-310, 1e-300] }])).toBe('{"f":0,"g":[0,1e-300]}\n');
  });

  it('leaves out undefined keys, so the column default applies', () => {
    expect(encodeJsonEachRow([{ a: 1, b: undefined }])).toBe('{"a":1}\n');
  });

  it('writes what JSON.stringify writes for the same values, nested ones included', () => {
    const row = {
      'a:b': 'x"y\\z\u2028',
      n: -0,
      big: 1.5e300,
      nested: { 'k:': [1, 'two', null, { deep: 5e-324 }] },
      list: [new Date(2000), 3n],
      tail: 'ünï 🎉',
    };
    const expected = {
      'a:b': 'x"y\\z\u2028',
      n: 0,
      big: 1.5e300,
      nested: { 'k:': [1, 'two', null, { deep: 0 }] },
      list: [2, '3'],
      tail: 'ünï 🎉',
    };
    expect(encodeJsonEachRow([row, row])).toBe(`${JSON.stringify(expected)}\n`.repeat(2));
  });

  it('refuses non-finite numbers, naming the row and column', () => {
    const error = invalidError(() => encodeJsonEachRow([{ x: 1 }, { x: 2, score: Number.NaN }]));
    expect(error.details).toMatchObject({ row: 1, column: 'score' });
    expect(error.message).toContain('Row 1');
    invalidError(() => encodeJsonEachRow([{ xs: [1, Number.POSITIVE_INFINITY] }]));
  });

  it('refuses invalid and out-of-range dates', () => {
    invalidError(() => encodeJsonEachRow([{ ts: new Date(Number.NaN) }]));
    invalidError(() => encodeJsonEachRow([{ ts: new Date('1960-01-01T00:00:00Z') }]));
  });

  it('refuses rows that are not objects, functions and cycles', () => {
    invalidError(() => encodeJsonEachRow([null as unknown as Record<string, unknown>]));
    invalidError(() => encodeJsonEachRow([[1, 2] as unknown as Record<string, unknown>]));
    invalidError(() => encodeJsonEachRow([{ f: () => 1 }]));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    invalidError(() => encodeJsonEachRow([cyclic]));
  });
});

describe('encodeAhead', () => {
  it('gives a row that inserts as the same line as the row object', () => {
    const row = { id: 'a"b', ts: new Date(5_000), n: 7n, x: 1.5, none: null };
    expect(encodeJsonEachRow([encodeAhead(row), row])).toBe(encodeJsonEachRow([row, row]));
  });

  it('leaves a row it cannot encode as it is, so the insert names it in its batch', () => {
    const bad = { x: Number.NaN };
    expect(encodeAhead(bad)).toBe(bad);
    expect(invalidError(() => encodeJsonEachRow([encodeAhead({ x: 1 }), encodeAhead(bad)])).details).toMatchObject({
      row: 1,
      column: 'x',
    });
  });
});
