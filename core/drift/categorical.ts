/**
 * Categorical drift statistics from two CategoricalSketches (reference vs current).
 */
import { type CategoricalSketch, OTHER_CATEGORY } from '../sketch/categorical-sketch.ts';
import { jensenShannonDistance, populationStabilityIndex } from './divergence.ts';
import { chiSquareSf } from './special.ts';

export interface CategoricalStats {
  /** Pearson's chi-square statistic of the 2 × k table (reference, current) × category. */
  chi2: number;
  /** Degrees of freedom: categories present in either sample − 1. */
  chi2_dof: number;
  /** P(χ²(dof) > chi2); 1 when there is a single category. */
  chi2_p_value: number;
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
 * Compares category frequencies. The chi-square test is the test of homogeneity on the 2 × k
 * contingency table (scipy `chi2_contingency(table, correction=False)`), not Evidently's
 * goodness-of-fit of current counts against reference shares: it accounts for the reference
 * being a sample too (Evidently's form overstates significance with a small reference) and
 * stays finite when the current sample has a category the reference lacks (the goodness-of-
 * fit statistic divides by an expected count of 0 there). Both sketches must be non-empty.
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

  let chi2 = 0;
  for (let i = 0; i < keys.length; i++) {
    const column = (r[i] as number) + (c[i] as number);
    const expectedRef = (refTotal * column) / total;
    const expectedCur = (curTotal * column) / total;
    chi2 += ((r[i] as number) - expectedRef) ** 2 / expectedRef + ((c[i] as number) - expectedCur) ** 2 / expectedCur;
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
  return {
    stats: {
      chi2,
      chi2_dof: dof,
      chi2_p_value: chiSquareSf(chi2, dof),
      js: jensenShannonDistance(refShares, curShares),
      psi: populationStabilityIndex(refShares, curShares),
      unseen_share: unseenCount / curTotal,
    },
    unseen: unseen.map((u) => u[0]),
  };
}
