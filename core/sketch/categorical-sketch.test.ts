import { describe, expect, it } from 'vitest';
import { DriftlineError, ErrorCode } from '../errors.ts';
import { mulberry32 } from '../random.ts';
import { CategoricalSketch } from './categorical-sketch.ts';

function zipfSample(n: number, categories: number, seed: number): string[] {
  // Category i drawn with weight 1/(i+1): a few heavy categories and a long tail.
  const random = mulberry32(seed);
  const weights = Array.from({ length: categories }, (_, i) => 1 / (i + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const cumulative: number[] = [];
  let sum = 0;
  for (const w of weights) {
    sum += w / total;
    cumulative.push(sum);
  }
  return Array.from({ length: n }, () => {
    const u = random();
    let lo = 0;
    let hi = categories - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] as number) < u) lo = mid + 1;
      else hi = mid;
    }
    return `c${lo}`;
  });
}

function exactCounts(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

describe('CategoricalSketch', () => {
  it('counts exactly under the bound, and nulls apart', () => {
    const sketch = CategoricalSketch.of(['a', 'b', 'a', null, 'c', undefined, 'a']);
    expect(sketch.count).toBe(5);
    expect(sketch.nullCount).toBe(2);
    expect(sketch.entries()).toEqual([
      ['a', 3],
      ['b', 1],
      ['c', 1],
    ]);
    expect(sketch.otherCount).toBe(0);
    expect(sketch.maxError).toBe(0);
  });

  it('merged sketches equal one sketch over all values when under the bound', () => {
    const values = zipfSample(30_000, 500, 1);
    const single = CategoricalSketch.of(values);
    const merged = CategoricalSketch.create();
    for (let i = 0; i < 6; i++) merged.merge(CategoricalSketch.of(values.slice(i * 5_000, (i + 1) * 5_000)));
    expect(merged.toJSON()).toEqual(single.toJSON());
    expect(Object.fromEntries(single.entries())).toEqual(Object.fromEntries(exactCounts(values)));
  });

  it('beyond the bound keeps every count within maxError ≤ n/(k+1) below the truth, and sums to n', () => {
    const values = zipfSample(100_000, 5_000, 2);
    const truth = exactCounts(values);
    const k = 200;
    const check = (sketch: CategoricalSketch) => {
      expect(sketch.size).toBeLessThanOrEqual(k);
      expect(sketch.maxError).toBeGreaterThan(0);
      expect(sketch.maxError).toBeLessThanOrEqual(values.length / (k + 1));
      let tracked = 0;
      for (const [value, count] of sketch.entries()) {
        const exact = truth.get(value) ?? 0;
        expect(count).toBeLessThanOrEqual(exact);
        expect(count).toBeGreaterThanOrEqual(exact - sketch.maxError);
        tracked += count;
      }
      expect(tracked + sketch.otherCount).toBe(values.length);
      // A category above the error bound must be tracked.
      for (const [value, exact] of truth) if (exact > sketch.maxError) expect(sketch.get(value)).toBeGreaterThan(0);
    };
    check(CategoricalSketch.of(values, { maxCategories: k }));
    const merged = CategoricalSketch.create({ maxCategories: k });
    for (let i = 0; i < 10; i++)
      merged.merge(CategoricalSketch.of(values.slice(i * 10_000, (i + 1) * 10_000), { maxCategories: k }));
    check(merged);
  });

  it('round-trips through JSON, including names like __proto__', () => {
    const sketch = CategoricalSketch.of(['__proto__', 'x', 'x', null, 'constructor'], { maxCategories: 10 });
    const json = JSON.parse(JSON.stringify(sketch.toJSON()));
    const copy = CategoricalSketch.fromJSON(json);
    expect(copy.toJSON()).toEqual(sketch.toJSON());
    expect(copy.get('__proto__')).toBe(1);
    expect(copy.maxCategories).toBe(10);
  });

  it('rejects malformed JSON with DECODE_FAILED listing the problems', () => {
    const good = CategoricalSketch.of(['a', 'b']).toJSON();
    for (const bad of [
      null,
      { ...good, format: 2 },
      { ...good, count: 5 },
      { ...good, values: ['a', 'a'] },
      { ...good, counts: [1] },
    ]) {
      try {
        CategoricalSketch.fromJSON(bad);
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(DriftlineError);
        expect((error as DriftlineError).code).toBe(ErrorCode.DECODE_FAILED);
      }
    }
  });
});
