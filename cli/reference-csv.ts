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
  MAX_NON_NUMERIC_SHARE,
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
  let header: string[] | undefined;
  let fields: (string | null)[][] = [];
  for await (const record of csvRecords(path, options.encoding)) {
    if (!header) {
      header = normalizeHeader(record.fields, path);
      fields = header.map(() => []);
      continue;
    }
    if (record.fields.length > header.length)
      throw tooManyFields(path, record.line, record.fields.length, header.length);
    header.forEach((_, j) => {
      const field = record.fields[j];
      fields[j]?.push(field === undefined || isMissing(field) ? null : field);
    });
  }
  if (!header) throw emptyFile(path);
  for (const name of categorical) {
    if (!header.includes(name)) {
      throw new DriftlineError(ErrorCode.USAGE, `--categorical ${JSON.stringify(name)} is not a column of ${path}`);
    }
  }
  const columns = new Map<string, ReferenceColumn>();
  const unreadable = new Map<string, number>();
  header.forEach((name, j) => {
    const texts = fields[j] ?? [];
    const numbers = texts.map((t) => (t === null ? undefined : parseNumber(t)));
    const present = texts.filter((t) => t !== null).length;
    const nonNumeric = texts.filter((t, i) => t !== null && numbers[i] === undefined).length;
    const numeric =
      !categorical.has(name) && numbers.some((n) => n !== undefined) && nonNumeric <= MAX_NON_NUMERIC_SHARE * present;
    if (!numeric) {
      columns.set(name, { kind: 'categorical', values: texts });
      return;
    }
    // Text among numbers, and ±inf, are missing values of a numeric column (and reported).
    const values = numbers.map((n) => (n !== undefined && Number.isFinite(n) ? n : null));
    const lost = values.filter((v, i) => v === null && texts[i] !== null).length;
    if (lost > 0) unreadable.set(name, lost);
    columns.set(name, { kind: 'numeric', values });
  });
  return { rows: fields[0]?.length ?? 0, columns, unreadable };
}
