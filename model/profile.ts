/**
 * The reference profile of a model version: what its inputs, its predictions and the target
 * looked like on the training split. Drift is measured against it. Features are profiled raw
 * (before preprocessing), as the stream carries them.
 */
import { DriftlineError, ErrorCode } from '../core/errors.ts';
import type { ModelSpec } from '../core/feature-spec.ts';
import {
  CategoricalSketch,
  type CategoricalSketchJSON,
  NumericSketch,
  type NumericSketchJSON,
} from '../core/sketch/index.ts';

export interface ReferenceProfile {
  format: 1;
  model: string;
  /** Which rows were profiled: a trained version's training split, or a registered version's reference file. */
  source: 'training-split' | 'reference-file';
  rows: number;
  /** One sketch (count, nulls, min, max, mean, variance, t-digest, exact percentiles) per numeric feature, by name. */
  features: Record<string, NumericSketchJSON>;
  /** Category counts per categorical (string) feature, by name; absent when there are none. */
  categorical?: Record<string, CategoricalSketchJSON>;
  /** The model's predictions on the same rows. */
  prediction: NumericSketchJSON;
  /** The observed target on the same rows. */
  target: NumericSketchJSON;
}

export function buildReferenceProfile(
  spec: ModelSpec,
  rows: readonly (readonly (number | null)[])[],
  target: ArrayLike<number>,
  predictions: ArrayLike<number>,
): ReferenceProfile {
  if (target.length !== rows.length || predictions.length !== rows.length) {
    throw new RangeError('rows, target and predictions must be equally long');
  }
  // Built from all values at once, so each sketch keeps its exact percentiles: the PSI and
  // Jensen–Shannon bin edges of every later comparison are then exact (core/drift/numerical.ts).
  const profile = (values: Iterable<number | null>) => NumericSketch.withExactPercentiles(values).toJSON();
  return {
    format: 1,
    model: spec.model,
    source: 'training-split',
    rows: rows.length,
    features: Object.fromEntries(spec.features.map((f, j) => [f.name, profile(rows.map((row) => row[j] ?? null))])),
    prediction: profile(Array.from(predictions)),
    target: profile(Array.from(target)),
  };
}

/** Checks a parsed profile.json; every sketch is validated by `NumericSketch.fromJSON`. */
export function parseReferenceProfile(value: unknown): ReferenceProfile {
  const o = value as Partial<ReferenceProfile> | null;
  if (
    typeof o !== 'object' ||
    o === null ||
    o.format !== 1 ||
    typeof o.model !== 'string' ||
    typeof o.rows !== 'number' ||
    typeof o.features !== 'object' ||
    o.features === null
  ) {
    throw new DriftlineError(
      ErrorCode.DECODE_FAILED,
      'invalid reference profile: missing format, model, rows or features',
    );
  }
  for (const sketch of [...Object.values(o.features), o.prediction, o.target]) NumericSketch.fromJSON(sketch);
  if (o.categorical !== undefined) {
    if (typeof o.categorical !== 'object' || o.categorical === null) {
      throw new DriftlineError(ErrorCode.DECODE_FAILED, 'invalid reference profile: categorical must be an object');
    }
    for (const sketch of Object.values(o.categorical)) CategoricalSketch.fromJSON(sketch);
  }
  return o as ReferenceProfile;
}

/** The profile's sketches as live objects (for merging, quantiles and CDFs). */
export function profileSketches(profile: ReferenceProfile): {
  features: Map<string, NumericSketch>;
  prediction: NumericSketch;
  target: NumericSketch;
} {
  return {
    features: new Map(Object.entries(profile.features).map(([name, json]) => [name, NumericSketch.fromJSON(json)])),
    prediction: NumericSketch.fromJSON(profile.prediction),
    target: NumericSketch.fromJSON(profile.target),
  };
}
