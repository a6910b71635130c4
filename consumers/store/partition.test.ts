import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { ActiveClock } from '../../core/kafka/consumer-lifecycle.ts';
import { FIXED_PREDICTION_COLUMN_TYPES } from '../../core/prediction-table.ts';
import type { PredictionEvent } from '../../core/schemas.ts';
import { PartitionPanes } from './panes.ts';
import { StorePartition } from './partition.ts';
import { predictionLayout } from './rows.ts';

const message = (offset: number) =>
  ({ offset: String(offset), timestamp: '0', value: Buffer.alloc(0) }) as KafkaMessage;
const event = (eventTime: number, x: number): PredictionEvent => ({
  event_id: `e${eventTime}`,
  model_name: 'm',
  model_version: 1,
  event_time: new Date(eventTime),
  features: { x },
  prediction: x,
  latency_ms: 0,
  entity_id: null,
  segment: null,
});

/** The table createPredictionsTableSql makes for one double feature `x`. */
const layout = predictionLayout(
  'predictions_m',
  [{ name: 'x', type: 'double', optional: false }],
  new Map([...[...FIXED_PREDICTION_COLUMN_TYPES], ['x', 'Float64']]),
);

describe('StorePartition', () => {
  it('an outage does not make a partition idle: its panes stay open while consumption is paused', () => {
    let wall = 0;
    const clock = new ActiveClock(() => wall);
    const panes = new PartitionPanes({ paneMs: 60_000, allowedLatenessMs: 0 });
    const state = new StorePartition('predictions.m', 0, 'predictions_m', panes, undefined, clock.now());
    state.takePrediction(message(0), event(1_000, 1), layout, new Set(), clock.now());
    wall += 10_000;
    clock.pause(); // ClickHouse is down for ten minutes
    wall += 600_000;
    clock.resume();
    expect(state.idle(clock.now(), 60_000)).toBe(false);
    state.closePanes(clock.now(), 60_000, false);
    expect(state.snapshots).toEqual([]);
    wall += 50_000; // a minute of quiet while consuming: now it is idle
    expect(state.idle(clock.now(), 60_000)).toBe(true);
  });

  it('commits at the first message of its oldest open pane, once, and skips messages it already took', () => {
    const panes = new PartitionPanes({ paneMs: 60_000, allowedLatenessMs: 0 });
    const state = new StorePartition('predictions.m', 0, 'predictions_m', panes, 5n, 0);
    expect(state.covers(4n)).toBe(true);
    expect(state.needsRewind(7n)).toBe(true);
    state.takePrediction(message(5), event(1_000, 1), layout, new Set(), 0);
    state.takePrediction(message(6), event(61_000, 2), layout, new Set(), 0);
    expect(state.covers(6n)).toBe(true);
    expect(state.needsRewind(7n)).toBe(false);
    const entry = state.commit();
    expect(entry?.offset).toBe('6'); // pane 0 closed at message 6; pane 60 s is open from there
    state.committedAs(entry as NonNullable<typeof entry>);
    expect(state.commit()).toBeUndefined();
    expect(state.bufferedRows).toBe(2);
  });

  it('refuses an event DateTime cannot hold before anything changes', () => {
    const panes = new PartitionPanes({ paneMs: 60_000, allowedLatenessMs: 0 });
    const state = new StorePartition('predictions.m', 0, 'predictions_m', panes, undefined, 0);
    expect(() => state.takePrediction(message(0), event(-1_000, 1), layout, new Set(), 0)).toThrow(/DateTime/);
    expect(state.bufferedRows).toBe(0);
    expect(panes.openPanes).toBe(0);
    expect(state.commit()).toBeUndefined();
  });
});
