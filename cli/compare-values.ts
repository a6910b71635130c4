/**
 * The exact path of `driftline compare`: a CSV file read whole into per-column values — finite
 * numbers in a sorted Float64Array, every other value counted by its text — so the statistics
 * are computed on the raw values, not on sketches. Unquoted CSV (the common case) is tokenized
 * straight from the bytes, numbers parsed without making strings; a file with a quote character
 * anywhere is read through csv-parse (`csvRecords`), as the sketch path reads every file.
 */

import { isUtf8 } from 'node:buffer';
import { readFile, stat } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { sortNumbers } from '../core/drift/exact.ts';
import { categoricalOfCounts } from '../core/drift/few-values.ts';
import { DriftlineError, type ErrorCode } from '../core/errors.ts';
import type { CategoricalSketch } from '../core/sketch/categorical-sketch.ts';
import {
  type ColumnCounts,
  csvRecords,
  type Encoding,
  emptyFile,
  FEW_VALUES,
  invalidUtf8,
  isMissing,
  normalizeHeader,
  parseNumber,
  tooManyFields,
  utf8Validator,
} from './compare-csv.ts';

/** One column of one file, read whole. */
export interface ColumnValues extends ColumnCounts {
  /** Rows without a value (missing markers, absent trailing fields). */
  missing: number;
  /** The finite numbers, sorted ascending. */
  finite: Float64Array;
  /**
   * Non-missing values by their text (as in the file, untrimmed) and count: the non-numeric ones
   * always, the numbers too when the column was read with `allTexts` (a categorical column).
   */
  texts: Map<string, number>;
  /** Whether `texts` holds every non-missing value. */
  allTexts: boolean;
}

export interface CsvValues {
  path: string;
  header: string[];
  rows: number;
  columns: Map<string, ColumnValues>;
}

const EXAMPLES = 5;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;

/** Collects one column's values while a file is read. */
class ColumnCollector {
  present = 0;
  numbers = 0;
  nonFinite = 0;
  nonNumeric = 0;
  readonly nonNumericExamples: string[] = [];
  readonly texts = new Map<string, number>();
  private values = new Float64Array(1024);
  private size = 0;

  constructor(
    readonly name: string,
    readonly allTexts: boolean,
  ) {}

  /** A field known to be a finite decimal number (the byte tokenizer's fast path). */
  finiteNumber(value: number): void {
    this.present++;
    this.numbers++;
    this.push(value);
  }

  /** Any field, as text. */
  field(text: string): void {
    if (isMissing(text)) return;
    this.present++;
    const value = parseNumber(text);
    if (this.allTexts || value === undefined) this.texts.set(text, (this.texts.get(text) ?? 0) + 1);
    if (value === undefined) {
      this.nonNumeric++;
      const examples = this.nonNumericExamples;
      if (examples.length < EXAMPLES && !examples.includes(text)) examples.push(text);
      return;
    }
    this.numbers++;
    if (Number.isFinite(value)) this.push(value);
    else this.nonFinite++;
  }

  private push(value: number): void {
    if (this.size === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.size++] = value;
  }

  finish(rows: number): ColumnValues {
    return {
      name: this.name,
      present: this.present,
      numbers: this.numbers,
      nonFinite: this.nonFinite,
      nonNumeric: this.nonNumeric,
      nonNumericExamples: this.nonNumericExamples,
      missing: rows - this.present,
      finite: sortNumbers(this.values.slice(0, this.size)),
      texts: this.texts,
      allTexts: this.allTexts,
    };
  }
}

const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => 10 ** k);
const EXACT_INTEGERS = 2 ** 53;

/**
 * The tokenizer's state: `scanField` returns where a field ends and leaves here the field's
 * value when it is a plain decimal ([+-]digits[.digits]), else NaN, and the byte that ended it.
 */
const scanned = { value: Number.NaN, terminator: 0 };

/**
 * Scans the field starting at `start` up to the next comma, line break or the end, parsing it as
 * a plain decimal on the way. While its digits as an integer are below 2^53 (every shorter prefix
 * is then too, so the accumulation is exact) and 10^k is exact (k ≤ 22), one division gives the
 * correctly rounded value, the same double as `Number(text)` (Clinger's fast path): all numbers
 * of up to 15 digits, most of 16. Longer ones go to `Number`; anything else is left to the text
 * path (NaN).
 */
function scanField(bytes: Buffer, start: number, n: number): number {
  let i = start;
  let b = i < n ? (bytes[i] as number) : 0;
  let negative = false;
  if (b === 0x2d || b === 0x2b) {
    negative = b === 0x2d;
    b = ++i < n ? (bytes[i] as number) : 0;
  }
  let digits = 0;
  let mantissa = 0;
  let fraction = -1;
  let plain = true;
  for (; i < n; b = bytes[++i] as number) {
    if (b >= 0x30 && b <= 0x39) {
      mantissa = mantissa * 10 + (b - 0x30);
      digits++;
      if (fraction >= 0) fraction++;
    } else if (b === COMMA || b === LF || b === CR) break;
    else if (b === 0x2e && fraction < 0) fraction = 0;
    else plain = false;
  }
  scanned.terminator = i < n ? b : 0;
  if (!plain || digits === 0) scanned.value = Number.NaN;
  else if (mantissa >= EXACT_INTEGERS || fraction > 22) scanned.value = Number(bytes.toString('latin1', start, i));
  else {
    const value = fraction > 0 ? mantissa / (POWERS_OF_TEN[fraction] as number) : mantissa;
    scanned.value = negative ? -value : value;
  }
  return i;
}

/**
 * Reads the records of unquoted CSV bytes from `i` (after the header) into the collectors by
 * field position; returns the number of records. `line` is the header's line number.
 */
function readRecords(
  bytes: Buffer,
  i: number,
  line: number,
  slots: readonly (ColumnCollector | undefined)[],
  encoding: Encoding,
  path: string,
): number {
  const n = bytes.length;
  let rows = 0;
  while (i < n) {
    line++;
    const first = bytes[i] as number;
    if (first === LF || first === CR) {
      // A blank line.
      i += first === CR && bytes[i + 1] === LF ? 2 : 1;
      continue;
    }
    rows++;
    for (let field = 0; ; field++) {
      const end = scanField(bytes, i, n);
      const terminator = scanned.terminator;
      if (field >= slots.length) throw tooManyFields(path, line, fieldsInRow(bytes, i, n, field), slots.length);
      const collector = slots[field];
      if (collector !== undefined && end > i) {
        const value = scanned.value;
        if (!Number.isNaN(value) && !collector.allTexts) collector.finiteNumber(value);
        else collector.field(bytes.toString(encoding, i, end));
      }
      i = end + 1;
      if (terminator !== COMMA) {
        if (terminator === CR && bytes[i] === LF) i++;
        break;
      }
    }
  }
  return rows;
}

/** The number of fields of the row whose field number `field` (from 0) starts at `i`. */
function fieldsInRow(bytes: Buffer, i: number, n: number, field: number): number {
  let fields = field + 1;
  for (let k = i; k < n && bytes[k] !== LF && bytes[k] !== CR; k++) if (bytes[k] === COMMA) fields++;
  return fields;
}

/**
 * Reads a CSV file whole into per-column values. `wanted` limits the columns (all when undefined);
 * `allTexts` names columns whose numbers are also counted by text (categorical ones). Same rules
 * as `profileCsvFile`: header row, missing markers, rows longer than the header refused.
 */
export async function readCsvValues(
  path: string,
  wanted?: ReadonlySet<string>,
  encoding: Encoding = 'utf8',
  allTexts: ReadonlySet<string> = new Set(),
): Promise<CsvValues> {
  const bytes = await readFile(path);
  if (encoding === 'utf8' && !isUtf8(bytes)) {
    const validator = utf8Validator();
    const at = validator.push(bytes);
    throw invalidUtf8(path, at >= 0 ? at : validator.end());
  }
  if (bytes.includes(QUOTE)) return readQuoted(path, wanted, encoding, allTexts);

  // A UTF-8 byte-order mark is not part of the first name (csv-parse's `bom`).
  let i = encoding === 'utf8' && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  let line = 1;
  for (; i < bytes.length && (bytes[i] === LF || bytes[i] === CR); i++)
    if (bytes[i] === LF || bytes[i + 1] !== LF) line++;
  if (i >= bytes.length) throw emptyFile(path);
  let end = i;
  while (end < bytes.length && bytes[end] !== LF && bytes[end] !== CR) end++;
  const header = normalizeHeader(bytes.toString(encoding, i, end).split(','), path);
  const collectors: ColumnCollector[] = [];
  const slots = header.map((name) => {
    if (wanted && !wanted.has(name)) return undefined;
    const collector = new ColumnCollector(name, allTexts.has(name));
    collectors.push(collector);
    return collector;
  });
  const start = end + (bytes[end] === CR && bytes[end + 1] === LF ? 2 : 1);
  const rows = readRecords(bytes, start, line, slots, encoding, path);
  return { path, header, rows, columns: new Map(collectors.map((c) => [c.name, c.finish(rows)])) };
}
/** What the worker thread of `readCsvValuesInWorker` is asked to read. */
export interface WorkerRequest {
  path: string;
  wanted: string[] | undefined;
  encoding: Encoding;
  allTexts: string[];
}

/**
 * From this size on, the reference file is read in a worker thread while the main thread reads
 * the current one: two cores parse at once. Below it a worker's start-up (it loads tsx, ≈ 0.2 s)
 * costs more than it saves.
 */
export const PARALLEL_MIN_BYTES = 16 * 1024 * 1024;

/** Both files of a comparison, in parallel when one is large (`PARALLEL_MIN_BYTES`). */
export async function readCsvValuesPair(
  reference: string,
  current: string,
  wanted?: ReadonlySet<string>,
  encoding: Encoding = 'utf8',
  allTexts: ReadonlySet<string> = new Set(),
): Promise<[CsvValues, CsvValues]> {
  const sizes = await Promise.all([stat(reference), stat(current)]);
  const parallel = Math.max(sizes[0].size, sizes[1].size) >= PARALLEL_MIN_BYTES;
  const referenceValues = parallel
    ? // A worker that cannot run (no tsx to load the sources…) only costs the parallelism.
      readCsvValuesInWorker(reference, wanted, encoding, allTexts).catch((error: unknown) => {
        if (error instanceof DriftlineError) throw error;
        return readCsvValues(reference, wanted, encoding, allTexts);
      })
    : readCsvValues(reference, wanted, encoding, allTexts);
  // Both settle before either error is thrown, so no read is left running unobserved.
  const [ref, cur] = await Promise.allSettled([referenceValues, readCsvValues(current, wanted, encoding, allTexts)]);
  if (ref.status === 'rejected') throw ref.reason;
  if (cur.status === 'rejected') throw cur.reason;
  return [ref.value, cur.value];
}

/** `readCsvValues` in a worker thread (which registers tsx to load the TypeScript sources). */
export function readCsvValuesInWorker(
  path: string,
  wanted?: ReadonlySet<string>,
  encoding: Encoding = 'utf8',
  allTexts: ReadonlySet<string> = new Set(),
): Promise<CsvValues> {
  const request: WorkerRequest = { path, wanted: wanted && [...wanted], encoding, allTexts: [...allTexts] };
  return new Promise((resolve, reject) => {
    // Inside the executor: a failure to resolve tsx rejects, as a failing worker does.
    const tsx = import.meta.resolve('tsx/esm/api');
    const entry = new URL('./compare-values-worker.ts', import.meta.url).href;
    const code = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
    const worker = new Worker(code, { eval: true, workerData: request });
    let settled = false;
    worker.once(
      'message',
      (message: {
        values?: CsvValues;
        error?: { code?: ErrorCode; message: string; details?: Record<string, unknown> };
      }) => {
        settled = true;
        void worker.terminate();
        const failure = message.error;
        if (!failure) resolve(message.values as CsvValues);
        else if (failure.code)
          reject(new DriftlineError(failure.code, failure.message, { details: failure.details ?? {} }));
        else reject(new Error(`${path}: ${failure.message}`));
      },
    );
    worker.once('error', (error) => {
      settled = true;
      reject(error);
    });
    worker.once('exit', (exitCode) => {
      if (!settled) reject(new Error(`${path}: the reading worker stopped (exit ${exitCode}) without a result`));
    });
  });
}

/** `readCsvValues` for a file with quotes: records from csv-parse. */
async function readQuoted(
  path: string,
  wanted: ReadonlySet<string> | undefined,
  encoding: Encoding,
  allTexts: ReadonlySet<string>,
): Promise<CsvValues> {
  let header: string[] | undefined;
  let slots: [number, ColumnCollector][] = [];
  let rows = 0;
  for await (const { fields, line } of csvRecords(path, encoding)) {
    if (!header) {
      header = normalizeHeader(fields, path);
      slots = header.flatMap((name, i): [number, ColumnCollector][] =>
        wanted && !wanted.has(name) ? [] : [[i, new ColumnCollector(name, allTexts.has(name))]],
      );
      continue;
    }
    if (fields.length > header.length) throw tooManyFields(path, line, fields.length, header.length);
    rows++;
    for (const [i, collector] of slots) {
      const field = fields[i];
      if (field !== undefined && field !== '') collector.field(field);
    }
  }
  if (!header) throw emptyFile(path);
  return { path, header, rows, columns: new Map(slots.map(([, c]) => [c.name, c.finish(rows)])) };
}

/** The exact categorical sketch of a column's values by text (no category lumped). */
export function textSketch(column: ColumnValues): CategoricalSketch {
  if (!column.allTexts && column.numbers > 0) {
    throw new Error(`column ${JSON.stringify(column.name)} was read without the text of its numbers`);
  }
  return categoricalOfCounts(column.texts, column.missing);
}

/**
 * The finite numbers as categories (`String(value)`, so "1" and "1.0" are one) when both sides
 * together have at most `FEW_VALUES` distinct ones (Evidently's rule), else undefined.
 */
export function fewValueSketches(
  reference: ColumnValues,
  current: ColumnValues,
): { reference: CategoricalSketch; current: CategoricalSketch; distinct: number } | undefined {
  const ref = distinctCounts(reference.finite);
  const cur = distinctCounts(current.finite);
  if (!ref || !cur) return undefined;
  const distinct = new Set([...ref.keys(), ...cur.keys()]).size;
  if (distinct > FEW_VALUES) return undefined;
  // Missing here: everything that is not a finite number, as in the sketch path's `fewValues`.
  return {
    reference: categoricalOfCounts(ref, reference.missing + reference.present - reference.finite.length),
    current: categoricalOfCounts(cur, current.missing + current.present - current.finite.length),
    distinct,
  };
}

/** Counts by `String(value)` of a sorted array with at most `FEW_VALUES` distinct values. */
function distinctCounts(sorted: Float64Array): Map<string, number> | undefined {
  const counts = new Map<string, number>();
  let i = 0;
  while (i < sorted.length) {
    const value = sorted[i] as number;
    let j = i + 1;
    while (j < sorted.length && sorted[j] === value) j++;
    const key = String(value);
    counts.set(key, (counts.get(key) ?? 0) + j - i);
    if (counts.size > FEW_VALUES) return undefined;
    i = j;
  }
  return counts;
}
