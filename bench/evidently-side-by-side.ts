/**
 * `driftline compare` beside Evidently 0.7.23 (legacy `DataDriftPreset`, default stattest
 * selection), on CSV pairs this script writes itself:
 *
 *   npm run bench:evidently [-- --json] [--quick] [--new-preset]
 *
 * 1. Verdicts: one CSV pair per class of input where the two used to disagree — pandas' missing
 *    markers, few-valued numbers, binary columns, categorical shifts near the threshold, small
 *    samples near p = 0.05, heavy tails, ties, constants, many categories — each column run
 *    through Evidently (bench/evidently_run.py) and `driftline compare --json`; prints per column
 *    both methods, scores and verdicts, and the agreement rate. A column with fewer than 100
 *    current values is `insufficient_data` in Driftline (the seed's rule) while Evidently gives a
 *    verdict: such columns are listed and left out of the rate.
 * 2. Speed: 8 numeric columns per side at 50,000 and 1,000,000 rows (1M skipped with --quick);
 *    Evidently timed inside Python from `read_csv` to the report's dict (interpreter start-up and
 *    imports not counted), Driftline as the wall time of the whole `driftline compare` process.
 *    Also a 10-row file's wall time.
 *
 * Evidently is installed from PyPI into ~/.cache/driftline/evidently-0.7.23 (a virtualenv, pins
 * from ../shared/notes/evidently.md) on first run; needs python3 ≥ 3.9. Data files are cached in
 * .driftline/bench/evidently/.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32, type Random } from '../core/random.ts';
import { categoricalSampler, HARD_DISTRIBUTIONS, normalSampler, paretoSampler } from '../test-support/distributions.ts';
import { atLeast, type BenchFlags, type BenchResult, below, benchFlags, emit, runBench } from './protocol.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DATA = join(ROOT, '.driftline', 'bench', 'evidently');
const VENV = join(homedir(), '.cache', 'driftline', 'evidently-0.7.23');
const PINS = ['evidently==0.7.23', 'pandas<3', 'numpy', 'scipy'];
const HELPER = join(ROOT, 'bench', 'evidently_run.py');
/** Bump when the generated data changes, so cached files are rewritten (speed files separately). */
const DATA_VERSION = 2;
const SPEED_DATA_VERSION = 1;

type Cell = number | string;
/** One CSV pair: every column's reference and current values (same length per side). */
interface Case {
  name: string;
  what: string;
  columns: Record<string, { reference: Cell[]; current: Cell[] }>;
}

/** Evidently's display name of each Driftline method. */
const EVIDENTLY_NAMES: Record<string, string> = {
  ks: 'K-S p_value',
  wasserstein: 'Wasserstein distance (normed)',
  chisquare: 'chi-square p_value',
  jensenshannon: 'Jensen-Shannon distance',
  z: 'Z-test p_value',
  psi: 'PSI',
};

// ---------------------------------------------------------------- data

const NA_MARKERS = [
  '#N/A',
  'n/a',
  '-nan',
  '<NA>',
  'N/A',
  'NULL',
  'nan',
  'NaN',
  '',
  'None',
  'null',
  'NA',
  '-NaN',
  '#NA',
];

function sample(n: number, next: () => Cell): Cell[] {
  return Array.from({ length: n }, next);
}

/** A normal column N(mean, sd), rounded to `decimals`. */
function normal(random: Random, mean: number, sd: number, decimals = 4): () => number {
  const z = normalSampler(random);
  const scale = 10 ** decimals;
  return () => Math.round((mean + sd * z()) * scale) / scale;
}

/** Draws from `values` with the given weights. */
function weighted<T extends Cell>(random: Random, values: readonly T[], weights: readonly number[]): () => T {
  const total = weights.reduce((a, b) => a + b, 0);
  return () => {
    let u = random() * total;
    for (let i = 0; i < values.length - 1; i++) {
      u -= weights[i] as number;
      if (u < 0) return values[i] as T;
    }
    return values[values.length - 1] as T;
  };
}

/** Every `every`-th value replaced by the next pandas missing marker. */
function withMissing(values: Cell[], every: number): Cell[] {
  let k = 0;
  return values.map((v, i) => (i % every === every - 1 ? (NA_MARKERS[k++ % NA_MARKERS.length] as string) : v));
}

/** Mixes shares: (1 − t)·a + t·b. */
function mix(a: readonly number[], b: readonly number[], t: number): number[] {
  return a.map((x, i) => (1 - t) * x + t * (b[i] as number));
}

function cases(): Case[] {
  const r = mulberry32(20_261_128);
  const list: Case[] = [];
  const add = (name: string, what: string, n: number, m: number, columns: Record<string, [() => Cell, () => Cell]>) =>
    list.push({
      name,
      what,
      columns: Object.fromEntries(
        Object.entries(columns).map(([column, [ref, cur]]) => [
          column,
          { reference: sample(n, ref), current: sample(m, cur) },
        ]),
      ),
    });

  {
    const c: Case = { name: 'nan-spellings', what: "pandas' missing markers in numeric columns", columns: {} };
    const pairs: [string, () => Cell, () => Cell][] = [
      ['income', normal(r, 50, 10, 2), normal(r, 51.6, 10, 2)],
      ['score', normal(r, 0, 1), normal(r, 0, 1)],
      ['age', () => 18 + Math.floor(r() * 60), () => 18 + Math.floor(r() * 60) + (r() < 0.1 ? 3 : 0)],
      ['ratio', normal(r, 1, 0.2), normal(r, 1.05, 0.2)],
    ];
    for (const [name, ref, cur] of pairs) {
      c.columns[name] = {
        reference: withMissing(sample(2_000, ref), 13),
        current: withMissing(sample(2_000, cur), 11),
      };
    }
    list.push(c);
  }
  for (const [name, n, shift] of [
    ['few-valued-small', 800, 1],
    ['few-valued-large', 5_000, 2.4],
  ] as const) {
    add(name, 'numbers with ≤ 5 distinct values, binary columns (chi-square / z-test small, JS large)', n, n, {
      level4: [
        weighted(r, [0, 1, 2, 3], [4, 3, 2, 1]),
        weighted(r, [0, 1, 2, 3], mix([4, 3, 2, 1], [2.5, 3, 2.5, 2], 0.3 * shift)),
      ],
      level5_same: [weighted(r, [1, 2, 3, 4, 5], [1, 2, 3, 2, 1]), weighted(r, [1, 2, 3, 4, 5], [1, 2, 3, 2, 1])],
      binary01: [weighted(r, [0, 1], [0.7, 0.3]), weighted(r, [0, 1], [0.7 - 0.05 * shift, 0.3 + 0.05 * shift])],
      binary01_small_shift: [weighted(r, [0, 1], [0.6, 0.4]), weighted(r, [0, 1], [0.57, 0.43])],
      flag: [
        weighted(r, ['yes', 'no'], [0.5, 0.5]),
        weighted(r, ['yes', 'no'], [0.5 - 0.04 * shift, 0.5 + 0.04 * shift]),
      ],
      half_steps: [weighted(r, [0.5, 1, 1.5], [1, 1, 1]), weighted(r, [0.5, 1, 1.5], [1.2, 1, 0.8])],
    });
  }
  {
    const base = [30, 20, 15, 12, 10, 7, 4, 2];
    const shifted = [12, 14, 16, 18, 15, 12, 8, 5];
    const cats = base.map((_, i) => `cat_${String.fromCharCode(97 + i)}`);
    const columns: Record<string, [() => Cell, () => Cell]> = {};
    for (const t of [0, 0.3, 0.45, 0.5, 0.55, 0.65]) {
      columns[`shift_${t}`] = [weighted(r, cats, base), weighted(r, cats, mix(base, shifted, t))];
    }
    add('categorical-threshold-large', 'categorical shifts around Jensen–Shannon 0.1', 5_000, 4_000, columns);
    const small: Record<string, [() => Cell, () => Cell]> = {};
    for (const t of [0, 0.1, 0.15, 0.2, 0.3]) {
      small[`shift_${t}`] = [
        weighted(r, cats.slice(0, 6), base.slice(0, 6)),
        weighted(r, cats.slice(0, 6), mix(base, shifted, t).slice(0, 6)),
      ];
    }
    add('categorical-small', 'categorical shifts around chi-square p = 0.05', 900, 500, small);
  }
  {
    const columns: Record<string, [() => Cell, () => Cell]> = {};
    for (const shift of [0, 0.15, 0.2, 0.25, 0.3, 0.4])
      columns[`shift_${shift}`] = [normal(r, 0, 1), normal(r, shift, 1)];
    columns.scale_1_3 = [normal(r, 0, 1), normal(r, 0, 1.3)];
    add('ks-small', 'small samples near KS p = 0.05', 300, 150, columns);
  }
  {
    const columns: Record<string, [() => Cell, () => Cell]> = {};
    for (const shift of [0, 0.06, 0.08, 0.1, 0.12]) columns[`shift_${shift}`] = [normal(r, 0, 1), normal(r, shift, 1)];
    add(
      'ks-large-current',
      "KS with a small reference and > 10,000 current values (scipy's kstwo)",
      700,
      12_000,
      columns,
    );
  }
  add('ks-ties-small', 'KS on integer data with many ties', 600, 400, {
    ints_0_20: [() => Math.round(10 + 3 * normalSampler(r)()), () => Math.round(10.4 + 3 * normalSampler(r)())],
    ints_same: [() => Math.round(10 + 3 * normalSampler(r)()), () => Math.round(10 + 3 * normalSampler(r)())],
    quarter_grid: [
      () => Math.round(4 * (10 + 1.5 * normalSampler(r)())) / 4,
      () => Math.round(4 * (10.3 + 1.5 * normalSampler(r)())) / 4,
    ],
  });
  add('heavy-tails', 'Pareto (tail index 1.5, 2) and log-normal, normalised Wasserstein', 20_000, 20_000, {
    pareto_1_5_same: [paretoSampler(r, 1.5), paretoSampler(r, 1.5)],
    pareto_1_5_scaled: [paretoSampler(r, 1.5), paretoSampler(r, 1.5, 1.3)],
    pareto_2_scaled: [paretoSampler(r, 2), paretoSampler(r, 2, 1.1)],
    lognormal_shift: [() => Math.exp(normalSampler(r)()), () => Math.exp(0.15 + normalSampler(r)())],
  });
  {
    const columns: Record<string, [() => Cell, () => Cell]> = {};
    for (const d of HARD_DISTRIBUTIONS.filter((x) => !x.name.startsWith('Pareto'))) {
      const key = d.name.replace(/[^a-z0-9]+/gi, '_').replace(/_+$/, '');
      columns[`${key}_same`] = [d.sampler(r, false), d.sampler(r, false)];
      columns[`${key}_shifted`] = [d.sampler(r, false), d.sampler(r, true)];
    }
    add(
      'ties-large',
      'ties off any decimal grid, a 0.25 grid, point masses mixed with a continuous part',
      5_000,
      5_000,
      columns,
    );
  }
  add('constants', 'constant columns (few-values rule: z-test small, JS large)', 2_000, 2_000, {
    five_vs_five: [() => 5, () => 5],
    five_vs_six: [() => 5, () => 6],
    label_same: [() => 'a', () => 'a'],
  });
  add('shift-large', 'normal shifts and a scale change around normalised Wasserstein 0.1', 10_000, 10_000, {
    shift_0_05: [normal(r, 0, 1), normal(r, 0.05, 1)],
    shift_0_09: [normal(r, 0, 1), normal(r, 0.09, 1)],
    shift_0_12: [normal(r, 0, 1), normal(r, 0.12, 1)],
    shift_0_2: [normal(r, 0, 1), normal(r, 0.2, 1)],
    scale_1_2: [normal(r, 0, 1), normal(r, 0, 1.2)],
  });
  add('many-categories', '3,000 categories (Zipf-like), Jensen–Shannon', 20_000, 20_000, {
    cats_same: [categoricalSampler(r, 3_000, false), categoricalSampler(r, 3_000, false)],
    cats_shifted: [categoricalSampler(r, 3_000, false), categoricalSampler(r, 3_000, true)],
  });
  add('insufficient', 'fewer than 100 current values (documented exception)', 2_000, 60, {
    shifted: [normal(r, 0, 1), normal(r, 1, 1)],
    same: [normal(r, 0, 1), normal(r, 0, 1)],
  });
  return list;
}

function csvText(header: string[], columns: Cell[][]): string {
  const rows = [header.join(',')];
  const n = columns[0]?.length ?? 0;
  for (let i = 0; i < n; i++) rows.push(columns.map((c) => String(c[i])).join(','));
  return `${rows.join('\n')}\n`;
}

async function writeCases(list: Case[]): Promise<{ name: string; reference: string; current: string }[]> {
  await mkdir(DATA, { recursive: true });
  return Promise.all(
    list.map(async (c) => {
      const header = Object.keys(c.columns);
      const reference = join(DATA, `v${DATA_VERSION}-${c.name}-reference.csv`);
      const current = join(DATA, `v${DATA_VERSION}-${c.name}-current.csv`);
      await writeFile(
        reference,
        csvText(
          header,
          header.map((h) => c.columns[h]?.reference as Cell[]),
        ),
      );
      await writeFile(
        current,
        csvText(
          header,
          header.map((h) => c.columns[h]?.current as Cell[]),
        ),
      );
      return { name: c.name, reference, current };
    }),
  );
}

/** 8 numeric columns of full-precision floats and integers, written in chunks; cached. */
async function speedFile(rows: number, side: 'reference' | 'current'): Promise<string> {
  const path = join(DATA, `v${SPEED_DATA_VERSION}-speed-${rows}-${side}.csv`);
  if (existsSync(path)) return path;
  await mkdir(DATA, { recursive: true });
  const random = mulberry32(side === 'reference' ? 1 : 2);
  const z = normalSampler(random);
  const drift = side === 'current' ? 0.1 : 0;
  const row = () =>
    [
      z() + drift,
      Math.exp(z()),
      Math.floor(random() * 100),
      -2 * Math.log(1 - random()),
      Math.round((50 + 10 * z()) * 100) / 100,
      random(),
      Math.round(4 + 2 * z()),
      z() * 3 + drift * 3,
    ].join(',');
  const partial = `${path}.partial`;
  const out = createWriteStream(partial);
  out.write('c0,c1,c2,c3,c4,c5,c6,c7\n');
  for (let i = 0; i < rows; i += 10_000) {
    const chunk: string[] = [];
    for (let k = i; k < Math.min(rows, i + 10_000); k++) chunk.push(row());
    if (!out.write(`${chunk.join('\n')}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  await rename(partial, path);
  return path;
}

// ---------------------------------------------------------------- tools

/** The virtualenv's python, installing Evidently into it on first use. */
function ensureEvidently(): string {
  const python = join(VENV, 'bin', 'python');
  const check = () =>
    spawnSync(python, ['-c', 'import evidently, sys; sys.exit(evidently.__version__ != "0.7.23")'], {
      stdio: 'ignore',
    }).status === 0;
  if (existsSync(python) && check()) return python;
  process.stderr.write(`installing ${PINS.join(' ')} into ${VENV} (first run only)…\n`);
  const steps: [string, string[]][] = [
    ['python3', ['-m', 'venv', VENV]],
    [join(VENV, 'bin', 'pip'), ['install', '--quiet', ...PINS]],
  ];
  for (const [command, args] of steps) {
    const result = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status})`);
  }
  if (!check()) throw new Error(`evidently 0.7.23 does not import in ${VENV}`);
  return python;
}

function run(command: string, args: string[]): { stdout: string; seconds: number } {
  const start = performance.now();
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const seconds = (performance.now() - start) / 1000;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}:\n${result.stderr}`);
  }
  return { stdout: result.stdout, seconds };
}

/** The `driftline compare --json` command line for a pair. */
function compareCommand(reference: string, current: string): string[] {
  return [join(ROOT, 'bin', 'driftline.js'), 'compare', '--reference', reference, '--current', current, '--json'];
}

function driftline(reference: string, current: string): { output: DriftlineOutput; seconds: number } {
  const { stdout, seconds } = run(process.execPath, compareCommand(reference, current));
  return { output: JSON.parse(stdout) as DriftlineOutput, seconds };
}

interface DriftlineColumn {
  kind: string;
  method: string;
  statistic: number | null;
  p_value: number | null;
  drifted: boolean;
  verdict: string;
  current_count: number;
}
interface DriftlineOutput {
  columns: Record<string, DriftlineColumn>;
  dataset_drift: boolean;
  state: string;
}
interface EvidentlyColumn {
  column_type: string;
  stattest_name: string;
  drift_score: number | string;
  drift_detected: boolean;
}
type EvidentlyOutput = Record<string, { dataset_drift: boolean; columns: Record<string, EvidentlyColumn> }>;

// ---------------------------------------------------------------- report

function score(value: number | string | null): string {
  if (value === null) return '—';
  if (typeof value === 'string') return value;
  if (value === 0 || (Math.abs(value) >= 1e-4 && Math.abs(value) < 1e6)) return value.toFixed(4);
  return value.toExponential(2);
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

interface Agreement {
  pct: number;
  agreed: number;
  compared: number;
  exceptions: string[];
  methodsAgreed: number;
  datasetsAgreed: number;
  datasetsCompared: number;
}

async function verdicts(python: string, log: (text: string) => void): Promise<Agreement> {
  const list = cases();
  const pairs = await writeCases(list);
  const manifest = join(DATA, `v${DATA_VERSION}-manifest.json`);
  await writeFile(manifest, JSON.stringify({ pairs }));
  const evidently = JSON.parse(run(python, [HELPER, 'verdicts', manifest]).stdout) as EvidentlyOutput;

  const rows: string[][] = [];
  let agreed = 0;
  let compared = 0;
  let methodsAgreed = 0;
  let datasetsAgreed = 0;
  let datasetsCompared = 0;
  const exceptions: string[] = [];
  for (const pair of pairs) {
    const ours = driftline(pair.reference, pair.current).output;
    const theirs = evidently[pair.name];
    if (!theirs) throw new Error(`no Evidently result for ${pair.name}`);
    let insufficient = false;
    for (const [column, d] of Object.entries(ours.columns)) {
      const e = theirs.columns[column];
      if (!e) throw new Error(`no Evidently result for ${pair.name}/${column}`);
      const dScore = d.method === 'ks' || d.method === 'chisquare' || d.method === 'z' ? d.p_value : d.statistic;
      const sameMethod = EVIDENTLY_NAMES[d.method] === e.stattest_name;
      let agree: string;
      if (d.verdict === 'insufficient_data') {
        insufficient = true;
        exceptions.push(`${pair.name}/${column}`);
        agree = `n/a (${d.current_count} current values)`;
      } else {
        compared++;
        if (sameMethod) methodsAgreed++;
        if (d.drifted === e.drift_detected) agreed++;
        agree = d.drifted === e.drift_detected ? 'yes' : 'NO';
      }
      rows.push([
        `${pair.name}/${column}`,
        e.stattest_name,
        score(e.drift_score),
        e.drift_detected ? 'drift' : 'ok',
        `${d.method}${sameMethod ? '' : ' (≠)'}`,
        score(dScore),
        d.verdict,
        agree,
      ]);
    }
    if (!insufficient) {
      datasetsCompared++;
      if (ours.dataset_drift === theirs.dataset_drift) datasetsAgreed++;
    }
  }
  log(
    table(
      ['pair/column', 'Evidently method', 'score', 'verdict', 'Driftline method', 'score', 'verdict', 'agree'],
      rows,
    ),
  );
  const pct = compared === 0 ? 0 : (100 * agreed) / compared;
  log(
    `\ncolumn verdicts: ${agreed} of ${compared} agree (${pct.toFixed(1)} %); methods: ${methodsAgreed} of ${compared} the same; dataset verdicts: ${datasetsAgreed} of ${datasetsCompared} agree`,
  );
  log(
    `left out (fewer than 100 current values: insufficient_data in Driftline, a verdict in Evidently): ${exceptions.join(', ') || 'none'}`,
  );
  return { pct, agreed, compared, exceptions, methodsAgreed, datasetsAgreed, datasetsCompared };
}

interface Timing {
  rows: number;
  /** Wall seconds. */
  driftline: number;
  evidently: number;
  /** CPU seconds (user + system, all threads): less moved by other jobs on a shared machine. */
  driftlineCpu: number;
  evidentlyCpu: number;
  evidentlyNew?: number;
}

interface Seconds {
  seconds: number;
  cpu_seconds: number;
}

async function speed(python: string, rows: number, flags: { newPreset: boolean }): Promise<Timing> {
  const reference = await speedFile(rows, 'reference');
  const current = await speedFile(rows, 'current');
  const evidently = (extra: string[]) =>
    JSON.parse(run(python, [HELPER, 'time', reference, current, ...extra]).stdout) as Seconds;
  // The whole driftline process, timed by the same helper (which also reads its CPU time).
  const ours = () =>
    JSON.parse(
      run(python, [HELPER, 'child', process.execPath, ...compareCommand(reference, current)]).stdout,
    ) as Seconds;
  // Best of two for the small size, one run at a million rows (a run takes tens of seconds).
  const repeats = rows <= 100_000 ? 2 : 1;
  const timing: Timing = {
    rows,
    driftline: Number.POSITIVE_INFINITY,
    evidently: Number.POSITIVE_INFINITY,
    driftlineCpu: Number.POSITIVE_INFINITY,
    evidentlyCpu: Number.POSITIVE_INFINITY,
  };
  for (let i = 0; i < repeats; i++) {
    const d = ours();
    const e = evidently([]);
    timing.driftline = Math.min(timing.driftline, d.seconds);
    timing.driftlineCpu = Math.min(timing.driftlineCpu, d.cpu_seconds);
    timing.evidently = Math.min(timing.evidently, e.seconds);
    timing.evidentlyCpu = Math.min(timing.evidentlyCpu, e.cpu_seconds);
  }
  if (flags.newPreset) timing.evidentlyNew = evidently(['--new-preset']).seconds;
  return timing;
}

async function smallFile(): Promise<number> {
  await mkdir(DATA, { recursive: true });
  const path = join(DATA, `v${DATA_VERSION}-small-10-rows.csv`);
  const r = mulberry32(7);
  await writeFile(
    path,
    csvText(
      ['a', 'b', 'c'],
      [sample(10, () => Math.floor(r() * 100)), sample(10, () => (r() < 0.5 ? 'x' : 'y')), sample(10, r)],
    ),
  );
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) best = Math.min(best, driftline(path, path).seconds);
  return best;
}

async function main(): Promise<void> {
  const flags: BenchFlags = benchFlags();
  const newPreset = process.argv.includes('--new-preset');
  const log = (text: string) => (flags.json ? process.stderr : process.stdout).write(`${text}\n`);
  const python = ensureEvidently();

  const agreement = await verdicts(python, log);
  const sizes = flags.quick ? [50_000] : [50_000, 1_000_000];
  const timings: Timing[] = [];
  for (const rows of sizes) {
    const t = await speed(python, rows, { newPreset });
    timings.push(t);
    log(
      `${rows.toLocaleString('en-US')} rows × 8 columns per side: Evidently ${t.evidently.toFixed(2)} s (legacy preset${
        t.evidentlyNew === undefined ? '' : `; new preset ${t.evidentlyNew.toFixed(2)} s`
      }), driftline ${t.driftline.toFixed(2)} s → ${(t.evidently / t.driftline).toFixed(1)}× faster; CPU ${t.evidentlyCpu.toFixed(2)} s vs ${t.driftlineCpu.toFixed(2)} s → ${(t.evidentlyCpu / t.driftlineCpu).toFixed(1)}×`,
    );
  }
  const small = await smallFile();
  log(`10-row file: driftline compare ${small.toFixed(3)} s wall (best of 5, Node and tsx start-up included)`);

  const results: BenchResult[] = [
    {
      key: 'verdict_agreement_pct',
      value: Number(agreement.pct.toFixed(2)),
      unit: '%',
      target: '= 100',
      pass: agreement.agreed === agreement.compared,
    },
  ];
  for (const t of timings) {
    const label = t.rows >= 1_000_000 ? '1m' : `${t.rows / 1000}k`;
    const ratio = Number((t.evidently / t.driftline).toFixed(2));
    results.push(
      t.rows >= 1_000_000
        ? atLeast(`compare_${label}_speedup_vs_evidently`, ratio, 'x', 5)
        : { key: `compare_${label}_speedup_vs_evidently`, value: ratio, unit: 'x' },
      { key: `compare_${label}_s`, value: Number(t.driftline.toFixed(3)), unit: 's' },
      { key: `evidently_${label}_s`, value: Number(t.evidently.toFixed(3)), unit: 's' },
      {
        key: `compare_${label}_cpu_ratio_vs_evidently`,
        value: Number((t.evidentlyCpu / t.driftlineCpu).toFixed(2)),
        unit: 'x',
      },
    );
  }
  results.push(below('compare_small_file_s', Number(small.toFixed(3)), 's', 0.3));
  emit({ suite: 'evidently', results }, flags);
}

runBench(main);
