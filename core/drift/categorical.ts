/**
 * Categorical drift statistics from two CategoricalSketches (reference vs current).
 */
import { type CategoricalSketch, OTHER_CATEGORY } from '../sketch/categorical-sketch.ts';
import { jensenShannonDistance, populationStabilityIndex } from './divergence.ts';
import { chiSquareSf } from './special.ts';

export interface CategoricalStats {
  /**
   * Chi-square goodness-of-fit statistic of the current counts against the reference shares
   * scaled to the current size, as Evidently computes it (`scipy.stats.chisquare(f_obs, f_exp)`).
   * Infinite when the current sample has a category the reference lacks.
   */
  chi2: number;
  /** Degrees of freedom: categories present in either sample − 1. */
  chi2_dof: number;
  /** P(χ²(dof) > chi2); 1 when there is a single category, 0 when chi2 is infinite. */
  chi2_p_value: number;
  /** Pearson's chi-square of the 2 × k table (reference, current) × category (same dof). */
  contingency_chi2: number;
  /** Its p-value (`scipy.stats.chi2_contingency(table, correction=False)`). */
  contingency_p_value: number;
  /**
   * Two-proportion z statistic of the first category (sorted) against the rest, as Evidently's
   * `z_stat_test` computes it (meant for two categories); 0 when both samples hold the same
   * single category.
   */
  z: number;
  /** Two-sided p-value of `z`. */
  z_p_value: number;
  /** Jensen–Shannon distance (natural log, as Evidently) of the category shares. */
  js: number;
  /** Population Stability Index of the category shares (Evidently's zero filling). */
  psi: number;
  /** Share of the current values whose category the reference does not have. */
  unseen_share: number;
}

export interface CategoricalComparison {
  stats: CategoricalStats;
  /** Categories in the current sample that the reference never tracked, heaviest first. */
  unseen: string[];
}

/** Category counts keyed by name, with the lumped mass under `__other__` (added to a real `__other__`). */
function countsOf(sketch: CategoricalSketch): Map<string, number> {
  const counts = new Map(sketch.entries());
  if (sketch.otherCount > 0) counts.set(OTHER_CATEGORY, (counts.get(OTHER_CATEGORY) ?? 0) + sketch.otherCount);
  return counts;
}

/**
 * Compares category frequencies. `chi2` is Evidently's goodness-of-fit test of the current
 * counts against the reference shares; `contingency_chi2` is the test of homogeneity on the
 * 2 × k table, which also accounts for the reference being a sample and stays finite when the
 * current sample has a category the reference lacks. Both sketches must be non-empty.
 *
 * A category missing from a sketch that has lumped values (`otherCount` > 0) may still have
 * occurred up to that sketch's `maxError` times; "unseen" then means "not tracked".
 */
export function compareCategories(reference: CategoricalSketch, current: CategoricalSketch): CategoricalComparison {
  const ref = countsOf(reference);
  const cur = countsOf(current);
  const keys = [...new Set([...ref.keys(), ...cur.keys()])].sort();
  const r = keys.map((k) => ref.get(k) ?? 0);
  const c = keys.map((k) => cur.get(k) ?? 0);
  const refTotal = reference.count;
  const curTotal = current.count;
  const total = refTotal + curTotal;

  let contingency = 0;
  let goodnessOfFit = 0;
  for (let i = 0; i < keys.length; i++) {
    const ri = r[i] as number;
    const ci = c[i] as number;
    const column = ri + ci;
    const expectedRef = (refTotal * column) / total;
    const expectedCur = (curTotal * column) / total;
    contingency += (ri - expectedRef) ** 2 / expectedRef + (ci - expectedCur) ** 2 / expectedCur;
    // Evidently: f_exp = reference count × current size / reference size; a category the
    // reference lacks has f_exp 0, so the statistic is infinite and the p-value 0 (drift).
    const expected = (ri * curTotal) / refTotal;
    goodnessOfFit += expected > 0 ? (ci - expected) ** 2 / expected : Number.POSITIVE_INFINITY;
  }
  const dof = Math.max(0, keys.length - 1);

  const unseen: [string, number][] = [];
  let unseenCount = 0;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if ((r[i] as number) === 0 && key !== OTHER_CATEGORY) {
      unseen.push([key, c[i] as number]);
      unseenCount += c[i] as number;
    }
  }
  unseen.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));

  const refShares = r.map((x) => x / refTotal);
  const curShares = c.map((x) => x / curTotal);
  const z = twoProportionZ(r, c, refTotal, curTotal);
  return {
    stats: {
      chi2: goodnessOfFit,
      chi2_dof: dof,
      chi2_p_value: chiSquareSf(goodnessOfFit, dof),
      contingency_chi2: contingency,
      contingency_p_value: chiSquareSf(contingency, dof),
      z,
      // Two-sided normal tail 2·(1 − Φ(|z|)) = P(χ²(1) > z²), without cancellation for large |z|.
      z_p_value: chiSquareSf(z * z, 1),
      js: jensenShannonDistance(refShares, curShares),
      psi: populationStabilityIndex(refShares, curShares),
      unseen_share: unseenCount / curTotal,
    },
    unseen: unseen.map((u) => u[0]),
  };
}

/**
 * Evidently's `z_stat_test`: in each sample the share of values other than the first category
 * (keys sorted), pooled standard error, z = (p₁ − p₂) / √(P(1 − P)(1/n₁ + 1/n₂)). Both samples holding the same single category is no
 * evidence of change (z = 0, p = 1), as in Evidently.
 */
function twoProportionZ(r: readonly number[], c: readonly number[], refTotal: number, curTotal: number): number {
  if (r.length < 2) return 0;
  const p1 = 1 - (r[0] as number) / refTotal;
  const p2 = 1 - (c[0] as number) / curTotal;
  const pooled = 1 - ((r[0] as number) + (c[0] as number)) / (refTotal + curTotal);
  return (p1 - p2) / Math.sqrt(pooled * (1 - pooled) * (1 / refTotal + 1 / curTotal));
}
