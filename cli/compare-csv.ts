/**
 * CSV input for `driftline compare`: a streaming RFC 4180 parser and a one-pass profiler that
 * turns a file into one sketch per column without holding the rows in memory.
 */
import { createReadStream } from 'node:fs';
import { DriftlineError, ErrorCode } from '../core/errors.ts';
import { CategoricalSketch } from '../core/sketch/categorical-sketch.ts';
import { NumericSketch } from '../core/sketch/numeric-sketch.ts';

const COMMA = 0x2c;
const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;

const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_IN_QUOTED = 3;

/**
 * Streaming CSV parser (RFC 4180): comma separator; fields may be quoted with `"`, and a quoted
 * field may hold commas, newlines and doubled quotes (`""`). CRLF, LF and lone CR end a row;
 * a leading UTF-8 byte-order mark and blank lines are skipped. Lenient where files in the wild
 * are: a quote inside an unquoted field is kept as is, and text after a closing quote is
 * appended to the field. Only an unterminated quoted field is an error. Chunks may split a
 * field, a quote pair or a CRLF anywhere.
 */
export class CsvParser {
  private state = FIELD_START;
  private field = '';
  private row: string[] = [];
  private rowStarted = false;
  private skipLf = false;
  private sawInput = false;
  private line = 1;
  private rowLine = 1;

  /** `onRow` gets each row's fields and the line number the row starts on. */
  constructor(
    private readonly onRow: (fields: string[], line: number) => void,
    private readonly source = 'input',
  ) {}

  feed(chunk: string): void {
    const n = chunk.length;
    let i = 0;
    if (!this.sawInput && n > 0) {
      this.sawInput = true;
      if (chunk.charCodeAt(0) === 0xfeff) i = 1;
    }
    // Start of the literal run not yet copied into `field` (UNQUOTED and QUOTED states).
    let mark = i;
    for (; i < n; i++) {
      const ch = chunk.charCodeAt(i);
      if (this.skipLf) {
        this.skipLf = false;
        if (ch === LF) {
          mark = i + 1;
          continue;
        }
      }
      switch (this.state) {
        case FIELD_START:
          if (ch === QUOTE) {
            this.state = QUOTED;
            this.rowStarted = true;
            mark = i + 1;
          } else if (ch === COMMA) {
            this.rowStarted = true;
            this.endField();
            mark = i + 1;
          } else if (ch === CR || ch === LF) {
            this.endRow(ch);
            mark = i + 1;
          } else {
            this.state = UNQUOTED;
            this.rowStarted = true;
            mark = i;
          }
          break;
        case UNQUOTED:
          if (ch === COMMA) {
            this.field += chunk.slice(mark, i);
            this.endField();
            mark = i + 1;
          } else if (ch === CR || ch === LF) {
            this.field += chunk.slice(mark, i);
            this.endRow(ch);
            mark = i + 1;
          }
          break;
        case QUOTED:
          if (ch === QUOTE) {
            this.field += chunk.slice(mark, i);
            this.state = QUOTE_IN_QUOTED;
          } else if (ch === LF) {
            this.line++;
          }
          break;
        case QUOTE_IN_QUOTED:
          if (ch === QUOTE) {
            // "" inside quotes: a literal quote, which starts the next literal run.
            this.state = QUOTED;
            mark = i;
          } else if (ch === COMMA) {
            this.endField();
            mark = i + 1;
          } else if (ch === CR || ch === LF) {
            this.endRow(ch);
            mark = i + 1;
          } else {
            this.state = UNQUOTED;
            mark = i;
          }
          break;
      }
    }
    if (this.state === UNQUOTED || this.state === QUOTED) this.field += chunk.slice(mark);
  }

  /** Flushes the last row; throws on an unterminated quoted field. */
  end(): void {
    if (this.state === QUOTED) {
      throw new DriftlineError(
        ErrorCode.USAGE,
        `${this.source}: unterminated quoted field starting on line ${this.rowLine}`,
        {
          details: { source: this.source, line: this.rowLine },
        },
      );
    }
    if (this.rowStarted || this.row.length > 0) this.endRow(LF);
  }

  private endField(): void {
    this.row.push(this.field);
    this.field = '';
    this.state = FIELD_START;
  }

  private endRow(ch: number): void {
    const blank = !this.rowStarted && this.row.length === 0 && this.field === '';
    if (!blank) {
      this.row.push(this.field);
      this.onRow(this.row, this.rowLine);
    }
    this.row = [];
    this.field = '';
    this.state = FIELD_START;
    this.rowStarted = false;
    this.skipLf = ch === CR;
    this.line++;
    this.rowLine = this.line;
  }
}

/** All rows of a CSV text (header included). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  const parser = new CsvParser((row) => rows.push(row));
  parser.feed(text);
  parser.end();
  return rows;
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
  let header: string[] | undefined;
  const parser = new CsvParser((fields) => {
    header ??= fields;
  }, path);
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 16 });
  try {
    for await (const chunk of stream) {
      parser.feed(chunk as string);
      if (header) break;
    }
    if (!header) parser.end();
  } finally {
    stream.destroy();
  }
  if (!header) throw new DriftlineError(ErrorCode.USAGE, `${path}: empty file, expected a header row`);
  return normalizeHeader(header, path);
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
  const parser = new CsvParser((fields, line) => {
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
      return;
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
  }, path);
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
  for await (const chunk of stream) parser.feed(chunk as string);
  parser.end();
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
