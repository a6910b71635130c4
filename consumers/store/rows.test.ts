import { describe, expect, it } from 'vitest';
import { CategoricalSketch, NumericSketch } from '../../core/sketch/index.ts';
import type { ClosedPane } from './panes.ts';
import { sketchInput, sketchJsonOf, snapshotOf } from './rows.ts';

const pane = (sketch: ClosedPane['sketch']): ClosedPane => ({
  modelName: 'm',
  modelVersion: 2,
  column: 'c',
  paneStart: 60_000,
  paneEnd: 120_000,
  sketch,
  lateCount: 3,
});

describe('snapshots', () => {
  it('a numeric snapshot carries the sketch, which rebuilds exactly', () => {
    const sketch = NumericSketch.of([1, 2, 3, null, Number.NaN, 10]);
    const snap = snapshotOf(pane(sketch), 'predictions.m', 1);
    expect(snap).toMatchObject({ kind: 'numeric', count: 4, null_count: 1, nonfinite_count: 1, late_count: 3 });
    expect(snap.pane_start).toEqual(new Date(60_000));
    expect(NumericSketch.fromJSON(sketchJsonOf(snap)).toJSON()).toEqual(sketch.toJSON());
  });

  it('a categorical snapshot carries the category counts', () => {
    const sketch = CategoricalSketch.of(['a', 'b', 'a', null]);
    const snap = snapshotOf(pane(sketch), 'predictions.m', 0);
    expect(snap).toMatchObject({ kind: 'categorical', count: 3, null_count: 1, centroid_means: [] });
    expect(snap.categories).toEqual([
      { value: 'a', count: 2 },
      { value: 'b', count: 1 },
    ]);
  });

  it('sketches every feature and the prediction, naming the categorical ones', () => {
    const input = sketchInput(
      {
        event_id: 'e',
        model_name: 'm',
        model_version: 1,
        event_time: new Date(5_000),
        features: { x: 1.5, region: 'north', y: null },
        prediction: 0.7,
        latency_ms: 1,
        entity_id: null,
        segment: null,
      },
      new Set(['region']),
    );
    expect(input.columns).toEqual({ x: 1.5, region: 'north', y: null, prediction: 0.7 });
    expect(input.categorical?.has('region')).toBe(true);
    expect(input.eventTime).toBe(5_000);
  });
});
