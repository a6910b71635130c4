/**
 * Evidently's few-values rule (`_get_default_stattest`) on sketches: a numerical column with at
 * most `FEW_VALUES` distinct values in both samples together is tested as categorical, its numbers
 * as categories (`String(value)`, so 1 and 1.0 are one). A t-digest keeps every value exactly,
 * as point masses, while it has seen at most 1,000 distinct ones (numeric-sketch.ts), so the rule
 * can be decided on two such sketches — the stream's windows and profiles — as on raw values.
 */
import { CategoricalSketch } from '../sketch/categorical-sketch.ts';
import type { NumericSketch } from '../sketch/numeric-sketch.ts';
import { type DriftMethod, METHODS_BY_KIND } from './evaluate.ts';

/** At most this many distinct values (both samples together): tested as categorical. */
export const FEW_VALUES = 5;

/**
 * Both sketches as category counts when, together, they hold at most `FEW_VALUES` distinct values,
 * all exactly (point masses); else undefined. What is not a finite number counts as missing.
 */
export function fewValueSketches(
  reference: NumericSketch,
  current: NumericSketch,
): { reference: CategoricalSketch; current: CategoricalSketch; distinct: number } | undefined {
  if (!reference.exact || !current.exact || reference.count + current.count === 0) return undefined;
  const ref = valueCounts(reference);
  const cur = valueCounts(current);
  if (!ref || !cur) return undefined;
  const distinct = new Set([...ref.keys(), ...cur.keys()]).size;
  if (distinct > FEW_VALUES) return undefined;
  return {
    reference: categoricalOfCounts(ref, reference.nullCount + reference.nonFiniteCount),
    current: categoricalOfCounts(cur, current.nullCount + current.nonFiniteCount),
    distinct,
  };
}

/** Whether a method asked for a column keeps it numerical (ks and wasserstein test numbers only). */
export function numericOnly(method: DriftMethod | undefined): boolean {
  return method !== undefined && !METHODS_BY_KIND.categorical.includes(method);
}

function valueCounts(sketch: NumericSketch): Map<string, number> | undefined {
  const c = sketch.centroids();
  if (c.size > FEW_VALUES) return undefined;
  const counts = new Map<string, number>();
  for (let i = 0; i < c.size; i++) {
    const key = String(c.means[i]);
    counts.set(key, (counts.get(key) ?? 0) + (c.counts[i] as number));
  }
  return counts;
}

/** An exact categorical sketch of these category counts (none lumped), most frequent first. */
export function categoricalOfCounts(counts: ReadonlyMap<string, number>, nullCount: number): CategoricalSketch {
  const entries = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return CategoricalSketch.fromJSON({
    format: 1,
    maxCategories: Math.max(1, entries.length),
    count: entries.reduce((sum, [, n]) => sum + n, 0),
    nullCount,
    otherCount: 0,
    maxError: 0,
    values: entries.map(([v]) => v),
    counts: entries.map(([, n]) => n),
  });
}
