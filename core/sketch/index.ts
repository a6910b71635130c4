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
