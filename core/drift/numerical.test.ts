import { describe, expect, it } from 'vitest';
import { draw, HARD_DISTRIBUTIONS, normalSampler, TEST_DISTRIBUTIONS } from '../../test-support/distributions.ts';
import { mulberry32 } from '../random.ts';
import { EXACT_VALUES, NumericSketch } from '../sketch/numeric-sketch.ts';
import { exactBinShares, exactKs, exactNumericStats, exactQuantileEdges, sortedFinite } from './exact.ts';
import { countAtOrBelow, countBelow, decimals, inverseCount, numericDistribution } from './numeric-distribution.ts';
import { ksPValue, numericalStats, referenceBins } from './numerical.ts';

/** The accuracy the issue asks for: |sketch − exact| per statistic. */
const BOUNDS = { ks: 0.01, wasserstein_norm: 0.01, psi: 0.02, js: 0.01 } as const;
const SIZES = [1_000, 10_000, 200_000];

function distributionOf(values: readonly number[]) {
  const d = numericDistribution(NumericSketch.of(values));
  if (!d) throw new Error('empty sketch');
  return d;
}

/** A sketch built as a stream consumer does: one sketch per part, merged. */
function mergedSketch(values: readonly number[], parts: number): NumericSketch {
  const size = Math.ceil(values.length / parts);
  const sketch = NumericSketch.of(values.slice(0, size));
  for (let i = 1; i < parts; i++) sketch.merge(NumericSketch.of(values.slice(i * size, (i + 1) * size)));
  return sketch;
}

function expectWithinBounds(
  reference: NumericSketch,
  current: NumericSketch,
  refValues: number[],
  curValues: number[],
) {
  const ref = numericDistribution(reference);
  const cur = numericDistribution(current);
  if (!ref || !cur) throw new Error('empty sketch');
  const sketched = numericalStats(ref, cur);
  const exact = exactNumericStats(sortedFinite(refValues), sortedFinite(curValues));
  for (const key of Object.keys(BOUNDS) as (keyof typeof BOUNDS)[]) {
    expect(Number.isFinite(sketched[key]), key).toBe(true);
    expect(
      Math.abs(sketched[key] - exact[key]),
      `${key}: sketch ${sketched[key]} exact ${exact[key]}`,
    ).toBeLessThanOrEqual(BOUNDS[key]);
  }
}

describe('numerical statistics from sketches agree with the exact statistics', () => {
  let seed = 100;
  for (const distribution of TEST_DISTRIBUTIONS) {
    for (const n of SIZES) {
      it(`${distribution.name}, n = ${n}, same law and shifted law`, () => {
        for (const shifted of [false, true]) {
          const refValues = draw(distribution, n, seed++);
          const curValues = draw(distribution, n, seed++, shifted);
          expectWithinBounds(NumericSketch.of(refValues), NumericSketch.of(curValues), refValues, curValues);
        }
      });
    }
    it(`${distribution.name}, n = 20,000 sketched in 10 merged parts`, () => {
      for (const shifted of [false, true]) {
        const refValues = draw(distribution, 20_000, seed++);
        const curValues = draw(distribution, 20_000, seed++, shifted);
        expectWithinBounds(mergedSketch(refValues, 10), mergedSketch(curValues, 10), refValues, curValues);
      }
    });
  }

  it('holds with unequal sample sizes (reference 50,000, current 2,000)', () => {
    const normal = TEST_DISTRIBUTIONS[0];
    if (!normal) throw new Error('no normal distribution');
    const refValues = draw(normal, 50_000, 7);
    const curValues = draw(normal, 2_000, 8, true);
    expectWithinBounds(NumericSketch.of(refValues), NumericSketch.of(curValues), refValues, curValues);
  });
});

describe('hard cases: ties off any lattice, Pareto tails (α ≤ 2), point masses in a continuous part', () => {
  let seed = 5_000;
  for (const distribution of HARD_DISTRIBUTIONS) {
    for (const n of [100, 300]) {
      it(`${distribution.name}: ${n} current values (10 merged panes) against a 20,000-value reference`, () => {
        for (const shifted of [false, true]) {
          const refValues = draw(distribution, 20_000, seed++);
          const curValues = draw(distribution, n, seed++, shifted);
          expectWithinBounds(NumericSketch.of(refValues), mergedSketch(curValues, 10), refValues, curValues);
        }
      });
    }
    for (const n of [10_000, 200_000]) {
      it(`${distribution.name}, n = ${n}, one pass and 20 merged parts`, () => {
        for (const shifted of [false, true]) {
          const refValues = draw(distribution, n, seed++);
          const curValues = draw(distribution, n, seed++, shifted);
          expectWithinBounds(NumericSketch.of(refValues), mergedSketch(curValues, 20), refValues, curValues);
        }
      });
    }
  }

  it(`is exact (to rounding) while both windows hold at most ${EXACT_VALUES} distinct values`, () => {
    for (const distribution of [...TEST_DISTRIBUTIONS, ...HARD_DISTRIBUTIONS]) {
      for (const n of [100, 300, EXACT_VALUES]) {
        const refValues = draw(distribution, n, seed++);
        const curValues = draw(distribution, n, seed++, true);
        const ref = numericDistribution(mergedSketch(refValues, 7));
        const cur = numericDistribution(mergedSketch(curValues, 7));
        if (!ref || !cur) throw new Error('empty sketch');
        const sketched = numericalStats(ref, cur);
        const exact = exactNumericStats(sortedFinite(refValues), sortedFinite(curValues));
        for (const key of Object.keys(BOUNDS) as (keyof typeof BOUNDS)[]) {
          expect(Math.abs(sketched[key] - exact[key]), `${distribution.name} n=${n} ${key}`).toBeLessThan(1e-9);
        }
      }
    }
  });
});

describe('a reference profile (exact percentiles) against a current window dense at a reference decile', () => {
  // Pareto α=2 from 1 has its 40 % quantile at 1.29; the shifted law starts at 1.3, so the
  // current window is densest right at that reference edge. An edge read off the reference
  // digest is a few reference ranks off — within its guarantee — yet moves several current values
  // across it, and PSI takes logs of such nearly empty bins (and Evidently's zero filling jumps
  // when a bin holds one value): with digest edges these seeds were off by 0.12 to 4.4.
  const pareto = HARD_DISTRIBUTIONS.find((d) => d.name === 'Pareto α=2');
  if (!pareto) throw new Error('no Pareto α=2 test distribution');
  for (const seed of [420, 522, 862, 1356, 1430]) {
    it(`keeps every statistic within its bound (seed ${seed}, 10,000 values, current in 10 panes)`, () => {
      const refValues = draw(pareto, 10_000, seed);
      const curValues = draw(pareto, 10_000, seed + 1, true);
      const reference = NumericSketch.withExactPercentiles(refValues);
      expectWithinBounds(reference, mergedSketch(curValues, 10), refValues, curValues);
      const ref = numericDistribution(reference);
      if (!ref) throw new Error('empty sketch');
      const sorted = sortedFinite(refValues);
      const exactEdges = exactQuantileEdges(sorted, 10);
      expect(referenceBins(ref, 10)).toEqual({ edges: exactEdges, shares: exactBinShares(sorted, exactEdges) });
    });
  }

  it('gives the exact edges and shares, point masses included, for every bin count dividing 100, the digest otherwise', () => {
    const mixed = HARD_DISTRIBUTIONS.find((d) => d.name === 'point masses + continuous');
    if (!mixed) throw new Error('no point-mass test distribution');
    const values = draw(mixed, 20_000, 77);
    const sorted = sortedFinite(values);
    const ref = numericDistribution(NumericSketch.withExactPercentiles(values));
    const plain = numericDistribution(NumericSketch.of(values));
    if (!ref || !plain) throw new Error('empty sketch');
    for (const bins of [2, 4, 5, 10, 20, 25, 50, 100]) {
      const edges = exactQuantileEdges(sorted, bins);
      expect(referenceBins(ref, bins), `${bins} bins`).toEqual({ edges, shares: exactBinShares(sorted, edges) });
    }
    expect(referenceBins(ref, 7)).toEqual(referenceBins(plain, 7));
  });
});

describe('constant columns', () => {
  it('give finite statistics: 0 for the same constant, normalized by the 0.001 floor otherwise', () => {
    const five = distributionOf(Array(500).fill(5));
    const six = distributionOf(Array(500).fill(6));
    const same = numericalStats(five, distributionOf(Array(300).fill(5)));
    expect(same).toEqual({ ks: 0, ks_p_value: 1, wasserstein: 0, wasserstein_norm: 0, psi: 0, js: 0 });
    const moved = numericalStats(five, six);
    for (const value of Object.values(moved)) expect(Number.isFinite(value)).toBe(true);
    expect(moved.ks).toBe(1);
    expect(moved.wasserstein).toBe(1);
    expect(moved.wasserstein_norm).toBeCloseTo(1000, 9);
    expect(moved.js).toBeCloseTo(Math.sqrt(Math.LN2), 15);
    expect(moved.ks_p_value).toBeLessThan(1e-10);
  });

  it('a constant reference against a varying current stays finite', () => {
    const stats = numericalStats(
      distributionOf(Array(1000).fill(0)),
      distributionOf(draw(TEST_DISTRIBUTIONS[0]!, 1000, 3)),
    );
    for (const value of Object.values(stats)) expect(Number.isFinite(value)).toBe(true);
    expect(stats.psi).toBeGreaterThan(1);
  });
});

describe('the sketch CDF model', () => {
  it('turns heavy ties into exact jumps', () => {
    const values = [...Array(600).fill(1), ...Array(300).fill(2), ...Array(100).fill(3)];
    const d = distributionOf(values);
    expect(countAtOrBelow(d, 1)).toBe(600);
    expect(countBelow(d, 2)).toBe(600);
    expect(countAtOrBelow(d, 2)).toBe(900);
    expect(countAtOrBelow(d, 2.5)).toBe(900);
    expect(countAtOrBelow(d, 3)).toBe(1000);
    expect(inverseCount(d, 600)).toBe(1);
    expect(inverseCount(d, 601)).toBe(2);
    expect(inverseCount(d, 1000)).toBe(3);
  });

  it('reads the decimal precision of a number', () => {
    expect([decimals(40), decimals(-3.25), decimals(1e-7), decimals(1.5e21), decimals(0.1 + 0.2)]).toEqual([
      0, 2, 7, 0, 17,
    ]);
  });

  it('treats values on the data lattice as point masses even below the capacity rule', () => {
    // 60 distinct integers of ~1.7 % each: under 4× the t-digest capacity at n = 6,000.
    const values = Array.from({ length: 6_000 }, (_, i) => 10 + (i % 60));
    const d = distributionOf(values);
    for (const x of [10, 25, 40, 69]) {
      expect(countAtOrBelow(d, x)).toBe((x - 9) * 100);
      expect(countBelow(d, x)).toBe((x - 10) * 100);
    }
  });

  it('is monotone and spans [0, n] from min to max on continuous data', () => {
    const values = draw(TEST_DISTRIBUTIONS[1]!, 5_000, 11);
    const d = distributionOf(values);
    expect(countBelow(d, d.min)).toBe(0);
    expect(countAtOrBelow(d, d.max)).toBe(5_000);
    let previous = 0;
    for (let i = 0; i <= 200; i++) {
      const x = d.min + ((d.max - d.min) * i) / 200;
      const f = countAtOrBelow(d, x);
      expect(f).toBeGreaterThanOrEqual(previous);
      previous = f;
    }
  });
});

describe('KS p-value', () => {
  it('is not small for samples of the same law', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = mulberry32(seed);
      const z = normalSampler(random);
      const ref = distributionOf(Array.from({ length: 2_000 }, z));
      const cur = distributionOf(Array.from({ length: 2_000 }, z));
      expect(numericalStats(ref, cur).ks_p_value).toBeGreaterThan(0.01);
    }
  });

  it('is below 0.05 for a 1-σ shift at n = 500', () => {
    const z = normalSampler(mulberry32(42));
    const refValues = Array.from({ length: 500 }, z);
    const curValues = Array.from({ length: 500 }, () => z() + 1);
    const stats = numericalStats(distributionOf(refValues), distributionOf(curValues));
    expect(stats.ks_p_value).toBeLessThan(0.05);
    // And it is the p-value of the exact statistic, up to the sketch's error in D.
    const exactP = ksPValue(exactKs(sortedFinite(refValues), sortedFinite(curValues)), 500, 500);
    expect(Math.abs(Math.log10(stats.ks_p_value) - Math.log10(exactP))).toBeLessThan(1);
  });

  it('matches scipy: ks_2samp asymptotic limit kstwobign.sf(D·√(nm/(n+m)))', () => {
    // scipy.stats.kstwobign.sf(0.1 * np.sqrt(400 * 600 / 1000)) = 0.016459484923676555
    expect(Math.abs(ksPValue(0.1, 400, 600) - 0.016459484923676555)).toBeLessThan(1e-12);
    expect(ksPValue(0.1, 600, 400)).toBe(ksPValue(0.1, 400, 600));
  });
});
