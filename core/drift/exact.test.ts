import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../random.ts';
import { fillZeros, jensenShannonDistance, populationStabilityIndex } from './divergence.ts';
import {
  exactBinShares,
  exactKs,
  exactNumericStats,
  exactQuantileEdges,
  exactWasserstein,
  ksTwoSamplePValue,
  kstwoSf,
  populationStd,
  roundHalfEven,
  sortedFinite,
  sortNumbers,
} from './exact.ts';
import { kolmogorovSf } from './special.ts';

// Reference values from scipy 1.17.1: stats.ks_2samp(a, b).statistic,
// stats.wasserstein_distance(a, b), numpy.std(a), spatial.distance.jensenshannon(p, q) (natural log, as Evidently).

describe('exact statistics on raw values', () => {
  const a = sortedFinite([1, 2, 2, 3, 5, 8, 8, 8, 13]);
  const b = sortedFinite([2, 3, 3, 4, 8, 9, 10, 21]);

  it('KS and Wasserstein match scipy on data with ties', () => {
    expect(exactKs(a, b)).toBeCloseTo(0.2638888888888889, 14);
    expect(exactWasserstein(a, b)).toBeCloseTo(2.0555555555555554, 13);
    expect(populationStd(a)).toBeCloseTo(3.7449554547450483, 13);
  });

  it('KS and Wasserstein match scipy on distinct values', () => {
    const c = sortedFinite([0.5, 1.5, 2.5, -1, 7.25]);
    const d = sortedFinite([0.4, 1.6, 3.0]);
    expect(exactKs(c, d)).toBeCloseTo(0.26666666666666666, 14);
    expect(exactWasserstein(c, d)).toBeCloseTo(1.3633333333333333, 13);
    expect(exactKs(c, c)).toBe(0);
    expect(exactWasserstein(c, c)).toBe(0);
  });

  it('drops non-finite values and sorts', () => {
    expect([...sortedFinite([3, null, Number.NaN, 1, undefined, Number.POSITIVE_INFINITY, 2])]).toEqual([1, 2, 3]);
  });

  it('uses type-1 reference quantiles as bin edges and drops duplicate edges', () => {
    const values = sortedFinite([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(exactQuantileEdges(values, 5)).toEqual([2, 4, 6, 8]);
    const tied = sortedFinite([1, 1, 1, 1, 1, 1, 2, 2, 3, 3]);
    expect(exactQuantileEdges(tied, 10)).toEqual([1, 2, 3]);
    expect(exactBinShares(tied, [1, 2, 3])).toEqual([0.6, 0.2, 0.2, 0]);
  });
});

describe('sortNumbers', () => {
  it('sorts as the built-in sort does: signs, ±0, ties, subnormals, huge and tiny magnitudes', () => {
    const random = mulberry32(11);
    for (const n of [10, 5_000, 70_000]) {
      const values = Float64Array.from({ length: n }, (_, i) => {
        const u = random();
        if (i % 9 === 0) return Math.round(u * 20) - 10;
        if (i % 13 === 0) return (u - 0.5) * 1e-310;
        return (u - 0.5) * 10 ** (Math.floor(random() * 80) - 40);
      });
      values[1] = -0;
      values[2] = 0;
      values[3] = Number.MAX_VALUE;
      values[4] = -Number.MAX_VALUE;
      const expected = values.slice().sort();
      const sorted = sortNumbers(values);
      expect(sorted).toBe(values);
      for (let i = 0; i < n; i++) expect(Object.is(sorted[i], expected[i])).toBe(true);
    }
  });
});

describe('KS p-value as scipy ks_2samp computes it by default', () => {
  // scipy 1.17.1: stats.ks_2samp(a, b) on rounded normal samples of these sizes → (D, p-value).
  const scipy: [n: number, m: number, d: number, p: number][] = [
    [100, 100, 0.18, 0.07822115797841851],
    [120, 100, 0.18666666666666668, 0.038978249541437485],
    [100, 150, 0.22666666666666666, 0.0036671094001636192],
    [37, 53, 0.30086690464048954, 0.029766277676415293],
    [7, 11, 0.5454545454545454, 0.10532931121166415],
    [1000, 300, 0.103, 0.013919481026326296],
    [1000, 5000, 0.0302, 0.4273113021503074],
    [1000, 10000, 0.0146, 0.9890275897282012],
  ];

  it.each(scipy)('exact distribution for n=%i, m=%i', (n, m, d, p) => {
    expect(ksTwoSamplePValue(d, n, m)).toBeCloseTo(p, 13);
    expect(ksTwoSamplePValue(d, m, n)).toBeCloseTo(p, 13);
  });

  it('is 1 at D = 0, and 2·smirnov for small p-values beyond 10,000 values a side', () => {
    expect(ksTwoSamplePValue(0, 300, 200)).toBe(1);
    // There (n·x² ≥ 2.2, p ≈ 0.007) scipy takes 2·smirnov(750, d) = 0.007323167151996999.
    expect(ksTwoSamplePValue(0.060916666666666675, 800, 12000)).toBeCloseTo(0.007323167151996999, 14);
  });

  it('beyond 10,000 values a side: scipy kstwo.sf at the effective size, wherever p is near 0.05', () => {
    // scipy 1.17.1: stats.kstwo.sf(x, n) with x = sqrt(n·x²/n) (Pelz–Good there), and ks_2samp.
    const kstwo: [n: number, nx2: number, sf: number][] = [
      [141, 1.7, 0.061787],
      [300, 1.85, 0.046811],
      [750, 1.4, 0.118102],
      [1000, 1.85, 0.048014],
      [4000, 2.0, 0.036081],
      [9000, 0.6, 0.583061],
    ];
    for (const [n, nx2, sf] of kstwo) {
      const x = Math.sqrt(nx2 / n);
      expect(kstwoSf(x, n)).toBeCloseTo(sf, 6);
      // The limit alone is off by more than the rounding here: the finite-n terms are used.
      expect(Math.abs(kolmogorovSf(x * Math.sqrt(n)) - sf)).toBeGreaterThan(5e-4);
    }
    expect(ksTwoSamplePValue(0.04626666666666668, 1000, 15000)).toBeCloseTo(0.03492847013939182, 10);
    expect(ksTwoSamplePValue(0.038199999999999984, 500, 20000)).toBeCloseTo(0.46333977459426245, 10);
    expect(ksTwoSamplePValue(0.08578787878787875, 300, 11000)).toBeCloseTo(0.025580952664231993, 10);
  });

  it('exactNumericStats reports it beside D', () => {
    const ref = sortedFinite(Array.from({ length: 120 }, (_, i) => i));
    const cur = sortedFinite(Array.from({ length: 100 }, (_, i) => i + 30));
    const stats = exactNumericStats(ref, cur);
    expect(stats.ks).toBeCloseTo(0.25, 15);
    expect(stats.ks_p_value).toBe(ksTwoSamplePValue(0.25, 120, 100));
    expect(stats.ks_p_value).toBeLessThan(0.01);
  });
});

describe('divergences', () => {
  it('Jensen–Shannon distance in natural logs (as Evidently) matches scipy and spans [0, √ln 2]', () => {
    // scipy base=2 gives 0.20050332253142814; natural log is that times √ln 2.
    expect(jensenShannonDistance([0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25])).toBeCloseTo(0.1669299657259796, 14);
    expect(jensenShannonDistance([1, 0], [0, 1])).toBeCloseTo(Math.sqrt(Math.LN2), 15);
    expect(jensenShannonDistance([0.5, 0.5], [0.5, 0.5])).toBe(0);
  });

  it('PSI fills empty bins as Evidently does', () => {
    expect(fillZeros([0.5, 0, 0.5])).toEqual([0.5, 0.0001, 0.5]);
    expect(fillZeros([0.99995, 0, 0.00005])).toEqual([0.99995, 0.00005 / 1e6, 0.00005]);
    const psi = populationStabilityIndex([0.5, 0.5, 0], [0.4, 0.4, 0.2]);
    const expected = 2 * (0.4 - 0.5) * Math.log(0.4 / 0.5) + (0.2 - 0.0001) * Math.log(0.2 / 0.0001);
    expect(psi).toBeCloseTo(expected, 14);
    expect(populationStabilityIndex([0.2, 0.8], [0.2, 0.8])).toBe(0);
  });
});

describe('scipy ks_2samp regime by regime (its switch-overs, fallback and rounding)', () => {
  // scipy 1.17.1 (the Evidently bench's venv, ~/.cache/driftline/evidently-0.7.23):
  //   stats.kstwo.sf(x, n) for one (n, x) in each branch of scipy.stats._ksstats._kolmogn.
  const kstwo: [regime: string, n: number, x: number, sf: number][] = [
    ['n·x ≤ 0.5', 100, 0.004, 1],
    ['Ruben–Gambino n·x ≤ 1, n ≤ 140', 100, 0.008, 1.0],
    ['Ruben–Gambino n·x ≤ 1, n > 140', 1000, 0.0009, 1.0],
    ['Ruben–Gambino n·x ≥ n − 1', 10, 0.95, 1.9531250000000172e-13],
    ['x ≥ 0.5: 2·smirnov', 10, 0.6, 0.0005681672000000003],
    ['x ≥ 0.5: 2·smirnov, n > 140', 300, 0.5, 7.063417378483843e-70],
    ['n ≤ 140, n·x² ≤ 0.754693: Durbin matrix', 100, 0.08, 0.5182193645480672],
    ['n ≤ 140, n·x² ≤ 0.754693: Durbin matrix', 140, 0.07, 0.4776228287946577],
    ['n ≤ 140, n·x² ≤ 4: Pomeranz', 100, 0.13, 0.06209234069876253],
    ['n ≤ 140, n·x² ≤ 4: Pomeranz', 140, 0.1, 0.11353657290090946],
    ['n ≤ 140, n·x² ≤ 4: Pomeranz', 50, 0.25, 0.0030657620198693003],
    ['n ≤ 140, n·x² ≤ 4: Pomeranz', 100, 0.1234, 0.08728573435923635],
    ['n ≤ 140, n·x² > 4: 2·smirnov', 100, 0.25, 5.408871776434847e-6],
    ['n ≤ 140, n·x² > 4: 2·smirnov', 30, 0.45, 4.60170836663682e-6],
    ['n > 140, n·x² ≥ 2.2: 2·smirnov', 5000, 0.025, 0.0037948405200437306],
    ['n > 140, n·x² ≥ 2.2: 2·smirnov', 20000, 0.012, 0.006251252284121751],
    ['n > 140, n·x² ≥ 370: 0', 10000, 0.2, 0],
    ['n ≤ 100,000, n·x^1.5 ≤ 1.4: Durbin matrix', 1000, 0.01, 0.9999496745370611],
    ['n ≤ 100,000, n·x^1.5 ≤ 1.4: Durbin matrix', 20000, 0.0015, 0.999999999980361],
    ['n > 100,000: Pelz–Good', 200000, 0.0003, 1.0],
    ['Pelz–Good', 4000, 0.0223606797749979, 0.03608096032508612],
  ];

  it.each(kstwo)('kstwo.sf, %s (n=%i, x=%d)', (_regime, n, x, sf) => {
    const p = kstwoSf(x, n);
    // To ~10 significant digits: the one-sided sums run in doubles here, double-doubles in scipy.
    expect(Math.abs(p - sf)).toBeLessThanOrEqual(5e-11 * sf + 1e-300);
  });

  // scipy 1.17.1: stats.ks_2samp(a, b) on rounded normal samples (numpy default_rng(7), the
  // current shifted) of these sizes → (statistic, pvalue); method 'auto' is 'asymp' beyond
  // 10,000 a side: kstwo.sf(d, round(n·m/(n+m))).
  const asymptotic: [n: number, m: number, d: number, p: number, regime: string][] = [
    [100, 20000, 0.23444999999999994, 2.5618427760509564e-5, 'effective size 100: 2·smirnov'],
    [120, 15000, 0.1136666666666667, 0.08534723112373234, 'effective size 119: Pomeranz'],
    [60, 30000, 0.2421333333333333, 0.0013960972805994176, 'effective size 60: Pomeranz'],
    [10001, 10001, 0.024397560243975658, 0.00511257034883831, 'effective size 5000.5, rounded half to even'],
    [9000, 12000, 0.02949999999999997, 0.0002537246437745887, 'effective size 5143: 2·smirnov'],
    [3000, 40000, 0.033658333333333346, 0.003502973193602496, 'effective size 2791: 2·smirnov'],
  ];

  it.each(asymptotic)('ks_2samp beyond 10,000 a side: n=%i, m=%i', (n, m, d, p) => {
    expect(Math.abs(ksTwoSamplePValue(d, n, m) - p)).toBeLessThanOrEqual(1e-11 * p);
    expect(ksTwoSamplePValue(d, m, n)).toBe(ksTwoSamplePValue(d, n, m));
  });

  it('exact lattice sum: within 1e-14 of scipy, also in the far tail and at 9,999 × 10,000', () => {
    // scipy 1.17.1: _stats_pythran._compute_outer_prob_inside_method(n, m, gcd, round(d·lcm)).
    // (Dividing by i + j through a table of reciprocals, twice as fast, costs the last bits.)
    const pythran: [n: number, m: number, d: number, p: number][] = [
      [1000, 10000, 0.2, 2.591662983400495e-32],
      [1000, 10000, 0.06, 0.002771946109218842],
      [999, 10000, 0.03, 0.3789411021646691],
      [9999, 10000, 0.06, 4.275090570327738e-16],
      [9999, 10000, 0.01, 0.6934616429853464],
      [700, 9999, 0.05, 0.07324441762586618],
    ];
    for (const [n, m, d, p] of pythran) {
      expect(Math.abs(ksTwoSamplePValue(d, n, m) - p), `${n} × ${m}`).toBeLessThanOrEqual(1e-14 * p);
    }
  });

  it('rounds the effective size as numpy does: 5000.5 → 5000, not 5001', () => {
    expect(roundHalfEven(5000.5)).toBe(5000);
    expect(roundHalfEven(5001.5)).toBe(5002);
    expect(roundHalfEven(99.502)).toBe(100);
    const d = 0.024397560243975658;
    expect(ksTwoSamplePValue(d, 10001, 10001)).toBe(kstwoSf(d, 5000));
    expect(Math.abs(kstwoSf(d, 5001) - kstwoSf(d, 5000))).toBeGreaterThan(1e-6);
  });

  it('falls back as scipy does when the exact sum leaves [0, 1] (n = m, D = 1/n)', () => {
    // scipy: ks_2samp(arange(30), arange(30) + 0.5) warns "Exact calculation unsuccessful.
    // Switching to method=asymp" and gives kstwo.sf(1/30, 15) = 1.0 (the closed form sums to
    // 1.0000000000000004 there, for n = 30, h = 1).
    expect(ksTwoSamplePValue(1 / 30, 30, 30)).toBe(1);
    const a = sortedFinite(Array.from({ length: 30 }, (_, i) => i));
    const b = sortedFinite(Array.from({ length: 30 }, (_, i) => i + 0.5));
    expect(exactNumericStats(a, b).ks_p_value).toBe(1);
  });
});
