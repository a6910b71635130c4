import { describe, expect, it } from 'vitest';
import { evaluateColumn } from '../../core/drift/index.ts';
import { mulberry32, shuffleInPlace } from '../../core/random.ts';
import { CategoricalSketch, NumericSketch } from '../../core/sketch/index.ts';
import { DriftWindows, type SketchPart, type Window, type WindowOptions } from './windows.ts';

const PANE = 1_000;
const T0 = Date.UTC(2026, 0, 1);
const MODEL = 'm';

function part(source: string, pane: number, column: string, values: number[], version = 1): SketchPart {
  return {
    model: MODEL,
    version,
    column,
    paneStart: T0 + pane * PANE,
    paneEnd: T0 + (pane + 1) * PANE,
    source,
    kind: 'numeric',
    sketch: NumericSketch.of(values).toJSON(),
  };
}

/** Every source sends every column for the panes given (one value each unless told). */
function addPanes(
  windows: DriftWindows,
  sources: string[],
  panes: number[],
  columns = ['x'],
  value = (_source: string, pane: number) => [pane],
): void {
  for (const pane of panes)
    for (const source of sources)
      for (const column of columns) windows.add(part(source, pane, column, value(source, pane)), 0);
}

function make(options: Partial<WindowOptions> = {}): DriftWindows {
  return new DriftWindows({ windowPanes: 3, gracePanes: 0, graceMs: 0, ...options });
}

/** Every window ready now, each marked evaluated, as [end pane, completion (+ " #revision")]. */
function drain(windows: DriftWindows, now = 0): [number, string][] {
  const out: [number, string][] = [];
  for (let w = windows.next(now); w; w = windows.next(now)) {
    out.push([(w.end - T0) / PANE - 1, w.revision === 0 ? w.completion : `${w.completion} #${w.revision}`]);
    windows.markEvaluated(w);
  }
  return out;
}

describe('window merging', () => {
  it('merges categorical parts into category counts; a part of the other kind is left out of the column', () => {
    const windows = make({ windowPanes: 2 });
    const categorical = (source: string, pane: number, values: string[]): SketchPart => ({
      ...part(source, pane, 'region', []),
      kind: 'categorical',
      sketch: CategoricalSketch.of(values).toJSON(),
    });
    windows.add(categorical('t:0', 0, ['north', 'north', 'south']), 0);
    windows.add(categorical('t:1', 0, ['south']), 0);
    windows.add(categorical('t:0', 1, ['east']), 0);
    // Pane 1 of t:1 says the column is numeric: a schema that disagrees, not more of the column.
    windows.add(part('t:1', 1, 'region', [1, 2]), 0);
    // Every partition passes pane 1 with every column.
    addPanes(windows, ['t:0', 't:1'], [2], ['x', 'region']);
    const window = windows.next(0) as Window;
    expect(window).toMatchObject({ end: T0 + 2 * PANE, completion: 'all_sources' });
    const region = window.columns.get('region') as CategoricalSketch;
    expect(region).toBeInstanceOf(CategoricalSketch);
    expect(region.entries()).toEqual([
      ['north', 2],
      ['south', 2],
      ['east', 1],
    ]);
  });

  it('merges the partial sketches of several partitions and panes into the sketch of all their values', () => {
    const random = mulberry32(11);
    const sources = ['predictions.m:0', 'predictions.m:1', 'predictions.m:2'];
    const windowPanes = 5;
    // Skewed values (exponential), each assigned to a random source and one of the 5 panes.
    const all: number[] = [];
    const buckets = new Map<string, number[]>();
    for (let i = 0; i < 6_000; i++) {
      const value = -Math.log(1 - random()) * 3;
      all.push(value);
      const key = `${sources[Math.floor(random() * 3)]}|${Math.floor(random() * windowPanes)}`;
      buckets.set(key, [...(buckets.get(key) ?? []), value]);
    }
    const parts = [...buckets].map(([key, values]) => {
      const [source, pane] = key.split('|') as [string, string];
      return part(source, Number(pane), 'x', values);
    });
    const windows = make({ windowPanes });
    for (const p of shuffleInPlace(parts, random)) windows.add(p, 0);
    addPanes(windows, sources, [windowPanes]); // every source moves past the last pane
    const window = windows.next(0);
    expect(window).toMatchObject({
      start: T0,
      end: T0 + windowPanes * PANE,
      paneCount: windowPanes,
      completion: 'all_sources',
    });
    expect(window?.sources).toEqual(sources);
    const merged = window?.columns.get('x') as NumericSketch;
    const whole = NumericSketch.of(all);
    // Moments are exact (up to rounding), min and max exact.
    expect(merged.count).toBe(all.length);
    expect(window?.rowCount).toBe(all.length);
    expect(merged.mean).toBeCloseTo(whole.mean, 10);
    expect(merged.variance).toBeCloseTo(whole.variance, 8);
    expect(merged.min).toBe(whole.min);
    expect(merged.max).toBe(whole.max);
    // Quantiles agree within the t-digest's rank error (≈ 2·δ·q·(1−q), δ = 0.01).
    const sorted = [...all].sort((a, b) => a - b);
    for (const q of [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99]) {
      const rank = sorted.findIndex((v) => v >= merged.quantile(q)) / all.length;
      expect(Math.abs(rank - q), `q=${q}`).toBeLessThanOrEqual(2 * 0.01 * q * (1 - q) + 0.002);
    }
    // And drift statistics against a reference barely move.
    const reference = NumericSketch.of(Array.from({ length: 20_000 }, () => -Math.log(1 - random()) * 3));
    const a = evaluateColumn(reference, merged, { method: 'wasserstein' });
    const b = evaluateColumn(reference, whole, { method: 'wasserstein' });
    expect(Math.abs((a.statistic as number) - (b.statistic as number))).toBeLessThan(0.005);
  });

  it('gives the same window whatever order the parts arrive in', () => {
    const sources = ['t:0', 't:1'];
    const parts = [0, 1, 2, 3].flatMap((pane) =>
      sources.map((source, s) =>
        part(
          source,
          pane,
          'x',
          Array.from({ length: 300 }, (_, i) => (i * 7 + pane * 13 + s) % 101),
        ),
      ),
    );
    const windowOf = (order: SketchPart[]) => {
      const windows = make();
      for (const p of order) windows.add(p, 0);
      return windows.next(0)?.columns.get('x')?.toJSON();
    };
    const forward = windowOf(parts);
    expect(forward).toBeDefined();
    expect(windowOf([...parts].reverse())).toEqual(forward);
    expect(windowOf(shuffleInPlace([...parts], mulberry32(3)))).toEqual(forward);
  });

  it('slides by one pane: the window ending at P holds panes P−W+1…P', () => {
    const windows = make({ windowPanes: 3 });
    addPanes(windows, ['s:0'], [0, 1, 2, 3, 4, 5]);
    const ends: [number, number, number][] = [];
    for (let w = windows.next(0); w; w = windows.next(0)) {
      const x = w.columns.get('x') as NumericSketch;
      ends.push([(w.end - T0) / PANE - 1, x.min, x.max]);
      windows.markEvaluated(w);
    }
    // Pane 5 waits for a later pane; panes 0 and 1 end no window (warm-up).
    expect(ends).toEqual([
      [2, 0, 2],
      [3, 1, 3],
      [4, 2, 4],
    ]);
  });
});

describe('completeness rule', () => {
  it('waits until every known source partition has sent every column of a later pane', () => {
    const windows = make({ windowPanes: 1 });
    addPanes(windows, ['a', 'b'], [0], ['x', 'y']);
    expect(windows.next(0)).toBeUndefined();
    addPanes(windows, ['a'], [1], ['x', 'y']);
    expect(windows.next(0)).toBeUndefined(); // b has not moved on
    addPanes(windows, ['b'], [1], ['x']);
    // b moved on for x only: its y sketch of pane 0 may still be on its way (another partition
    // of the sketches topic), so pane 0 is not complete yet.
    expect(windows.next(0)).toBeUndefined();
    addPanes(windows, ['b'], [1], ['y']);
    expect(drain(windows)).toEqual([[0, 'all_sources']]);
  });

  it('counts a partition with no traffic in a pane as done with it once it sends a later pane', () => {
    const windows = make({ windowPanes: 1 });
    addPanes(windows, ['a', 'b'], [0]);
    addPanes(windows, ['a'], [1]); // b had no events in pane 1
    addPanes(windows, ['a', 'b'], [2]);
    expect(drain(windows)).toEqual([
      [0, 'all_sources'],
      [1, 'all_sources'],
    ]);
  });

  it('stops waiting for a partition that lags gracePanes behind; its late sketch revises that partial window', () => {
    const windows = make({ windowPanes: 1, gracePanes: 2 });
    addPanes(windows, ['a', 'b'], [0]);
    addPanes(windows, ['a'], [1]);
    expect(drain(windows)).toEqual([]); // b has not moved past pane 0, a only 1 pane past it
    addPanes(windows, ['a'], [2]);
    expect(drain(windows)).toEqual([[0, 'grace_panes']]);
    addPanes(windows, ['a'], [3]);
    expect(drain(windows)).toEqual([[1, 'grace_panes']]);
    // b's pane 1 comes late: the window ending at pane 1 was partial, so the pane is kept for its revision.
    expect(windows.add(part('b', 1, 'x', [1]), 0)).toBe('late');
    expect(windows.next(0)).toBeUndefined(); // b has not passed pane 1 yet: more of it may come
    addPanes(windows, ['b'], [2, 3, 4]);
    addPanes(windows, ['a'], [4]);
    expect(drain(windows)).toEqual([
      [1, 'all_sources #1'],
      [2, 'all_sources'],
      [3, 'all_sources'],
    ]);
  });

  it('keeps a late sketch for the later windows that still include its pane', () => {
    const windows = make({ windowPanes: 2, gracePanes: 1 });
    addPanes(windows, ['a', 'b'], [0]);
    addPanes(windows, ['a'], [1, 2]);
    expect(drain(windows)).toEqual([[1, 'grace_panes']]); // pane 0 warms up, pane 1 ends the first window
    expect(windows.add(part('b', 1, 'x', [100]), 0)).toBe('late');
    addPanes(windows, ['a', 'b'], [3]);
    const revision = windows.next(0) as Window; // first, the revision of the partial window it was missing from
    expect(revision).toMatchObject({ end: T0 + 2 * PANE, revision: 1, completion: 'all_sources' });
    windows.markEvaluated(revision);
    const window = windows.next(0);
    expect(window).toMatchObject({ end: T0 + 3 * PANE, completion: 'all_sources', revision: 0 });
    expect((window?.columns.get('x') as NumericSketch | undefined)?.max).toBe(100);
  });

  it('evaluates pending panes once no sketch of the model came for graceMs (the stream stopped)', () => {
    const windows = make({ windowPanes: 1, graceMs: 5_000 });
    windows.add(part('a', 0, 'x', [1]), 1_000);
    windows.add(part('b', 0, 'x', [1]), 3_000);
    // Counted from the model's newest sketch, not the pane's first: b's sketch at 3 s restarts it.
    expect(windows.next(7_999)).toBeUndefined();
    expect(drain(windows, 8_000)).toEqual([[0, 'grace_time']]);
  });

  it('forces the oldest pane when too many wait', () => {
    const windows = make({ windowPanes: 1, maxPendingPanes: 2 });
    addPanes(windows, ['a', 'b'], [0]);
    addPanes(windows, ['a'], [1, 2, 3]); // b silent: nothing complete, 4 panes waiting
    expect(drain(windows)).toEqual([
      [0, 'buffer_full'],
      [1, 'buffer_full'],
    ]);
  });

  it('returns the same window until it is marked evaluated, so a failed evaluation is retried', () => {
    const windows = make({ windowPanes: 1 });
    addPanes(windows, ['a'], [0, 1]);
    const first = windows.next(0);
    expect(windows.next(0)?.end).toBe(first?.end);
    windows.markEvaluated(first as Window);
    expect(windows.next(0)).toBeUndefined();
  });

  it('tracks progress per model across versions: a new version moving on completes the old version', () => {
    const windows = make({ windowPanes: 1 });
    addPanes(windows, ['a'], [0]);
    windows.add(part('a', 1, 'x', [1], 2), 0);
    const window = windows.next(0);
    expect(window).toMatchObject({ version: 1, end: T0 + PANE });
  });
});

describe('offsets and restarts', () => {
  it('holds the commit at the first sketch of a pane not evaluated yet, per partition', () => {
    const windows = make({ windowPanes: 2 });
    windows.add(part('a', 0, 'x', [1]), 0, { partition: 0, offset: 10n });
    windows.add(part('a', 0, 'y', [1]), 0, { partition: 1, offset: 4n });
    windows.add(part('a', 1, 'x', [1]), 0, { partition: 0, offset: 11n });
    windows.add(part('a', 1, 'y', [1]), 0, { partition: 1, offset: 5n });
    windows.add(part('a', 2, 'x', [1]), 0, { partition: 0, offset: 12n });
    windows.add(part('a', 2, 'y', [1]), 0, { partition: 1, offset: 6n });
    // Warm-up panes are not evaluated either: a restart must read them again.
    expect(windows.heldOffsets()).toEqual(
      new Map([
        [0, 10n],
        [1, 4n],
      ]),
    );
    expect(drain(windows)).toEqual([[1, 'all_sources']]);
    // Pane 0 is still in the next window, but it is evaluated: a restart gets it from ClickHouse.
    expect(windows.heldOffsets()).toEqual(
      new Map([
        [0, 12n],
        [1, 6n],
      ]),
    );
  });

  it('a restored version continues: no warm-up, earlier panes from the restored parts, re-reads idempotent', () => {
    const sources = ['a', 'b'];
    const values = (source: string, pane: number) => [pane * 10 + (source === 'a' ? 1 : 2)];
    // Uninterrupted run.
    const straight = make({ windowPanes: 3 });
    addPanes(straight, sources, [0, 1, 2, 3, 4, 5], ['x'], values);
    const expected = new Map<number, unknown>();
    for (let w = straight.next(0); w; w = straight.next(0)) {
      expected.set(w.end, w.columns.get('x')?.toJSON());
      straight.markEvaluated(w);
    }
    // Restart after the window ending at pane 2 was evaluated: panes 1–2 come from storage,
    // and the sketches topic is read again from pane 1 on.
    const restarted = make({ windowPanes: 3 });
    const restoredParts = [1, 2].flatMap((pane) => sources.map((s) => part(s, pane, 'x', values(s, pane))));
    restarted.restore(MODEL, 1, { evaluatedThrough: T0 + 3 * PANE, paneMs: PANE, sources, parts: restoredParts }, 0);
    expect(restarted.add(part('a', 0, 'x', values('a', 0)), 0)).toBe('expired');
    expect(restarted.add(part('a', 2, 'x', values('a', 2)), 0)).toBe('replaced');
    addPanes(restarted, sources, [3, 4, 5], ['x'], values);
    const got = new Map<number, unknown>();
    for (let w = restarted.next(0); w; w = restarted.next(0)) {
      got.set(w.end, w.columns.get('x')?.toJSON());
      restarted.markEvaluated(w);
    }
    expect([...got.keys()]).toEqual([T0 + 4 * PANE, T0 + 5 * PANE]);
    for (const [end, sketch] of got) expect(sketch).toEqual(expected.get(end));
  });

  it('waits for the restored source partitions before declaring a pane complete', () => {
    const windows = make({ windowPanes: 1 });
    windows.restore(MODEL, 1, { evaluatedThrough: T0 + PANE, paneMs: PANE, sources: ['a', 'b'], parts: [] }, 0);
    addPanes(windows, ['a'], [1, 2]);
    expect(windows.next(0)).toBeUndefined();
    addPanes(windows, ['b'], [2]);
    expect(drain(windows)).toEqual([[1, 'all_sources']]);
  });
});

describe('source partitions: all_sources means every partition of the source topic', () => {
  it('waits for a partition of the source topic that has sent nothing yet (a missing subpopulation)', () => {
    const windows = make({ windowPanes: 1 });
    windows.setSourcePartitions(MODEL, 't', 3);
    addPanes(windows, ['t:0', 't:1'], [0, 1]);
    // Only t:0 and t:1 were ever seen; t:2 exists and has not passed pane 0.
    expect(windows.next(0)).toBeUndefined();
    addPanes(windows, ['t:2'], [1]); // t:2 had no traffic in pane 0 and moved on
    expect(windows.next(0)).toMatchObject({
      end: T0 + PANE,
      completion: 'all_sources',
      partial: false,
      sourcesExpected: 3,
      sources: ['t:0', 't:1'],
    });
  });

  it('marks a window completed by a grace rule partial, with the partitions it should have held', () => {
    const windows = make({ windowPanes: 1, gracePanes: 1 });
    windows.setSourcePartitions(MODEL, 't', 3);
    addPanes(windows, ['t:0', 't:1'], [0, 1]);
    expect(windows.next(0)).toMatchObject({
      end: T0 + PANE,
      completion: 'grace_panes',
      partial: true,
      revision: 0,
      sourcesExpected: 3,
      sources: ['t:0', 't:1'],
      sketchCount: 2,
    });
  });
});

describe('revisions of partial windows', () => {
  const value = (source: string, pane: number) => [pane * 10 + Number(source.slice(2)), pane * 10 + 100];

  it('re-evaluates a partial window when its missing sketches arrive: the revision equals the complete window', () => {
    const windows = make({ windowPanes: 2, gracePanes: 1 });
    windows.setSourcePartitions(MODEL, 't', 3);
    addPanes(windows, ['t:0', 't:1'], [0, 1, 2], ['x'], value); // t:2 lags
    const first = windows.next(0) as Window;
    expect(first).toMatchObject({ end: T0 + 2 * PANE, partial: true, revision: 0, sketchCount: 4 });
    windows.markEvaluated(first, { state: 'drift', consecutiveDrift: 1 });
    expect(windows.add(part('t:2', 0, 'x', value('t:2', 0)), 0)).toBe('late');
    expect(windows.add(part('t:2', 1, 'x', value('t:2', 1)), 0)).toBe('late');
    expect(windows.next(0)).toBeUndefined(); // t:2 has not passed pane 1 yet
    windows.add(part('t:2', 2, 'x', value('t:2', 2)), 0);
    const revision = windows.next(0) as Window;
    expect(revision).toMatchObject({
      end: T0 + 2 * PANE,
      revision: 1,
      completion: 'all_sources',
      partial: false,
      sketchCount: 6,
      sources: ['t:0', 't:1', 't:2'],
      original: { state: 'drift', consecutiveDrift: 1 },
    });
    // The same sketch as the window of a run where t:2 was on time.
    const onTime = make({ windowPanes: 2, gracePanes: 1 });
    addPanes(onTime, ['t:0', 't:1', 't:2'], [0, 1, 2], ['x'], value);
    expect(revision.columns.get('x')?.toJSON()).toEqual(onTime.next(0)?.columns.get('x')?.toJSON());
    windows.markEvaluated(revision);
    expect(windows.next(0)).toBeUndefined(); // complete now: never revised again
  });

  it('closes a partial window without a revision when the missing partition passes it without sending anything', () => {
    const windows = make({ windowPanes: 1, gracePanes: 1 });
    windows.setSourcePartitions(MODEL, 't', 2);
    addPanes(windows, ['t:0'], [0, 1]);
    expect(drain(windows)).toEqual([[0, 'grace_panes']]);
    addPanes(windows, ['t:1'], [1]); // no traffic in pane 0: nothing was missing
    addPanes(windows, ['t:0', 't:1'], [2]);
    expect(drain(windows)).toEqual([[1, 'all_sources']]);
  });

  it('revises a window still partial once the stream stops (graceMs), and closes it when the last partition passes', () => {
    const windows = make({ windowPanes: 1, gracePanes: 1, graceMs: 5_000 });
    windows.setSourcePartitions(MODEL, 't', 3);
    addPanes(windows, ['t:0', 't:1'], [0, 1]);
    expect(drain(windows)).toEqual([[0, 'grace_panes']]);
    windows.add(part('t:2', 0, 'x', [7]), 1_000);
    expect(drain(windows, 5_999)).toEqual([]);
    // Quiet for graceMs: the revision (still partial: t:2 has not passed pane 0), then pane 1.
    const revision = windows.next(6_000) as Window;
    expect(revision).toMatchObject({ end: T0 + PANE, revision: 1, completion: 'grace_time', partial: true });
    expect((revision.columns.get('x') as NumericSketch | undefined)?.max).toBe(7);
    windows.markEvaluated(revision);
    expect(drain(windows, 6_000)).toEqual([[1, 'grace_time']]);
    windows.add(part('t:2', 1, 'x', [8]), 7_000); // passes pane 0, having sent nothing more for it
    expect(drain(windows, 7_000)).toEqual([]);
  });

  it('gives a changed partial window a last revision when it leaves the revision horizon, then lets its panes go', () => {
    const windows = make({ windowPanes: 1, gracePanes: 1, revisePanes: 1 });
    windows.setSourcePartitions(MODEL, 't', 3);
    addPanes(windows, ['t:0', 't:1'], [0, 1]);
    expect(drain(windows)).toEqual([[0, 'grace_panes']]);
    windows.add(part('t:2', 0, 'x', [7]), 0); // late, and t:2 never passes pane 0
    addPanes(windows, ['t:0', 't:1'], [2, 3]);
    expect(drain(windows)).toEqual([
      [1, 'grace_panes'],
      [0, 'grace_panes #1'],
      [2, 'grace_panes'],
    ]);
    expect(windows.add(part('t:2', 0, 'y', [7]), 0)).toBe('expired');
  });

  it('a restart keeps the partial windows open to revision and revises them as the first run would have', () => {
    const sources = ['t:0', 't:1', 't:2'];
    const straight = make({ windowPanes: 1, gracePanes: 1 });
    straight.setSourcePartitions(MODEL, 't', 3);
    addPanes(straight, ['t:0', 't:1'], [0, 1], ['x'], value);
    expect(drain(straight)).toEqual([[0, 'grace_panes']]);
    straight.add(part('t:2', 0, 'x', value('t:2', 0)), 0);
    addPanes(straight, sources, [1, 2], ['x'], value);
    const expected: [number, unknown][] = [];
    for (let w = straight.next(0); w; w = straight.next(0)) {
      expected.push([w.revision, w.columns.get('x')?.toJSON()]);
      straight.markEvaluated(w);
    }
    expect(expected.map(([r]) => r)).toEqual([1, 0]);

    // Crash after the first evaluation; t:2's late sketch of pane 0 is in feature_sketches.
    const restarted = make({ windowPanes: 1, gracePanes: 1 });
    restarted.setSourcePartitions(MODEL, 't', 3);
    restarted.restore(
      MODEL,
      1,
      {
        evaluatedThrough: T0 + PANE,
        paneMs: PANE,
        sources: ['t:0', 't:1'],
        revisable: [{ end: T0 + PANE, revision: 0, sketchCount: 2, original: { state: 'ok', consecutiveDrift: 0 } }],
        parts: sources.map((s) => part(s, 0, 'x', value(s, 0))),
      },
      0,
    );
    addPanes(restarted, sources, [1, 2], ['x'], value);
    const got: [number, unknown][] = [];
    for (let w = restarted.next(0); w; w = restarted.next(0)) {
      got.push([w.revision, w.columns.get('x')?.toJSON()]);
      restarted.markEvaluated(w);
    }
    expect(got).toEqual(expected);
  });
});

describe('short-lived versions and restarts', () => {
  it('a version with fewer panes than a window does not pin the commit', () => {
    const windows = make({ windowPanes: 3 });
    // Canary v2 (2 panes, then rolled back) on sketches partition 0; champion v1 on partition 1.
    for (const pane of [0, 1]) {
      windows.add(part('a', pane, 'x', [pane], 2), 0, { partition: 0, offset: BigInt(100 + pane) });
    }
    for (const pane of [0, 1, 2, 3, 4, 5]) {
      windows.add(part('a', pane, 'x', [pane], 1), 0, { partition: 1, offset: BigInt(pane) });
    }
    expect(drain(windows).length).toBe(3); // v1's windows ending at panes 2, 3, 4
    // Every pane of v2 is decided (warm-up): a restart reloads them from feature_sketches.
    expect(windows.heldOffsets()).toEqual(new Map([[1, 5n]]));
  });

  it('a restart restores a version still warming up from its first panes: the same windows come out', () => {
    const values = (_source: string, pane: number) => [pane, pane + 0.5];
    const straight = make({ windowPanes: 3 });
    addPanes(straight, ['a'], [0, 1, 2, 3, 4], ['x'], values);
    const expected = new Map<number, unknown>();
    for (let w = straight.next(0); w; w = straight.next(0)) {
      expected.set(w.end, w.columns.get('x')?.toJSON());
      straight.markEvaluated(w);
    }
    expect([...expected.keys()]).toEqual([T0 + 3 * PANE, T0 + 4 * PANE]);
    // Crash once panes 0–1 were decided (warm-up) and committed past: restored from feature_sketches.
    const restarted = make({ windowPanes: 3 });
    restarted.restore(
      MODEL,
      1,
      {
        evaluatedThrough: Number.NEGATIVE_INFINITY,
        firstPaneStart: T0,
        paneMs: PANE,
        sources: [],
        parts: [0, 1].map((pane) => part('a', pane, 'x', values('a', pane))),
      },
      0,
    );
    addPanes(restarted, ['a'], [2, 3, 4], ['x'], values);
    const got = new Map<number, unknown>();
    for (let w = restarted.next(0); w; w = restarted.next(0)) {
      got.set(w.end, w.columns.get('x')?.toJSON());
      restarted.markEvaluated(w);
    }
    expect(got).toEqual(expected);
  });
});

describe('idle versions', () => {
  it('drops a version once its panes are all decided and no sketch of it came for idleMs', () => {
    const windows = make({ windowPanes: 1, idleMs: 10_000 });
    windows.add(part('a', 0, 'x', [1], 2), 0); // v2: one pane, then nothing
    windows.add(part('a', 0, 'x', [1], 1), 0);
    windows.add(part('a', 1, 'x', [1], 1), 8_000); // v1 goes on: pane 1 is still undecided
    expect(drain(windows, 8_000).length).toBe(2);
    expect(windows.dropIdle(9_999)).toEqual([]);
    expect(windows.dropIdle(10_000)).toEqual([{ model: MODEL, version: 2 }]);
    expect(windows.has(MODEL, 2)).toBe(false);
    expect(windows.has(MODEL, 1)).toBe(true);
    expect(windows.dropIdle(1_000_000)).toEqual([]); // v1 has an undecided pane
    expect(windows.versionCount).toBe(1);
  });

  it('asks for a tick only when time can make something due', () => {
    const windows = make({ windowPanes: 1, graceMs: 5_000, idleMs: 60_000 });
    expect(windows.dueAt()).toBe(Number.POSITIVE_INFINITY);
    windows.add(part('a', 0, 'x', [1]), 1_000);
    expect(windows.dueAt()).toBe(6_000); // the grace of the pending pane
    windows.add(part('a', 0, 'y', [1]), 4_000);
    expect(windows.dueAt()).toBe(9_000); // sketches flowing push it on
    expect(drain(windows, 9_000)).toEqual([[0, 'grace_time']]);
    expect(windows.dueAt()).toBe(64_000); // nothing pending: only the idle drop
    expect(windows.dropIdle(64_000)).toEqual([{ model: MODEL, version: 1 }]);
    expect(windows.dueAt()).toBe(Number.POSITIVE_INFINITY);
    expect(windows.paneCount).toBe(0);
  });
});
