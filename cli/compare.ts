/**
 * `driftline compare`: batch drift check of a current CSV file against a reference CSV file,
 * with the same sketches and statistics the stream consumer uses.
 */
import { stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type ColumnDriftOverride,
  type ColumnDriftResult,
  type ColumnKind,
  type ColumnPair,
  columnKind,
  type DatasetDriftResult,
  DriftMethod,
  defaultMethod,
  evaluateDataset,
  METHODS_BY_KIND,
  overrideProblems,
} from '../core/drift/evaluate.ts';
import { fmt, renderDriftReport, thresholdText } from '../core/report/html-report.ts';
import type { ColumnSketch } from '../core/sketch/index.ts';
import { type Command, usageError } from './command.ts';
import {
  type ColumnProfile,
  type CsvProfile,
  ENCODINGS,
  type Encoding,
  fewDistinctValues,
  isNumericColumn,
  profileCsvFile,
  readCsvHeader,
} from './compare-csv.ts';
import { formatTable } from './table.ts';

const USAGE =
  'compare --reference a.csv --current b.csv [--columns c1,c2] [--json] [--html out.html] [--drift-share 0.5] [--threshold col=value …] [--method col=name …] [--min-sample 100] [--encoding utf8|latin1]';

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
  };
}

async function checkFiles(options: CompareOptions): Promise<void> {
  const problems: string[] = [];
  for (const [flag, path] of [
    ['--reference', options.reference],
    ['--current', options.current],
  ] as const) {
    const info = await stat(path).catch(() => undefined);
    if (!info) problems.push(`${flag} file not found: ${path}`);
    else if (!info.isFile()) problems.push(`${flag} is not a file: ${path}`);
  }
  if (options.html !== undefined) {
    const dir = dirname(resolve(options.html));
    const info = await stat(dir).catch(() => undefined);
    if (!info?.isDirectory()) problems.push(`--html: directory does not exist: ${dir}`);
  }
  if (problems.length > 0) throw usageError(problems.join('; '));
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
    const numericOnly = method !== undefined && !METHODS_BY_KIND.categorical.includes(method);
    if (!numericOnly && fewDistinctValues(ref, cur) !== undefined && ref.fewValues && cur.fewValues) {
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

export function inputNotes(ref: ColumnProfile, cur: ColumnProfile, tested: ColumnKind): ColumnInputNotes {
  const notes: ColumnInputNotes = {};
  const numeric = isNumericColumn(ref, cur);
  if (ref.nonNumeric + cur.nonNumeric > 0 && ref.numbers + cur.numbers > 0) {
    const examples = [...new Set([...ref.nonNumericExamples, ...cur.nonNumericExamples])].slice(0, 5);
    notes.non_numeric = { reference: ref.nonNumeric, current: cur.nonNumeric, examples };
  }
  if (numeric && ref.nonFinite + cur.nonFinite > 0) {
    notes.non_finite = { reference: ref.nonFinite, current: cur.nonFinite };
  }
  const few = numeric && tested === 'categorical' ? fewDistinctValues(ref, cur) : undefined;
  if (few !== undefined) notes.numeric_distinct_values = few;
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

export function formatResultTable(result: DatasetDriftResult): string {
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

export function formatVerdict(result: DatasetDriftResult): string {
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
  };
  if (notCompared.referenceOnly.length > 0 || notCompared.currentOnly.length > 0) {
    output.not_compared = { reference_only: notCompared.referenceOnly, current_only: notCompared.currentOnly };
  }
  return output;
}

export const compareCommand: Command = {
  name: 'compare',
  usage: 'compare --reference a.csv --current b.csv [options]',
  summary: 'drift between two CSV files, per column and for the dataset (table, --json, --html)',
  async run(args, { out }) {
    const options = parseOptions(args);
    await checkFiles(options);
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
    const wanted = new Set(compared);
    const [reference, current] = await Promise.all([
      profileCsvFile(options.reference, wanted, options.encoding),
      profileCsvFile(options.current, wanted, options.encoding),
    ]);

    const unknownOverrides = [...options.overrides.keys()].filter((c) => !compared.includes(c));
    if (unknownOverrides.length > 0) {
      throw usageError(
        `--threshold/--method name columns that are not compared: ${unknownOverrides.map((c) => JSON.stringify(c)).join(', ')}`,
      );
    }
    const pairs: ColumnPair[] = [];
    const sketches = new Map<string, { reference: ColumnSketch; current: ColumnSketch }>();
    const notes = new Map<string, ColumnInputNotes>();
    const problems: string[] = [];
    for (const name of compared) {
      const ref = reference.columns.get(name) as ColumnProfile;
      const cur = current.columns.get(name) as ColumnProfile;
      const override = options.overrides.get(name);
      const pair = sketchesOf(ref, cur, override?.method);
      notes.set(name, inputNotes(ref, cur, columnKind(pair.reference)));
      if (override) {
        const kind = columnKind(pair.reference);
        const method = override.method ?? defaultMethod(kind, pair.reference.count);
        problems.push(...overrideProblems(name, { ...override, method }, kind));
      }
      pairs.push({ column: name, ...pair });
      sketches.set(name, pair);
    }
    if (problems.length > 0) throw usageError(problems.join('; '));

    const result = evaluateDataset(pairs, {
      driftShare: options.driftShare,
      ...(options.minSample === undefined ? {} : { minSample: options.minSample }),
      columns: Object.fromEntries(options.overrides),
    });

    if (options.html !== undefined) {
      const html = renderDriftReport({
        result,
        sketches,
        title: 'Data drift report',
        referenceLabel: `${options.reference} (${reference.rows.toLocaleString('en-US')} rows)`,
        currentLabel: `${options.current} (${current.rows.toLocaleString('en-US')} rows)`,
        generatedAt: new Date().toISOString(),
      });
      await writeFile(options.html, html, 'utf8');
    }

    if (options.json) {
      out.write(`${JSON.stringify(toJSONOutput(result, { referenceOnly, currentOnly }, notes))}\n`);
      return 0;
    }
    const lines = [
      `reference ${options.reference}: ${reference.rows} rows; current ${options.current}: ${current.rows} rows`,
      '',
      formatResultTable(result),
      ...formatInputNotes(notes, result),
      '',
      formatVerdict(result),
    ];
    if (referenceOnly.length > 0) lines.push(`not compared (only in reference): ${referenceOnly.join(', ')}`);
    if (currentOnly.length > 0) lines.push(`not compared (only in current): ${currentOnly.join(', ')}`);
    if (options.html !== undefined) lines.push(`HTML report: ${options.html}`);
    out.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
