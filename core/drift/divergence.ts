/**
 * Divergences between two binned distributions (proportions summing to 1), shared by the
 * sketch statistics and the exact reference implementations so both use the same formulas.
 */

/**
 * Evidently's zero filling for PSI: an empty bin gets 0.0001, or, when the smallest non-empty
 * bin is itself ≤ 0.0001, that smallest share / 10⁶ (each side filled on its own). Without it
 * one empty bin would make PSI infinite. The filled shares no longer sum exactly to 1; like
 * Evidently we do not renormalize.
 */
export function fillZeros(proportions: readonly number[]): number[] {
  let smallest = Number.POSITIVE_INFINITY;
  for (const p of proportions) if (p > 0 && p < smallest) smallest = p;
  if (smallest === Number.POSITIVE_INFINITY) return [...proportions];
  const fill = smallest <= 0.0001 ? smallest / 1e6 : 0.0001;
  return proportions.map((p) => (p > 0 ? p : fill));
}

/** Population Stability Index Σ (cur − ref)·ln(cur / ref), with `fillZeros` on both sides. */
export function populationStabilityIndex(reference: readonly number[], current: readonly number[]): number {
  const r = fillZeros(reference);
  const c = fillZeros(current);
  let psi = 0;
  for (let i = 0; i < r.length; i++) {
    const ri = r[i] as number;
    const ci = c[i] as number;
    if (ri > 0 && ci > 0) psi += (ci - ri) * Math.log(ci / ri);
  }
  return psi;
}

/** Largest Jensen–Shannon distance in natural logs (disjoint supports): √ln 2 ≈ 0.8326. */
export const JS_DISTANCE_MAX = Math.sqrt(Math.LN2);

/**
 * Jensen–Shannon distance with natural logarithms, as Evidently computes it (scipy's
 * `jensenshannon(p, q)` without `base`): √JSD, in [0, √ln 2 ≈ 0.8326] (0 = same distribution,
 * √ln 2 = disjoint supports). Evidently's 0.1 threshold is meant for this scale; in base 2 the
 * same threshold would flag smaller shifts, since base-2 values are 1/√ln 2 ≈ 1.2 times these.
 */
export function jensenShannonDistance(p: readonly number[], q: readonly number[]): number {
  let sp = 0;
  let sq = 0;
  for (let i = 0; i < p.length; i++) {
    sp += p[i] as number;
    sq += q[i] as number;
  }
  if (!(sp > 0 && sq > 0)) return Number.NaN;
  let divergence = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = (p[i] as number) / sp;
    const qi = (q[i] as number) / sq;
    const m = (pi + qi) / 2;
    if (pi > 0) divergence += 0.5 * pi * Math.log(pi / m);
    if (qi > 0) divergence += 0.5 * qi * Math.log(qi / m);
  }
  return Math.min(JS_DISTANCE_MAX, Math.sqrt(Math.max(0, divergence)));
}
