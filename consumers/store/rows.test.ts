import { describe, expect, it } from 'vitest';
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
    expect(input.columns).toEqual({ x: 1.5, region: 'north', y: null, prediction: 0.7 });
    expect(input.categorical?.has('region')).toBe(true);
    expect(input.eventTime).toBe(5_000);
  });
});
