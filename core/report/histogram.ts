/**
 * Reference and current distributions drawn side by side on one axis: the range both are shown
 * over and each one's density per bin. Shared by the HTML reports and the dashboard.
 */
import { countAtOrBelow, countBelow, inverseCount, type NumericDistribution } from '../drift/numeric-distribution.ts';
import { type CategoricalSketch, OTHER_CATEGORY } from '../sketch/categorical-sketch.ts';

/** The central 99 % of all the distributions, so one far outlier does not flatten the picture; never empty. */
export function centralRange(ds: readonly NumericDistribution[]): [number, number] {
  let lo = Math.min(...ds.map((d) => inverseCount(d, d.count * 0.005)));
  let hi = Math.max(...ds.map((d) => inverseCount(d, d.count * 0.995)));
  if (!(hi > lo)) {
    const pad = Math.max(0.5, Math.abs(lo) * 0.05);
    lo -= pad;
    hi += pad;
  }
  return [lo, hi];
}

/** Density (share of the values per unit of x) in each of `bins` equal bins over [lo, hi]. */
export function binDensities(d: NumericDistribution, lo: number, hi: number, bins: number): number[] {
  const step = (hi - lo) / bins;
  const out: number[] = [];
  for (let i = 0; i < bins; i++) {
    const a = lo + i * step;
    const b = i === bins - 1 ? hi : a + step;
    // First bin closed on the left so a point mass at lo is drawn.
    const below = i === 0 ? countBelow(d, a) : countAtOrBelow(d, a);
    out.push((countAtOrBelow(d, b) - below) / d.count / step);
  }
  return out;
}

/** One bar pair of a categorical chart: a category's share of the reference and of the current values. */
export interface CategoryShare {
  label: string;
  reference: number;
  current: number;
}

/**
 * Category shares of both sides, the categories most prominent on either side first (ties by
 * name), at most `maxBars`; the rest summed into one "(n more)" row.
 */
export function categoryShares(
  reference: CategoricalSketch,
  current: CategoricalSketch,
  maxBars: number,
): CategoryShare[] {
  const shares = (s: CategoricalSketch): Map<string, number> => {
    const m = new Map<string, number>();
    if (s.count === 0) return m;
    for (const [k, v] of s.entries()) m.set(k, v / s.count);
    if (s.otherCount > 0) m.set(OTHER_CATEGORY, (m.get(OTHER_CATEGORY) ?? 0) + s.otherCount / s.count);
    return m;
  };
  const r = shares(reference);
  const c = shares(current);
  const keys = [...new Set([...r.keys(), ...c.keys()])].sort(
    (a, b) => Math.max(r.get(b) ?? 0, c.get(b) ?? 0) - Math.max(r.get(a) ?? 0, c.get(a) ?? 0) || (a < b ? -1 : 1),
  );
  const shown = keys.slice(0, maxBars);
  const rest = keys.slice(maxBars);
  const rows = shown.map((k) => ({ label: k, reference: r.get(k) ?? 0, current: c.get(k) ?? 0 }));
  if (rest.length > 0) {
    const sum = (m: Map<string, number>) => rest.reduce((a, k) => a + (m.get(k) ?? 0), 0);
    rows.push({ label: `(${rest.length} more)`, reference: sum(r), current: sum(c) });
  }
  return rows;
}
