/**
 * A window against a model version's reference profile, and realized error against its holdout
 * metrics. Pure: the profile and the error sums are passed in.
 */

import { fewValueSketches, numericOnly } from '../../core/drift/few-values.ts';
import {
  type ColumnPair,
  type DatasetDriftOptions,
  type DatasetDriftResult,
  evaluateDataset,
} from '../../core/drift/index.ts';
import type { RealizedPerformance } from '../../core/schemas.ts';
import { CategoricalSketch, type ColumnSketch, NumericSketch } from '../../core/sketch/index.ts';
import { PREDICTION_COLUMN } from '../../core/sketch-snapshot.ts';
import type { ReferenceProfile } from '../../model/profile.ts';
import type { Window } from './windows.ts';

export interface ReferenceColumn {
  name: string;
  isPrediction: boolean;
  sketch: ColumnSketch;
}

/** What a model version is compared with: its profile's sketches and its holdout error. */
export interface Reference {
  model: string;
  version: number;
  /** The numeric features in profile order, the categorical ones, then the prediction. */
  columns: ReferenceColumn[];
  holdout: { rmse: number; mae: number };
}

export function referenceOf(
  model: string,
  version: number,
  profile: Pick<ReferenceProfile, 'features' | 'categorical' | 'prediction'>,
  holdout: { rmse: number; mae: number },
): Reference {
  const columns: ReferenceColumn[] = Object.entries(profile.features).map(([name, json]) => ({
    name,
    isPrediction: false,
    sketch: NumericSketch.fromJSON(json),
  }));
  for (const [name, json] of Object.entries(profile.categorical ?? {})) {
    columns.push({ name, isPrediction: false, sketch: CategoricalSketch.fromJSON(json) });
  }
  columns.push({ name: PREDICTION_COLUMN, isPrediction: true, sketch: NumericSketch.fromJSON(profile.prediction) });
  return { model, version, columns, holdout: { rmse: holdout.rmse, mae: holdout.mae } };
}

export interface WindowEvaluation {
  result: DatasetDriftResult;
  /** Reference and current sketch of each evaluated column (for the report's charts). */
  sketches: Map<string, { reference: ColumnSketch; current: ColumnSketch }>;
}

/**
 * Every reference column against the window (a column the window lacks is compared with an empty
 * sketch: insufficient_data). Columns the window has but the profile lacks are not evaluated.
 */
export function evaluateWindow(
  reference: Reference,
  window: Pick<Window, 'columns'>,
  options: DatasetDriftOptions = {},
): WindowEvaluation {
  const pairs: ColumnPair[] = reference.columns.map((column) => {
    const pair = {
      column: column.name,
      reference: column.sketch,
      current: currentOf(column.sketch, window.columns.get(column.name)),
    };
    // Evidently's few-values rule: numbers with at most 5 distinct values (both sides together)
    // are tested as categories, unless a numbers-only method was asked for the column.
    if (
      pair.reference instanceof NumericSketch &&
      pair.current instanceof NumericSketch &&
      !numericOnly(options.columns?.[column.name]?.method)
    ) {
      const few = fewValueSketches(pair.reference, pair.current);
      if (few) return { ...pair, reference: few.reference, current: few.current };
    }
    return pair;
  });
  const result = evaluateDataset(pairs, options);
  return {
    result,
    sketches: new Map(pairs.map((p) => [p.column, { reference: p.reference, current: p.current }])),
  };
}

/**
 * The window's sketch of a column, or an empty one of the reference's kind (insufficient_data)
 * when the window has none — or one of the other kind, which a stream whose schema types the
 * column differently from the reference would send: there is nothing to compare it with.
 */
function currentOf(reference: ColumnSketch, current: ColumnSketch | undefined): ColumnSketch {
  const empty = () => (reference instanceof NumericSketch ? NumericSketch.create() : CategoricalSketch.create());
  if (current === undefined) return empty();
  return current instanceof NumericSketch === reference instanceof NumericSketch ? current : empty();
}

/** Sums over the window's labelled predictions (what the realized-error query returns). */
export interface ErrorSums {
  labelled: number;
  /** Σ (prediction − actual)² */
  sse: number;
  /** Σ |prediction − actual| */
  sae: number;
}

export interface PerformanceOptions {
  /** Degraded when realized RMSE > holdout RMSE × tolerance. */
  tolerance: number;
  /** Fewer labelled predictions than this: insufficient_labels. */
  minLabels: number;
}

/** RMSE and MAE of the labelled predictions and the verdict against the holdout RMSE. */
export function realizedPerformance(
  sums: ErrorSums,
  holdout: { rmse: number; mae: number },
  options: PerformanceOptions,
): RealizedPerformance {
  const labelled = sums.labelled;
  const rmse = labelled > 0 ? Math.sqrt(sums.sse / labelled) : null;
  const mae = labelled > 0 ? sums.sae / labelled : null;
  const verdict =
    labelled < options.minLabels || rmse === null
      ? 'insufficient_labels'
      : rmse > holdout.rmse * options.tolerance
        ? 'degraded'
        : 'ok';
  return {
    labelled_count: labelled,
    rmse,
    mae,
    holdout_rmse: holdout.rmse,
    holdout_mae: holdout.mae,
    tolerance: options.tolerance,
    min_labels: options.minLabels,
    verdict,
  };
}
