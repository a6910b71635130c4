/**
 * Worst-case error of the drift statistics computed from sketches, against the exact
 * statistics on the same raw values (the numbers quoted in the README).
 *
 *   npx tsx bench/drift-accuracy.ts [--seeds 3]
 *
 * For every test distribution, window size (10³, 10⁴, 2·10⁵), pair (same law / shifted law)
 * and sketch construction (one pass / 10 sketches merged), with `seeds` seeds each, it
 * prints max |sketch − exact| per statistic. Not a test: the bounds are asserted in
 * core/drift/numerical.test.ts.
 */
import { exactNumericStats, sortedFinite } from '../core/drift/exact.ts';
import { numericDistribution } from '../core/drift/numeric-distribution.ts';
import { numericalStats } from '../core/drift/numerical.ts';
import { NumericSketch } from '../core/sketch/numeric-sketch.ts';
import { draw, TEST_DISTRIBUTIONS } from '../test-support/distributions.ts';

const KEYS = ['ks', 'wasserstein_norm', 'psi', 'js'] as const;
const SIZES = [1_000, 10_000, 200_000];
const seedsIndex = process.argv.indexOf('--seeds');
const SEEDS = seedsIndex >= 0 ? Number(process.argv[seedsIndex + 1]) : 3;

function sketch(values: number[], parts: number): NumericSketch {
  const size = Math.ceil(values.length / parts);
  const result = NumericSketch.of(values.slice(0, size));
  for (let i = 1; i < parts; i++) result.merge(NumericSketch.of(values.slice(i * size, (i + 1) * size)));
  return result;
}

const rows: string[][] = [];
const overall: Record<string, number> = { ks: 0, wasserstein_norm: 0, psi: 0, js: 0 };
let seed = 10_000;
for (const distribution of TEST_DISTRIBUTIONS) {
  const worst: Record<string, number> = { ks: 0, wasserstein_norm: 0, psi: 0, js: 0 };
  for (const n of SIZES) {
    for (const shifted of [false, true]) {
      for (const parts of [1, 10]) {
        for (let s = 0; s < SEEDS; s++) {
          const reference = draw(distribution, n, seed++);
          const current = draw(distribution, n, seed++, shifted);
          const ref = numericDistribution(sketch(reference, parts));
          const cur = numericDistribution(sketch(current, parts));
          if (!ref || !cur) throw new Error('empty sketch');
          const approx = numericalStats(ref, cur);
          const exact = exactNumericStats(sortedFinite(reference), sortedFinite(current));
          for (const key of KEYS) worst[key] = Math.max(worst[key] ?? 0, Math.abs(approx[key] - exact[key]));
        }
      }
    }
  }
  for (const key of KEYS) overall[key] = Math.max(overall[key] ?? 0, worst[key] ?? 0);
  rows.push([distribution.name, ...KEYS.map((k) => (worst[k] ?? 0).toFixed(4))]);
}
rows.push(['all', ...KEYS.map((k) => (overall[k] ?? 0).toFixed(4))]);
const header = ['distribution', 'KS D', 'Wasserstein (norm.)', 'PSI', 'Jensen–Shannon'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
process.stdout.write(
  `${[line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n')}\n`,
);
