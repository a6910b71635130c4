/**
 * One row ClickHouse refuses must not fail the batch of good rows beside it. The event contract
 * keeps known bad values out before a flush; this is the net for what it does not foresee: when
 * ClickHouse refuses a batch because of a value in it (a parse or range error, never an outage),
 * the refused rows are found by halving, the rest is inserted, and the refused ones are returned
 * for the caller to dead-letter.
 */
import { DriftlineError, ErrorCode } from '../errors.ts';
import type { Storage } from './port.ts';
import type { RowBinaryColumn } from './row-binary.ts';

/** ClickHouse error codes that name a value in the data, not the table, the server or the query. */
const DATA_ERROR_CODES: ReadonlySet<number> = new Set([
  6, // CANNOT_PARSE_TEXT
  25, // CANNOT_PARSE_ESCAPE_SEQUENCE
  26, // CANNOT_PARSE_QUOTED_STRING
  27, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  38, // CANNOT_PARSE_DATE
  41, // CANNOT_PARSE_DATETIME
  69, // ARGUMENT_OUT_OF_BOUND
  70, // CANNOT_CONVERT_TYPE
  72, // CANNOT_PARSE_NUMBER
  131, // TOO_LARGE_STRING_SIZE
  321, // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
]);

/** Below this many rows, a batch whose every row is refused is taken as bad rows, not a bad table. */
const WHOLE_BATCH_REFUSED_MIN = 4;

export interface RefusedRow<T> {
  item: T;
  error: DriftlineError;
}

/** True when the error is about a value in the rows sent (so retrying the same rows cannot help). */
export function isDataError(error: unknown): error is DriftlineError {
  if (!(error instanceof DriftlineError) || error.retriable) return false;
  if (error.code === ErrorCode.SQL_VALUE_INVALID) return true;
  const code = error.details.clickhouseCode;
  return error.code === ErrorCode.STORAGE_QUERY_FAILED && typeof code === 'number' && DATA_ERROR_CODES.has(code);
}

/**
 * Inserts `items` as rows; returns the items ClickHouse refused for their values. Throws what is
 * not about values (an outage, a missing table), and throws too when every row of a larger batch
 * is refused: then the table, not the data, is wrong, and the caller should retry, not park.
 */
export function insertIsolating<T>(
  storage: Pick<Storage, 'insert'>,
  table: string,
  items: readonly T[],
  rowOf: (item: T) => Record<string, unknown>,
): Promise<RefusedRow<T>[]> {
  return isolateRefused(items, (some) => storage.insert(table, some.map(rowOf)));
}

/** Rows already encoded as RowBinary, with a way to take some of them. */
export interface EncodedRows {
  readonly rowCount: number;
  rows(from: number, to: number): Uint8Array;
}

/** The row `row` of `batches[batch]`. */
export interface EncodedRowRef {
  batch: number;
  row: number;
}

/**
 * `insertIsolating` for RowBinary batches: one insert of them all, and only when ClickHouse refuses
 * a value, the search for the refused rows (the one path that needs a handle per row).
 */
export async function insertRowBinaryIsolating(
  storage: Pick<Storage, 'insertRowBinary'>,
  table: string,
  columns: readonly RowBinaryColumn[],
  batches: readonly EncodedRows[],
): Promise<RefusedRow<EncodedRowRef>[]> {
  try {
    await storage.insertRowBinary(
      table,
      columns,
      batches.map((b) => b.rows(0, b.rowCount)),
    );
    return [];
  } catch (error) {
    if (!isDataError(error)) throw error;
  }
  const refs: EncodedRowRef[] = batches.flatMap((b, batch) =>
    Array.from({ length: b.rowCount }, (_, row) => ({ batch, row })),
  );
  return isolateRefused(refs, (some) =>
    storage.insertRowBinary(
      table,
      columns,
      contiguousRuns(some).map(({ batch, from, to }) => (batches[batch] as EncodedRows).rows(from, to)),
    ),
  );
}

/** Consecutive rows of one batch as one range, so a half of a batch is a few chunks, not one per row. */
function contiguousRuns(refs: readonly EncodedRowRef[]): { batch: number; from: number; to: number }[] {
  const runs: { batch: number; from: number; to: number }[] = [];
  for (const { batch, row } of refs) {
    const last = runs.at(-1);
    if (last && last.batch === batch && last.to === row) last.to = row + 1;
    else runs.push({ batch, from: row, to: row + 1 });
  }
  return runs;
}

/** Inserts `items`; on a data error, halves until the refused ones are found and the rest is in. */
async function isolateRefused<T>(
  items: readonly T[],
  insert: (items: readonly T[]) => Promise<void>,
): Promise<RefusedRow<T>[]> {
  if (items.length === 0) return [];
  try {
    await insert(items);
    return [];
  } catch (error) {
    if (!isDataError(error)) throw error;
    if (items.length === 1) return [{ item: items[0] as T, error }];
    // The encoder names the row it could not encode: no need to search.
    const row = error.details.row;
    if (typeof row === 'number' && Number.isInteger(row) && row >= 0 && row < items.length) {
      const rest = [...items.slice(0, row), ...items.slice(row + 1)];
      return [{ item: items[row] as T, error }, ...(await isolateRefused(rest, insert))];
    }
    const middle = Math.ceil(items.length / 2);
    const refused = [
      ...(await isolateRefused(items.slice(0, middle), insert)),
      ...(await isolateRefused(items.slice(middle), insert)),
    ];
    if (refused.length === items.length && items.length >= WHOLE_BATCH_REFUSED_MIN) throw error;
    return refused;
  }
}
