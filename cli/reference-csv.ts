/**
 * Reads a reference file for `driftline models register`: every column whole and in row order,
 * numeric or categorical by the rule `driftline compare` uses (a column is numeric when it has
 * numbers and at most 1 % of its values are not), pandas' missing markers read as missing.
 */
import { DriftlineError, ErrorCode } from '../core/errors.ts';
import type { ReferenceColumn } from '../model/reference-version.ts';
import {
  csvRecords,
  type Encoding,
  emptyFile,
  isMissing,
  isNumericCounts,
  normalizeHeader,
  parseNumber,
  tooManyFields,
} from './compare-csv.ts';

export interface ReferenceFile {
  rows: number;
  columns: Map<string, ReferenceColumn>;
  /** Per numeric column, values read as missing because they were text or ±inf. */
  unreadable: Map<string, number>;
}

export async function readReferenceCsv(
  path: string,
  options: { categorical?: ReadonlySet<string>; encoding?: Encoding } = {},
): Promise<ReferenceFile> {
  const categorical = options.categorical ?? new Set<string>();
  // Two passes, so that a numeric column is held as numbers, never as the text of every field:
  // the first decides each column's kind, the second reads the values as that kind.
  const counts = await countKinds(path, options.encoding);
  for (const name of categorical) {
    if (!counts.header.includes(name)) {
      throw new DriftlineError(ErrorCode.USAGE, `--categorical ${JSON.stringify(name)} is not a column of ${path}`);
    }
  }
  const numeric = counts.header.map(
    (name, j) =>
      !categorical.has(name) &&
      isNumericCounts({
        present: counts.present[j] ?? 0,
        numbers: counts.numbers[j] ?? 0,
        nonNumeric: counts.nonNumeric[j] ?? 0,
      }),
  );
  const values: (number | string | null)[][] = counts.header.map(() => []);
  const unreadable = counts.header.map(() => 0);
  let header = true;
  for await (const record of csvRecords(path, options.encoding)) {
    if (header) {
      header = false;
      continue;
    }
    counts.header.forEach((_, j) => {
      const field = record.fields[j];
      const column = values[j] as (number | string | null)[];
      if (field === undefined || isMissing(field)) column.push(null);
      else if (!numeric[j]) column.push(field);
      else {
        // Text among numbers, and ±inf, are missing values of a numeric column (and reported).
        const n = parseNumber(field);
        if (n !== undefined && Number.isFinite(n)) column.push(n);
        else {
          column.push(null);
          unreadable[j] = (unreadable[j] ?? 0) + 1;
        }
      }
    });
  }
  const columns = new Map<string, ReferenceColumn>(
    counts.header.map((name, j) => [
      name,
      numeric[j]
        ? { kind: 'numeric', values: values[j] as (number | null)[] }
        : { kind: 'categorical', values: values[j] as (string | null)[] },
    ]),
  );
  return {
    rows: counts.rows,
    columns,
    unreadable: new Map(
      counts.header.flatMap((name, j) => ((unreadable[j] ?? 0) > 0 ? [[name, unreadable[j] ?? 0]] : [])),
    ),
  };
}

/** Per column: values present, numbers among them, and values that are not numbers. */
async function countKinds(path: string, encoding: Encoding | undefined) {
  let header: string[] | undefined;
  let present: number[] = [];
  let numbers: number[] = [];
  let nonNumeric: number[] = [];
  let rows = 0;
  for await (const record of csvRecords(path, encoding)) {
    if (!header) {
      header = normalizeHeader(record.fields, path);
      present = header.map(() => 0);
      numbers = header.map(() => 0);
      nonNumeric = header.map(() => 0);
      continue;
    }
    if (record.fields.length > header.length)
      throw tooManyFields(path, record.line, record.fields.length, header.length);
    rows++;
    for (let j = 0; j < header.length; j++) {
      const field = record.fields[j];
      if (field === undefined || isMissing(field)) continue;
      present[j] = (present[j] ?? 0) + 1;
      if (parseNumber(field) === undefined) nonNumeric[j] = (nonNumeric[j] ?? 0) + 1;
      else numbers[j] = (numbers[j] ?? 0) + 1;
    }
  }
  if (!header) throw emptyFile(path);
  return { header, rows, present, numbers, nonNumeric };
}
