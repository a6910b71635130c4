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
});
