/**
 * Rows → JSONEachRow text, the one insert encoding both adapters send. It is built in full before
 * anything is sent, so a bad value rejects the whole batch instead of half-inserting it.
 */
import { DriftlineError, ErrorCode, isDriftlineError } from '../errors.ts';
import { dateToUnixSeconds, finiteNumber, MIN_NORMAL_FLOAT64 } from './sql.ts';

/**
 * One line per row. Conversions, chosen so ClickHouse 18.16 and current versions read them alike:
 * Date → whole Unix seconds (DateTime reads a number as an instant; 18.16 does not parse ISO
 * strings); bigint → a quoted decimal string (Int64/UInt64 columns accept it, and it keeps all
 * 64 bits); boolean → 1/0 (18.16 has no Bool and refuses `true` for UInt8); subnormal floats → 0
 * (what 18.16 stores for them anyway). NaN and ±Infinity are refused rather than sent as JSON `null`.
 */
export function encodeJsonEachRow(rows: readonly Record<string, unknown>[]): string {
  let text = '';
  // Quoted keys per call: the same few column names repeat on every row.
  const quotedKeys = new Map<string, string>();
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      throw new DriftlineError(ErrorCode.SQL_VALUE_INVALID, `Row ${i} is not an object`, { details: { row: i } });
    }
    const ahead = (row as EncodedRow)[ENCODED_LINE];
    if (ahead !== undefined) {
      text += ahead;
      continue;
    }
    try {
      text += encodeRow(row, quotedKeys);
    } catch (error) {
      const message = isDriftlineError(error) ? error.message : `cannot be encoded as JSON`;
      throw new DriftlineError(ErrorCode.SQL_VALUE_INVALID, `Row ${i}: ${message}`, {
        cause: error,
        details: { ...(isDriftlineError(error) ? error.details : {}), row: i },
      });
    }
  }
  return text;
}

const ENCODED_LINE = Symbol('JSONEachRow line');

/** A row already encoded: what `encodeAhead` returns, inserted as it is. */
export type EncodedRow = { readonly [ENCODED_LINE]: string };

/**
 * Encodes a row now rather than at its insert, for a buffer that holds many rows until a flush:
 * one string per row instead of an object graph (less to keep, far less for the GC to trace).
 * A row that cannot be encoded is returned as it is, so its insert refuses it exactly as it
 * would have (naming the row in its batch).
 */
const aheadKeys = new Map<string, string>();

export function encodeAhead(row: Record<string, unknown>): EncodedRow | Record<string, unknown> {
  try {
    if (aheadKeys.size > 10_000) aheadKeys.clear();
    return { [ENCODED_LINE]: encodeRow(row, aheadKeys) };
  } catch {
    return row;
  }
}

/**
 * One row as JSON.stringify with `replacer` would write it, newline-terminated, without calling a
 * replacer per key: scalars (nearly every value) are written here, anything else (arrays, nested
 * objects) goes through JSON.stringify and the replacer.
 */
function encodeRow(row: Record<string, unknown>, quotedKeys: Map<string, string>): string {
  // Rows of strings, nulls and normal finite numbers only (what a hot path prepares) are written
  // by the native JSON.stringify: the same text, a fraction of the time and garbage.
  if (isPlainJsonRow(row)) return `${JSON.stringify(row)}\n`;
  let line = '{';
  for (const key of Object.keys(row)) {
    const value = row[key];
    let quoted = quotedKeys.get(key);
    if (quoted === undefined) {
      quoted = JSON.stringify(key);
      quotedKeys.set(key, quoted);
    }
    let encoded: string;
    switch (typeof value) {
      case 'undefined':
        continue;
      case 'string':
        encoded = JSON.stringify(value);
        break;
      case 'number':
        encoded = String(replacer.call(row, key, value));
        break;
      case 'bigint':
        encoded = `"${value}"`;
        break;
      case 'boolean':
        encoded = value ? '1' : '0';
        break;
      default:
        if (value === null) encoded = 'null';
        else if (value instanceof Date) encoded = String(dateToUnixSeconds(value));
        else {
          // Through a one-key object, so the replacer sees the value's key as it would in the row.
          encoded = JSON.stringify({ [key]: value }, replacer).slice(quoted.length + 2, -1);
        }
    }
    line += line.length === 1 ? `${quoted}:${encoded}` : `,${quoted}:${encoded}`;
  }
  return `${line}}\n`;
}

function isPlainJsonRow(row: Record<string, unknown>): boolean {
  for (const key in row) {
    const value = row[key];
    if (typeof value === 'string' || value === null || value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) return false;
    if (value !== 0 && Math.abs(value) < MIN_NORMAL_FLOAT64) return false;
  }
  return true;
}

/** JSON.stringify replacer; `this` is the object holding `key`, so a Date is seen before its toJSON. */
function replacer(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  if (raw instanceof Date) return dateToUnixSeconds(raw);
  switch (typeof value) {
    case 'number':
      if (!Number.isFinite(value)) {
        throw new DriftlineError(ErrorCode.SQL_VALUE_INVALID, `${key || 'value'} is ${value}; numbers must be finite`, {
          details: { column: key },
        });
      }
      return finiteNumber(value);
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 1 : 0;
    case 'function':
    case 'symbol':
      throw new DriftlineError(ErrorCode.SQL_VALUE_INVALID, `${key || 'value'} is a ${typeof value}`, {
        details: { column: key },
      });
    default:
      return value;
  }
}
