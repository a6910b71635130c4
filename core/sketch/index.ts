export {
  DEFAULT_COMPRESSION,
  NumericSketch,
  type NumericSketchJSON,
  type NumericSketchOptions,
} from './numeric-sketch.ts';
