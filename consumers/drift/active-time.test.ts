/**
 * The drift windows on active time (core/kafka/consumer-lifecycle.ts, ActiveClock): the clock the
 * drift consumer gives them stops while consumption is paused, so an outage does not count as
 * waiting for a partition.
 */
import { describe, expect, it } from 'vitest';
import { ActiveClock } from '../../core/kafka/consumer-lifecycle.ts';
import { NumericSketch } from '../../core/sketch/index.ts';
import { DriftWindows, type SketchPart } from './windows.ts';

const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;

function part(source: string, pane: number): SketchPart {
  return {
    model: 'm',
    version: 1,
    column: 'x',
    paneStart: T0 + pane * 1_000,
    paneEnd: T0 + (pane + 1) * 1_000,
    source,
    kind: 'numeric',
    sketch: NumericSketch.of([pane]).toJSON(),
  };
}

describe('grace in active time', () => {
  it('an outage longer than the grace does not evaluate the panes pending when it began', () => {
    // Two of three partitions sent pane 0; the third is behind. Then ClickHouse goes away for
    // ten minutes (consumption paused), with a grace of one minute.
    let wall = 0;
    const clock = new ActiveClock(() => wall);
    const windows = new DriftWindows({ windowPanes: 1, gracePanes: 0, graceMs: MINUTE });
    windows.setSourcePartitions('m', 't', 3);
    windows.add(part('t:0', 0), clock.now());
    wall = 1_000;
    windows.add(part('t:1', 0), clock.now());
    wall = 5_000;
    clock.pause();
    wall += 10 * MINUTE;
    clock.resume();
    // The first flush after the outage: by the wall clock the grace is long over; in active time
    // 4 s passed, and the third partition gets its minute after the outage.
    expect(windows.next(wall)?.completion).toBe('grace_time');
    expect(windows.next(clock.now())).toBeUndefined();
    wall += 2_000;
    windows.add(part('t:2', 0), clock.now());
    for (const source of ['t:0', 't:1', 't:2']) windows.add(part(source, 1), clock.now());
    expect(windows.next(clock.now())).toMatchObject({
      completion: 'all_sources',
      partial: false,
      sources: ['t:0', 't:1', 't:2'],
    });
  });

  it('the grace still ends a stopped stream, one minute of active time after its last sketch', () => {
    let wall = 0;
    const clock = new ActiveClock(() => wall);
    const windows = new DriftWindows({ windowPanes: 1, gracePanes: 0, graceMs: MINUTE });
    windows.setSourcePartitions('m', 't', 2);
    windows.add(part('t:0', 0), clock.now());
    wall = 30_000;
    clock.pause();
    wall += 5 * MINUTE;
    clock.resume();
    wall += 29_999;
    expect(windows.next(clock.now())).toBeUndefined();
    wall += 1;
    expect(windows.next(clock.now())).toMatchObject({ completion: 'grace_time', partial: true, sourcesExpected: 2 });
  });
});
