/**
 * Worst-case error of the drift statistics computed from sketches, against the exact
 * statistics on the same raw values (the numbers quoted in the README).
 *
 *   npx tsx bench/drift-accuracy.ts [--seeds 3] [--quick] [--json]
 *
 * Numeric: for every test distribution (the usual ones and the hard ones: ties off any decimal
 * lattice, Pareto tails with α ≤ 2, point masses inside a continuous part), window size (100,
 * 300, 1,000, 10,000, 200,000 values on each side), pair (same law / shifted law) and construction
 * of the current sketch (one pass / 10 sketches merged, as panes are), with `seeds` seeds each,
 * the largest |sketch − exact| of KS D, normalized Wasserstein, PSI and Jensen–Shannon. The
 * reference is built as a model's reference profile is (model/profile.ts): in one pass over all
 * its values, keeping their exact percentiles (`NumericSketch.withExactPercentiles`).
 * Categorical: a 3,000-category column, Jensen–Shannon and PSI from the bounded category
 * sketch against exact counts.
 * `--quick`: sizes up to 10,000 and one seed. `--json`: the last stdout line is one JSON object
 * {"suite":"drift-accuracy","results":[{key,value,unit,target,pass}]} (keys like
 * `ks_abs_error_ties_30_floats_100`). Not a test: the bounds are asserted in core/drift/*.test.ts.
 */
import { compareCategories } from '../core/drift/categorical.ts';
import { jensenShannonDistance, populationStabilityIndex } from '../core/drift/divergence.ts';
import { exactNumericStats, sortedFinite } from '../core/drift/exact.ts';
import { numericDistribution } from '../core/drift/numeric-distribution.ts';
import { numericalStats } from '../core/drift/numerical.ts';
import { mulberry32 } from '../core/random.ts';
import { CategoricalSketch } from '../core/sketch/categorical-sketch.ts';
import { NumericSketch } from '../core/sketch/numeric-sketch.ts';
import {
  categoricalSampler,
  draw,
  HARD_DISTRIBUTIONS,
  TEST_DISTRIBUTIONS,
  type TestDistribution,
} from '../test-support/distributions.ts';

const BOUNDS = { ks: 0.01, wasserstein_norm: 0.01, psi: 0.02, js: 0.01 } as const;
type Statistic = keyof typeof BOUNDS;
const NUMERIC_KEYS = ['ks', 'wasserstein_norm', 'psi', 'js'] as const;
const KEY_NAMES: Record<Statistic, string> = { ks: 'ks', wasserstein_norm: 'wasserstein', psi: 'psi', js: 'js' };
const CATEGORIES = 3_000;

const argv = process.argv.slice(2);
const json = argv.includes('--json');
const quick = argv.includes('--quick');
const seedsIndex = argv.indexOf('--seeds');
const SEEDS = seedsIndex >= 0 ? Number(argv[seedsIndex + 1]) : quick ? 1 : 3;
const SIZES = quick ? [100, 300, 1_000, 10_000] : [100, 300, 1_000, 10_000, 200_000];

function sketch<T>(values: T[], parts: number, create: () => { push(v: T): void; merge(o: never): unknown }) {
  const size = Math.ceil(values.length / parts);
  const sketches = Array.from({ length: parts }, (_, i) => {
    const s = create();
    for (const v of values.slice(i * size, (i + 1) * size)) s.push(v);
    return s;
  });
  for (const s of sketches.slice(1)) sketches[0]?.merge(s as never);
  return sketches[0] as ReturnType<typeof create>;
}

/** worst[statistic][distribution][size] */
type Worst = Map<string, Map<number, Record<string, number>>>;
const worst: Worst = new Map();
function record(distribution: string, size: number, statistic: string, error: number): void {
  const bySize = worst.get(distribution) ?? new Map<number, Record<string, number>>();
  worst.set(distribution, bySize);
  const errors = bySize.get(size) ?? {};
  bySize.set(size, errors);
  errors[statistic] = Math.max(errors[statistic] ?? 0, error);
}

let seed = 10_000;
function numeric(distribution: TestDistribution): void {
  for (const n of SIZES) {
    process.stderr.write(`${distribution.name}, ${n.toLocaleString('en-US')} values…\n`);
    for (const shifted of [false, true]) {
      for (const parts of [1, 10]) {
        for (let s = 0; s < SEEDS; s++) {
          const reference = draw(distribution, n, seed++);
          const current = draw(distribution, n, seed++, shifted);
          const ref = numericDistribution(NumericSketch.withExactPercentiles(reference));
          const cur = numericDistribution(sketch(current, parts, () => NumericSketch.create()) as NumericSketch);
          if (!ref || !cur) throw new Error('empty sketch');
          const approx = numericalStats(ref, cur);
          const exact = exactNumericStats(sortedFinite(reference), sortedFinite(current));
          for (const key of NUMERIC_KEYS) record(distribution.name, n, key, Math.abs(approx[key] - exact[key]));
        }
      }
    }
  }
}

/** Exact shares of every category in both samples (same key order). */
function exactShares(reference: string[], current: string[]): [number[], number[]] {
  const keys = [...new Set([...reference, ...current])];
  const index = new Map(keys.map((k, i) => [k, i]));
  const r = new Array<number>(keys.length).fill(0);
  const c = new Array<number>(keys.length).fill(0);
  for (const v of reference) r[index.get(v) as number] = (r[index.get(v) as number] as number) + 1;
  for (const v of current) c[index.get(v) as number] = (c[index.get(v) as number] as number) + 1;
  return [r.map((x) => x / reference.length), c.map((x) => x / current.length)];
}

function categorical(): void {
  const name = `${CATEGORIES.toLocaleString('en-US')} categories`;
  for (const n of SIZES) {
    process.stderr.write(`${name}, ${n.toLocaleString('en-US')} values…\n`);
    for (const shifted of [false, true]) {
      for (const parts of [1, 10]) {
        for (let s = 0; s < SEEDS; s++) {
          const nextRef = categoricalSampler(mulberry32(seed++), CATEGORIES, false);
          const nextCur = categoricalSampler(mulberry32(seed++), CATEGORIES, shifted);
          const reference = Array.from({ length: n }, nextRef);
          const current = Array.from({ length: n }, nextCur);
          const ref = sketch(reference, parts, () => CategoricalSketch.create()) as CategoricalSketch;
          const cur = sketch(current, parts, () => CategoricalSketch.create()) as CategoricalSketch;
          const { stats } = compareCategories(ref, cur);
          const [r, c] = exactShares(reference, current);
          record(name, n, 'js', Math.abs(stats.js - jensenShannonDistance(r, c)));
          record(name, n, 'psi', Math.abs(stats.psi - populationStabilityIndex(r, c)));
        }
      }
    }
  }
}

const distributions = [...TEST_DISTRIBUTIONS, ...HARD_DISTRIBUTIONS];
for (const distribution of distributions) numeric(distribution);
categorical();

const slug = (name: string) =>
  name
    .toLowerCase()
    .replace(/α=/g, 'alpha_')
    .replace(/[^a-z0-9.]+/g, '_')
    .replace(/\\./g, '_')
    .replace(/^_|_$/g, '');
const results: { key: string; value: number; unit: string; target: string; pass: boolean }[] = [];
const rows: string[][] = [];
for (const [distribution, bySize] of worst) {
  for (const [size, errors] of bySize) {
    const cells = NUMERIC_KEYS.map((k) => (errors[k] === undefined ? '–' : (errors[k] as number).toFixed(4)));
    rows.push([distribution, size.toLocaleString('en-US'), ...cells]);
    for (const k of NUMERIC_KEYS) {
      const value = errors[k];
      if (value === undefined) continue;
      const key = `${KEY_NAMES[k]}_abs_error_${slug(distribution).replace(/\./g, '_')}_${size}`;
      results.push({
        key,
        value: Number(value.toFixed(6)),
        unit: '',
        target: `≤ ${BOUNDS[k]}`,
        pass: value <= BOUNDS[k],
      });
    }
  }
}
const header = ['distribution', 'window', 'KS D', 'Wasserstein (norm.)', 'PSI', 'Jensen–Shannon'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
const failed = results.filter((r) => !r.pass);
process.stdout.write(
  `${[
    `Largest |sketch − exact| over same/shifted law, reference profile against current in one pass / 10 merged parts, ${SEEDS} seed(s) each; bounds KS 0.01, Wasserstein (norm.) 0.01, PSI 0.02, JS 0.01`,
    line(header),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map(line),
    failed.length === 0
      ? 'every figure within its bound'
      : `OUT OF BOUND: ${failed.map((f) => `${f.key} = ${f.value}`).join(', ')}`,
  ].join('\n')}\n`,
);
if (json) process.stdout.write(`${JSON.stringify({ suite: 'drift-accuracy', results })}\n`);
