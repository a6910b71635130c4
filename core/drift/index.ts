export { type CategoricalComparison, type CategoricalStats, compareCategories } from './categorical.ts';
export { jensenShannonDistance, populationStabilityIndex } from './divergence.ts';
export {
  type ColumnDriftOverride,
  type ColumnDriftResult,
  type ColumnEvaluationOptions,
  type ColumnKind,
  type ColumnPair,
  columnKind,
  type DatasetDriftOptions,
  type DatasetDriftResult,
  type DatasetState,
  DEFAULT_THRESHOLDS,
  DRIFT_DEFAULTS,
  DriftMethod,
  defaultMethod,
  evaluateColumn,
  evaluateDataset,
  isTestMethod,
  METHODS_BY_KIND,
  overrideProblems,
  type Verdict,
} from './evaluate.ts';
export { type NumericDistribution, numericDistribution } from './numeric-distribution.ts';
export { type NumericalStats, numericalStats } from './numerical.ts';
