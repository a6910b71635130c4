import { describe, expect, it } from 'vitest';
import { NumericSketch } from '../sketch/numeric-sketch.ts';
import { FEW_VALUES, fewValueSketches, numericOnly } from './few-values.ts';

describe("Evidently's few-values rule on sketches", () => {
  it('turns numbers with at most 5 distinct values (both sides together) into category counts', () => {
    const reference = NumericSketch.of([0, 0, 0, 1, 1, null, Number.NaN]);
    const current = NumericSketch.of([1, 1, 1, 2, 1.0]);
    const few = fewValueSketches(reference, current);
    expect(few?.distinct).toBe(3);
    expect(few?.reference.entries()).toEqual([
      ['0', 3],
      ['1', 2],
    ]);
    // What is not a finite number counts as missing, as compare's exact path counts it.
    expect(few?.reference.nullCount).toBe(2);
    expect(few?.current.entries()).toEqual([
      ['1', 4],
      ['2', 1],
    ]);
  });

  it('leaves more than 5 distinct values, or a sketch no longer exact, numerical', () => {
    expect(fewValueSketches(NumericSketch.of([1, 2, 3]), NumericSketch.of([4, 5, 6]))).toBeUndefined();
    expect(FEW_VALUES).toBe(5);
    const many = NumericSketch.of(Array.from({ length: 5_000 }, (_, i) => i));
    expect(many.exact).toBe(false);
    expect(fewValueSketches(many, NumericSketch.of([1]))).toBeUndefined();
  });

  it('a numbers-only method (ks, wasserstein) keeps a column numerical; the others do not', () => {
    expect(numericOnly('ks')).toBe(true);
    expect(numericOnly('wasserstein')).toBe(true);
    expect(numericOnly('jensenshannon')).toBe(false);
    expect(numericOnly(undefined)).toBe(false);
  });
});
