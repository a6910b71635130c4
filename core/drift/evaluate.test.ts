import { describe, expect, it } from 'vitest';
import { normalSampler } from '../../test-support/distributions.ts';
import { mulberry32 } from '../random.ts';
import { CategoricalSketch } from '../sketch/categorical-sketch.ts';
import { NumericSketch } from '../sketch/numeric-sketch.ts';
import type { CategoricalStats } from './categorical.ts';
import { evaluateColumn, evaluateDataset, overrideProblems } from './evaluate.ts';
import type { NumericalStats } from './numerical.ts';
import { ksPValue } from './numerical.ts';

function normals(n: number, seed: number, shift = 0): NumericSketch {
  const z = normalSampler(mulberry32(seed));
  return NumericSketch.of(Array.from({ length: n }, () => z() + shift));
}

function categories(n: number, seed: number, weights: Record<string, number>): CategoricalSketch {
  const random = mulberry32(seed);
  const entries = Object.entries(weights);
  const total = entries.reduce((a, [, w]) => a + w, 0);
  return CategoricalSketch.of(
    Array.from({ length: n }, () => {
      let u = random() * total;
      for (const [value, w] of entries) {
        u -= w;
        if (u < 0) return value;
      }
      return entries[entries.length - 1]?.[0];
    }),
  );
}

function expectAllFinite(values: Record<string, number>) {
  for (const [key, value] of Object.entries(values)) expect(Number.isFinite(value), key).toBe(true);
}

describe('evaluateColumn defaults (Evidently data drift preset)', () => {
  it('numerical, reference ≤ 1,000: KS p-value < 0.05', () => {
    const ok = evaluateColumn(normals(1_000, 1), normals(500, 2), { column: 'x' });
    expect(ok).toMatchObject({
      column: 'x',
      kind: 'numerical',
      method: 'ks',
      threshold: 0.05,
      drifted: false,
      verdict: 'ok',
    });
    expect(ok.p_value).toBeGreaterThan(0.05);
    const drift = evaluateColumn(normals(1_000, 1), normals(500, 3, 1));
    expect(drift).toMatchObject({ method: 'ks', drifted: true, verdict: 'drift' });
    expect(drift.statistic).toBe((drift.stats as { ks: number }).ks);
  });

  it('numerical, reference > 1,000: normalized Wasserstein ≥ 0.1, p_value null', () => {
    const ok = evaluateColumn(normals(5_000, 1), normals(5_000, 2));
    expect(ok).toMatchObject({ method: 'wasserstein', threshold: 0.1, p_value: null, verdict: 'ok' });
    const drift = evaluateColumn(normals(5_000, 1), normals(5_000, 3, 0.3));
    expect(drift).toMatchObject({ method: 'wasserstein', verdict: 'drift' });
    expect(drift.statistic).toBeGreaterThan(0.25);
    // Every statistic is computed whatever the method.
    expect(Object.keys(drift.stats ?? {}).sort()).toEqual([
      'js',
      'ks',
      'ks_p_value',
      'psi',
      'wasserstein',
      'wasserstein_norm',
    ]);
  });

  it('categorical, reference ≤ 1,000: chi-square; larger: Jensen–Shannon ≥ 0.1', () => {
    const small = evaluateColumn(categories(800, 1, { a: 5, b: 3, c: 2 }), categories(800, 2, { a: 3, b: 3, c: 4 }));
    expect(small).toMatchObject({
      kind: 'categorical',
      method: 'chisquare',
      threshold: 0.05,
      verdict: 'drift',
      unseen_categories: [],
    });
    const large = evaluateColumn(
      categories(5_000, 3, { a: 5, b: 3, c: 2 }),
      categories(5_000, 4, { a: 5, b: 3, c: 2, d: 0.5 }),
    );
    expect(large).toMatchObject({ method: 'jensenshannon', threshold: 0.1, p_value: null, unseen_categories: ['d'] });
  });

  it("two categories, reference ≤ 1,000: Evidently's two-proportion z-test (p < 0.05)", () => {
    const same = evaluateColumn(categories(800, 5, { yes: 6, no: 4 }), categories(800, 6, { yes: 6, no: 4 }));
    expect(same).toMatchObject({ kind: 'categorical', method: 'z', threshold: 0.05, verdict: 'ok' });
    const stats = same.stats as CategoricalStats;
    expect(same.statistic).toBe(stats.z);
    expect(same.p_value).toBe(stats.z_p_value);
    const moved = evaluateColumn(categories(800, 7, { yes: 6, no: 4 }), categories(800, 8, { yes: 4, no: 6 }));
    expect(moved).toMatchObject({ method: 'z', verdict: 'drift' });
    // One category in both: nothing to test, p = 1.
    const one = evaluateColumn(categories(800, 9, { yes: 1 }), categories(800, 10, { yes: 1 }));
    expect(one).toMatchObject({ method: 'z', statistic: 0, p_value: 1, verdict: 'ok' });
    // A third category in the current sample: chi-square.
    const third = evaluateColumn(categories(800, 11, { yes: 6, no: 4 }), categories(800, 12, { yes: 6, no: 4, x: 1 }));
    expect(third.method).toBe('chisquare');
    // Larger reference: Jensen–Shannon, as for any categorical column.
    const large = evaluateColumn(categories(5_000, 13, { yes: 6, no: 4 }), categories(800, 14, { yes: 6, no: 4 }));
    expect(large.method).toBe('jensenshannon');
  });

  it('keeps the 2 × k contingency chi-square as a method of its own', () => {
    const result = evaluateColumn(categories(800, 1, { a: 5, b: 3, c: 2 }), categories(800, 2, { a: 3, b: 3, c: 4 }), {
      method: 'chisquare_contingency',
    });
    const stats = result.stats as CategoricalStats;
    expect(result).toMatchObject({ method: 'chisquare_contingency', threshold: 0.05, verdict: 'drift' });
    expect(result.statistic).toBe(stats.contingency_chi2);
    expect(result.p_value).toBe(stats.contingency_p_value);
  });
});

describe('evaluateColumn overrides and edge cases', () => {
  it('takes a method and threshold per column', () => {
    const result = evaluateColumn(normals(5_000, 1), normals(5_000, 2, 0.3), { method: 'psi', threshold: 0.5 });
    expect(result).toMatchObject({ method: 'psi', threshold: 0.5, verdict: 'ok' });
    expect(result.statistic).toBe((result.stats as { psi: number }).psi);
    const ks = evaluateColumn(normals(5_000, 1), normals(5_000, 2), { method: 'ks', threshold: 0.2 });
    expect(ks.method).toBe('ks');
    expect(ks.drifted).toBe((ks.p_value as number) < 0.2);
  });

  it('refuses a method that does not fit the kind, or a bad threshold', () => {
    expect(() => evaluateColumn(normals(100, 1), normals(100, 2), { column: 'x', method: 'chisquare' })).toThrow(
      /chisquare/,
    );
    expect(() => evaluateColumn(normals(100, 1), normals(100, 2), { method: 'ks', threshold: 5 })).toThrow(/p-value/);
    expect(() => evaluateColumn(normals(100, 1), CategoricalSketch.of(['a']))).toThrow(TypeError);
    expect(overrideProblems('c', { method: 'nope' as never, threshold: -1 })).toHaveLength(2);
  });

  it('is insufficient_data below the minimum current sample, never drift', () => {
    const result = evaluateColumn(normals(1_000, 1), normals(99, 2, 5));
    expect(result).toMatchObject({ verdict: 'insufficient_data', drifted: false, current_count: 99 });
    expect(result.statistic).toBeGreaterThan(0.9); // still reported
    expect(evaluateColumn(normals(1_000, 1), normals(99, 2, 5), { minSample: 50 }).verdict).toBe('drift');
    const empty = evaluateColumn(normals(1_000, 1), NumericSketch.create());
    expect(empty).toMatchObject({ verdict: 'insufficient_data', statistic: null, p_value: null, stats: null });
    const noReference = evaluateColumn(NumericSketch.create(), normals(1_000, 1));
    expect(noReference.verdict).toBe('insufficient_data');
  });

  it('handles constant columns without NaN or Infinity', () => {
    const five = NumericSketch.of(Array(2_000).fill(5));
    const same = evaluateColumn(five, NumericSketch.of(Array(2_000).fill(5)));
    expect(same).toMatchObject({ method: 'wasserstein', statistic: 0, verdict: 'ok' });
    expectAllFinite(same.stats as unknown as Record<string, number>);
    const moved = evaluateColumn(five, NumericSketch.of(Array(2_000).fill(5.5)));
    expect(moved).toMatchObject({ verdict: 'drift' });
    expect(moved.statistic).toBeCloseTo(500, 6); // |5.5 − 5| / 0.001 floor
    expectAllFinite(moved.stats as unknown as Record<string, number>);
    const small = evaluateColumn(NumericSketch.of(Array(500).fill(1)), NumericSketch.of(Array(500).fill(1)));
    expect(small).toMatchObject({ method: 'ks', p_value: 1, verdict: 'ok' });
    const varying = evaluateColumn(NumericSketch.of(Array(500).fill(1)), normals(500, 3));
    expectAllFinite(varying.stats as unknown as Record<string, number>);
    expect(varying.verdict).toBe('drift');
    expect(JSON.parse(JSON.stringify(varying))).toEqual(varying);
  });
});

describe('evaluateDataset', () => {
  const columns = (shiftB: number) => [
    { column: 'a', reference: normals(2_000, 1), current: normals(2_000, 2) },
    { column: 'b', reference: normals(2_000, 3), current: normals(2_000, 4, shiftB) },
    { column: 'c', reference: categories(2_000, 5, { x: 1, y: 1 }), current: categories(2_000, 6, { x: 1, y: 1 }) },
  ];

  it('drifts when the share of drifted columns reaches drift_share', () => {
    const none = evaluateDataset(columns(0));
    expect(none).toMatchObject({
      drift_share: 0.5,
      evaluated_count: 3,
      drifted_count: 0,
      dataset_drift: false,
      state: 'ok',
    });
    const one = evaluateDataset(columns(1));
    expect(one).toMatchObject({ drifted_count: 1, dataset_drift: false, state: 'ok' });
    expect(one.share_of_drifted_columns).toBeCloseTo(1 / 3, 15);
    expect(one.columns.map((c) => c.verdict)).toEqual(['ok', 'drift', 'ok']);
    expect(evaluateDataset(columns(1), { driftShare: 0.3 })).toMatchObject({ dataset_drift: true, state: 'drift' });
  });

  it('applies per-column overrides by name', () => {
    const result = evaluateDataset(columns(0.05), { columns: { b: { method: 'wasserstein', threshold: 0.01 } } });
    expect(result.columns[1]).toMatchObject({ column: 'b', method: 'wasserstein', threshold: 0.01, verdict: 'drift' });
    expect(result.columns[0]?.threshold).toBe(0.1);
  });

  it('counts only columns with enough data; none → insufficient_data', () => {
    const result = evaluateDataset([
      { column: 'a', reference: normals(2_000, 1), current: normals(50, 2, 3) },
      { column: 'b', reference: normals(2_000, 3), current: normals(500, 4, 1) },
    ]);
    expect(result).toMatchObject({ evaluated_count: 1, drifted_count: 1, dataset_drift: true, state: 'drift' });
    const none = evaluateDataset([{ column: 'a', reference: normals(2_000, 1), current: normals(50, 2, 3) }]);
    expect(none).toMatchObject({
      evaluated_count: 0,
      dataset_drift: false,
      state: 'insufficient_data',
      share_of_drifted_columns: 0,
    });
    expect(() => evaluateDataset([], { driftShare: 0 })).toThrow(RangeError);
  });
});

describe('the KS p-value from sketches is scipy ks_2samp, computed for KS columns only', () => {
  // Reference k/200 (k = 0…199), current shift + (j/150)·0.95 (j = 0…149), the same doubles in
  // Python. Numbers from scipy 1.17.1 (the Evidently bench's venv):
  //   stats.ks_2samp(ref, cur) → (statistic, pvalue), method 'auto' = exact at these sizes.
  const reference = NumericSketch.of(Array.from({ length: 200 }, (_, k) => k / 200));
  const current = (shift: number) => NumericSketch.of(Array.from({ length: 150 }, (_, j) => shift + (j / 150) * 0.95));
  const scipy: [shift: number, d: number, p: number][] = [
    [0.05, 0.05333333333333334, 0.9583986938543092],
    [0.1, 0.10333333333333333, 0.30135958956687275],
    [0.13, 0.13333333333333333, 0.08774754032980661],
    [0.141, 0.145, 0.049846260697229555],
  ];

  it.each(scipy)('shift %d: D and p-value as scipy', (shift, d, p) => {
    const result = evaluateColumn(reference, current(shift), { column: 'x', minSample: 100 });
    expect(result.method).toBe('ks');
    expect(result.statistic).toBeCloseTo(d, 12);
    expect(result.p_value).toBeCloseTo(p, 12);
    expect((result.stats as NumericalStats).ks_p_value).toBe(result.p_value);
  });

  it('decides as scipy where the asymptotic limit would not (p 0.0498 vs 0.0544)', () => {
    const result = evaluateColumn(reference, current(0.141), { minSample: 100 });
    expect(result.verdict).toBe('drift');
    expect(ksPValue(result.statistic as number, 200, 150)).toBeGreaterThan(0.05);
  });

  it('on tied integers (exact sketches) too', () => {
    // scipy 1.17.1: ks_2samp([k % 13 for k in range(260)], [(j*7) % 15 for j in range(180)])
    const tiedRef = NumericSketch.of(Array.from({ length: 260 }, (_, k) => k % 13));
    const tiedCur = NumericSketch.of(Array.from({ length: 180 }, (_, j) => (j * 7) % 15));
    const result = evaluateColumn(tiedRef, tiedCur, { minSample: 100 });
    expect(result.statistic).toBeCloseTo(0.13333333333333333, 12);
    expect(result.p_value).toBeCloseTo(0.040988643127845364, 12);
    expect(result.verdict).toBe('drift');
  });

  it('other methods keep the asymptotic p-value in their statistics', () => {
    for (const method of ['wasserstein', 'psi', 'jensenshannon'] as const) {
      const result = evaluateColumn(reference, current(0.13), { method, minSample: 100 });
      const stats = result.stats as NumericalStats;
      expect(result.p_value).toBeNull();
      expect(stats.ks_p_value).toBe(ksPValue(stats.ks, 200, 150));
    }
  });
});
