import { TDigest } from 'tdigest';
import { describe, expect, it } from 'vitest';
import { DriftlineError, ErrorCode } from '../errors.ts';
import { mulberry32, type Random } from '../random.ts';
import {
  DEFAULT_COMPRESSION,
  EXACT_VALUES,
  NumericSketch,
  type NumericSketchJSON,
  PERCENTILES,
  typeOneQuantile,
} from './numeric-sketch.ts';

const QS = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99];
const N = 50_000;

function normal(random: Random): () => number {
  // Box–Muller; 1 − u keeps the log argument in (0, 1].
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function sample(n: number, next: () => number): number[] {
  return Array.from({ length: n }, next);
}

function sortedCopy(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/** Fraction of the sorted values ≤ v. */
function rankOf(sorted: readonly number[], v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo / sorted.length;
}

/** The t-digest rank error bound documented in numeric-sketch.ts, plus slack for ties at n. */
function rankTolerance(q: number, n: number): number {
  return 2 * DEFAULT_COMPRESSION * q * (1 - q) + 2 / n;
}

function exactMoments(values: readonly number[]) {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1);
  return { mean, variance, min: Math.min(...values), max: Math.max(...values) };
}

function expectRelativelyClose(actual: number, expected: number, tolerance: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(expected)));
}

describe('NumericSketch quantiles against exact sample quantiles', () => {
  const cases: [string, () => number][] = [
    ['standard normal', normal(mulberry32(1))],
    [
      'lognormal',
      (() => {
        const z = normal(mulberry32(2));
        return () => Math.exp(z());
      })(),
    ],
  ];

  for (const [name, next] of cases) {
    it(`stays within the rank error bound on ${name} data`, () => {
      const values = sample(N, next);
      const sorted = sortedCopy(values);
      const sketch = NumericSketch.of(values);
      for (const q of QS) {
        const estimate = sketch.quantile(q);
        expect(Math.abs(rankOf(sorted, estimate) - q), `q=${q}`).toBeLessThanOrEqual(rankTolerance(q, N));
        // And the estimate is close in value space: between the exact quantiles at q ± tolerance.
        const lo = sorted[Math.floor((q - rankTolerance(q, N)) * N)] as number;
        const hi = sorted[Math.ceil((q + rankTolerance(q, N)) * N)] as number;
        expect(estimate).toBeGreaterThanOrEqual(lo);
        expect(estimate).toBeLessThanOrEqual(hi);
      }
      expect(sketch.quantile(0)).toBe(sorted[0]);
      expect(sketch.quantile(1)).toBe(sorted[N - 1]);
      expect(sketch.centroidCount).toBeLessThan(1_000);
    });
  }

  it('is within one step of the exact quantile on integer data with ties', () => {
    // Rounded lognormal: values 1…~30, most of them repeated thousands of times.
    const z = normal(mulberry32(3));
    const values = sample(N, () => Math.round(Math.exp(1.5 + 0.5 * z())));
    const sorted = sortedCopy(values);
    const sketch = NumericSketch.of(values);
    for (const q of QS) {
      const exact = sorted[Math.min(N - 1, Math.floor(q * N))] as number;
      // Interpolation between mid-ranks puts the estimate between the true value and its
      // neighbour: floor or ceil of the estimate is the true quantile.
      expect(Math.abs(sketch.quantile(q) - exact), `q=${q}`).toBeLessThan(1);
    }
    // Few distinct values: each has its own centroid (the sketch is exact), so the CDF there is
    // its exact mid-rank.
    expect(sketch.toJSON().means).toEqual(expect.arrayContaining([3, 4, 5, 8]));
    for (const x of [3, 4, 5, 8]) {
      const below = rankOf(sorted, x - 0.5);
      const atOrBelow = rankOf(sorted, x);
      expect(sketch.cdf(x)).toBeCloseTo((below + atOrBelow) / 2, 12);
    }
  });

  it('holds a small sample exactly: quantile and cdf are those of its mid-rank ECDF', () => {
    const values = sample(EXACT_VALUES, normal(mulberry32(4)));
    const sketch = NumericSketch.of(values);
    const sorted = sortedCopy(values);
    expect(sketch.exact).toBe(true);
    expect(sketch.toJSON().means).toEqual(sorted);
    for (const x of [-1.5, -0.2, 0, 0.4, 2]) {
      // Strictly between two sample values the ramp through mid-ranks is linear.
      const i = rankOf(sorted, x) * values.length;
      const [v0, v1] = [sorted[i - 1] as number, sorted[i] as number];
      expect(sketch.cdf(x)).toBeCloseTo((i - 0.5 + (x - v0) / (v1 - v0)) / values.length, 12);
    }
  });

  it('uses the true min and max at the ends, where tdigest percentile would not', () => {
    const sketch = NumericSketch.of([5, 1, 3, 3, 3, 9, 7]);
    expect(sketch.quantile(0)).toBe(1);
    expect(sketch.quantile(1)).toBe(9);
    expect(sketch.cdf(0.99)).toBe(0);
    expect(sketch.cdf(9)).toBe(1);
    expect(sketch.cdf(100)).toBe(1);
    // 3 carries a tie of 3 out of 7 after one value below it: mid-rank (1 + 1.5) / 7.
    expect(sketch.cdf(3)).toBeCloseTo(2.5 / 7, 12);
    for (let q = 0; q <= 1; q += 0.05) {
      const x = sketch.quantile(q);
      expect(x).toBeGreaterThanOrEqual(1);
      expect(x).toBeLessThanOrEqual(9);
    }
  });

  it('is monotone in q and in x', () => {
    const sketch = NumericSketch.of(sample(10_000, normal(mulberry32(5))));
    let previous = Number.NEGATIVE_INFINITY;
    for (let q = 0; q <= 1.0000001; q += 0.001) {
      const x = sketch.quantile(Math.min(q, 1));
      expect(x).toBeGreaterThanOrEqual(previous);
      previous = x;
    }
    let previousP = 0;
    for (let x = -5; x <= 5; x += 0.01) {
      const p = sketch.cdf(x);
      expect(p).toBeGreaterThanOrEqual(previousP);
      previousP = p;
    }
  });
});

describe('NumericSketch moments and missing values', () => {
  it('has exact count, min, max, mean and sample variance', () => {
    const values = sample(N, normal(mulberry32(6))).map((v) => 100 + 15 * v);
    const sketch = NumericSketch.of(values);
    const exact = exactMoments(values);
    expect(sketch.count).toBe(N);
    expect(sketch.min).toBe(exact.min);
    expect(sketch.max).toBe(exact.max);
    expectRelativelyClose(sketch.mean, exact.mean, 1e-12);
    expectRelativelyClose(sketch.variance, exact.variance, 1e-10);
    expect(sketch.std).toBeCloseTo(Math.sqrt(exact.variance), 9);
  });

  it('counts null and non-finite values apart and keeps them out of every statistic', () => {
    const sketch = NumericSketch.of([1, null, 2, Number.NaN, undefined, Number.POSITIVE_INFINITY, 3]);
    expect(sketch.count).toBe(3);
    expect(sketch.nullCount).toBe(2);
    expect(sketch.nonFiniteCount).toBe(2);
    expect(sketch.mean).toBe(2);
    expect(sketch.variance).toBe(1);
    expect(sketch.max).toBe(3);
  });

  it('is NaN, not a number, where nothing was seen', () => {
    const empty = NumericSketch.create();
    expect(empty.count).toBe(0);
    for (const v of [empty.min, empty.max, empty.mean, empty.variance, empty.quantile(0.5), empty.cdf(1)]) {
      expect(v).toBeNaN();
    }
    expect(NumericSketch.of([4]).variance).toBeNaN();
    expect(() => empty.quantile(1.5)).toThrow(RangeError);
  });
});

describe('NumericSketch merge', () => {
  it('equals one sketch over all values: moments exactly, quantiles within t-digest error', () => {
    const z = normal(mulberry32(7));
    // Five parts with different locations, so the merged mean/variance really exercise Chan's update.
    const parts = [0, 1, 2, 3, 4].map((k) => sample(10_000, () => k * 2 + (k + 1) * z()));
    const all = parts.flat();
    const merged = parts.map((p) => NumericSketch.of(p)).reduce((a, b) => a.merge(b));
    const single = NumericSketch.of(all);
    const exact = exactMoments(all);
    expect(merged.count).toBe(single.count);
    expect(merged.min).toBe(exact.min);
    expect(merged.max).toBe(exact.max);
    expectRelativelyClose(merged.mean, single.mean, 1e-12);
    expectRelativelyClose(merged.variance, single.variance, 1e-12);
    expectRelativelyClose(merged.variance, exact.variance, 1e-10);
    const sorted = sortedCopy(all);
    for (const q of QS) {
      expect(Math.abs(rankOf(sorted, merged.quantile(q)) - q), `q=${q}`).toBeLessThanOrEqual(
        rankTolerance(q, all.length),
      );
      expect(Math.abs(merged.cdf(single.quantile(q)) - q)).toBeLessThanOrEqual(2 * rankTolerance(q, all.length));
    }
    expect(merged.centroidCount).toBeLessThan(1_500);
  });

  it('merges missing counts, and with empty sketches on either side', () => {
    const a = NumericSketch.of([1, 2, null]);
    const b = NumericSketch.of([Number.NaN, 10]);
    a.merge(b).merge(NumericSketch.create());
    expect(a.count).toBe(3);
    expect(a.nullCount).toBe(1);
    expect(a.nonFiniteCount).toBe(1);
    expect(a.mean).toBeCloseTo(13 / 3, 12);
    const empty = NumericSketch.create().merge(a);
    expect(empty.toJSON()).toMatchObject({ count: 3, min: 1, max: 10, nullCount: 1 });
    expect(empty.quantile(1)).toBe(10);
    expect(b.count).toBe(1); // the merged-in sketch is unchanged
  });

  it('is deterministic: the same inputs give byte-identical JSON', () => {
    const values = sample(30_000, normal(mulberry32(8)));
    const build = () =>
      NumericSketch.of(values.slice(0, 10_000))
        .merge(NumericSketch.of(values.slice(10_000)))
        .toJSON();
    expect(JSON.stringify(build())).toBe(JSON.stringify(build()));
  });
});

describe('NumericSketch JSON', () => {
  it('round-trips through JSON text exactly', () => {
    const sketch = NumericSketch.of([...sample(20_000, normal(mulberry32(9))), null, Number.NaN]);
    const json = sketch.toJSON();
    expect(json.means).toHaveLength(json.counts.length);
    expect(json.counts.reduce((a, b) => a + b, 0)).toBe(json.count);
    const restored = NumericSketch.fromJSON(JSON.parse(JSON.stringify(json)));
    expect(restored.toJSON()).toEqual(json);
    for (const q of QS) expect(restored.quantile(q)).toBe(sketch.quantile(q));
    expect(restored.variance).toBe(sketch.variance);
  });

  it('round-trips an empty sketch (null min/max/mean)', () => {
    const json = NumericSketch.of([null]).toJSON();
    expect(json).toMatchObject({ count: 0, nullCount: 1, min: null, max: null, mean: null, means: [], counts: [] });
    expect(NumericSketch.fromJSON(json).toJSON()).toEqual(json);
  });

  it('rejects malformed objects with DECODE_FAILED, naming the problem', () => {
    const good = NumericSketch.of([1, 2, 3]).toJSON();
    const bad: unknown[] = [
      null,
      { ...good, format: 3 },
      { ...good, pointMass: [true, true] },
      { ...good, format: 1 },
      { ...good, means: [1, 3, 2] },
      { ...good, counts: [1, 1] },
      { ...good, count: 4 },
      { ...good, min: null },
      { ...good, compression: 0 },
    ];
    for (const value of bad) {
      const error = (() => {
        try {
          NumericSketch.fromJSON(value);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(DriftlineError);
      expect((error as DriftlineError).code).toBe(ErrorCode.DECODE_FAILED);
    }
  });
});

describe('NumericSketch point masses and exactness', () => {
  it(`stays exact up to ${EXACT_VALUES} distinct values, whatever the count, and merges exactly`, () => {
    const values = sample(
      200_000,
      (() => {
        const random = mulberry32(20);
        // 700 distinct full-precision floats, repeated unevenly.
        return () => Math.sqrt(2 + Math.floor(700 * random() ** 2));
      })(),
    );
    const parts = [0, 1, 2, 3].map((i) => NumericSketch.of(values.slice(i * 50_000, (i + 1) * 50_000)));
    const merged = parts.reduce((a, b) => a.merge(b));
    const single = NumericSketch.of(values);
    expect(single.exact).toBe(true);
    expect(merged.toJSON().means).toEqual(single.toJSON().means);
    expect(merged.toJSON().counts).toEqual(single.toJSON().counts);
    const counts = new Map<number, number>();
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    const json = single.toJSON();
    expect(json.means).toEqual([...counts.keys()].sort((a, b) => a - b));
    expect(json.counts).toEqual(json.means.map((m) => counts.get(m)));
    expect(json.pointMass?.every(Boolean)).toBe(true);
  });

  it('becomes a digest when a merge of exact sketches passes the cap, with every count kept', () => {
    const a = NumericSketch.of(sample(600, normal(mulberry32(23))));
    const b = NumericSketch.of(sample(600, normal(mulberry32(24))));
    expect([a.exact, b.exact]).toEqual([true, true]);
    const merged = a.clone().merge(b);
    expect(merged.exact).toBe(false);
    expect(merged.count).toBe(1_200);
    expect(merged.centroidCount).toBeLessThan(EXACT_VALUES);
    const json = merged.toJSON();
    expect(json.counts.reduce((x, y) => x + y, 0)).toBe(1_200);
    expect([json.min, json.max]).toEqual([Math.min(a.min, b.min), Math.max(a.max, b.max)]);
    // The extreme tails stay single values: the smallest and largest few are exact.
    expect(json.counts.slice(0, 5)).toEqual([1, 1, 1, 1, 1]);
    expect(json.counts.slice(-5)).toEqual([1, 1, 1, 1, 1]);
  });

  it('compresses beyond that, keeping a repeated value inside a continuous part as an exact point mass', () => {
    const random = mulberry32(21);
    const z = normal(random);
    // 4 % of the values are exactly π, the rest continuous around it.
    const values = sample(100_000, () => (random() < 0.04 ? Math.PI : 3 + z()));
    const exactCount = values.filter((v) => v === Math.PI).length;
    for (const sketch of [
      NumericSketch.of(values),
      [0, 1, 2, 3, 4]
        .map((i) => NumericSketch.of(values.slice(i * 20_000, (i + 1) * 20_000)))
        .reduce((a, b) => a.merge(b)),
    ]) {
      const json = sketch.toJSON();
      expect(sketch.exact).toBe(false);
      expect(json.means.length).toBeLessThan(1_500);
      const i = json.means.indexOf(Math.PI);
      expect(json.pointMass?.[i]).toBe(true);
      // Every copy of π sits in its point mass: nothing else equals π, so its count is exact.
      expect(json.counts[i]).toBe(exactCount);
    }
  });

  it('reads format 1 (the tdigest-based sketch), inferring point masses, and writes format 2', () => {
    const values = [...Array(3_000).fill(7), ...sample(5_000, normal(mulberry32(22)))];
    const digest = new TDigest(DEFAULT_COMPRESSION);
    digest.push(values);
    const centroids = digest.toArray();
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const legacy: NumericSketchJSON = {
      format: 1,
      compression: DEFAULT_COMPRESSION,
      count: values.length,
      nullCount: 0,
      nonFiniteCount: 0,
      min: Math.min(...values),
      max: Math.max(...values),
      mean,
      m2: values.reduce((a, b) => a + (b - mean) ** 2, 0),
      means: centroids.map((c) => c.mean),
      counts: centroids.map((c) => c.n),
    };
    const sketch = NumericSketch.fromJSON(legacy);
    const json = sketch.toJSON();
    expect(json.format).toBe(2);
    expect(json.count).toBe(values.length);
    // The 3,000 sevens are far beyond a centroid's capacity: inferred as a point mass.
    expect(json.pointMass?.[json.means.indexOf(7)]).toBe(true);
    expect(json.counts[json.means.indexOf(7)]).toBe(3_000);
    // And it merges with a format-2 sketch.
    sketch.merge(NumericSketch.of([7, 7, 1]));
    expect(sketch.count).toBe(values.length + 3);
    expect(sketch.toJSON().counts[sketch.toJSON().means.indexOf(7)]).toBe(3_002);
  });
});

describe('NumericSketch exact percentiles (reference profiles)', () => {
  const values = [...sample(20_000, normal(mulberry32(41))), null, Number.NaN, 3, 3, 3];
  const sorted = Float64Array.from(
    values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v)),
  ).sort();

  it('keeps the type-1 percentiles of the finite values and the count at or below each', () => {
    const sketch = NumericSketch.withExactPercentiles(values);
    const p = sketch.exactPercentiles;
    expect(p?.values).toHaveLength(PERCENTILES);
    for (let k = 1; k <= PERCENTILES; k++) {
      const x = p?.values[k - 1] as number;
      // The smallest value whose ECDF reaches k/100.
      expect(sorted.filter((v) => v <= x).length / sorted.length).toBeGreaterThanOrEqual(k / 100);
      expect(sorted.filter((v) => v < x).length / sorted.length).toBeLessThan(k / 100);
      expect(p?.atOrBelow[k - 1]).toBe(sorted.filter((v) => v <= x).length);
    }
    // Otherwise the same sketch as one built by pushing.
    const { percentiles, ...rest } = sketch.toJSON();
    expect(rest).toEqual(NumericSketch.of(values).toJSON());
    expect(percentiles?.values).toEqual(p?.values);
  });

  it('counts ties: a repeated percentile value carries all its copies', () => {
    const tied = [1, 2, 2, 2, 2, 2, 2, 2, 2, 3];
    const p = NumericSketch.withExactPercentiles(tied).exactPercentiles;
    expect(p?.values[9]).toBe(1); // 10 %: the first value
    expect(p?.atOrBelow[9]).toBe(1);
    expect(p?.values[49]).toBe(2);
    expect(p?.atOrBelow[49]).toBe(9);
    expect(p?.values[98]).toBe(3);
  });

  it('agrees with the type-1 quantile at k/10 (the PSI decile edges)', () => {
    const p = NumericSketch.withExactPercentiles(values).exactPercentiles;
    for (let k = 1; k < 10; k++) expect(p?.values[10 * k - 1]).toBe(typeOneQuantile(sorted, k, 10));
  });

  it('survives JSON and clone, and is dropped by any push or merge', () => {
    const sketch = NumericSketch.withExactPercentiles(values);
    const copy = NumericSketch.fromJSON(JSON.parse(JSON.stringify(sketch.toJSON())));
    expect(copy.exactPercentiles).toEqual(sketch.exactPercentiles);
    expect(sketch.clone().exactPercentiles).toEqual(sketch.exactPercentiles);
    copy.push(1);
    expect(copy.exactPercentiles).toBeUndefined();
    expect(copy.toJSON()).not.toHaveProperty('percentiles');
    const merged = sketch.clone().merge(NumericSketch.of([1, 2]));
    expect(merged.exactPercentiles).toBeUndefined();
    expect(NumericSketch.withExactPercentiles([null]).exactPercentiles).toBeUndefined();
    expect(NumericSketch.of(values).toJSON()).not.toHaveProperty('percentiles');
  });

  it('rejects malformed percentiles with DECODE_FAILED', () => {
    const json = NumericSketch.withExactPercentiles(values).toJSON();
    const p = json.percentiles as NonNullable<NumericSketchJSON['percentiles']>;
    const bad: unknown[] = [
      { ...json, percentiles: { ...p, values: p.values.slice(1) } },
      { ...json, percentiles: { ...p, values: [...p.values].reverse() } },
      { ...json, percentiles: { ...p, values: p.values.map((v, i) => (i === 98 ? (json.max as number) + 1 : v)) } },
      { ...json, percentiles: { ...p, atOrBelow: p.atOrBelow.map((c, i) => (i === 98 ? json.count + 1 : c)) } },
      { ...json, percentiles: { ...p, atOrBelow: p.atOrBelow.map((c) => c + 0.5) } },
      { ...json, percentiles: p.values },
    ];
    for (const object of bad) {
      expect(() => NumericSketch.fromJSON(object)).toThrow(
        expect.objectContaining({ code: ErrorCode.DECODE_FAILED, message: expect.stringContaining('percentiles') }),
      );
    }
  });
});
