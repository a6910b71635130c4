/**
 * Numerical drift statistics from two sketches (reference vs current), computed on the
 * piecewise-linear CDFs of `numeric-distribution.ts`. Between two consecutive breakpoints of
 * either CDF both are linear, so the KS supremum is reached at a breakpoint and the
 * Wasserstein integral is a sum of exact trapezoids: the only error left is the sketch's own.
 */

import { jensenShannonDistance, populationStabilityIndex } from './divergence.ts';
import { WASSERSTEIN_STD_FLOOR } from './exact.ts';
import { countAtOrBelow, inverseCount, type NumericDistribution } from './numeric-distribution.ts';
import { kolmogorovSf } from './special.ts';

export interface NumericalStats {
  /** Two-sample Kolmogorov–Smirnov statistic D = sup |F_ref − F_cur|. */
  ks: number;
  /**
   * p-value of D. From `numericalStats`: the asymptotic P(K > D·√(n·m/(n+m))), K
   * Kolmogorov-distributed (cheap, for columns judged by another method). For a column whose
   * method is KS, `evaluateColumn` puts scipy's `ks_2samp` p-value here (`ksTwoSamplePValue`:
   * exact while both sides hold ≤ 10,000 values), as `exactNumericStats` always does.
   */
  ks_p_value: number;
  /** Wasserstein-1 distance ∫|F_ref − F_cur| dx, in the column's units. */
  wasserstein: number;
  /** `wasserstein` / max(reference std, 0.001) (Evidently's normalization and floor). */
  wasserstein_norm: number;
  /** Population Stability Index over reference-quantile bins. */
  psi: number;
  /** Jensen–Shannon distance (natural log, as Evidently) over the same bins. */
  js: number;
}

/**
 * KS statistic and Wasserstein-1 in one sweep over the sorted union of both distributions'
 * anchors, O(k) (each CDF is read where the sweep is, no search).
 *
 * KS: at every breakpoint both the left limits and the values are compared: on tied data the
 * largest gap is usually just after a jump (F(x)) and on continuous data it can be just before
 * one (F(x−)), exactly as in the exact ECDF computation.
 *
 * Wasserstein-1 as ∫|F_ref − F_cur| dx, summed exactly over the merged breakpoints. Chosen over
 * ∫|Q_ref − Q_cur| dq on a quantile grid because it is exact for the sketched CDFs (no grid to
 * pick, no error from the steep quantile function near jumps and in the tails, where a grid
 * misses most of the mass-weighted distance).
 */
export function ksAndWasserstein(
  ref: NumericDistribution,
  cur: NumericDistribution,
): { ks: number; wasserstein: number } {
  const a = new Float64Array(2);
  const b = new Float64Array(2);
  let i = 0; // first anchor of ref not passed yet
  let j = 0;
  let d = 0;
  let total = 0;
  let previousX = 0;
  let previousDiff = 0; // F_ref − F_cur at the previous breakpoint (right value)
  while (i < ref.xs.length || j < cur.xs.length) {
    const x = Math.min(ref.xs[i] ?? Number.POSITIVE_INFINITY, cur.xs[j] ?? Number.POSITIVE_INFINITY);
    const first = i === 0 && j === 0;
    i = cdfAt(ref, i, x, a);
    j = cdfAt(cur, j, x, b);
    const left = (a[0] as number) - (b[0] as number);
    const right = (a[1] as number) - (b[1] as number);
    d = Math.max(d, Math.abs(left), Math.abs(right));
    if (!first) {
      // ∫|linear| from the previous breakpoint: a trapezoid, or two triangles when the sign changes.
      const width = x - previousX;
      const d0 = previousDiff;
      if (d0 * left >= 0) total += (width * (Math.abs(d0) + Math.abs(left))) / 2;
      else total += (width * (d0 * d0 + left * left)) / (2 * (Math.abs(d0) + Math.abs(left)));
    }
    previousX = x;
    previousDiff = right;
  }
  return { ks: Math.min(1, d), wasserstein: total };
}

/**
 * Writes the left limit and the value of `dist`'s CDF at x (fractions) into `out`, given `next`,
 * the first anchor not below any earlier point of the sweep; returns the new `next`.
 */
function cdfAt(dist: NumericDistribution, next: number, x: number, out: Float64Array): number {
  const { xs, count } = dist;
  if (next < xs.length && xs[next] === x) {
    out[0] = (dist.below[next] as number) / count;
    out[1] = (dist.atOrBelow[next] as number) / count;
    return next + 1;
  }
  if (next === 0 || next === xs.length) {
    out[0] = next === 0 ? 0 : 1;
    out[1] = out[0];
    return next;
  }
  // Strictly between anchors next − 1 and next, where the CDF is linear.
  const x0 = xs[next - 1] as number;
  const f0 = dist.atOrBelow[next - 1] as number;
  out[0] = (f0 + ((x - x0) * ((dist.below[next] as number) - f0)) / ((xs[next] as number) - x0)) / count;
  out[1] = out[0];
  return next;
}

/** Two-sample KS statistic D = sup |F_ref − F_cur| (`ksAndWasserstein`). */
export function ksStatistic(ref: NumericDistribution, cur: NumericDistribution): number {
  return ksAndWasserstein(ref, cur).ks;
}

/**
 * Asymptotic two-sample KS p-value: kstwobign.sf(D·√(n·m/(n+m))), the Smirnov limit. scipy's
 * `ks_2samp(method='asymp')` uses the finite-n kstwo.sf(D, round(n·m/(n+m))) instead; over all
 * D the two differ by at most 0.027 at an effective size of 100, 0.009 at 1,000 and 0.003 at
 * 10,000 (the limit is slightly conservative: larger p-values).
 */
export function ksPValue(d: number, n: number, m: number): number {
  if (!(n > 0 && m > 0) || Number.isNaN(d)) return Number.NaN;
  return kolmogorovSf(d * Math.sqrt((n * m) / (n + m)));
}

/** Wasserstein-1 distance ∫|F_ref − F_cur| dx (`ksAndWasserstein`). */
export function wassersteinDistance(ref: NumericDistribution, cur: NumericDistribution): number {
  return ksAndWasserstein(ref, cur).wasserstein;
}

/**
 * Inner edges of `bins` reference-quantile bins, duplicates dropped; the same type-1 quantile
 * definition as `exactQuantileEdges`, so point masses land on the same side of an edge. (Read off
 * the sketch's CDF; `referenceBins` takes a reference profile's exact percentiles instead.)
 */
export function quantileEdges(ref: NumericDistribution, bins: number): number[] {
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    const edge = inverseCount(ref, (k * ref.count) / bins);
    if (edges.length === 0 || edge > (edges[edges.length - 1] as number)) edges.push(edge);
  }
  return edges;
}

/**
 * The reference-quantile bins of PSI and Jensen–Shannon: inner edges and the reference's shares.
 * When the reference keeps its exact percentiles (a reference profile) and `bins` divides 100,
 * both are exact — the edges and shares `exactQuantileEdges`/`exactBinShares` give on the raw
 * values. That matters where a current window is dense at an edge (a shifted heavy tail starting
 * there): an edge interpolated inside a centroid, a few reference ranks off, puts many current
 * values on the wrong side, and PSI takes logarithms of such nearly empty bins. Otherwise the
 * edges are `quantileEdges` and the shares `binShares` of the sketch.
 */
export function referenceBins(ref: NumericDistribution, bins: number): { edges: number[]; shares: number[] } {
  const exact = ref.percentiles;
  if (exact === undefined || 100 % bins !== 0) {
    const edges = quantileEdges(ref, bins);
    return { edges, shares: binShares(ref, edges) };
  }
  const edges: number[] = [];
  const shares: number[] = [];
  let previous = 0;
  for (let k = 1; k < bins; k++) {
    const i = (k * 100) / bins - 1;
    const edge = exact.values[i] as number;
    if (edges.length > 0 && edge <= (edges[edges.length - 1] as number)) continue;
    const count = exact.atOrBelow[i] as number;
    edges.push(edge);
    shares.push((count - previous) / ref.count);
    previous = count;
  }
  shares.push((ref.count - previous) / ref.count);
  return { edges, shares };
}

/** Shares of a distribution in (−∞, e₁], (e₁, e₂], …, (e_last, ∞). */
export function binShares(d: NumericDistribution, edges: readonly number[]): number[] {
  const shares: number[] = [];
  let previous = 0;
  for (const edge of edges) {
    const count = countAtOrBelow(d, edge);
    shares.push(Math.max(0, count - previous) / d.count);
    previous = Math.max(previous, count);
  }
  shares.push(Math.max(0, d.count - previous) / d.count);
  return shares;
}

/** Every numerical statistic; both distributions must be non-empty. */
export function numericalStats(ref: NumericDistribution, cur: NumericDistribution, bins = 10): NumericalStats {
  const { ks, wasserstein } = ksAndWasserstein(ref, cur);
  const { edges, shares: r } = referenceBins(ref, bins);
  const c = binShares(cur, edges);
  return {
    ks,
    ks_p_value: ksPValue(ks, ref.count, cur.count),
    wasserstein,
    // A constant reference (std 0) is normalized by the floor: W is then in units of 0.001,
    // finite, and any move of a constant column by ≥ 0.0001 counts as drift at 0.1.
    wasserstein_norm: wasserstein / Math.max(ref.std, WASSERSTEIN_STD_FLOOR),
    psi: populationStabilityIndex(r, c),
    js: jensenShannonDistance(r, c),
  };
}
