/**
 * `driftline compare`: batch drift check of a current CSV file against a reference CSV file,
 * with the statistics the stream consumer uses: computed exactly on the values when the files
 * fit in memory (`EXACT_MAX_FILE_BYTES`), else from the same sketches the stream uses.
 */

import { stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type ColumnDriftOverride,
  type ColumnDriftResult,
  type ColumnEvaluationOptions,
  type ColumnKind,
  type ColumnPair,
  columnKind,
  type DatasetDriftResult,
  DriftMethod,
  datasetVerdict,
  defaultMethod,
  evaluateColumn,
  evaluateDataset,
  overrideProblems,
} from '../core/drift/evaluate.ts';
import { numericOnly } from '../core/drift/few-values.ts';
import type { ColumnSketch } from '../core/sketch/index.ts';
import { NumericSketch } from '../core/sketch/numeric-sketch.ts';
import { type Command, usageError } from './command.ts';
import {
  type ColumnCounts,
  type ColumnProfile,
  type CsvProfile,
  ENCODINGS,
  type Encoding,
  fewDistinctValues,
  isNumericColumn,
  profileCsvFile,
  readCsvHeader,
} from './compare-csv.ts';
import { evaluateNumericValues } from './compare-exact.ts';
import {
  type ColumnValues,
  type CsvValues,
  fewValueSketches,
  readCsvValuesPair,
  textSketch,
} from './compare-values.ts';
import { formatTable } from './table.ts';

/** The report module (and its SVG code) loads only for `--html` and the table output. */
const report = () => import('../core/report/html-report.ts');

/**
 * Files up to this size (each) are read whole and every statistic is computed exactly on the
 * values; larger ones are summarised in sketches as they stream. Read whole, a file takes about
 * 8 bytes per number plus its own size while it is parsed (≈ 1–3× its size; up to ≈ 5× for a
 * file of one-digit numbers), and categories are counted without a cap, so the bound keeps two
 * files well inside a few GB and V8's heap. `--exact` and `--sketch` override it.
 */
export const EXACT_MAX_FILE_BYTES = 256 * 1024 * 1024;

/** How the statistics were computed: on all values, or from sketches. */
export type StatisticsMode = 'exact' | 'sketch';

/** Exact unless a file is larger than `bound` bytes, or as forced by --exact / --sketch. */
export function statisticsMode(
  largestFileBytes: number,
  forced?: StatisticsMode,
  bound = EXACT_MAX_FILE_BYTES,
): StatisticsMode {
  return forced ?? (largestFileBytes <= bound ? 'exact' : 'sketch');
}

const USAGE =
  'compare --reference a.csv --current b.csv [--columns c1,c2] [--json] [--html out.html] [--drift-share 0.5] [--threshold col=value …] [--method col=name …] [--min-sample 100] [--encoding utf8|latin1] [--exact | --sketch]';

interface CompareOptions {
  reference: string;
  current: string;
  columns: string[] | undefined;
  json: boolean;
  html: string | undefined;
  driftShare: number;
  minSample: number | undefined;
  overrides: Map<string, ColumnDriftOverride>;
  encoding: Encoding;
  /** Forced by --exact / --sketch; else chosen by file size. */
  mode: StatisticsMode | undefined;
}

function parseFlags(args: readonly string[]) {
  try {
    return parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        reference: { type: 'string' },
        current: { type: 'string' },
        columns: { type: 'string' },
        json: { type: 'boolean', default: false },
        html: { type: 'string' },
        'drift-share': { type: 'string' },
        threshold: { type: 'string', multiple: true },
        method: { type: 'string', multiple: true },
        'min-sample': { type: 'string' },
        encoding: { type: 'string', default: 'utf8' },
        exact: { type: 'boolean', default: false },
        sketch: { type: 'boolean', default: false },
      },
    }).values;
  } catch (error) {
    throw usageError(`${(error as Error).message}\nusage: driftline ${USAGE}`);
  }
}

function parseOptions(args: readonly string[]): CompareOptions {
  const values = parseFlags(args);
  const problems: string[] = [];
  if (!values.reference) problems.push('--reference <file.csv> is required');
  if (!values.current) problems.push('--current <file.csv> is required');
  const driftShare = values['drift-share'] === undefined ? 0.5 : Number(values['drift-share']);
  if (!(driftShare > 0 && driftShare <= 1))
    problems.push(`--drift-share must be a number in (0, 1]; got ${JSON.stringify(values['drift-share'])}`);
  let minSample: number | undefined;
  if (values['min-sample'] !== undefined) {
    minSample = Number(values['min-sample']);
    if (!(Number.isSafeInteger(minSample) && minSample >= 1))
      problems.push(`--min-sample must be a positive integer; got ${JSON.stringify(values['min-sample'])}`);
  }
  const columns =
    values.columns === undefined
      ? undefined
      : values.columns
          .split(',')
          .map((c) => c.trim())
          .filter((c) => c !== '');
  if (columns !== undefined && columns.length === 0) problems.push('--columns needs at least one column name');

  const overrides = new Map<string, ColumnDriftOverride>();
  const assignment = (flag: string, text: string): [string, string] | undefined => {
    const at = text.lastIndexOf('=');
    if (at <= 0 || at === text.length - 1) {
      problems.push(`--${flag} must be column=value; got ${JSON.stringify(text)}`);
      return undefined;
    }
    return [text.slice(0, at), text.slice(at + 1)];
  };
  for (const text of values.method ?? []) {
    const pair = assignment('method', text);
    if (!pair) continue;
    const [column, method] = pair;
    if (!(Object.values(DriftMethod) as string[]).includes(method)) {
      problems.push(
        `--method ${column}: unknown method ${JSON.stringify(method)}; expected one of ${Object.values(DriftMethod).join(', ')}`,
      );
      continue;
    }
    overrides.set(column, { ...overrides.get(column), method: method as DriftMethod });
  }
  for (const text of values.threshold ?? []) {
    const pair = assignment('threshold', text);
    if (!pair) continue;
    const [column, raw] = pair;
    const threshold = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(threshold)) {
      problems.push(`--threshold ${column}: ${JSON.stringify(raw)} is not a number`);
      continue;
    }
    overrides.set(column, { ...overrides.get(column), threshold });
  }
  const encoding = values.encoding as string;
  if (!(ENCODINGS as readonly string[]).includes(encoding))
    problems.push(`--encoding must be one of ${ENCODINGS.join(', ')}; got ${JSON.stringify(encoding)}`);
  if (values.exact && values.sketch) problems.push('--exact and --sketch exclude each other');
  if (problems.length > 0) throw usageError(`${problems.join('; ')}\nusage: driftline ${USAGE}`);
  return {
    reference: values.reference as string,
    current: values.current as string,
    columns,
    json: values.json ?? false,
    html: values.html,
    driftShare,
    minSample,
    overrides,
    encoding: encoding as Encoding,
    mode: values.exact ? 'exact' : values.sketch ? 'sketch' : undefined,
  };
}

/** Checks the paths; returns the larger input file's size. */
async function checkFiles(options: CompareOptions): Promise<number> {
  const problems: string[] = [];
  let largest = 0;
  for (const [flag, path] of [
    ['--reference', options.reference],
    ['--current', options.current],
  ] as const) {
    const info = await stat(path).catch(() => undefined);
    if (!info) problems.push(`${flag} file not found: ${path}`);
    else if (!info.isFile()) problems.push(`${flag} is not a file: ${path}`);
    else largest = Math.max(largest, info.size);
  }
  if (options.html !== undefined) {
    const dir = dirname(resolve(options.html));
    const info = await stat(dir).catch(() => undefined);
    if (!info?.isDirectory()) problems.push(`--html: directory does not exist: ${dir}`);
  }
  if (problems.length > 0) throw usageError(problems.join('; '));
  return largest;
}

/** The columns to compare, or a usage error naming every unknown column and its file. */
function selectColumns(
  options: CompareOptions,
  reference: Pick<CsvProfile, 'path' | 'header'>,
  current: Pick<CsvProfile, 'path' | 'header'>,
): { compared: string[]; referenceOnly: string[]; currentOnly: string[] } {
  const inCurrent = new Set(current.header);
  const inReference = new Set(reference.header);
  if (options.columns) {
    const problems: string[] = [];
    const missingRef = options.columns.filter((c) => !inReference.has(c));
    const missingCur = options.columns.filter((c) => !inCurrent.has(c));
    if (missingRef.length > 0)
      problems.push(`not in ${reference.path}: ${missingRef.map((c) => JSON.stringify(c)).join(', ')}`);
    if (missingCur.length > 0)
      problems.push(`not in ${current.path}: ${missingCur.map((c) => JSON.stringify(c)).join(', ')}`);
    if (problems.length > 0) throw usageError(`unknown columns — ${problems.join('; ')}`);
    return { compared: [...new Set(options.columns)], referenceOnly: [], currentOnly: [] };
  }
  const compared = reference.header.filter((c) => inCurrent.has(c));
  if (compared.length === 0) throw usageError(`${reference.path} and ${current.path} have no column in common`);
  return {
    compared,
    referenceOnly: reference.header.filter((c) => !inCurrent.has(c)),
    currentOnly: current.header.filter((c) => !inReference.has(c)),
  };
}

/**
 * The sketches a column is tested on: numeric ones for a numerical column, categorical ones
 * otherwise, and, as Evidently does, the numbers as categories for a numerical column with at
 * most 5 distinct values, unless `--method` asks for a numeric-only test (ks, wasserstein).
 */
function sketchesOf(
  ref: ColumnProfile,
  cur: ColumnProfile,
  method: DriftMethod | undefined,
): { reference: ColumnSketch; current: ColumnSketch } {
  if (isNumericColumn(ref, cur)) {
    if (!numericOnly(method) && fewDistinctValues(ref, cur) !== undefined && ref.fewValues && cur.fewValues) {
      return { reference: ref.fewValues, current: cur.fewValues };
    }
    return { reference: ref.numericSketch, current: cur.numericSketch };
  }
  return { reference: ref.categoricalSketch, current: cur.categoricalSketch };
}

/** Per side counts of values the statistics did not use as read, for the output. */
export interface ColumnInputNotes {
  /**
   * Non-missing values that are not numbers, in a column that has numbers: in a numerical column
   * they are read as missing; in a categorical one they are why it is categorical.
   */
  non_numeric?: { reference: number; current: number; examples: string[] };
  /** ±inf in a numerical column: left out of the statistics, like missing values. */
  non_finite?: { reference: number; current: number };
  /** A numerical column with this many (≤ 5) distinct values, tested as categorical. */
  numeric_distinct_values?: number;
}

/** The notes of a column; `numericDistinctValues` when a numerical column is tested as categorical. */
export function inputNotes(ref: ColumnCounts, cur: ColumnCounts, numericDistinctValues?: number): ColumnInputNotes {
  const notes: ColumnInputNotes = {};
  const numeric = isNumericColumn(ref, cur);
  if (ref.nonNumeric + cur.nonNumeric > 0 && ref.numbers + cur.numbers > 0) {
    const examples = [...new Set([...ref.nonNumericExamples, ...cur.nonNumericExamples])].slice(0, 5);
    notes.non_numeric = { reference: ref.nonNumeric, current: cur.nonNumeric, examples };
  }
  if (numeric && ref.nonFinite + cur.nonFinite > 0) {
    notes.non_finite = { reference: ref.nonFinite, current: cur.nonFinite };
  }
  if (numericDistinctValues !== undefined) notes.numeric_distinct_values = numericDistinctValues;
  return notes;
}

function values(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** One sentence per note, for the table output. */
export function formatInputNotes(notes: ReadonlyMap<string, ColumnInputNotes>, result: DatasetDriftResult): string[] {
  const lines: string[] = [];
  for (const c of result.columns) {
    const n = notes.get(c.column);
    if (n?.non_numeric) {
      const { reference, current, examples } = n.non_numeric;
      // A few-values numeric column is tested as categorical, but its tokens are still missing.
      const numeric = c.kind === 'numerical' || n.numeric_distinct_values !== undefined;
      const what = numeric ? 'read as missing' : 'so the column is categorical';
      lines.push(
        `${c.column}: ${values(reference + current, 'non-numeric value')}, ${what} (reference ${reference}, current ${current}; e.g. ${examples.map((e) => JSON.stringify(e)).join(', ')})`,
      );
    }
    if (n?.numeric_distinct_values !== undefined) {
      lines.push(
        `${c.column}: numbers with ${n.numeric_distinct_values} distinct values (≤ 5), tested as categorical as Evidently does`,
      );
    }
    if (n?.non_finite) {
      const { reference, current } = n.non_finite;
      lines.push(
        `${c.column}: ${values(reference + current, 'infinite value')} left out (reference ${reference}, current ${current})`,
      );
    }
  }
  return lines;
}

export async function formatResultTable(result: DatasetDriftResult): Promise<string> {
  const { fmt, thresholdText } = await report();
  const header = ['COLUMN', 'KIND', 'METHOD', 'STATISTIC', 'THRESHOLD', 'P-VALUE', 'DRIFTED'];
  const rows = result.columns.map((c) => [
    c.column,
    c.kind,
    c.method,
    fmt(c.statistic),
    thresholdText(c),
    fmt(c.p_value),
    c.verdict === 'insufficient_data' ? `no (insufficient data: ${c.current_count} values)` : c.drifted ? 'YES' : 'no',
  ]);
  return formatTable(header, rows);
}

export async function formatVerdict(result: DatasetDriftResult): Promise<string> {
  const { fmt } = await report();
  if (result.state === 'insufficient_data') return 'dataset drift: undecided — no column has enough current values';
  const drifted = result.columns.filter((c) => c.drifted).map((c) => c.column);
  const head = `dataset drift: ${result.dataset_drift ? 'YES' : 'no'} — ${result.drifted_count} of ${result.evaluated_count} columns drifted`;
  const share = `(share ${fmt(result.share_of_drifted_columns)}, dataset drift at ≥ ${fmt(result.drift_share)})`;
  return `${head} ${share}${drifted.length > 0 ? `: ${drifted.join(', ')}` : ''}`;
}

function columnJSON(c: ColumnDriftResult, notes: ColumnInputNotes | undefined): Record<string, unknown> {
  const { column: _column, ...rest } = c;
  return { ...rest, ...notes };
}

export function toJSONOutput(
  result: DatasetDriftResult,
  notCompared: { referenceOnly: string[]; currentOnly: string[] },
  notes: ReadonlyMap<string, ColumnInputNotes> = new Map(),
  statistics: StatisticsMode = 'sketch',
): Record<string, unknown> {
  // Null prototype: a column named "__proto__" is then an ordinary key.
  const columns: Record<string, unknown> = Object.create(null);
  for (const c of result.columns) columns[c.column] = columnJSON(c, notes.get(c.column));
  const output: Record<string, unknown> = {
    columns,
    drift_share: result.drift_share,
    drifted_columns: result.columns.filter((c) => c.drifted).map((c) => c.column),
    drifted_count: result.drifted_count,
    evaluated_count: result.evaluated_count,
    share_of_drifted_columns: result.share_of_drifted_columns,
    dataset_drift: result.dataset_drift,
    state: result.state,
    statistics,
  };
  if (notCompared.referenceOnly.length > 0 || notCompared.currentOnly.length > 0) {
    output.not_compared = { reference_only: notCompared.referenceOnly, current_only: notCompared.currentOnly };
  }
  return output;
}

/** What either path hands to the output. */
interface Comparison {
  result: DatasetDriftResult;
  notes: Map<string, ColumnInputNotes>;
  rows: { reference: number; current: number };
  /** The sketches the HTML report draws, built on demand. */
  sketches: () => Map<string, { reference: ColumnSketch; current: ColumnSketch }>;
}

/** Evaluation options of one column: the global ones and its overrides. */
function columnOptions(options: CompareOptions, column: string): ColumnEvaluationOptions {
  return {
    column,
    ...(options.minSample === undefined ? {} : { minSample: options.minSample }),
    ...options.overrides.get(column),
  };
}

/** Usage problems of a column's overrides once its tested kind is known. */
function columnProblems(options: CompareOptions, column: string, kind: ColumnKind, referenceCount: number): string[] {
  const override = options.overrides.get(column);
  if (!override) return [];
  const method = override.method ?? defaultMethod(kind, referenceCount);
  return overrideProblems(column, { ...override, method }, kind);
}

/** `--method` asks for a test only numbers have (ks, wasserstein): no few-values rule then. */
function numericOnlyColumn(options: CompareOptions, column: string): boolean {
  return numericOnly(options.overrides.get(column)?.method);
}

/** The sketch path: both files streamed into per-column sketches, as the stream consumer has them. */
async function compareSketches(options: CompareOptions, compared: string[]): Promise<Comparison> {
  const wanted = new Set(compared);
  const [reference, current] = await Promise.all([
    profileCsvFile(options.reference, wanted, options.encoding),
    profileCsvFile(options.current, wanted, options.encoding),
  ]);
  const pairs: ColumnPair[] = [];
  const sketches = new Map<string, { reference: ColumnSketch; current: ColumnSketch }>();
  const notes = new Map<string, ColumnInputNotes>();
  const problems: string[] = [];
  for (const name of compared) {
    const ref = reference.columns.get(name) as ColumnProfile;
    const cur = current.columns.get(name) as ColumnProfile;
    const pair = sketchesOf(ref, cur, options.overrides.get(name)?.method);
    const kind = columnKind(pair.reference);
    const few = isNumericColumn(ref, cur) && kind === 'categorical' ? fewDistinctValues(ref, cur) : undefined;
    notes.set(name, inputNotes(ref, cur, few));
    problems.push(...columnProblems(options, name, kind, pair.reference.count));
    pairs.push({ column: name, ...pair });
    sketches.set(name, pair);
  }
  if (problems.length > 0) throw usageError(problems.join('; '));
  const result = evaluateDataset(pairs, {
    driftShare: options.driftShare,
    ...(options.minSample === undefined ? {} : { minSample: options.minSample }),
    columns: Object.fromEntries(options.overrides),
  });
  return { result, notes, rows: { reference: reference.rows, current: current.rows }, sketches: () => sketches };
}

/**
 * The exact path: both files read whole. A categorical column with numbers in it is read once
 * more for the text of those numbers (the first read keeps numbers as numbers only, which is
 * what makes it fast), so its categories are exact too.
 */
async function compareValues(options: CompareOptions, compared: string[]): Promise<Comparison> {
  const read = (wanted: Set<string>, allTexts?: Set<string>): Promise<[CsvValues, CsvValues]> =>
    readCsvValuesPair(options.reference, options.current, wanted, options.encoding, allTexts);
  const [reference, current] = await read(new Set(compared));
  const column = (values: CsvValues, name: string) => values.columns.get(name) as ColumnValues;
  const textsNeeded = new Set(
    compared.filter((name) => {
      const [ref, cur] = [column(reference, name), column(current, name)];
      return !isNumericColumn(ref, cur) && ref.numbers + cur.numbers > 0;
    }),
  );
  if (textsNeeded.size > 0) {
    const [ref, cur] = await read(textsNeeded, textsNeeded);
    for (const name of textsNeeded) {
      reference.columns.set(name, column(ref, name));
      current.columns.set(name, column(cur, name));
    }
  }

  const notes = new Map<string, ColumnInputNotes>();
  const problems: string[] = [];
  const evaluations: (() => ColumnDriftResult)[] = [];
  const sketches = new Map<string, () => { reference: ColumnSketch; current: ColumnSketch }>();
  for (const name of compared) {
    const [ref, cur] = [column(reference, name), column(current, name)];
    const opts = columnOptions(options, name);
    if (isNumericColumn(ref, cur)) {
      const few = numericOnlyColumn(options, name) ? undefined : fewValueSketches(ref, cur);
      notes.set(name, inputNotes(ref, cur, few?.distinct));
      if (few) {
        problems.push(...columnProblems(options, name, 'categorical', few.reference.count));
        evaluations.push(() => evaluateColumn(few.reference, few.current, opts));
        sketches.set(name, () => few);
      } else {
        problems.push(...columnProblems(options, name, 'numerical', ref.finite.length));
        evaluations.push(() => evaluateNumericValues(ref.finite, cur.finite, opts));
        sketches.set(name, () => ({ reference: NumericSketch.of(ref.finite), current: NumericSketch.of(cur.finite) }));
      }
    } else {
      const pair = { reference: textSketch(ref), current: textSketch(cur) };
      notes.set(name, inputNotes(ref, cur));
      problems.push(...columnProblems(options, name, 'categorical', pair.reference.count));
      evaluations.push(() => evaluateColumn(pair.reference, pair.current, opts));
      sketches.set(name, () => pair);
    }
  }
  if (problems.length > 0) throw usageError(problems.join('; '));
  return {
    result: datasetVerdict(
      evaluations.map((evaluate) => evaluate()),
      options.driftShare,
    ),
    notes,
    rows: { reference: reference.rows, current: current.rows },
    sketches: () => new Map([...sketches].map(([name, build]) => [name, build()])),
  };
}

export const compareCommand: Command = {
  name: 'compare',
  usage: 'compare --reference a.csv --current b.csv [options]',
  summary: 'drift between two CSV files, per column and for the dataset (table, --json, --html)',
  async run(args, { out }) {
    const options = parseOptions(args);
    const largest = await checkFiles(options);
    // Headers first, so an unknown column is reported before a large file is read.
    const [referenceHeader, currentHeader] = await Promise.all([
      readCsvHeader(options.reference, options.encoding),
      readCsvHeader(options.current, options.encoding),
    ]);
    const { compared, referenceOnly, currentOnly } = selectColumns(
      options,
      { path: options.reference, header: referenceHeader },
      { path: options.current, header: currentHeader },
    );
    const unknownOverrides = [...options.overrides.keys()].filter((c) => !compared.includes(c));
    if (unknownOverrides.length > 0) {
      throw usageError(
        `--threshold/--method name columns that are not compared: ${unknownOverrides.map((c) => JSON.stringify(c)).join(', ')}`,
      );
    }
    const mode = statisticsMode(largest, options.mode);
    const { result, notes, rows, sketches } =
      mode === 'exact' ? await compareValues(options, compared) : await compareSketches(options, compared);

    if (options.html !== undefined) {
      const { renderDriftReport } = await report();
      const html = renderDriftReport({
        result,
        sketches: sketches(),
        title: 'Data drift report',
        referenceLabel: `${options.reference} (${rows.reference.toLocaleString('en-US')} rows)`,
        currentLabel: `${options.current} (${rows.current.toLocaleString('en-US')} rows)`,
        generatedAt: new Date().toISOString(),
      });
      await writeFile(options.html, html, 'utf8');
    }

    if (options.json) {
      out.write(`${JSON.stringify(toJSONOutput(result, { referenceOnly, currentOnly }, notes, mode))}\n`);
      return 0;
    }
    const lines = [
      `reference ${options.reference}: ${rows.reference} rows; current ${options.current}: ${rows.current} rows; statistics: ${mode === 'exact' ? 'exact (all values)' : 'from sketches'}`,
      '',
      await formatResultTable(result),
      ...formatInputNotes(notes, result),
      '',
      await formatVerdict(result),
    ];
    if (referenceOnly.length > 0) lines.push(`not compared (only in reference): ${referenceOnly.join(', ')}`);
    if (currentOnly.length > 0) lines.push(`not compared (only in current): ${currentOnly.join(', ')}`);
    if (options.html !== undefined) lines.push(`HTML report: ${options.html}`);
    out.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
