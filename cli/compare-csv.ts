/**
 * CSV input for `driftline compare`: streaming parsing (`csv-parse`, a well-kept RFC 4180
 * parser, rather than one of our own) and a one-pass profiler that turns a file into one
 * sketch per column without holding the rows in memory.
 */
import { createReadStream } from 'node:fs';
import { CsvError, type Options, type Parser, parse } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { DriftlineError, ErrorCode } from '../core/errors.ts';
import { CategoricalSketch } from '../core/sketch/categorical-sketch.ts';
import { NumericSketch } from '../core/sketch/numeric-sketch.ts';

/**
 * RFC 4180 CSV through `csv-parse`: comma separator, quoted fields holding commas, newlines and
 * doubled quotes; CRLF, LF and lone CR end a row; a UTF-8 byte-order mark and blank lines are
 * skipped. Lenient where files in the wild are: a quote inside an unquoted field is kept, and
 * rows may have fewer fields than the header. Only an unterminated quoted field is an error.
 */
const CSV_OPTIONS: Options = {
  bom: true,
  skip_empty_lines: true,
  relax_column_count: true,
  relax_quotes: true,
  record_delimiter: ['\r\n', '\n', '\r'],
};

/** Options that also report, through `onLine`, the line each record ends on. */
function withLines(onLine: (line: number) => void): Options {
  return {
    ...CSV_OPTIONS,
    on_record: (record: string[], context: { lines: number }) => {
      onLine(context.lines);
      return record;
    },
  };
}

/** csv-parse's failure as a usage error naming the file and where the bad record starts. */
function csvError(error: unknown, source: string, lastLine: number): DriftlineError {
  const reason =
    error instanceof CsvError && error.code === 'CSV_QUOTE_NOT_CLOSED' ? 'unterminated quoted field' : String(error);
  return new DriftlineError(ErrorCode.USAGE, `${source} line ${lastLine + 1}: ${reason}`, {
    cause: error,
    details: { path: source, line: lastLine + 1 },
  });
}

/** All rows of a CSV text (header included). */
export function parseCsv(text: string, source = 'input'): string[][] {
  let line = 0;
  try {
    return parseSync(
      text,
      withLines((l) => {
        line = l;
      }),
    ) as string[][];
  } catch (error) {
    throw csvError(error, source, line);
  }
}

/** A streaming CSV parser (a Transform: text in, `string[]` records out) with our options. */
export function csvParser(onLine: (line: number) => void = () => {}): Parser {
  return parse(withLines(onLine));
}

/** Streams the records of a CSV file with the line each ends on. */
async function* csvRecords(path: string): AsyncGenerator<{ fields: string[]; line: number }> {
  let line = 0;
  const parser = createReadStream(path).pipe(
    csvParser((l) => {
      line = l;
    }),
  );
  try {
    for await (const fields of parser) yield { fields: fields as string[], line };
  } catch (error) {
    throw csvError(error, path, line);
  } finally {
    parser.destroy();
  }
}

/** Field values read as missing (after trimming): empty, and pandas' most common NA spellings. */
const MISSING = new Set(['', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', 'None']);

export function isMissing(field: string): boolean {
  return MISSING.has(field.trim());
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A finite decimal number (surrounding spaces allowed), or undefined. No hex, no Infinity. */
export function parseNumber(field: string): number | undefined {
  const text = field.trim();
  if (!DECIMAL.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** One column of one file: both sketches, built side by side until the column's kind is known. */
export interface ColumnProfile {
  name: string;
  /** Every non-missing value so far parsed as a finite number. */
  numeric: boolean;
  /** Non-missing values. */
  present: number;
  /** Dropped (undefined) once a value fails to parse as a number. */
  numericSketch: NumericSketch | undefined;
  categoricalSketch: CategoricalSketch;
}

export interface CsvProfile {
  path: string;
  header: string[];
  rows: number;
  columns: Map<string, ColumnProfile>;
}

/** Header names; an empty name becomes "Unnamed: i" as pandas does; duplicates are an error. */
export function normalizeHeader(fields: readonly string[], source: string): string[] {
  const names = fields.map((f, i) => (f.trim() === '' ? `Unnamed: ${i}` : f));
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) duplicates.add(name);
    seen.add(name);
  }
  if (duplicates.size > 0) {
    throw new DriftlineError(
      ErrorCode.USAGE,
      `${source}: duplicate column names in the header: ${[...duplicates].map((d) => JSON.stringify(d)).join(', ')}`,
    );
  }
  return names;
}

/** The header row of a CSV file, read without parsing the rest. */
export async function readCsvHeader(path: string): Promise<string[]> {
  for await (const { fields } of csvRecords(path)) return normalizeHeader(fields, path);
  throw new DriftlineError(ErrorCode.USAGE, `${path}: empty file, expected a header row`);
}

/**
 * Streams a CSV file with a header row into per-column sketches. `wanted` limits which
 * columns are profiled (all when undefined; names not in the header are ignored here and
 * reported by the caller). Rows with more fields than the header are an error; missing
 * trailing fields are missing values.
 */
export async function profileCsvFile(path: string, wanted?: ReadonlySet<string>): Promise<CsvProfile> {
  let header: string[] | undefined;
  let indexes: [number, ColumnProfile][] = [];
  const columns = new Map<string, ColumnProfile>();
  let rows = 0;
  for await (const { fields, line } of csvRecords(path)) {
    if (!header) {
      header = normalizeHeader(fields, path);
      indexes = header.flatMap((name, i): [number, ColumnProfile][] => {
        if (wanted && !wanted.has(name)) return [];
        const profile: ColumnProfile = {
          name,
          numeric: true,
          present: 0,
          numericSketch: NumericSketch.create(),
          categoricalSketch: CategoricalSketch.create(),
        };
        columns.set(name, profile);
        return [[i, profile]];
      });
      continue;
    }
    if (fields.length > header.length) {
      throw new DriftlineError(
        ErrorCode.USAGE,
        `${path} line ${line}: ${fields.length} fields, but the header has ${header.length}`,
        {
          details: { path, line },
        },
      );
    }
    rows++;
    for (const [i, profile] of indexes) {
      const field = fields[i];
      if (field === undefined || isMissing(field)) {
        profile.numericSketch?.push(null);
        profile.categoricalSketch.push(null);
        continue;
      }
      profile.present++;
      profile.categoricalSketch.push(field);
      if (profile.numericSketch) {
        const value = parseNumber(field);
        if (value === undefined) {
          profile.numeric = false;
          profile.numericSketch = undefined;
        } else {
          profile.numericSketch.push(value);
        }
      }
    }
  }
  if (!header) throw new DriftlineError(ErrorCode.USAGE, `${path}: empty file, expected a header row`);
  return { path, header, rows, columns };
}

/**
 * A column is numerical when every non-missing value in BOTH files is a finite number and at
 * least one such value exists; otherwise categorical (an "N/A"-free text value in either file
 * makes it categorical for both, so the two sides are always compared with the same method).
 */
export function isNumericColumn(reference: ColumnProfile, current: ColumnProfile): boolean {
  return reference.numeric && current.numeric && reference.present + current.present > 0;
}
