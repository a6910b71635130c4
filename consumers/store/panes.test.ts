import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../core/random.ts';
import { CategoricalSketch, NumericSketch } from '../../core/sketch/index.ts';
import { type ClosedPane, decodeCheckpoint, encodeCheckpoint, PartitionPanes, type SketchInput } from './panes.ts';

const options = { paneMs: 60_000, allowedLatenessMs: 10_000 };
const input = (eventTime: number, x: number, version = 1): SketchInput => ({
  modelName: 'm',
  modelVersion: version,
  eventTime,
  columns: { x, prediction: x * 2 },
});

describe('PartitionPanes', () => {
  it('closes a pane once the watermark (max event time − lateness) passes its end', () => {
    const panes = new PartitionPanes(options);
    panes.add(input(1_000, 1), 0n);
    panes.add(input(59_000, 2), 1n);
    panes.add(input(65_000, 3), 2n);
    expect(panes.closeReady()).toEqual([]);
    panes.add(input(70_000, 4), 3n);
    const closed = panes.closeReady();
    expect(closed.map((c) => [c.column, c.paneStart, c.paneEnd, c.sketch.count])).toEqual([
      ['x', 0, 60_000, 2],
      ['prediction', 0, 60_000, 2],
    ]);
    expect((closed[0] as ClosedPane).sketch).toBeInstanceOf(NumericSketch);
    expect(((closed[0] as ClosedPane).sketch as NumericSketch).mean).toBe(1.5);
    expect(panes.openPanes).toBe(1);
  });

  it('keeps late events out of closed panes and counts them', () => {
    const panes = new PartitionPanes(options);
    panes.add(input(1_000, 1), 0n);
    panes.add(input(75_000, 2), 1n);
    expect(panes.closeReady()).toHaveLength(2);
    expect(panes.add(input(30_000, 99), 2n)).toBe('late');
    expect(panes.add(input(61_000, 5), 3n)).toBe('sketched');
    panes.add(input(200_000, 0), 4n);
    const closed = panes.closeReady();
    expect(closed.find((c) => c.column === 'x' && c.paneStart === 60_000)?.sketch.count).toBe(2);
    expect(closed[0]?.lateCount).toBe(1);
    expect(panes.lateEvents).toBe(1);
  });

  it('closeAll emits every open pane (end of input, idle partition) and later events are late', () => {
    const panes = new PartitionPanes(options);
    panes.add(input(1_000, 1), 0n);
    panes.add(input(61_000, 2), 1n);
    expect(panes.closeReady()).toEqual([]);
    const closed = panes.closeAll().filter((c) => c.column === 'x');
    expect(closed.map((c) => c.paneStart)).toEqual([0, 60_000]);
    expect(panes.openPanes).toBe(0);
    expect(panes.checkpoint(2n)).toMatchObject({ offset: 2n, closedThrough: 120_000 });
    expect(panes.add(input(100_000, 3), 2n)).toBe('late');
  });

  it('summarizes categorical columns as category counts', () => {
    const panes = new PartitionPanes(options);
    const categorical = new Set(['region']);
    for (const [i, region] of ['north', 'south', 'north', null].entries()) {
      panes.add({ modelName: 'm', modelVersion: 1, eventTime: i * 1_000, columns: { region }, categorical }, BigInt(i));
    }
    panes.add({ modelName: 'm', modelVersion: 1, eventTime: 100_000, columns: { region: 'east' }, categorical }, 9n);
    const [pane] = panes.closeReady();
    expect(pane?.sketch).toBeInstanceOf(CategoricalSketch);
    expect(((pane as ClosedPane).sketch as CategoricalSketch).entries()).toEqual([
      ['north', 2],
      ['south', 1],
    ]);
    expect(pane?.sketch.nullCount).toBe(1);
  });

  it('separates model versions within a pane', () => {
    const panes = new PartitionPanes(options);
    panes.add(input(1_000, 1, 1), 0n);
    panes.add(input(2_000, 2, 2), 1n);
    panes.add(input(100_000, 0), 2n);
    const closed = panes.closeReady().filter((c) => c.column === 'x');
    expect(closed.map((c) => [c.modelVersion, c.sketch.count])).toEqual([
      [1, 1],
      [2, 1],
    ]);
  });

  it('checkpoints at the first message of the oldest open pane', () => {
    const panes = new PartitionPanes(options);
    panes.add(input(1_000, 1), 10n);
    panes.add(input(61_000, 1), 11n);
    expect(panes.checkpoint(12n)).toMatchObject({ offset: 10n, maxEventTime: Number.NEGATIVE_INFINITY });
    panes.add(input(80_000, 1), 12n);
    panes.closeReady();
    // The state as it was before message 11 (nothing closed yet), and what was handed out since.
    expect(panes.checkpoint(13n)).toEqual({
      offset: 11n,
      closedThrough: -60_000, // the watermark was at −9 s: every pane before it counts as closed
      maxEventTime: 1_000,
      late: {},
      emittedThrough: 60_000,
    });
  });

  it('an event in time when first read is in time after a restart too (never re-stored as late)', () => {
    const first = new PartitionPanes(options);
    first.add(input(1_000, 1), 0n);
    first.add(input(61_000, 2), 1n);
    expect(first.add(input(30_000, 3), 2n)).toBe('sketched'); // watermark 51 s: pane 0 still open
    first.add(input(75_000, 4), 3n); // watermark 65 s closes pane 0
    expect(
      first
        .closeReady()
        .filter((c) => c.column === 'x')
        .map((c) => c.sketch.count),
    ).toEqual([2]);
    const checkpoint = first.checkpoint(4n);
    expect(checkpoint.offset).toBe(1n);

    const restarted = new PartitionPanes(options, decodeCheckpoint(encodeCheckpoint(checkpoint)));
    restarted.add(input(61_000, 2), 1n);
    expect(restarted.add(input(30_000, 3), 2n)).toBe('sketched');
    restarted.add(input(75_000, 4), 3n);
    // Pane 0 closes again on the re-read but was emitted already: it is not emitted twice.
    expect(restarted.closeReady()).toEqual([]);
    expect(restarted.lateEvents).toBe(0);
  });

  it('reports late events in the next closed pane of their own model version only', () => {
    const panes = new PartitionPanes(options);
    panes.add(input(1_000, 1, 1), 0n);
    panes.add(input(2_000, 1, 2), 1n);
    panes.add(input(75_000, 1, 2), 2n); // closes pane 0 of both versions
    panes.closeReady();
    expect(panes.add(input(5_000, 1, 1), 3n)).toBe('late');
    expect(panes.add(input(6_000, 1, 1), 4n)).toBe('late');
    panes.add(input(80_000, 1, 1), 5n);
    panes.add(input(200_000, 1, 2), 6n); // closes pane 60 s: v1 and v2
    const late = panes
      .closeReady()
      .filter((c) => c.paneStart === 60_000)
      .map((c) => [c.modelVersion, c.column, c.lateCount]);
    expect(late).toEqual([
      [2, 'x', 0],
      [2, 'prediction', 0],
      [1, 'x', 2],
      [1, 'prediction', 2],
    ]);
  });

  it('carries late counts not yet reported across a restart', () => {
    const panes = new PartitionPanes(options);
    panes.add(input(1_000, 1), 0n);
    panes.add(input(75_000, 1), 1n);
    panes.closeReady();
    panes.add(input(2_000, 1), 2n); // late, reported with the next pane of m v1
    const checkpoint = panes.checkpoint(3n);
    expect(checkpoint.offset).toBe(1n); // pane 60 s is open from message 1
    const restarted = new PartitionPanes(options, decodeCheckpoint(encodeCheckpoint(checkpoint)));
    restarted.add(input(75_000, 1), 1n);
    expect(restarted.add(input(2_000, 1), 2n)).toBe('late');
    restarted.add(input(200_000, 1), 3n);
    expect(restarted.closeReady().map((c) => c.lateCount)).toEqual([1, 1]);
  });

  it('a restart from the checkpoint emits exactly what an uninterrupted run emits', () => {
    const random = mulberry32(42);
    // Out-of-order event times within a few seconds, across ~10 panes.
    const events = Array.from({ length: 3_000 }, (_, i) => input(i * 200 + Math.floor(random() * 8_000), random()));
    const summarize = (closed: ReturnType<PartitionPanes['closeReady']>) =>
      closed.map((c) => `${c.column}@${c.paneStart}:${c.sketch.count}:${(c.sketch as NumericSketch).mean.toFixed(12)}`);

    const whole = new PartitionPanes(options);
    const expected: string[] = [];
    events.forEach((e, i) => {
      whole.add(e, BigInt(i));
      if (i % 100 === 99) expected.push(...summarize(whole.closeReady()));
    });

    const first = new PartitionPanes(options);
    const got: string[] = [];
    let checkpoint = first.checkpoint(0n);
    let metadata = '';
    for (let i = 0; i < 1_700; i++) {
      first.add(events[i] as SketchInput, BigInt(i));
      if (i % 100 === 99) {
        got.push(...summarize(first.closeReady()));
        checkpoint = first.checkpoint(BigInt(i + 1));
        metadata = encodeCheckpoint(checkpoint);
      }
    }
    // Crash after message 1,699 (everything after the last checkpoint is re-read).
    const restarted = new PartitionPanes(options, decodeCheckpoint(metadata));
    for (let i = Number(checkpoint.offset); i < events.length; i++) {
      restarted.add(events[i] as SketchInput, BigInt(i));
      if (i % 100 === 99) got.push(...summarize(restarted.closeReady()));
    }
    expect(got).toEqual(expected);
  });

  it('treats unreadable metadata as no state', () => {
    expect(decodeCheckpoint('not json').closedThrough).toBe(Number.NEGATIVE_INFINITY);
    expect(decodeCheckpoint(null).maxEventTime).toBe(Number.NEGATIVE_INFINITY);
    expect(
      decodeCheckpoint(
        encodeCheckpoint({ offset: 5n, closedThrough: 60_000, maxEventTime: 70_000, late: {}, emittedThrough: 60_000 }),
      ),
    ).toEqual({ closedThrough: 60_000, maxEventTime: 70_000, late: {}, emittedThrough: 60_000 });
    // Version 1 metadata (before panes closed per message) restores what it had.
    expect(decodeCheckpoint('{"v":1,"c":60000,"m":70000}')).toEqual({
      closedThrough: 60_000,
      maxEventTime: 70_000,
      late: {},
      emittedThrough: 60_000,
    });
  });

  it('sketches the same whether the caller names the columns (from the writer schema) or not', () => {
    const named = new PartitionPanes({ paneMs: 1_000, allowedLatenessMs: 0 });
    const unnamed = new PartitionPanes({ paneMs: 1_000, allowedLatenessMs: 0 });
    const names = ['x', 'region'] as const;
    for (let i = 0; i < 50; i++) {
      const input = {
        modelName: 'm',
        modelVersion: 1,
        eventTime: i * 10,
        columns: { x: i % 2 === 0 ? i / 3 : null, region: i % 3 === 0 ? 'north' : 'south' },
        prediction: i,
        categorical: new Set(['region']),
      };
      named.add({ ...input, columnNames: names }, BigInt(i));
      unnamed.add(input, BigInt(i));
    }
    const summary = (panes: PartitionPanes) =>
      panes.closeAll().map((p) => [p.column, JSON.stringify(p.sketch.toJSON())]);
    const fromNamed = summary(named);
    expect(fromNamed.map(([column]) => column)).toEqual(['x', 'region', 'prediction']);
    expect(fromNamed).toEqual(summary(unnamed));
  });

  it('frees numeric sketches built elsewhere when their panes are dropped unread', () => {
    /** Stands in for a sketch on the sketch thread: records its values and whether it was freed. */
    class ElsewhereSketch {
      values: (number | null)[] = [];
      discarded = false;
      push(value: number | null) {
        this.values.push(value);
      }
      discard() {
        this.discarded = true;
      }
    }
    const made: ElsewhereSketch[] = [];
    const elsewhere = {
      ...options,
      numericSketch: () => {
        const sketch = new ElsewhereSketch();
        made.push(sketch);
        return sketch;
      },
    };
    // A restart re-reads a pane it emitted before: closed again, not handed out, and freed.
    const restarted = new PartitionPanes(elsewhere, {
      closedThrough: Number.NEGATIVE_INFINITY,
      maxEventTime: Number.NEGATIVE_INFINITY,
      late: {},
      emittedThrough: 60_000,
    });
    restarted.add(input(1_000, 1), 0n);
    restarted.add(input(75_000, 2), 1n);
    expect(restarted.closeReady()).toEqual([]);
    expect(made.map((s) => [s.values, s.discarded])).toEqual([
      [[1], true],
      [[2], true],
      [[2], false],
      [[4], false],
    ]);
    // A pane closed but not handed out, and an open one: both freed by dispose.
    restarted.add(input(200_000, 3), 2n);
    restarted.dispose();
    expect(made.every((s) => s.discarded)).toBe(true);
    expect(restarted.openPanes).toBe(0);
    expect(restarted.closeReady()).toEqual([]);
  });
});
