import type { CategoricalSketch } from './categorical-sketch.ts';
import type { NumericSketch } from './numeric-sketch.ts';

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
