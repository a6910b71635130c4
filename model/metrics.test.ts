import { describe, expect, it } from 'vitest';
import { regressionMetrics } from './metrics.ts';

describe('regressionMetrics', () => {
  it('computes RMSE, MAE and R² by hand', () => {
    // errors: 0.5, -0.5, 1, 0 → SSE 1.5, SAE 2; mean(actual) = 2.5, SST = 5.
    const m = regressionMetrics([1, 2, 3, 4], [1.5, 1.5, 4, 4]);
    expect(m.rmse).toBeCloseTo(Math.sqrt(1.5 / 4), 15);
    expect(m.mae).toBeCloseTo(0.5, 15);
    expect(m.r2).toBeCloseTo(1 - 1.5 / 5, 15);
  });

  it('gives 0 error and R² 1 for a perfect fit, R² 0 for predicting the mean', () => {
    expect(regressionMetrics([1, 2, 3], [1, 2, 3])).toEqual({ rmse: 0, mae: 0, r2: 1 });
    expect(regressionMetrics([1, 2, 3], [2, 2, 2]).r2).toBe(0);
    expect(regressionMetrics([5, 5], [5, 5]).r2).toBe(1);
    expect(regressionMetrics([5, 5], [4, 6]).r2).toBeNaN();
  });

  it('accepts Float32Array predictions and rejects mismatched lengths', () => {
    expect(regressionMetrics([1, 2], Float32Array.from([1, 2])).rmse).toBe(0);
    expect(() => regressionMetrics([1, 2], [1])).toThrow(RangeError);
    expect(() => regressionMetrics([], [])).toThrow(RangeError);
  });
});
