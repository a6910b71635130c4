import { describe, expect, it } from 'vitest';
import { FIXED_PREDICTION_COLUMN_TYPES } from '../../core/prediction-table.ts';
import { NumericSketch } from '../../core/sketch/index.ts';
import { RowBinaryRows } from '../../core/storage/row-binary.ts';
import { PartitionPanes } from './panes.ts';
import { predictionLayout, sketchInput, writePredictionRow } from './rows.ts';

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

/** Reads one row back from RowBinary, column by column (a reader for the types the layout uses). */
function readRow(bytes: Buffer, columns: readonly { name: string; type: string }[]): Record<string, unknown> {
  let at = 0;
  const text = () => {
    let length = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[at++] as number;
      length += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) break;
    }
    const value = bytes.toString('utf8', at, at + length);
    at += length;
    return value;
  };
  const fixed = (width: number, readAt: (offset: number) => unknown) => () => {
    at += width;
    return readAt(at - width);
  };
  const read: Record<string, () => unknown> = {
    String: text,
    Float64: fixed(8, (o) => bytes.readDoubleLE(o)),
    UInt8: fixed(1, (o) => bytes[o]),
    UInt32: fixed(4, (o) => bytes.readUInt32LE(o)),
    DateTime: fixed(4, (o) => bytes.readUInt32LE(o)),
    UInt64: fixed(8, (o) => bytes.readBigUInt64LE(o)),
  };
  const row: Record<string, unknown> = {};
  for (const { name, type } of columns) {
    const nullable = type.startsWith('Nullable(');
    if (nullable && bytes[at++] === 1) {
      row[name] = null;
      continue;
    }
    row[name] = (read[nullable ? type.slice(9, -1) : type] as () => unknown)();
  }
  expect(at).toBe(bytes.length);
  return row;
}

const housingTable = (extra: [string, string][]) => new Map([...FIXED_PREDICTION_COLUMN_TYPES, ...extra]);

describe('prediction rows', () => {
  it('are written as RowBinary in the layout of their table: NaN and infinities as they are, offsets exact', () => {
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
    const features = [
      { name: 'x', type: 'double', optional: false },
      { name: 'region', type: 'string', optional: false },
      { name: 'y', type: 'double', optional: true },
      { name: 'z', type: 'double', optional: false },
      { name: 'w', type: 'double', optional: false },
    ] as const;
    const layout = predictionLayout(
      'predictions_m',
      features,
      housingTable([
        ['x', 'Float64'],
        ['region', 'String'],
        ['y', 'Nullable(Float64)'],
        ['z', 'Float64'],
        ['w', 'Float64'],
        ['dropped_later', 'Nullable(Float64)'], // in the table, not in this schema: left to its default
      ]),
    );
    expect(layout.columns.map((c) => c.name)).not.toContain('dropped_later');
    const out = new RowBinaryRows();
    writePredictionRow(out, layout, event, 2, '9007199254740993', true, 1_700_000_100_500);
    expect(readRow(out.rows(), layout.columns)).toEqual({
      event_id: 'e"1',
      model_name: 'm',
      model_version: 2,
      event_time: 1_700_000_000,
      event_time_ms: 1_700_000_000_999n,
      x: 1.5,
      region: 'north',
      y: null,
      z: Number.NaN,
      w: Number.NEGATIVE_INFINITY,
      prediction: 0.7,
      latency_ms: 1.25,
      entity_id: null,
      segment: 'a\tb',
      kafka_partition: 2,
      kafka_offset: 9007199254740993n,
      ingested_at: 1_700_000_100,
      late: 1,
    });
  });

  it('a table column of a type the store does not write is named in a clear error', () => {
    const features = [{ name: 'x', type: 'double', optional: false }] as const;
    expect(() => predictionLayout('predictions_m', features, housingTable([['x', 'Decimal(9, 2)']]))).toThrow(
      'column x of predictions_m has type Decimal(9, 2)',
    );
    expect(() => predictionLayout('predictions_m', features, housingTable([]))).toThrow('column x is missing');
  });

  it('a time DateTime cannot hold is refused before anything is written', () => {
    const layout = predictionLayout(
      'p',
      [{ name: 'x', type: 'double', optional: false }],
      housingTable([['x', 'Float64']]),
    );
    const out = new RowBinaryRows();
    expect(() =>
      writePredictionRow(out, layout, { ...baseEvent(), event_time: new Date(-1_000) }, 0, '1', false, 0),
    ).toThrow(/DateTime/);
    expect(out.byteLength).toBe(0);
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
