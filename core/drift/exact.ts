/**
 * Exact drift statistics on raw values: the reference the sketch statistics are tested and
 * benchmarked against. Pure; inputs are sorted Float64Arrays of finite values (`sortedFinite`).
 */
import { jensenShannonDistance, populationStabilityIndex } from './divergence.ts';

/** The finite values of `values`, sorted ascending. */
export function sortedFinite(values: Iterable<number | null | undefined>): Float64Array {
  const out: number[] = [];
  for (const v of values) if (typeof v === 'number' && Number.isFinite(v)) out.push(v);
  return Float64Array.from(out).sort();
}

/** Two-sample Kolmogorov–Smirnov statistic sup |F_a − F_b| (scipy `ks_2samp(...).statistic`). */
export function exactKs(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) return Number.NaN;
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n && j < m) {
    // Step past every copy of the next value in both samples, then compare the ECDFs.
    const x = Math.min(a[i] as number, b[j] as number);
    while (i < n && a[i] === x) i++;
    while (j < m && b[j] === x) j++;
    const diff = Math.abs(i / n - j / m);
    if (diff > d) d = diff;
  }
  // Once one sample is exhausted its ECDF is 1 and the other's only grows towards 1.
  return d;
}

/** Wasserstein-1 distance ∫|F_a − F_b| dx (scipy `wasserstein_distance`). */
export function exactWasserstein(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) return Number.NaN;
  let i = 0;
  let j = 0;
  let total = 0;
  let x = Math.min(a[0] as number, b[0] as number);
  while (i < n || j < m) {
    const next = Math.min(
      i < n ? (a[i] as number) : Number.POSITIVE_INFINITY,
      j < m ? (b[j] as number) : Number.POSITIVE_INFINITY,
    );
    total += Math.abs(i / n - j / m) * (next - x);
    x = next;
    while (i < n && a[i] === x) i++;
    while (j < m && b[j] === x) j++;
  }
  return total;
}

/** Population standard deviation (divisor n), as numpy's `np.std`. */
export function populationStd(values: Float64Array): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += ((values[i] as number) - mean) / (i + 1);
  let ss = 0;
  for (let i = 0; i < n; i++) ss += ((values[i] as number) - mean) ** 2;
  return Math.sqrt(ss / n);
}

/**
 * Inner edges of `bins` reference-quantile bins: the type-1 quantiles (smallest value with
 * ECDF ≥ k/bins) for k = 1…bins−1, duplicates dropped. Bins are (−∞, e₁], (e₁, e₂], …, (e_last, ∞).
 */
export function exactQuantileEdges(sortedReference: Float64Array, bins: number): number[] {
  const n = sortedReference.length;
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    // k·n/bins is exact for integer k and n below 2^53/bins; ceil gives the type-1 rank.
    const rank = Math.max(1, Math.ceil((k * n) / bins));
    const edge = sortedReference[rank - 1] as number;
    if (edges.length === 0 || edge > (edges[edges.length - 1] as number)) edges.push(edge);
  }
  return edges;
}

/** Shares of the sorted values in the bins (−∞, e₁], (e₁, e₂], …, (e_last, ∞). */
export function exactBinShares(sorted: Float64Array, edges: readonly number[]): number[] {
  const n = sorted.length;
  const shares: number[] = [];
  let previous = 0;
  for (const edge of edges) {
    const count = upperBound(sorted, edge);
    shares.push((count - previous) / n);
    previous = count;
  }
  shares.push((n - previous) / n);
  return shares;
}

/** Number of values ≤ x in a sorted array. */
function upperBound(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Floor of the Wasserstein normalization, as in Evidently: W / max(std_ref, 0.001). */
export const WASSERSTEIN_STD_FLOOR = 0.001;

export interface ExactNumericStats {
  ks: number;
  wasserstein: number;
  wasserstein_norm: number;
  psi: number;
  js: number;
}

/** Every numerical statistic on raw values, defined exactly as the sketch versions are. */
export function exactNumericStats(reference: Float64Array, current: Float64Array, bins = 10): ExactNumericStats {
  const wasserstein = exactWasserstein(reference, current);
  const edges = exactQuantileEdges(reference, bins);
  const r = exactBinShares(reference, edges);
  const c = exactBinShares(current, edges);
  return {
    ks: exactKs(reference, current),
    wasserstein,
    wasserstein_norm: wasserstein / Math.max(populationStd(reference), WASSERSTEIN_STD_FLOOR),
    psi: populationStabilityIndex(r, c),
    js: jensenShannonDistance(r, c),
  };
}
