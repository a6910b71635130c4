/**
 * CSV input for `driftline compare`: streaming parsing (`csv-parse`, a well-kept RFC 4180
 * parser, rather than one of our own), the value rules (pandas' missing markers, numbers) and a
 * one-pass profiler that turns a file into one sketch per column without holding the rows in
 * memory (the sketch path; the exact path is `compare-values.ts`).
 */

import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { pipeline, Readable } from 'node:stream';
import type { Options, Parser } from 'csv-parse';
import { FEW_VALUES } from '../core/drift/few-values.ts';
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

// csv-parse loads on first use: a small unquoted file never needs it (≈ 50 ms of start-up).
const require = createRequire(import.meta.url);
const csvParse = (): typeof import('csv-parse') => require('csv-parse');
const csvParseSync = (): typeof import('csv-parse/sync') => require('csv-parse/sync');

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
  if (error instanceof DriftlineError) return error;
  const reason =
    error instanceof csvParse().CsvError && error.code === 'CSV_QUOTE_NOT_CLOSED'
      ? 'unterminated quoted field'
      : String(error);
  return new DriftlineError(ErrorCode.USAGE, `${source} line ${lastLine + 1}: ${reason}`, {
    cause: error,
    details: { path: source, line: lastLine + 1 },
  });
}

/** All rows of a CSV text (header included). */
export function parseCsv(text: string, source = 'input'): string[][] {
  let line = 0;
  try {
    return csvParseSync().parse(
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
  return csvParse().parse(withLines(onLine));
}

/** Text encodings `driftline compare` reads. */
export const ENCODINGS = ['utf8', 'latin1'] as const;
export type Encoding = (typeof ENCODINGS)[number];

/**
 * Checks that bytes are well-formed UTF-8 (Unicode Table 3-7: no overlong forms, no surrogates,
 * nothing above U+10FFFF) chunk by chunk; a character may be split across chunks. `push` returns
 * the byte offset (from the start of the input) of the first malformed sequence's first byte, or
 * -1; `end` returns the offset of a character the input stops inside, or -1.
 */
export function utf8Validator(): { push(chunk: Uint8Array): number; end(): number } {
  let need = 0; // continuation bytes still expected
  let lo = 0x80; // bounds of the next continuation byte
  let hi = 0xbf;
  let start = 0; // offset of the current character's first byte
  let offset = 0; // offset of the chunk being read
  return {
    push(chunk) {
      const base = offset;
      offset += chunk.length;
      if (need === 0 && isUtf8(chunk)) return -1;
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i] as number;
        if (need > 0) {
          if (b < lo || b > hi) return start;
          lo = 0x80;
          hi = 0xbf;
          need--;
          continue;
        }
        start = base + i;
        if (b < 0x80) continue;
        if (b >= 0xc2 && b <= 0xdf) need = 1;
        else if (b >= 0xe0 && b <= 0xef) {
          need = 2;
          if (b === 0xe0) lo = 0xa0;
          else if (b === 0xed) hi = 0x9f;
        } else if (b >= 0xf0 && b <= 0xf4) {
          need = 3;
          if (b === 0xf0) lo = 0x90;
          else if (b === 0xf4) hi = 0x8f;
        } else return start;
      }
      return -1;
    },
    end: () => (need === 0 ? -1 : start),
  };
}

/** The usage error for a malformed UTF-8 sequence at byte `at` of a file. */
export function invalidUtf8(path: string, at: number): DriftlineError {
  return new DriftlineError(
    ErrorCode.USAGE,
    `${path}: not valid UTF-8 at byte ${at}; if the file is Latin-1 (ISO-8859-1), pass --encoding latin1`,
    { details: { path, byte: at } },
  );
}

/**
 * The text of a file. UTF-8 is checked, not repaired: decoding with replacement characters would
 * merge distinct categories (Latin-1 `Montréal` and `Montrïal` both become `Montr�al`), so the
 * first malformed byte is a usage error naming the file and its byte offset.
 */
async function* decodeFile(path: string, encoding: Encoding): AsyncGenerator<string> {
  if (encoding === 'latin1') {
    // Node's latin1 is ISO-8859-1, one byte per character (TextDecoder's is windows-1252).
    for await (const chunk of createReadStream(path)) yield (chunk as Buffer).toString('latin1');
    return;
  }
  const validator = utf8Validator();
  const decoder = new TextDecoder('utf-8');
  const invalid = (at: number) => invalidUtf8(path, at);
  for await (const chunk of createReadStream(path)) {
    const bad = validator.push(chunk as Buffer);
    if (bad >= 0) throw invalid(bad);
    yield decoder.decode(chunk as Buffer, { stream: true });
  }
  const truncated = validator.end();
  if (truncated >= 0) throw invalid(truncated);
  const rest = decoder.decode();
  if (rest !== '') yield rest;
}

/** Streams the records of a CSV file with the line each ends on. */
export async function* csvRecords(
  path: string,
  encoding: Encoding = 'utf8',
): AsyncGenerator<{ fields: string[]; line: number }> {
  let line = 0;
  const parser = csvParser((l) => {
    line = l;
  });
  // pipeline, not pipe: a decoding error must reach the parser (and so the loop below).
  pipeline(Readable.from(decodeFile(path, encoding)), parser, () => {});
  try {
    for await (const fields of parser) yield { fields: fields as string[], line };
  } catch (error) {
    throw csvError(error, path, line);
  } finally {
    parser.destroy();
  }
}

/**
 * Field values read as missing (after trimming): pandas' `read_csv` default `na_values`, so a
 * column reads as it would in pandas (and in Evidently, which reads CSVs through pandas).
 */
export const MISSING_MARKERS: readonly string[] = [
  '',
  '#N/A',
  '#N/A N/A',
  '#NA',
  '-1.#IND',
  '-1.#QNAN',
  '-NaN',
  '-nan',
  '1.#IND',
  '1.#QNAN',
  '<NA>',
  'N/A',
  'NA',
  'NULL',
  'NaN',
  'None',
  'n/a',
  'nan',
  'null',
];
const MISSING = new Set(MISSING_MARKERS);

export function isMissing(field: string): boolean {
  return MISSING.has(field.trim());
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
/** pandas' infinity spellings: inf / infinity, any case, optionally signed. */
const INFINITY = /^([+-]?)(?:inf|infinity)$/i;

/**
 * A decimal number (surrounding spaces allowed), ±Infinity for pandas' infinity spellings
 * (`inf`, `-inf`, `Infinity`, … any case) and for decimals beyond double range, or undefined.
 * No hex, no thousands separators.
 */
export function parseNumber(field: string): number | undefined {
  const text = field.trim();
  if (DECIMAL.test(text)) return Number(text);
  const infinity = INFINITY.exec(text);
  if (infinity) return infinity[1] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  return undefined;
}

/** How many distinct non-numeric values a profile keeps as examples. */
const EXAMPLES = 5;

/** What a column of one file holds, by kind of value: the kind is decided on both files. */
export interface ColumnCounts {
  name: string;
  /** Non-missing values. */
  present: number;
  /** Non-missing values that parse as numbers, ±inf included. */
  numbers: number;
  /** ±inf values: numbers, but left out of the numeric sketch (counted as missing there). */
  nonFinite: number;
  /** Non-missing values that are not numbers (missing in the numeric sketch). */
  nonNumeric: number;
  /** The first few distinct non-numeric values, in order of appearance. */
  nonNumericExamples: string[];
}

/** One column of one file: both sketches, built side by side. */
export interface ColumnProfile extends ColumnCounts {
  /** Finite numbers only; everything else counts as null. */
  numericSketch: NumericSketch;
  categoricalSketch: CategoricalSketch;
  /**
   * The finite numbers as categories (`String(value)`, so "1" and "1.0" are one), kept while
   * this file has at most `FEW_VALUES` distinct ones: for Evidently's few-values rule.
   */
  fewValues: CategoricalSketch | undefined;
}

/**
 * Evidently's rule (`_get_default_stattest`): a numerical column with at most this many distinct
 * values in both files together is tested as categorical.
 */
export { FEW_VALUES };

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

/** The usage error for a row longer than the header. */
export function tooManyFields(path: string, line: number, fields: number, header: number): DriftlineError {
  return new DriftlineError(ErrorCode.USAGE, `${path} line ${line}: ${fields} fields, but the header has ${header}`, {
    details: { path, line },
  });
}

/** The usage error for a file without a header row. */
export function emptyFile(path: string): DriftlineError {
  return new DriftlineError(ErrorCode.USAGE, `${path}: empty file, expected a header row`);
}

/** How much of a file `readCsvHeader` reads to find an unquoted header line. */
const HEADER_PROBE_BYTES = 64 * 1024;

/**
 * The header row of a CSV file, read without parsing the rest: split on commas when the first
 * line of the file's first 64 KiB is complete and unquoted, else through csv-parse.
 */
export async function readCsvHeader(path: string, encoding: Encoding = 'utf8'): Promise<string[]> {
  const file = await open(path, 'r');
  let probe: Buffer;
  try {
    const buffer = Buffer.alloc(HEADER_PROBE_BYTES);
    const { bytesRead } = await file.read(buffer, 0, HEADER_PROBE_BYTES, 0);
    probe = buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
  if (encoding === 'utf8') {
    const bad = utf8Validator().push(probe);
    if (bad >= 0) throw invalidUtf8(path, bad);
  }
  const text = probe.toString(encoding).replace(/^\uFEFF/, '');
  const line = /^[\r\n]*([^\r\n]+)[\r\n]/.exec(text)?.[1];
  if (line !== undefined && !line.includes('"')) return normalizeHeader(line.split(','), path);
  for await (const { fields } of csvRecords(path, encoding)) return normalizeHeader(fields, path);
  throw emptyFile(path);
}

/**
 * Streams a CSV file with a header row into per-column sketches. `wanted` limits which
 * columns are profiled (all when undefined; names not in the header are ignored here and
 * reported by the caller). Rows with more fields than the header are an error; missing
 * trailing fields are missing values.
 */
export async function profileCsvFile(
  path: string,
  wanted?: ReadonlySet<string>,
  encoding: Encoding = 'utf8',
): Promise<CsvProfile> {
  let header: string[] | undefined;
  let indexes: [number, ColumnProfile][] = [];
  const columns = new Map<string, ColumnProfile>();
  let rows = 0;
  for await (const { fields, line } of csvRecords(path, encoding)) {
    if (!header) {
      header = normalizeHeader(fields, path);
      indexes = header.flatMap((name, i): [number, ColumnProfile][] => {
        if (wanted && !wanted.has(name)) return [];
        const profile: ColumnProfile = {
          name,
          present: 0,
          numbers: 0,
          nonFinite: 0,
          nonNumeric: 0,
          nonNumericExamples: [],
          numericSketch: NumericSketch.create(),
          categoricalSketch: CategoricalSketch.create(),
          fewValues: CategoricalSketch.create(),
        };
        columns.set(name, profile);
        return [[i, profile]];
      });
      continue;
    }
    if (fields.length > header.length) throw tooManyFields(path, line, fields.length, header.length);
    rows++;
    for (const [i, profile] of indexes) {
      const field = fields[i];
      if (field === undefined || isMissing(field)) {
        profile.numericSketch.push(null);
        profile.categoricalSketch.push(null);
        profile.fewValues?.push(null);
        continue;
      }
      profile.present++;
      profile.categoricalSketch.push(field);
      const value = parseNumber(field);
      if (value === undefined) {
        profile.nonNumeric++;
        profile.numericSketch.push(null);
        profile.fewValues?.push(null);
        const examples = profile.nonNumericExamples;
        if (examples.length < EXAMPLES && !examples.includes(field)) examples.push(field);
      } else {
        profile.numbers++;
        if (Number.isFinite(value)) {
          profile.numericSketch.push(value);
          if (profile.fewValues) {
            profile.fewValues.push(String(value));
            if (profile.fewValues.size > FEW_VALUES) profile.fewValues = undefined;
          }
        } else {
          profile.nonFinite++;
          profile.numericSketch.push(null);
          profile.fewValues?.push(null);
        }
      }
    }
  }
  if (!header) throw emptyFile(path);
  return { path, header, rows, columns };
}

/**
 * Largest share of non-numeric values (both files together) a column may have and still be
 * numerical. A numeric column with a few stray tokens ("?", "n.a.", "-") is numerical with those
 * tokens read as missing and reported; a column where they are common is categorical.
 */
export const MAX_NON_NUMERIC_SHARE = 0.01;

/**
 * A column is numerical when both files together have at least one number and at most
 * `MAX_NON_NUMERIC_SHARE` of their non-missing values are not numbers (±inf are numbers);
 * otherwise categorical. The kind is decided on both files, so the two sides are always compared
 * with the same method. Either way the non-numeric values are reported, never dropped silently.
 */
export function isNumericColumn(reference: ColumnCounts, current: ColumnCounts): boolean {
  return isNumericCounts({
    present: reference.present + current.present,
    numbers: reference.numbers + current.numbers,
    nonNumeric: reference.nonNumeric + current.nonNumeric,
  });
}

/** The same rule on one set of counts (a single file: `driftline models register`). */
export function isNumericCounts(counts: Pick<ColumnCounts, 'present' | 'numbers' | 'nonNumeric'>): boolean {
  return counts.numbers > 0 && counts.nonNumeric <= MAX_NON_NUMERIC_SHARE * counts.present;
}

/**
 * The distinct finite numbers of a numerical column in both files together when there are at most
 * `FEW_VALUES` (Evidently then tests it as categorical: `pd.concat([reference, current]).nunique()
 * <= 5`), else undefined.
 */
export function fewDistinctValues(reference: ColumnProfile, current: ColumnProfile): number | undefined {
  if (!reference.fewValues || !current.fewValues) return undefined;
  const distinct = new Set([...reference.fewValues.entries(), ...current.fewValues.entries()].map(([v]) => v)).size;
  return distinct <= FEW_VALUES ? distinct : undefined;
}
