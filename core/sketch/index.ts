import { CategoricalSketch, type CategoricalSketchJSON } from './categorical-sketch.ts';
import { NumericSketch, type NumericSketchJSON } from './numeric-sketch.ts';

export {
  CategoricalSketch,
  type CategoricalSketchJSON,
  type CategoricalSketchOptions,
  DEFAULT_MAX_CATEGORIES,
  OTHER_CATEGORY,
} from './categorical-sketch.ts';
export {
  DEFAULT_COMPRESSION,
  NumericSketch,
  type NumericSketchJSON,
  type NumericSketchOptions,
} from './numeric-sketch.ts';

/** The sketch of one column: numeric (t-digest and moments) or categorical (category counts). */
export type ColumnSketch = NumericSketch | CategoricalSketch;

/** A column sketch's JSON with its kind: what travels between panes, windows and restores. */
export type ColumnSketchJSON =
  | { kind: 'numeric'; sketch: NumericSketchJSON }
  | { kind: 'categorical'; sketch: CategoricalSketchJSON };

/** Rebuilds the sketch a `ColumnSketchJSON` holds (each class validates its own JSON). */
export function columnSketchOf(json: ColumnSketchJSON): ColumnSketch {
  return json.kind === 'numeric' ? NumericSketch.fromJSON(json.sketch) : CategoricalSketch.fromJSON(json.sketch);
}

/**
 * Folds `from` into `into` when both are of one kind; false (nothing merged) when they are not —
 * a column is numeric or categorical by its writer schema, so two kinds of one column mean two
 * schemas disagree, and neither may silently absorb the other.
 */
export function mergeColumnSketch(into: ColumnSketch, from: ColumnSketch): boolean {
  if (into instanceof NumericSketch && from instanceof NumericSketch) into.merge(from);
  else if (into instanceof CategoricalSketch && from instanceof CategoricalSketch) into.merge(from);
  else return false;
  return true;
}

/** Rows a column sketch saw: values, nulls and (numeric) non-finite values. */
export function rowsOf(sketch: ColumnSketch): number {
  return sketch.count + sketch.nullCount + (sketch instanceof NumericSketch ? sketch.nonFiniteCount : 0);
}
