import { describe, expect, it } from 'vitest';
import { NumericSketch } from '../../core/sketch/index.ts';
import { encodeAhead, encodeJsonEachRow } from '../../core/storage/json-each-row.ts';
import { PartitionPanes } from './panes.ts';
import { predictionRow, sketchInput, storedFeatures } from './rows.ts';

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

describe('prediction rows', () => {
  it('encode to the same JSONEachRow line as the row with Dates and a bigint offset', () => {
    const event = {
      event_id: 'e"1',
      model_name: 'm',
      model_version: 2,
      event_time: new Date(1_700_000_000_999),
      features: { x: 1.5, region: 'north', y: null, z: Number.NaN, w: Number.NEGATIVE_INFINITY },
      prediction: 0.7,
      latency_ms: 1.25,
      entity_id: null,
      segment: 'a\tb',
    };
    const ingestedAt = new Date(1_700_000_100_500);
    const origin = { topic: 't', partition: 2, offset: '9007199254740993' };
    const withObjects = {
      event_id: event.event_id,
      model_name: event.model_name,
      model_version: event.model_version,
      event_time: event.event_time,
      event_time_ms: event.event_time.getTime(),
      ...storedFeatures(event.features),
      prediction: event.prediction,
      latency_ms: event.latency_ms,
      entity_id: event.entity_id,
      segment: event.segment,
      kafka_partition: 2,
      kafka_offset: 9007199254740993n,
      ingested_at: ingestedAt,
      late: 1,
    };
    const row = predictionRow(event, origin, true, ingestedAt);
    expect(row.event_time).toBe(1_700_000_000);
    expect(encodeJsonEachRow([encodeAhead(row)])).toBe(encodeJsonEachRow([withObjects]));
  });

  it('leave a time DateTime cannot hold as a Date, for the insert to refuse', () => {
    const event = { ...baseEvent(), event_time: new Date(-1_000) };
    const row = predictionRow(event, { topic: 't', partition: 0, offset: '1' }, false, new Date());
    expect(row.event_time).toBeInstanceOf(Date);
    expect(() => encodeJsonEachRow([encodeAhead(row)])).toThrow(/DateTime/);
  });
});

function baseEvent() {
  return {
    event_id: 'e',
    model_name: 'm',
    model_version: 1,
    event_time: new Date(5_000),
    features: { x: 1 },
    prediction: 0.5,
    latency_ms: 1,
    entity_id: null,
    segment: null,
  };
}
