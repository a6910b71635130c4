/**
 * Rows encoded as ClickHouse's RowBinary as they arrive, for the store's hot path: no object per
 * row and no number-to-text conversion (writing a double as decimal text was the store's largest
 * cost). ClickHouse 18.16 and current servers read it alike, and chDB reads it through `file()`.
 *
 * RowBinary per type: integers and floats little-endian at their width; DateTime a UInt32 of Unix
 * seconds; String a LEB128 length and the UTF-8 bytes; Nullable(T) a byte (1 = NULL) and T when 0.
 */

/** The column types the encoder writes (what the predictions tables use). */
export type RowBinaryType =
  | 'String'
  | 'Float64'
  | 'UInt8'
  | 'UInt32'
  | 'UInt64'
  | 'DateTime'
  | 'Nullable(String)'
  | 'Nullable(Float64)'
  | 'Array(Float64)'
  | 'Array(String)'
  | 'Array(UInt64)'
  | 'Array(UInt8)';

/** A column an insert names, with the type its bytes are written in. */
export interface RowBinaryColumn {
  readonly name: string;
  readonly type: RowBinaryType;
}

import { identifier } from './sql.ts';

const TWO_TO_32 = 2 ** 32;
const INITIAL_BYTES = 64 * 1024;

/** A growing buffer of whole rows; `rowEnds` marks where each row ends, to split a batch by rows. */
export class RowBinaryRows {
  private bytes: Buffer;
  /** The same bytes: V8 compiles DataView's setters inline, Buffer's write methods are calls. */
  private view: DataView;
  private position = 0;
  private readonly ends: number[] = [];

  /** `initialBytes`: room to start with (it grows by doubling). */
  constructor(initialBytes = INITIAL_BYTES) {
    this.bytes = Buffer.allocUnsafe(Math.max(64, initialBytes));
    this.view = viewOf(this.bytes);
  }

  get rowCount(): number {
    return this.ends.length;
  }

  get byteLength(): number {
    return this.position;
  }

  /** Ends the row written since the last call. */
  endRow(): void {
    this.ends.push(this.position);
  }

  /** The bytes of rows [from, to) — a view, valid until more rows are written. */
  rows(from = 0, to = this.ends.length): Buffer {
    const start = from === 0 ? 0 : (this.ends[from - 1] as number);
    const end = to === 0 ? 0 : (this.ends[to - 1] as number);
    return this.bytes.subarray(start, end);
  }

  float64(value: number): void {
    this.reserve(8);
    this.view.setFloat64(this.position, value, true);
    this.position += 8;
  }

  uint8(value: number): void {
    this.reserve(1);
    this.bytes[this.position++] = value;
  }

  uint32(value: number): void {
    this.reserve(4);
    this.view.setUint32(this.position, value >>> 0, true);
    this.position += 4;
  }

  /** A non-negative integer up to 2^53 (Kafka offsets, epoch milliseconds). */
  uint64(value: number): void {
    this.reserve(8);
    const low = value % TWO_TO_32;
    this.view.setUint32(this.position, low, true);
    this.view.setUint32(this.position + 4, (value - low) / TWO_TO_32, true);
    this.position += 8;
  }

  /** A non-negative integer in decimal (a Kafka offset), exact over all 64 bits. */
  uint64Decimal(text: string): void {
    // Up to 15 digits is below 2^53: no BigInt needed (every offset in practice).
    if (text.length <= 15) {
      this.uint64(Number(text));
      return;
    }
    this.reserve(8);
    this.position = this.bytes.writeBigUInt64LE(BigInt(text), this.position);
  }

  string(value: string): void {
    // At most 3 bytes per UTF-16 unit; the length is written first as one byte when it fits,
    // moved along when the bytes turn out to need a longer LEB128.
    this.reserve(value.length * 3 + 5);
    const start = this.position;
    const written = this.bytes.write(value, start + 1);
    if (written < 0x80) {
      this.bytes[start] = written;
      this.position = start + 1 + written;
      return;
    }
    const prefix = leb128Length(written);
    this.bytes.copyWithin(start + prefix, start + 1, start + 1 + written);
    let rest = written;
    let at = start;
    while (rest >= 0x80) {
      this.bytes[at++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    this.bytes[at] = rest;
    this.position = start + prefix + written;
  }

  nullableString(value: string | null | undefined): void {
    if (value === null || value === undefined) {
      this.uint8(1);
      return;
    }
    this.uint8(0);
    this.string(value);
  }

  nullableFloat64(value: number | null | undefined): void {
    if (value === null || value === undefined) {
      this.uint8(1);
      return;
    }
    this.uint8(0);
    this.float64(value);
  }

  float64Array(values: readonly number[]): void {
    this.length(values.length);
    this.reserve(8 * values.length);
    for (const value of values) {
      this.view.setFloat64(this.position, value, true);
      this.position += 8;
    }
  }

  uint64Array(values: readonly number[]): void {
    this.length(values.length);
    for (const value of values) this.uint64(value);
  }

  uint8Array(values: readonly number[]): void {
    this.length(values.length);
    this.reserve(values.length);
    for (const value of values) this.bytes[this.position++] = value;
  }

  stringArray(values: readonly string[]): void {
    this.length(values.length);
    for (const value of values) this.string(value);
  }

  /** A LEB128 length (of a string or an array). */
  private length(value: number): void {
    this.reserve(5);
    let rest = value;
    while (rest >= 0x80) {
      this.bytes[this.position++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    this.bytes[this.position++] = rest;
  }

  /** Writes `value` as `type`; for generated columns (features), the rest call the typed methods. */
  value(type: RowBinaryType, value: unknown): void {
    switch (type) {
      case 'Float64':
        this.float64(typeof value === 'number' ? value : 0);
        break;
      case 'Nullable(Float64)':
        this.nullableFloat64(typeof value === 'number' ? value : null);
        break;
      case 'String':
        this.string(typeof value === 'string' ? value : '');
        break;
      case 'Nullable(String)':
        this.nullableString(typeof value === 'string' ? value : null);
        break;
      case 'UInt8':
        this.uint8(Number(value) || 0);
        break;
      case 'UInt32':
      case 'DateTime':
        this.uint32(Number(value) || 0);
        break;
      case 'UInt64':
        this.uint64(Number(value) || 0);
        break;
      default:
        throw new TypeError(`value() writes scalar columns; ${type} has its own method`);
    }
  }

  private reserve(bytes: number): void {
    if (this.position + bytes <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.position + bytes) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.bytes.copy(grown, 0, 0, this.position);
    this.bytes = grown;
    this.view = viewOf(grown);
  }
}

function viewOf(bytes: Buffer): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function leb128Length(value: number): number {
  let length = 1;
  for (let rest = value >>> 7; rest > 0; rest >>>= 7) length++;
  return length;
}

/** `a Float64, b String`: the structure `file()` takes. */
export function rowBinaryStructure(columns: readonly RowBinaryColumn[]): string {
  return columns.map((c) => `${identifier(c.name).text} ${c.type}`).join(', ');
}

/** `(a, b)`: the column list of the insert. */
export function rowBinaryColumnList(columns: readonly RowBinaryColumn[]): string {
  return `(${columns.map((c) => identifier(c.name).text).join(', ')})`;
}

/** Whether `type` (as system.columns spells it) is one the encoder writes, normalised. */
export function rowBinaryType(type: string): RowBinaryType | undefined {
  const plain = type.replace(/^DateTime\(.*\)$/, 'DateTime');
  const known: readonly string[] = [
    'String',
    'Float64',
    'UInt8',
    'UInt32',
    'UInt64',
    'DateTime',
    'Nullable(String)',
    'Nullable(Float64)',
  ];
  return known.includes(plain) ? (plain as RowBinaryType) : undefined;
}
