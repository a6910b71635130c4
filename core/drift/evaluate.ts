/**
 * Drift verdicts per column and per dataset, from reference and current sketches. Pure: no
 * I/O, no clock; the drift consumer and `driftline compare` both call these. Defaults follow
 * Evidently's data-drift preset (`defaultMethod`, `DEFAULT_THRESHOLDS`, `DRIFT_DEFAULTS`).
 */
import { CategoricalSketch, OTHER_CATEGORY } from '../sketch/categorical-sketch.ts';
import type { ColumnSketch } from '../sketch/index.ts';
import { NumericSketch } from '../sketch/numeric-sketch.ts';
import { type CategoricalStats, compareCategories } from './categorical.ts';
import { ksTwoSamplePValue } from './exact.ts';
import { numericDistribution } from './numeric-distribution.ts';
import { type NumericalStats, numericalStats } from './numerical.ts';

export const DriftMethod = {
  KS: 'ks',
  WASSERSTEIN: 'wasserstein',
  PSI: 'psi',
  JENSEN_SHANNON: 'jensenshannon',
  CHI_SQUARE: 'chisquare',
  /** Chi-square test of homogeneity on the 2 × k table; not a default, chosen per column. */
  CHI_SQUARE_CONTINGENCY: 'chisquare_contingency',
  /** Two-proportion z-test (Evidently's `z`), for two categories. */
  Z: 'z',
} as const;
export type DriftMethod = (typeof DriftMethod)[keyof typeof DriftMethod];

export type ColumnKind = 'numerical' | 'categorical';
export type Verdict = 'ok' | 'drift' | 'insufficient_data';

/** Methods that apply to each kind of column. */
export const METHODS_BY_KIND: Readonly<Record<ColumnKind, readonly DriftMethod[]>> = {
  numerical: ['ks', 'wasserstein', 'psi', 'jensenshannon'],
  categorical: ['chisquare', 'z', 'chisquare_contingency', 'jensenshannon', 'psi'],
};

/** Methods whose threshold is a p-value (drift when p < threshold). */
const TEST_METHODS: ReadonlySet<DriftMethod> = new Set(['ks', 'chisquare', 'chisquare_contingency', 'z']);

export const DEFAULT_THRESHOLDS: Readonly<Record<DriftMethod, number>> = {
  ks: 0.05,
  chisquare: 0.05,
  chisquare_contingency: 0.05,
  z: 0.05,
  wasserstein: 0.1,
  psi: 0.1,
  jensenshannon: 0.1,
};

export const DRIFT_DEFAULTS = {
  /** Dataset drift when at least this share of the evaluated columns drifted. */
  driftShare: 0.5,
  /** Fewer current values than this: "insufficient_data". */
  minSample: 100,
  /** Reference sizes up to this use the statistical tests (KS, chi-square). */
  smallSampleLimit: 1_000,
  /** Reference-quantile bins for PSI and Jensen–Shannon on numerical columns. */
  bins: 10,
} as const;

/** Per-column override of the method and/or threshold. */
export interface ColumnDriftOverride {
  method?: DriftMethod;
  threshold?: number;
}

export interface ColumnEvaluationOptions extends ColumnDriftOverride {
  /** Column name, copied into the result. */
  column?: string;
  minSample?: number;
  smallSampleLimit?: number;
  bins?: number;
}

export interface DatasetDriftOptions {
  driftShare?: number;
  minSample?: number;
  smallSampleLimit?: number;
  bins?: number;
  /** Overrides by column name. */
  columns?: Readonly<Record<string, ColumnDriftOverride>>;
}

export interface ColumnDriftResult {
  column: string;
  kind: ColumnKind;
  method: DriftMethod;
  /** The method's statistic (KS D, chi-square, z, or the distance); null when a side is empty. */
  statistic: number | null;
  threshold: number;
  /** For test methods (ks, chisquare, chisquare_contingency, z); null for distances and when a side is empty. */
  p_value: number | null;
  drifted: boolean;
  verdict: Verdict;
  reference_count: number;
  current_count: number;
  /** Every statistic of the kind, whatever the method; null when a side is empty. */
  stats: NumericalStats | CategoricalStats | null;
  /** Categorical only: current categories the reference does not track, heaviest first. */
  unseen_categories?: string[];
}

export type DatasetState = 'ok' | 'drift' | 'insufficient_data';

export interface DatasetDriftResult {
  columns: ColumnDriftResult[];
  /** The threshold share (Evidently's `drift_share`). */
  drift_share: number;
  /** Columns with a verdict other than insufficient_data. */
  evaluated_count: number;
  drifted_count: number;
  /** drifted_count / evaluated_count (0 when nothing was evaluated). */
  share_of_drifted_columns: number;
  dataset_drift: boolean;
  state: DatasetState;
}

export function columnKind(sketch: ColumnSketch): ColumnKind {
  return sketch instanceof NumericSketch ? 'numerical' : 'categorical';
}

/**
 * The method used when none is configured, given the kind and the reference size, as Evidently's
 * data drift preset chooses it:
 *   numerical,   reference ≤ 1,000 values → KS test, drift when p-value < 0.05;
 *   numerical,   larger reference         → normalized Wasserstein, drift when ≥ 0.1;
 *   categorical, reference ≤ 1,000 values → chi-square goodness-of-fit test (Evidently's form),
 *                                           or, with at most 2 categories in both samples
 *                                           together, the two-proportion z-test; drift when
 *                                           p-value < 0.05;
 *   categorical, larger reference         → Jensen–Shannon distance, drift when ≥ 0.1.
 * (Evidently also switches numerical columns with ≤ 5 distinct values to chi-square / JS; a
 * numeric sketch does not know its distinct count, so `driftline compare`, which counts them,
 * applies that rule by passing categorical sketches of the numbers.)
 * Test methods (ks, chisquare) compare the p-value with the threshold: drift when p < threshold.
 * Distance methods (wasserstein, psi, jensenshannon) compare the statistic: drift when ≥.
 */
export function defaultMethod(
  kind: ColumnKind,
  referenceCount: number,
  smallSampleLimit: number = DRIFT_DEFAULTS.smallSampleLimit,
  /** Distinct categories in both samples together, when known (≤ 2 selects the z-test). */
  categories?: number,
): DriftMethod {
  const small = referenceCount <= smallSampleLimit;
  if (kind === 'numerical') return small ? 'ks' : 'wasserstein';
  if (!small) return 'jensenshannon';
  return categories !== undefined && categories <= 2 ? 'z' : 'chisquare';
}

/** Distinct categories of two categorical sketches together (the lumped rest counts as one). */
function distinctCategories(reference: CategoricalSketch, current: CategoricalSketch): number {
  const keys = new Set<string>();
  for (const sketch of [reference, current]) {
    for (const [value] of sketch.entries()) keys.add(value);
    if (sketch.otherCount > 0) keys.add(OTHER_CATEGORY);
  }
  return keys.size;
}

export function isTestMethod(method: DriftMethod): boolean {
  return TEST_METHODS.has(method);
}

/**
 * Every problem with an override, as sentences (empty when valid). Kind may be unknown when
 * validating config before any data is seen; the method–kind match is then checked later.
 */
export function overrideProblems(name: string, override: ColumnDriftOverride, kind?: ColumnKind): string[] {
  const problems: string[] = [];
  const { method, threshold } = override;
  if (method !== undefined) {
    const allowed = kind ? METHODS_BY_KIND[kind] : Object.values(DriftMethod);
    if (!allowed.includes(method)) {
      problems.push(
        `column ${JSON.stringify(name)}: method ${JSON.stringify(method)} is not one of ${allowed.join(', ')}${kind ? ` (for a ${kind} column)` : ''}`,
      );
    }
  }
  if (threshold !== undefined) {
    const testLike = method === undefined ? undefined : isTestMethod(method);
    if (!Number.isFinite(threshold) || threshold < 0 || (testLike === true && !(threshold > 0 && threshold < 1))) {
      problems.push(
        `column ${JSON.stringify(name)}: threshold must be ${testLike ? 'a p-value in (0, 1)' : 'a finite number ≥ 0'}; got ${threshold}`,
      );
    }
  }
  return problems;
}

/**
 * Statistics, the method's statistic and verdict for one column. A column whose current sample has
 * fewer than `minSample` (default 100) values, or whose reference is empty, gets the verdict
 * "insufficient_data" and never counts as drifted; its statistics are still reported when both
 * sides have values.
 */
export function evaluateColumn(
  reference: ColumnSketch,
  current: ColumnSketch,
  options: ColumnEvaluationOptions = {},
): ColumnDriftResult {
  const column = options.column ?? '';
  const kind = columnKind(reference);
  if (columnKind(current) !== kind) {
    throw new TypeError(`column ${JSON.stringify(column)}: reference is ${kind} but current is ${columnKind(current)}`);
  }
  const minSample = options.minSample ?? DRIFT_DEFAULTS.minSample;
  const bins = options.bins ?? DRIFT_DEFAULTS.bins;
  const referenceCount = reference.count;
  const currentCount = current.count;
  const categories =
    reference instanceof CategoricalSketch && current instanceof CategoricalSketch
      ? distinctCategories(reference, current)
      : undefined;
  const { method, threshold } = methodAndThreshold(
    column,
    kind,
    options,
    defaultMethod(kind, referenceCount, options.smallSampleLimit, categories),
  );

  let stats: NumericalStats | CategoricalStats | null = null;
  let unseen: string[] | undefined;
  if (referenceCount > 0 && currentCount > 0) {
    if (reference instanceof NumericSketch && current instanceof NumericSketch) {
      const ref = numericDistribution(reference);
      const cur = numericDistribution(current);
      if (ref && cur) {
        const numerical = numericalStats(ref, cur, bins);
        // The verdict of a KS column rests on its p-value: scipy's `ks_2samp` one, as Evidently
        // gets it (exact while both sides hold ≤ 10,000 values). That lattice sum costs up to
        // milliseconds, so only KS columns pay it; the others keep the asymptotic figure.
        if (method === 'ks') numerical.ks_p_value = ksTwoSamplePValue(numerical.ks, ref.count, cur.count);
        stats = numerical;
      }
    } else if (reference instanceof CategoricalSketch && current instanceof CategoricalSketch) {
      const comparison = compareCategories(reference, current);
      stats = comparison.stats;
      unseen = comparison.unseen;
    }
  } else if (kind === 'categorical') {
    unseen = [];
  }

  const result = columnVerdict({ column, kind, method, threshold, stats, referenceCount, currentCount, minSample });
  if (unseen !== undefined) result.unseen_categories = unseen;
  return result;
}

/** The method (the override, else the default) and its threshold; an invalid override throws. */
export function methodAndThreshold(
  column: string,
  kind: ColumnKind,
  options: ColumnDriftOverride,
  fallback: DriftMethod,
): { method: DriftMethod; threshold: number } {
  const method = options.method ?? fallback;
  const problems = overrideProblems(
    column,
    { method, ...(options.threshold === undefined ? {} : { threshold: options.threshold }) },
    kind,
  );
  if (problems.length > 0) throw new RangeError(problems.join('; '));
  return { method, threshold: options.threshold ?? DEFAULT_THRESHOLDS[method] };
}

/**
 * A column's verdict from its statistics, however they were computed (sketches or exact values):
 * too few current values or an empty reference is "insufficient_data", never drifted.
 */
export function columnVerdict(input: {
  column: string;
  kind: ColumnKind;
  method: DriftMethod;
  threshold: number;
  stats: NumericalStats | CategoricalStats | null;
  referenceCount: number;
  currentCount: number;
  minSample: number;
}): ColumnDriftResult {
  const { method, threshold } = input;
  const { statistic, pValue } = methodStatistic(method, input.stats);
  const sufficient = input.referenceCount > 0 && input.currentCount >= input.minSample && statistic !== null;
  const drifted =
    sufficient && (isTestMethod(method) ? (pValue as number) < threshold : (statistic as number) >= threshold);
  return {
    column: input.column,
    kind: input.kind,
    method,
    statistic,
    threshold,
    p_value: pValue,
    drifted,
    verdict: !sufficient ? 'insufficient_data' : drifted ? 'drift' : 'ok',
    reference_count: input.referenceCount,
    current_count: input.currentCount,
    stats: input.stats,
  };
}

function methodStatistic(
  method: DriftMethod,
  stats: NumericalStats | CategoricalStats | null,
): { statistic: number | null; pValue: number | null } {
  if (stats === null) return { statistic: null, pValue: null };
  switch (method) {
    case 'ks': {
      const s = stats as NumericalStats;
      return { statistic: s.ks, pValue: s.ks_p_value };
    }
    case 'wasserstein':
      return { statistic: (stats as NumericalStats).wasserstein_norm, pValue: null };
    case 'chisquare': {
      const s = stats as CategoricalStats;
      return { statistic: s.chi2, pValue: s.chi2_p_value };
    }
    case 'chisquare_contingency': {
      const s = stats as CategoricalStats;
      return { statistic: s.contingency_chi2, pValue: s.contingency_p_value };
    }
    case 'z': {
      const s = stats as CategoricalStats;
      return { statistic: s.z, pValue: s.z_p_value };
    }
    case 'psi':
      return { statistic: stats.psi, pValue: null };
    case 'jensenshannon':
      return { statistic: stats.js, pValue: null };
  }
}

export interface ColumnPair {
  column: string;
  reference: ColumnSketch;
  current: ColumnSketch;
}

/**
 * Every column's verdict and the dataset verdict: the dataset drifts when the share of drifted
 * columns among those with enough data is ≥ `driftShare` (default 0.5).
 */
export function evaluateDataset(columns: readonly ColumnPair[], options: DatasetDriftOptions = {}): DatasetDriftResult {
  const driftShare = options.driftShare ?? DRIFT_DEFAULTS.driftShare;
  if (!(driftShare > 0 && driftShare <= 1)) throw new RangeError(`driftShare must be in (0, 1]; got ${driftShare}`);
  const results = columns.map(({ column, reference, current }) =>
    evaluateColumn(reference, current, {
      column,
      ...(options.minSample === undefined ? {} : { minSample: options.minSample }),
      ...(options.smallSampleLimit === undefined ? {} : { smallSampleLimit: options.smallSampleLimit }),
      ...(options.bins === undefined ? {} : { bins: options.bins }),
      ...(options.columns && Object.hasOwn(options.columns, column) ? options.columns[column] : {}),
    }),
  );
  return datasetVerdict(results, driftShare);
}

/** The dataset verdict over column verdicts: drift when the share of drifted columns among those with enough data is ≥ `driftShare`. */
export function datasetVerdict(columns: ColumnDriftResult[], driftShare: number): DatasetDriftResult {
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
