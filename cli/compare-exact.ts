/**
 * Verdicts of `driftline compare` on columns read whole (`compare-values.ts`): numerical columns
 * get every statistic computed exactly on the sorted values (`core/drift/exact.ts`), categorical
 * ones go through `evaluateColumn` on exact category counts (a sketch that lumps nothing). Method
 * choice, thresholds and the insufficient-data rule are the sketch path's (`evaluate.ts`).
 */
import {
  type ColumnDriftResult,
  type ColumnEvaluationOptions,
  columnVerdict,
  DRIFT_DEFAULTS,
  defaultMethod,
  methodAndThreshold,
} from '../core/drift/evaluate.ts';
import { exactNumericStats } from '../core/drift/exact.ts';

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
  const { method, threshold } = methodAndThreshold(
    column,
    'numerical',
    options,
    defaultMethod('numerical', reference.length, options.smallSampleLimit),
  );
  const stats =
    reference.length > 0 && current.length > 0
      ? exactNumericStats(reference, current, options.bins ?? DRIFT_DEFAULTS.bins)
      : null;
  return columnVerdict({
    column,
    kind: 'numerical',
    method,
    threshold,
    stats,
    referenceCount: reference.length,
    currentCount: current.length,
    minSample: options.minSample ?? DRIFT_DEFAULTS.minSample,
  });
}
