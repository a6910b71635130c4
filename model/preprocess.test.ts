import { describe, expect, it } from 'vitest';
import { fitPreprocessing, quantileSorted, transformRows } from './preprocess.ts';

describe('preprocessing', () => {
  const rows = Array.from({ length: 1_001 }, (_, i) => [i, i === 1_000 ? 1e6 : i % 10, 7]);

  it('standardizes with the training mean and population std', () => {
    const pre = fitPreprocessing(['a', 'b', 'c'], rows, { clipQuantile: 0, log1p: [] });
    const a = pre.features[0];
    expect(a).toMatchObject({ name: 'a', log1p: false, clipMin: 0, clipMax: 1_000, mean: 500 });
    expect(a?.std).toBeCloseTo(Math.sqrt((1_001 ** 2 - 1) / 12), 9);
    // A constant column gets std 1, so it becomes 0 rather than NaN.
    expect(pre.features[2]).toMatchObject({ mean: 7, std: 1 });
    const out = transformRows(pre, [[500, 0, 7]]);
    expect(out[0]).toBeCloseTo(0, 6);
    expect(out[2]).toBe(0);
  });

  it('clips at training quantiles so one outlier does not set the scale', () => {
    const pre = fitPreprocessing(['a', 'b', 'c'], rows, { clipQuantile: 0.001, log1p: [] });
    const b = pre.features[1];
    expect(b?.clipMax).toBeLessThanOrEqual(9);
    expect(b?.std).toBeLessThan(4);
    const [big] = transformRows(pre, [[0, 1e9, 7]]).subarray(1, 2);
    const [nine] = transformRows(pre, [[0, 9, 7]]).subarray(1, 2);
    expect(big).toBe(nine);
  });

  it('log1p-transforms chosen features before clipping and scaling', () => {
    const pre = fitPreprocessing(['a'], [[0], [Math.E - 1], [Math.E ** 2 - 1]], { clipQuantile: 0, log1p: ['a'] });
    expect(pre.features[0]).toMatchObject({ log1p: true, clipMin: 0, clipMax: 2 });
    expect(pre.features[0]?.mean).toBeCloseTo(1, 12);
    expect(transformRows(pre, [[Math.E - 1]])[0]).toBeCloseTo(0, 6);
  });

  it('imputes a missing (NaN) value with the training mean and clips infinities', () => {
    const train = [
      [1, 2],
      [3, 4],
    ];
    const pre = fitPreprocessing(['a', 'b'], train, { clipQuantile: 0, log1p: ['b'] });
    expect(Array.from(transformRows(pre, [[Number.NaN, Number.NaN]]))).toEqual([0, 0]);
    // +∞ clips to the largest training value; log1p(−5) is NaN, so it is imputed like a gap.
    expect(Array.from(transformRows(pre, [[Number.POSITIVE_INFINITY, -5]]))).toEqual(
      Array.from(transformRows(pre, [[3, Number.NaN]])),
    );
  });

  it('rejects rows of the wrong width', () => {
    const pre = fitPreprocessing(['a', 'b'], [[1, 2]]);
    expect(() => transformRows(pre, [[1]])).toThrow(/2/);
  });

  it('interpolates quantiles of sorted values', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4], 0)).toBe(1);
    expect(quantileSorted([1, 2, 3, 4], 1)).toBe(4);
  });
});
