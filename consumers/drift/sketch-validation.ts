/**
 * The contract a pane sketch meets before the drift consumer takes it in, checked once, on
 * arrival. Pure: no Kafka, no ClickHouse. Sketches are merged inside every flush, and one that
 * cannot be merged would fail that flush and every one after it — the commit held, every model's
 * monitoring stopped. So everything a flush later does with an accepted sketch (rebuild it, merge
 * it with up to `MAX_PARTS_PER_WINDOW` others, write its window's times into DateTime columns) is
 * checked here, and what fails is dead-lettered with the reason.
 */
import {
  CLICKHOUSE_DATETIME_MAX_MS,
  CLICKHOUSE_DATETIME_MIN_MS,
  MAX_ABS_VALUE,
  MAX_STRING_LENGTH,
} from '../../core/event-contract.ts';
import {
  CategoricalSketch,
  type CategoricalSketchJSON,
  type ColumnSketchJSON,
  DEFAULT_MAX_CATEGORIES,
  NumericSketch,
  type NumericSketchJSON,
} from '../../core/sketch/index.ts';
import { columnSketchJsonOf, type SketchSnapshot } from '../../core/sketch-snapshot.ts';
import { PREDICTIONS_TOPIC_PATTERN, predictionsTopic } from '../../core/topics.ts';
import { type SketchPart, sourceName } from './windows.ts';

/**
 * Most sketches one window merges: DRIFT_WINDOW_PANES (≤ 1,000) panes × partitions of a source
 * topic (KAFKA_TOPIC_PARTITIONS ≤ 1,000). Bounds below keep such a merge exact and finite.
 */
export const MAX_PARTS_PER_WINDOW = 1_000 * 1_000;

/**
 * Most rows (values, nulls and non-finite values) one sketch may count: a window's merged counts
 * then stay safe integers (≈ 9·10⁹ per pane and partition, far beyond any real stream).
 */
export const MAX_SKETCH_ROWS = Math.floor(Number.MAX_SAFE_INTEGER / MAX_PARTS_PER_WINDOW);

/** The store's pane length is whole seconds from 1 s to a day (PANE_SECONDS). */
const MAX_PANE_MS = 86_400_000;

/** Kafka's longest topic name. */
const MAX_TOPIC_LENGTH = 249;

/** Longest accepted column name. */
const MAX_COLUMN_LENGTH = 256;

const MAX_MODEL_VERSION = 2_147_483_647;

export interface SketchContext {
  /** The Kafka message's timestamp (its create time), ms; NaN when it has none. */
  timestampMs: number;
  /** MAX_CLOCK_SKEW_SECONDS in ms: how far a pane may start after the message's timestamp. */
  maxSkewMs: number;
  /** DRIFT_WINDOW_PANES: every window holding the pane must fit ClickHouse's DateTime. */
  windowPanes: number;
}

export type SketchVerdict = { kind: 'accepted'; part: SketchPart } | { kind: 'refused'; reason: string };

/** Checks a decoded snapshot; `accepted` parts never make a later merge or write throw. */
export function checkSnapshot(snapshot: SketchSnapshot, context: SketchContext): SketchVerdict {
  const problems = [...identityProblems(snapshot), ...paneProblems(snapshot, context)];
  const part = partOf(snapshot);
  problems.push(...sketchProblems(part));
  if (problems.length > 0) return { kind: 'refused', reason: `invalid sketch snapshot: ${problems.join('; ')}` };
  return { kind: 'accepted', part };
}

/** A snapshot as a window part (unchecked: `checkSnapshot` decides whether to take it). */
export function partOf(snapshot: SketchSnapshot): SketchPart {
  return {
    model: snapshot.model_name,
    version: snapshot.model_version,
    column: snapshot.column,
    paneStart: snapshot.pane_start.getTime(),
    paneEnd: snapshot.pane_end.getTime(),
    source: sourceName(snapshot.source_topic, snapshot.source_partition),
    ...columnSketchJsonOf(snapshot),
  };
}

function identityProblems(s: SketchSnapshot): string[] {
  const problems: string[] = [];
  if (!(Number.isInteger(s.model_version) && s.model_version >= 1 && s.model_version <= MAX_MODEL_VERSION)) {
    problems.push(`model_version must be a whole number from 1 to ${MAX_MODEL_VERSION}; got ${s.model_version}`);
  }
  // The store reads predictions.<model> and dead-letters events whose model_name differs from
  // the topic's; anything else is not a sketch the store made (and would name a topic to look up).
  const expected = predictionsTopic(s.model_name);
  if (!PREDICTIONS_TOPIC_PATTERN.test(expected) || expected.length > MAX_TOPIC_LENGTH) {
    problems.push(`model_name must be a model name (lower-case letters, digits, dashes); got ${quote(s.model_name)}`);
  } else if (s.source_topic !== expected) {
    problems.push(`source_topic must be ${expected}; got ${quote(s.source_topic)}`);
  }
  if (!(Number.isInteger(s.source_partition) && s.source_partition >= 0)) {
    problems.push(`source_partition must be a whole number ≥ 0; got ${s.source_partition}`);
  }
  if (s.column.length === 0 || s.column.length > MAX_COLUMN_LENGTH) {
    problems.push(`column must be 1 to ${MAX_COLUMN_LENGTH} characters; got ${s.column.length}`);
  }
  return problems;
}

/**
 * Why a pane is refused (also applied to the rows a restore reads back). Its start is bounded by
 * the message's timestamp: the store emits a pane only after events of it were sketched, and an
 * event is at most MAX_CLOCK_SKEW_SECONDS ahead of the time it was produced
 * (core/event-contract.ts), so pane_start ≤ the snapshot's create time + that skew. A pane beyond
 * it (a wrong clock, a corrupt message) would complete every earlier pane at once and then make
 * every later sketch expire; it is refused before it can move any progress.
 */
export function paneProblems(s: Pick<SketchSnapshot, 'pane_start' | 'pane_end'>, context: SketchContext): string[] {
  const start = s.pane_start.getTime();
  const end = s.pane_end.getTime();
  if (!(Number.isFinite(start) && Number.isFinite(end))) return ['pane_start and pane_end must be valid times'];
  const paneMs = end - start;
  if (!(paneMs > 0)) return [`pane_start must be before pane_end; got ${iso(start)} and ${iso(end)}`];
  const problems: string[] = [];
  // ClickHouse keeps whole seconds: a restart reloads panes from DateTime columns.
  if (start % 1000 !== 0 || end % 1000 !== 0) problems.push('pane_start and pane_end must be whole seconds');
  if (paneMs > MAX_PANE_MS) problems.push(`a pane must be at most a day long; got ${paneMs / 1000} s`);
  else if (start % paneMs !== 0) problems.push(`pane_start must be a multiple of the pane length (${paneMs / 1000} s)`);
  // Every window holding the pane — from the one ending at it to the one starting at it.
  const windowMs = context.windowPanes * paneMs;
  if (end - windowMs < CLICKHOUSE_DATETIME_MIN_MS || start + windowMs > CLICKHOUSE_DATETIME_MAX_MS) {
    problems.push(
      `the windows holding the pane must lie between 1970-01-01 and 2106-02-07 (what ClickHouse DateTime holds); got pane_start ${iso(start)}`,
    );
  }
  if (!Number.isFinite(context.timestampMs) || context.timestampMs < 0) {
    problems.push('the message has no timestamp to bound its pane by');
  } else if (start > context.timestampMs + context.maxSkewMs) {
    problems.push(
      `pane_start ${iso(start)} is ${Math.round((start - context.timestampMs) / 1000)} s after the message's timestamp ${iso(context.timestampMs)} (at most ${context.maxSkewMs / 1000} s accepted, MAX_CLOCK_SKEW_SECONDS)`,
    );
  }
  return problems;
}

/** Why a numeric or categorical sketch would fail a rebuild or a merge. */
export function sketchProblems(part: ColumnSketchJSON): string[] {
  return part.kind === 'numeric' ? numericSketchProblems(part.sketch) : categoricalSketchProblems(part.sketch);
}

/**
 * Why a categorical sketch would fail a rebuild or a merge: CategoricalSketch's own validation
 * (counts that add up), at most MAX_SKETCH_ROWS rows, at most as many categories as the store
 * tracks, and categories no longer than the event contract lets a string be.
 */
function categoricalSketchProblems(sketch: CategoricalSketchJSON): string[] {
  const rebuilt = validationProblems(() => CategoricalSketch.fromJSON(sketch));
  if (rebuilt.length > 0) return rebuilt;
  const problems: string[] = [];
  const rows = sketch.count + sketch.nullCount;
  if (rows > MAX_SKETCH_ROWS) problems.push(`at most ${MAX_SKETCH_ROWS} rows per sketch; got ${rows}`);
  if (sketch.values.length > DEFAULT_MAX_CATEGORIES) {
    problems.push(`at most ${DEFAULT_MAX_CATEGORIES} categories per sketch; got ${sketch.values.length}`);
  }
  const long = sketch.values.find((v) => v.length > MAX_STRING_LENGTH);
  if (long !== undefined)
    problems.push(`categories must be at most ${MAX_STRING_LENGTH} characters; got ${long.length}`);
  return problems;
}

function validationProblems(rebuild: () => unknown): string[] {
  try {
    rebuild();
    return [];
  } catch (error) {
    const problems = (error as { details?: { problems?: unknown } }).details?.problems;
    return Array.isArray(problems) ? problems.map(String) : [String((error as Error).message)];
  }
}

/**
 * Why a numeric sketch would fail a rebuild or a merge: NumericSketch's own validation, plus the bounds
 * that keep merges of up to MAX_PARTS_PER_WINDOW sketches finite and their counts exact — values
 * within ±1e15 (the event contract's bound), whole centroid counts, at most MAX_SKETCH_ROWS rows,
 * m2 no larger than the values' range allows, the mean between min and max.
 */
function numericSketchProblems(sketch: NumericSketchJSON): string[] {
  const rebuilt = validationProblems(() => NumericSketch.fromJSON(sketch));
  if (rebuilt.length > 0) return rebuilt;
  const problems: string[] = [];
  const rows = sketch.count + sketch.nullCount + sketch.nonFiniteCount;
  if (rows > MAX_SKETCH_ROWS) problems.push(`at most ${MAX_SKETCH_ROWS} rows per sketch; got ${rows}`);
  if (sketch.count > 0) {
    const min = sketch.min as number;
    const max = sketch.max as number;
    const mean = sketch.mean as number;
    if (Math.abs(min) > MAX_ABS_VALUE || Math.abs(max) > MAX_ABS_VALUE) {
      problems.push(`min and max must be within ±1e15; got ${min} and ${max}`);
    } else {
      // Rounding slack: Welford's mean and m2 carry a few ulps of error.
      const slack = 1e-9 * Math.max(1, Math.abs(min), Math.abs(max));
      if (mean < min - slack || mean > max + slack) problems.push(`mean ${mean} must lie between min and max`);
      const range = max - min + slack;
      if (sketch.m2 > sketch.count * range * range) {
        problems.push(`m2 ${sketch.m2} is larger than ${sketch.count} values within [min, max] allow`);
      }
      if (sketch.means.some((m) => m < min - slack || m > max + slack)) {
        problems.push('centroid means must lie between min and max');
      }
    }
    if (!sketch.counts.every((n) => Number.isSafeInteger(n))) problems.push('centroid counts must be whole numbers');
  }
  return problems;
}

function iso(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}

function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}
