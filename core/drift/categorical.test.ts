import { describe, expect, it } from 'vitest';
import { categoricalSampler } from '../../test-support/distributions.ts';
import { mulberry32 } from '../random.ts';
import { CategoricalSketch } from '../sketch/categorical-sketch.ts';
import { compareCategories } from './categorical.ts';
import { jensenShannonDistance, populationStabilityIndex } from './divergence.ts';

function sketchOf(counts: Record<string, number>, maxCategories?: number): CategoricalSketch {
  const sketch = CategoricalSketch.create(maxCategories === undefined ? {} : { maxCategories });
  for (const [value, count] of Object.entries(counts)) for (let i = 0; i < count; i++) sketch.push(value);
  return sketch;
}

// Expected values from scipy 1.17.1: stats.chisquare(cur, ref * cur.sum() / ref.sum()) (Evidently's
// chi-square), stats.chi2_contingency(table, correction=False), the two-proportion z-test of
// Evidently's z_stat_test (2 * (1 - norm.cdf(|z|))) and
// spatial.distance.jensenshannon(ref / ref.sum(), cur / cur.sum()) (natural log, as Evidently).
describe('compareCategories', () => {
  it('chi-square and Jensen–Shannon match scipy (3 categories)', () => {
    const { stats, unseen } = compareCategories(sketchOf({ a: 30, b: 20, c: 50 }), sketchOf({ a: 25, b: 30, c: 45 }));
    // Evidently's goodness-of-fit: Σ (cur − ref·100/100)² / (ref·100/100).
    expect(stats.chi2).toBeCloseTo(6.333333333333333, 12);
    expect(stats.chi2_dof).toBe(2);
    expect(stats.chi2_p_value).toBeCloseTo(0.042143843509276406, 14);
    expect(stats.contingency_chi2).toBeCloseTo(2.7177033492822966, 12);
    expect(stats.contingency_p_value).toBeCloseTo(0.2569556763201589, 12);
    expect(stats.js).toBeCloseTo(0.08264388223971367, 12);
    expect(unseen).toEqual([]);
    expect(stats.unseen_share).toBe(0);
  });

  it('chi-square and the z-test match scipy on two categories (no Yates correction)', () => {
    const { stats } = compareCategories(sketchOf({ yes: 120, no: 80 }), sketchOf({ yes: 90, no: 110 }));
    expect(stats.chi2).toBeCloseTo(18.75, 12);
    expect(stats.chi2_p_value).toBeCloseTo(1.4902335792427696e-5, 18);
    expect(stats.contingency_chi2).toBeCloseTo(9.022556390977442, 12);
    expect(stats.contingency_p_value).toBeCloseTo(0.0026666817936140982, 14);
    // Evidently: share of values other than "no" (the first key): 0.6 vs 0.45.
    expect(stats.z).toBeCloseTo(3.003757045930554, 12);
    expect(stats.z_p_value).toBeCloseTo(0.002666681793614088, 14);
  });

  it('drifts (chi2 infinite, p 0, as Evidently) with a category unseen in the reference, and reports it', () => {
    const { stats, unseen } = compareCategories(
      sketchOf({ a: 400, b: 300, c: 200, d: 100 }),
      sketchOf({ a: 380, b: 320, c: 190, d: 90, e: 20 }),
    );
    expect(stats.chi2).toBe(Number.POSITIVE_INFINITY);
    expect(stats.chi2_p_value).toBe(0);
    // The contingency form stays finite.
    expect(stats.contingency_chi2).toBeCloseTo(21.940707849027035, 11);
    expect(stats.contingency_p_value).toBeCloseTo(0.00020594100004366, 14);
    expect(stats.js).toBeCloseTo(0.08612060522927403, 12);
    expect(Number.isFinite(stats.psi)).toBe(true);
    expect(unseen).toEqual(['e']);
    expect(stats.unseen_share).toBeCloseTo(0.02, 15);
  });

  it('gives p = 1 and distance 0 for one shared category', () => {
    const { stats } = compareCategories(sketchOf({ only: 10 }), sketchOf({ only: 500 }));
    expect(stats).toMatchObject({ chi2: 0, chi2_dof: 0, chi2_p_value: 1, z: 0, z_p_value: 1, js: 0, psi: 0 });
  });

  it('compares the lumped __other__ buckets like a category', () => {
    const many = (prefix: string, n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, 1]));
    const ref = sketchOf({ a: 500, ...many('r', 50) }, 5);
    const cur = sketchOf({ a: 500, ...many('s', 50) }, 5);
    const { stats, unseen } = compareCategories(ref, cur);
    expect(ref.otherCount).toBeGreaterThan(0);
    expect(unseen).not.toContain('__other__');
    expect(stats.js).toBeLessThan(0.1);
  });
});

describe('a 3,000-category column', () => {
  /** Exact shares of every category of both samples, in one key order. */
  function exactShares(reference: string[], current: string[]): [number[], number[]] {
    const keys = [...new Set([...reference, ...current])];
    const share = (values: string[]) => {
      const counts = new Map<string, number>();
      for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
      return keys.map((k) => (counts.get(k) ?? 0) / values.length);
    };
    return [share(reference), share(current)];
  }

  it('gives Jensen–Shannon within 0.01 and PSI within 0.02 of the exact values, panes merged', () => {
    let seed = 300;
    for (const n of [100, 1_000, 10_000, 100_000]) {
      for (const shifted of [false, true]) {
        const reference = Array.from({ length: n }, categoricalSampler(mulberry32(seed++), 3_000, false));
        const current = Array.from({ length: n }, categoricalSampler(mulberry32(seed++), 3_000, shifted));
        // Built as panes are: 10 sketches merged per side.
        const sketch = (values: string[]) => {
          const merged = CategoricalSketch.create();
          for (let i = 0; i < 10; i++)
            merged.merge(CategoricalSketch.of(values.slice((i * n) / 10, ((i + 1) * n) / 10)));
          return merged;
        };
        const { stats } = compareCategories(sketch(reference), sketch(current));
        const [r, c] = exactShares(reference, current);
        expect(Math.abs(stats.js - jensenShannonDistance(r, c)), `js n=${n}`).toBeLessThanOrEqual(0.01);
        expect(Math.abs(stats.psi - populationStabilityIndex(r, c)), `psi n=${n}`).toBeLessThanOrEqual(0.02);
      }
    }
  });
});
