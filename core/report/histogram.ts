/**
 * Reference and current distributions drawn side by side on one axis: the range both are shown
 * over and each one's density per bin. Shared by the HTML reports and the dashboard.
 */
import { countAtOrBelow, countBelow, inverseCount, type NumericDistribution } from '../drift/numeric-distribution.ts';

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
