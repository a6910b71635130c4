import { describe, expect, it } from 'vitest';
import { CategoricalSketch, type ColumnSketch, NumericSketch } from '../../core/sketch/index.ts';
import { evaluateWindow, referenceOf } from './evaluation.ts';

const counts = (north: number, south: number) =>
  CategoricalSketch.of([...Array(north).fill('north'), ...Array(south).fill('south')]);
const numbers = (n: number, shift = 0) => NumericSketch.of(Array.from({ length: n }, (_, i) => (i % 100) + shift));

const reference = referenceOf(
  'm',
  1,
  {
    features: { x: numbers(2_000).toJSON() },
    categorical: { region: counts(1_000, 1_000).toJSON() },
    prediction: numbers(2_000).toJSON(),
  },
  { rmse: 0.5, mae: 0.4 },
);

const columnsOf = (entries: [string, ColumnSketch][]) => ({ columns: new Map(entries) });

describe('a window against a reference with a categorical feature', () => {
  it("compares category counts with the reference's: numeric features first, then categorical, then the prediction", () => {
    expect(reference.columns.map((c) => [c.name, c.sketch.kind, c.isPrediction])).toEqual([
      ['x', 'numeric', false],
      ['region', 'categorical', false],
      ['prediction', 'numeric', true],
    ]);
    const same = evaluateWindow(
      reference,
      columnsOf([
        ['x', numbers(1_000)],
        ['region', counts(500, 500)],
        ['prediction', numbers(1_000)],
      ]),
    );
    expect(same.result.columns.find((c) => c.column === 'region')).toMatchObject({
      kind: 'categorical',
      method: 'jensenshannon',
      drifted: false,
    });
    const north = evaluateWindow(
      reference,
      columnsOf([
        ['x', numbers(1_000)],
        ['region', counts(950, 50)],
        ['prediction', numbers(1_000)],
      ]),
    );
    expect(north.result.columns.find((c) => c.column === 'region')).toMatchObject({ verdict: 'drift', drifted: true });
  });

  it('a window whose column is of the other kind, or missing, is insufficient_data for it, never an error', () => {
    const mixed = evaluateWindow(
      reference,
      columnsOf([
        ['region', numbers(1_000)],
        ['x', counts(600, 400)],
      ]),
    );
    for (const column of ['x', 'region', 'prediction']) {
      expect(mixed.result.columns.find((c) => c.column === column)).toMatchObject({
        verdict: 'insufficient_data',
        drifted: false,
      });
    }
  });

  it('tests a numeric feature with at most 5 distinct values as categories, as Evidently does, unless ks or wasserstein is asked', () => {
    const flag = (ones: number, n: number) => NumericSketch.of(Array.from({ length: n }, (_, i) => (i < ones ? 1 : 0)));
    const binary = referenceOf(
      'm',
      1,
      { features: { flag: flag(500, 2_000).toJSON() }, prediction: numbers(2_000).toJSON() },
      {
        rmse: 0.5,
        mae: 0.4,
      },
    );
    const window = columnsOf([
      ['flag', flag(600, 1_000)],
      ['prediction', numbers(1_000)],
    ]);
    const byDefault = evaluateWindow(binary, window).result.columns.find((c) => c.column === 'flag');
    // A quarter of ones in the reference, 60 % now: Jensen–Shannon on the two categories.
    expect(byDefault).toMatchObject({ kind: 'categorical', method: 'jensenshannon', drifted: true });
    expect(evaluateWindow(binary, window).sketches.get('flag')?.reference).toBeInstanceOf(CategoricalSketch);
    const byWasserstein = evaluateWindow(binary, window, { columns: { flag: { method: 'wasserstein' } } });
    expect(byWasserstein.result.columns.find((c) => c.column === 'flag')).toMatchObject({
      kind: 'numerical',
      method: 'wasserstein',
    });
    // The prediction, with 100 distinct values, stays numerical.
    expect(byDefault && evaluateWindow(binary, window).result.columns.at(-1)).toMatchObject({ kind: 'numerical' });
  });
});
