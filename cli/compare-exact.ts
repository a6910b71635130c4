/**
 * Verdicts of `driftline compare` on columns read whole (`compare-values.ts`): numerical columns
 * get every statistic computed exactly on the sorted values (`core/drift/exact.ts`), categorical
 * ones go through `evaluateColumn` on exact category counts (a sketch that lumps nothing). Method
 * choice, thresholds and the insufficient-data rule are the sketch path's (`evaluate.ts`).
 */
import {
  type ColumnDriftResult,
  type ColumnEvaluationOptions,
  type DatasetDriftResult,
  DEFAULT_THRESHOLDS,
  DRIFT_DEFAULTS,
  defaultMethod,
  isTestMethod,
  overrideProblems,
} from '../core/drift/evaluate.ts';
import { exactNumericStats } from '../core/drift/exact.ts';
import type { NumericalStats } from '../core/drift/numerical.ts';

/** The statistic and p-value a method reads, as `evaluateColumn` picks them. */
function numericalStatistic(
  method: ColumnDriftResult['method'],
  stats: NumericalStats,
): { statistic: number; pValue: number | null } {
  switch (method) {
    case 'ks':
      return { statistic: stats.ks, pValue: stats.ks_p_value };
    case 'wasserstein':
      return { statistic: stats.wasserstein_norm, pValue: null };
    case 'psi':
      return { statistic: stats.psi, pValue: null };
    default:
      return { statistic: stats.js, pValue: null };
  }
}

/**
 * `evaluateColumn` for a numerical column given as sorted finite values: the same method
 * choice, threshold and verdict rules, with exact statistics and scipy's KS p-value.
 */
export function evaluateNumericValues(
  reference: Float64Array,
  current: Float64Array,
  options: ColumnEvaluationOptions = {},
): ColumnDriftResult {
  const column = options.column ?? '';
  const minSample = options.minSample ?? DRIFT_DEFAULTS.minSample;
  const method = options.method ?? defaultMethod('numerical', reference.length, options.smallSampleLimit);
  const problems = overrideProblems(
    column,
    { method, ...(options.threshold === undefined ? {} : { threshold: options.threshold }) },
    'numerical',
  );
  if (problems.length > 0) throw new RangeError(problems.join('; '));
  const threshold = options.threshold ?? DEFAULT_THRESHOLDS[method];
  const stats =
    reference.length > 0 && current.length > 0
      ? exactNumericStats(reference, current, options.bins ?? DRIFT_DEFAULTS.bins)
      : null;
  const { statistic, pValue } = stats ? numericalStatistic(method, stats) : { statistic: null, pValue: null };
  const sufficient = reference.length > 0 && current.length >= minSample && statistic !== null;
  const drifted =
    sufficient && (isTestMethod(method) ? (pValue as number) < threshold : (statistic as number) >= threshold);
  return {
    column,
    kind: 'numerical',
    method,
    statistic,
    threshold,
    p_value: pValue,
    drifted,
    verdict: !sufficient ? 'insufficient_data' : drifted ? 'drift' : 'ok',
    reference_count: reference.length,
    current_count: current.length,
    stats,
  };
}

/** The dataset verdict over column results, as `evaluateDataset` gives it. */
export function datasetResult(columns: ColumnDriftResult[], driftShare: number): DatasetDriftResult {
  const evaluated = columns.filter((r) => r.verdict !== 'insufficient_data').length;
  const drifted = columns.filter((r) => r.drifted).length;
  const share = evaluated === 0 ? 0 : drifted / evaluated;
  const datasetDrift = evaluated > 0 && share >= driftShare;
  return {
    columns,
    drift_share: driftShare,
    evaluated_count: evaluated,
    drifted_count: drifted,
    share_of_drifted_columns: share,
    dataset_drift: datasetDrift,
    state: evaluated === 0 ? 'insufficient_data' : datasetDrift ? 'drift' : 'ok',
  };
}
