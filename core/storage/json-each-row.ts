/**
 * Rows → JSONEachRow text, the one insert encoding both adapters send. It is built in full before
 * anything is sent, so a bad value rejects the whole batch instead of half-inserting it.
 */
import { DriftlineError, ErrorCode, isDriftlineError } from '../errors.ts';
import { dateToUnixSeconds, finiteNumber } from './sql.ts';

/**
 * One line per row. Conversions, chosen so ClickHouse 18.16 and current versions read them alike:
 * Date → whole Unix seconds (DateTime reads a number as an instant; 18.16 does not parse ISO
 * strings); bigint → a quoted decimal string (Int64/UInt64 columns accept it, and it keeps all
 * 64 bits); boolean → 1/0 (18.16 has no Bool and refuses `true` for UInt8); subnormal floats → 0
 * (what 18.16 stores for them anyway). NaN and ±Infinity are refused rather than sent as JSON `null`.
 */
export function encodeJsonEachRow(rows: readonly Record<string, unknown>[]): string {
  const lines = new Array<string>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      throw new DriftlineError(ErrorCode.SQL_VALUE_INVALID, `Row ${i} is not an object`, { details: { row: i } });
    }
    try {
      lines[i] = JSON.stringify(row, replacer);
    } catch (error) {
      const message = isDriftlineError(error) ? error.message : `cannot be encoded as JSON`;
      throw new DriftlineError(ErrorCode.SQL_VALUE_INVALID, `Row ${i}: ${message}`, {
        cause: error,
        details: { ...(isDriftlineError(error) ? error.details : {}), row: i },
      });
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
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
