import { describe, expect, it } from 'vitest';
import { CategoricalSketch, NumericSketch } from '../../core/sketch/index.ts';
import { numericSketchJsonOf, type SketchSnapshot, snapshotOf } from '../../core/sketch-snapshot.ts';
import { checkSnapshot, MAX_SKETCH_ROWS, type SketchContext, sketchProblems } from './sketch-validation.ts';
import { DriftWindows } from './windows.ts';

const PANE = 60_000;
const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);
const PANE_START = NOW - 5 * PANE;
const context: SketchContext = { timestampMs: NOW, maxSkewMs: 300_000, windowPanes: 5 };

function snapshot(overrides: Partial<SketchSnapshot> = {}, values: number[] = [1, 2, 3, 4]): SketchSnapshot {
  const sketch = NumericSketch.of(values).toJSON();
  return {
    model_name: 'm',
    model_version: 3,
    column: 'a',
    kind: 'numeric',
    pane_start: new Date(PANE_START),
    pane_end: new Date(PANE_START + PANE),
    source_topic: 'predictions.m',
    source_partition: 2,
    count: sketch.count,
    null_count: 1,
    nonfinite_count: 0,
    late_count: 0,
    min: sketch.min,
    max: sketch.max,
    mean: sketch.mean,
    m2: sketch.m2,
    compression: sketch.compression,
    centroid_means: sketch.means,
    centroid_counts: sketch.counts,
    categories: [],
    ...overrides,
  };
}

function reason(s: SketchSnapshot, ctx: SketchContext = context): string {
  const verdict = checkSnapshot(s, ctx);
  return verdict.kind === 'refused' ? verdict.reason : `not refused: ${verdict.kind}`;
}

describe('sketch snapshots on arrival', () => {
  it('takes a categorical snapshot as a window part of category counts, __other__ as the lumped mass', () => {
    const { model_name, model_version, column, pane_start, pane_end, source_topic, source_partition } = snapshot();
    const categorical = {
      ...snapshotOf(
        {
          modelName: model_name,
          modelVersion: model_version,
          column,
          paneStart: pane_start.getTime(),
          paneEnd: pane_end.getTime(),
          sketch: CategoricalSketch.of(['north', 'north', 'north', 'north', 'south', 'south', null, null]),
          lateCount: 0,
        },
        source_topic,
        source_partition,
      ),
      // As a bounded sketch sends the mass it lumped together.
      count: 7,
      categories: [
        { value: 'north', count: 4 },
        { value: 'south', count: 2 },
        { value: '__other__', count: 1 },
      ],
    };
    const verdict = checkSnapshot(categorical, context);
    expect(verdict).toMatchObject({ kind: 'accepted', part: { kind: 'categorical', column: 'a' } });
    const part = verdict.kind === 'accepted' ? verdict.part : undefined;
    expect(part?.sketch).toMatchObject({
      count: 7,
      nullCount: 2,
      otherCount: 1,
      values: ['north', 'south'],
      counts: [4, 2],
    });

    // Counts that do not add up, too many categories, a category longer than an event allows.
    expect(reason({ ...categorical, count: 9 })).toMatch(/counts and otherCount sum to 7, not count 9/);
    const many = Array.from({ length: 10_001 }, (_, i) => ({ value: `c${i}`, count: 1 }));
    expect(reason({ ...categorical, count: 10_001, categories: many })).toMatch(/at most 10000 categories/);
    expect(reason({ ...categorical, count: 1, categories: [{ value: 'x'.repeat(300), count: 1 }] })).toMatch(
      /at most 256 characters; got 300/,
    );
  });

  it('takes a numeric snapshot as a window part named by source partition', () => {
    const verdict = checkSnapshot(snapshot(), context);
    expect(verdict).toMatchObject({
      kind: 'accepted',
      part: {
        model: 'm',
        version: 3,
        column: 'a',
        paneStart: PANE_START,
        paneEnd: PANE_START + PANE,
        source: 'predictions.m:2',
      },
    });
    const part = verdict.kind === 'accepted' ? verdict.part : undefined;
    expect(part?.kind).toBe('numeric');
    expect(NumericSketch.fromJSON(part?.sketch).toJSON()).toEqual({
      ...NumericSketch.of([1, 2, 3, 4]).toJSON(),
      nullCount: 1,
    });
  });

  it('refuses a sketch that cannot be rebuilt, naming why', () => {
    expect(reason(snapshot({ centroid_counts: [1, 1, 1] }))).toMatch(
      /means and counts must be arrays of the same length/,
    );
    expect(reason(snapshot({ count: 5 }))).toMatch(/counts sum to 4, not count 5/);
    expect(reason(snapshot({ null_count: -1 }))).toMatch(/nullCount must be a non-negative integer/);
    expect(reason(snapshot({ centroid_means: [1, 3, 2, 4] }))).toMatch(/strictly increasing/);
    expect(reason(snapshot({ min: null }))).toMatch(/min ≤ max and mean must be finite/);
    expect(reason(snapshot({ compression: 2 }))).toMatch(/compression/);
  });

  it('refuses sketches that rebuild but would break a merge in a later flush', () => {
    // m2 = 1e308 passes NumericSketch's own check; two of them merged overflow to Infinity, and
    // the window's sketch then fails to rebuild — inside every flush, forever.
    const huge: Partial<SketchSnapshot> = { m2: 1e308 };
    const bad = numericSketchJsonOf(snapshot(huge));
    expect(() => NumericSketch.fromJSON(bad)).not.toThrow();
    expect(() => NumericSketch.fromJSON(bad).merge(NumericSketch.fromJSON(bad)).clone()).toThrow(/m2/);
    expect(reason(snapshot(huge))).toMatch(/m2 1e\+308 is larger than 4 values within \[min, max\] allow/);

    expect(reason(snapshot({ min: -1e300, centroid_means: [-1e300, 2, 3, 4], mean: -2.5e299 }))).toMatch(
      /within ±1e15/,
    );
    expect(reason(snapshot({ mean: 10 }))).toMatch(/mean 10 must lie between min and max/);
    expect(reason(snapshot({ centroid_counts: [0.5, 1.5, 1, 1] }))).toMatch(/whole numbers/);
    const rows = MAX_SKETCH_ROWS + 1;
    expect(reason(snapshot({ null_count: rows - 4 }))).toMatch(/at most \d+ rows per sketch/);
  });

  it('accepts the most extreme sketches it allows, and a window merges them without throwing', () => {
    const extreme = snapshot({}, [-1e15, 1e15, 0, 1e15]);
    const verdict = checkSnapshot({ ...extreme, null_count: MAX_SKETCH_ROWS - 4 }, context);
    expect(verdict.kind).toBe('accepted');
    const windows = new DriftWindows({ windowPanes: 5, gracePanes: 0, graceMs: 0 });
    for (let pane = 0; pane < 5; pane++) {
      for (let partition = 0; partition < 40; partition++) {
        const accepted = checkSnapshot(
          {
            ...extreme,
            null_count: MAX_SKETCH_ROWS - 4,
            pane_start: new Date(PANE_START - (4 - pane) * PANE),
            pane_end: new Date(PANE_START - (3 - pane) * PANE),
            source_partition: partition,
          },
          context,
        );
        if (accepted.kind !== 'accepted') throw new Error(JSON.stringify(accepted));
        windows.add(accepted.part, 0);
      }
    }
    const window = windows.windowEnding('m', 3, PANE_START + PANE);
    const merged = window.columns.get('a') as NumericSketch;
    expect(merged.count).toBe(5 * 40 * 4);
    expect(Number.isFinite(merged.variance)).toBe(true);
    expect(window.rowCount).toBe(5 * 40 * MAX_SKETCH_ROWS);
    expect(Number.isSafeInteger(window.rowCount)).toBe(true);
  });

  it('refuses a pane in the far future: beyond the message timestamp plus the clock skew', () => {
    const future = NOW + 400_000 - ((NOW + 400_000) % PANE); // starts 6 min after the timestamp
    expect(reason(snapshot({ pane_start: new Date(future), pane_end: new Date(future + PANE) }))).toMatch(
      /pane_start .* is \d+ s after the message's timestamp .*MAX_CLOCK_SKEW_SECONDS/,
    );
    const year3000 = Date.UTC(3000, 0, 1);
    expect(reason(snapshot({ pane_start: new Date(year3000), pane_end: new Date(year3000 + PANE) }))).toMatch(
      /after the message's timestamp/,
    );
    // Within the skew: accepted (an event may be up to MAX_CLOCK_SKEW_SECONDS ahead of its producer).
    const soon = NOW + 240_000;
    expect(checkSnapshot(snapshot({ pane_start: new Date(soon), pane_end: new Date(soon + PANE) }), context).kind).toBe(
      'accepted',
    );
    // A message timestamp far in the future does not let a pane past ClickHouse's DateTime either.
    const late = Date.UTC(2106, 1, 7, 6, 25, 0); // the window starting at it would end after 06:28:15
    expect(
      reason(snapshot({ pane_start: new Date(late), pane_end: new Date(late + PANE) }), {
        ...context,
        timestampMs: late,
      }),
    ).toMatch(/between 1970-01-01 and 2106-02-07/);
    expect(reason(snapshot(), { ...context, timestampMs: Number.NaN })).toMatch(/no timestamp/);
  });

  it('refuses panes that are empty, reversed, fractional, unaligned, or longer than a day', () => {
    expect(reason(snapshot({ pane_end: new Date(PANE_START) }))).toMatch(/pane_start must be before pane_end/);
    expect(reason(snapshot({ pane_start: new Date(PANE_START + 500), pane_end: new Date(PANE_START + PANE) }))).toMatch(
      /whole seconds/,
    );
    expect(
      reason(snapshot({ pane_start: new Date(PANE_START + 1_000), pane_end: new Date(PANE_START + 61_000) })),
    ).toMatch(/multiple of the pane length/);
    expect(reason(snapshot({ pane_start: new Date(0), pane_end: new Date(2 * 86_400_000) }))).toMatch(/at most a day/);
    expect(reason(snapshot({ pane_start: new Date(Number.NaN) }))).toMatch(/valid times/);
  });

  it('refuses a snapshot that does not name its model, topic and partition as the store does', () => {
    expect(reason(snapshot({ source_topic: 'predictions.other' }))).toMatch(/source_topic must be predictions.m/);
    expect(reason(snapshot({ model_name: 'M; DROP', source_topic: 'predictions.M; DROP' }))).toMatch(/model_name/);
    expect(reason(snapshot({ source_partition: -1 }))).toMatch(/source_partition/);
    expect(reason(snapshot({ model_version: 0 }))).toMatch(/model_version/);
    expect(reason(snapshot({ column: '' }))).toMatch(/column/);
  });

  it('lists every problem of a sketch at once', () => {
    const sketch = { ...NumericSketch.of([1, 2]).toJSON(), nullCount: -1, format: 3 as 2 };
    expect(sketchProblems({ kind: 'numeric', sketch })).toEqual([
      'format must be 1 or 2; got 3',
      'nullCount must be a non-negative integer',
    ]);
  });
});
