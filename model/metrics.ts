/** Regression metrics, computed in double precision from predictions. */

export interface RegressionMetrics {
  /** Root mean squared error, in target units. */
  rmse: number;
  /** Mean absolute error, in target units. */
  mae: number;
  /** Coefficient of determination: 1 − SSE / SST (SST around the mean of `actual`). */
  r2: number;
}

export function regressionMetrics(actual: ArrayLike<number>, predicted: ArrayLike<number>): RegressionMetrics {
  const n = actual.length;
  if (n === 0 || predicted.length !== n) {
    throw new RangeError(`need equally long, non-empty arrays; got ${n} actual and ${predicted.length} predicted`);
  }
  let sum = 0;
  for (let i = 0; i < n; i++) sum += actual[i] as number;
  const mean = sum / n;
  let sse = 0;
  let sae = 0;
  let sst = 0;
  for (let i = 0; i < n; i++) {
    const y = actual[i] as number;
    const error = (predicted[i] as number) - y;
    sse += error * error;
    sae += Math.abs(error);
    sst += (y - mean) * (y - mean);
  }
  // A constant target has SST 0: R² is 1 for a perfect fit and undefined (NaN) otherwise.
  const r2 = sst === 0 ? (sse === 0 ? 1 : Number.NaN) : 1 - sse / sst;
  return { rmse: Math.sqrt(sse / n), mae: sae / n, r2 };
}
