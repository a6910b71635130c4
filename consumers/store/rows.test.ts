import { describe, expect, it } from 'vitest';
import { NumericSketch } from '../../core/sketch/index.ts';
import { PartitionPanes } from './panes.ts';
import { sketchInput } from './rows.ts';

describe('sketch inputs', () => {
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
    const panes = new PartitionPanes({ paneMs: 1_000, allowedLatenessMs: 0 });
    panes.add(input, 0n);
    expect(
      panes
        .closeAll()
        .map((p) => [p.column, p.sketch instanceof NumericSketch ? 'numeric' : 'categorical', p.sketch.count]),
    ).toEqual([
      ['x', 'numeric', 1],
      ['region', 'categorical', 1],
      ['y', 'numeric', 0],
      ['prediction', 'numeric', 1],
    ]);
    expect(input.categorical?.has('region')).toBe(true);
    expect(input.eventTime).toBe(5_000);
  });
});
