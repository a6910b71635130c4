import { describe, expect, it } from 'vitest';
import { RowBinaryRows, rowBinaryStructure, rowBinaryType } from './row-binary.ts';

/** Reads back a LEB128-prefixed string at `at`: [text, next position]. */
function readString(bytes: Buffer, at: number): [string, number] {
  let length = 0;
  let shift = 0;
  let position = at;
  for (;;) {
    const byte = bytes[position++] as number;
    length += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) break;
    shift += 7;
  }
  return [bytes.toString('utf8', position, position + length), position + length];
}

describe('RowBinaryRows', () => {
  it('writes strings with LEB128 lengths of one, two and three bytes, growing its buffer as needed', () => {
    const rows = new RowBinaryRows();
    const texts = ['', 'a', 'x'.repeat(127), 'é'.repeat(64), 'Montréal'.repeat(30), '日本'.repeat(40_000)];
    for (const text of texts) {
      rows.string(text);
      rows.endRow();
    }
    const bytes = rows.rows();
    let at = 0;
    for (const text of texts) {
      const [read, next] = readString(bytes, at);
      expect(read).toBe(text);
      at = next;
    }
    expect(at).toBe(rows.byteLength);
    expect(rows.rows(5, 6)[0]).toBe(0x80 | (240_000 & 0x7f)); // 240,000 bytes: a 3-byte length
  });

  it('writes numbers little-endian at their width; 64-bit integers exact up to 2^53', () => {
    const rows = new RowBinaryRows();
    rows.uint64(2 ** 53 - 1);
    rows.uint32(4_000_000_000);
    rows.uint8(255);
    rows.float64(-0.1);
    rows.nullableFloat64(null);
    rows.nullableFloat64(2.5);
    rows.nullableString(undefined);
    rows.endRow();
    const bytes = rows.rows();
    expect(bytes.readBigUInt64LE(0)).toBe(2n ** 53n - 1n);
    expect(bytes.readUInt32LE(8)).toBe(4_000_000_000);
    expect(bytes[12]).toBe(255);
    expect(bytes.readDoubleLE(13)).toBe(-0.1);
    expect([...bytes.subarray(21, 23)]).toEqual([1, 0]);
    expect(bytes.readDoubleLE(23)).toBe(2.5);
    expect(bytes[31]).toBe(1);
    expect(bytes.length).toBe(32);
  });

  it('splits by rows', () => {
    const rows = new RowBinaryRows();
    for (let i = 0; i < 3; i++) {
      rows.uint32(i);
      rows.endRow();
    }
    expect(rows.rowCount).toBe(3);
    expect([...rows.rows(1, 3)]).toEqual([1, 0, 0, 0, 2, 0, 0, 0]);
    expect(rows.rows(0, 0).length).toBe(0);
  });

  it('names column types as system.columns spells them, and quotes names in a structure', () => {
    expect(rowBinaryType("DateTime('UTC')")).toBe('DateTime');
    expect(rowBinaryType('Nullable(Float64)')).toBe('Nullable(Float64)');
    expect(rowBinaryType('Array(String)')).toBeUndefined();
    expect(rowBinaryStructure([{ name: 'MedInc', type: 'Float64' }])).toBe('`MedInc` Float64');
  });
});

describe('RowBinaryRows.uint64Decimal', () => {
  it('writes a decimal offset exactly, beyond 2^53 too', () => {
    const rows = new RowBinaryRows();
    rows.uint64Decimal('42');
    rows.uint64Decimal('9007199254740993');
    rows.endRow();
    expect(rows.rows().readBigUInt64LE(0)).toBe(42n);
    expect(rows.rows().readBigUInt64LE(8)).toBe(9007199254740993n);
  });
});
