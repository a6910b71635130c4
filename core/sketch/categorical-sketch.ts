/**
 * A mergeable, serializable summary of one categorical column: per-category counts, bounded
 * by `maxCategories` (default 10,000, so that a column of a few thousand categories stays exact:
 * with 1,000, Jensen–Shannon on a 3,000-category column was off by 0.1), plus the null count.
 * Exact while at most `maxCategories` distinct values have been seen (and merging then gives exactly one sketch's counts); beyond
 * that a Misra–Gries summary whose error is bounded and kept (`reduce`, `maxError`).
 */
import { DriftlineError, ErrorCode } from '../errors.ts';

/** Name under which the lumped mass is reported by consumers of the sketch. */
export const OTHER_CATEGORY = '__other__';
export const DEFAULT_MAX_CATEGORIES = 10_000;

/** The plain-object form of a sketch: what `toJSON` returns and `fromJSON` accepts. */
export interface CategoricalSketchJSON {
  format: 1;
  maxCategories: number;
  /** Non-null values pushed (tracked counts + `otherCount`). */
  count: number;
  nullCount: number;
  /** Mass removed from counters by reductions (not attributed to any category). */
  otherCount: number;
  /** Upper bound on how far below its true count any category's count is. */
  maxError: number;
  /** Tracked categories, heaviest first (ties by name); `counts[i]` belongs to `values[i]`. */
  values: string[];
  counts: number[];
}

export interface CategoricalSketchOptions {
  /** Categories tracked exactly before lumping starts (≥ 1). Default 10,000. */
  maxCategories?: number;
}

export class CategoricalSketch {
  readonly kind = 'categorical' as const;
  readonly maxCategories: number;
  private readonly counters = new Map<string, number>();
  private n = 0;
  private nulls = 0;
  private other = 0;
  private error = 0;

  private constructor(maxCategories: number) {
    if (!(Number.isSafeInteger(maxCategories) && maxCategories >= 1)) {
      throw new RangeError(`maxCategories must be a positive integer; got ${maxCategories}`);
    }
    this.maxCategories = maxCategories;
  }

  static create(options: CategoricalSketchOptions = {}): CategoricalSketch {
    return new CategoricalSketch(options.maxCategories ?? DEFAULT_MAX_CATEGORIES);
  }

  static of(values: Iterable<string | null | undefined>, options: CategoricalSketchOptions = {}): CategoricalSketch {
    const sketch = CategoricalSketch.create(options);
    for (const value of values) sketch.push(value);
    return sketch;
  }

  /** Rebuilds a sketch from `toJSON` output; throws DECODE_FAILED on a malformed object. */
  static fromJSON(value: unknown): CategoricalSketch {
    const json = validateJSON(value);
    const sketch = new CategoricalSketch(json.maxCategories);
    sketch.n = json.count;
    sketch.nulls = json.nullCount;
    sketch.other = json.otherCount;
    sketch.error = json.maxError;
    for (let i = 0; i < json.values.length; i++)
      sketch.counters.set(json.values[i] as string, json.counts[i] as number);
    return sketch;
  }

  /** Adds one value; null/undefined are only counted. */
  push(value: string | null | undefined): void {
    if (value === null || value === undefined) {
      this.nulls++;
      return;
    }
    this.n++;
    this.counters.set(value, (this.counters.get(value) ?? 0) + 1);
    if (this.counters.size > 2 * this.maxCategories) this.reduce();
  }

  pushAll(values: Iterable<string | null | undefined>): void {
    for (const value of values) this.push(value);
  }

  /** Folds `other` into this sketch (`other` is unchanged) and returns this sketch. */
  merge(other: CategoricalSketch): this {
    this.n += other.n;
    this.nulls += other.nulls;
    this.other += other.other;
    this.error += other.error;
    for (const [value, count] of other.counters) this.counters.set(value, (this.counters.get(value) ?? 0) + count);
    if (this.counters.size > this.maxCategories) this.reduce();
    return this;
  }

  clone(): CategoricalSketch {
    return CategoricalSketch.fromJSON(this.toJSON());
  }

  /** Non-null values pushed. */
  get count(): number {
    return this.n;
  }
  get nullCount(): number {
    return this.nulls;
  }
  /** Mass lumped into `__other__` (0 while the counts are exact). */
  get otherCount(): number {
    this.compact();
    return this.other;
  }
  /** How far below its true count any category's count may be (0: exact). */
  get maxError(): number {
    this.compact();
    return this.error;
  }
  /** Number of tracked categories (≤ maxCategories). */
  get size(): number {
    this.compact();
    return this.counters.size;
  }

  /** Count of one category (0 when not tracked). */
  get(value: string): number {
    this.compact();
    return this.counters.get(value) ?? 0;
  }

  /** Tracked categories and counts, heaviest first, ties by name. */
  entries(): [string, number][] {
    this.compact();
    return [...this.counters].sort(byCountThenName);
  }

  toJSON(): CategoricalSketchJSON {
    const entries = this.entries();
    return {
      format: 1,
      maxCategories: this.maxCategories,
      count: this.n,
      nullCount: this.nulls,
      otherCount: this.other,
      maxError: this.error,
      values: entries.map((e) => e[0]),
      counts: entries.map((e) => e[1]),
    };
  }

  /**
   * Readers see at most maxCategories counters; pushes let the map grow to twice that so a
   * reduction (O(k log k)) runs at most once per k new categories.
   */
  private compact(): void {
    if (this.counters.size > this.maxCategories) this.reduce();
  }

  /**
   * Misra–Gries reduction to at most maxCategories counters (the mergeable form of Agarwal et al.,
   * "Mergeable summaries", 2012): the (maxCategories+1)-th largest count v is subtracted from
   * every counter and those at or below 0 are dropped. The mass taken away goes to `__other__`,
   * so the counts still sum to the number of values pushed.
   *
   * Error bound. Each reduction takes v from at least maxCategories + 1 counters, so the total
   * of all v is at most n/(maxCategories + 1) (n = non-null values). A tracked category's count
   * is therefore never above its true count and at most `maxError` ≤ n/(maxCategories + 1)
   * below it; a category that is not tracked occurred at most `maxError` times. `maxError` is
   * kept exactly (0 means every count is exact). E.g. with the default bound and 10⁶ values,
   * any category with a share above 0.01 % is tracked and each share is off by ≤ 0.01 %.
   */
  private reduce(): void {
    const counts = [...this.counters.values()].sort((a, b) => b - a);
    const v = counts[this.maxCategories] as number; // the (k+1)-th largest: exists, size > k
    for (const [value, count] of this.counters) {
      if (count > v) {
        this.counters.set(value, count - v);
        this.other += v;
      } else {
        this.counters.delete(value);
        this.other += count;
      }
    }
    this.error += v;
  }
}

function byCountThenName(a: [string, number], b: [string, number]): number {
  return b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}

function validateJSON(value: unknown): CategoricalSketchJSON {
  const problems: string[] = [];
  const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (typeof value !== 'object' || value === null) {
    problems.push('not an object');
  } else {
    const o = value as Record<string, unknown>;
    if (o.format !== 1) problems.push(`format must be 1; got ${JSON.stringify(o.format)}`);
    if (!(isCount(o.maxCategories) && o.maxCategories >= 1)) problems.push('maxCategories must be a positive integer');
    for (const key of ['count', 'nullCount', 'otherCount', 'maxError'] as const) {
      if (!isCount(o[key])) problems.push(`${key} must be a non-negative integer`);
    }
    const { values, counts } = o;
    if (!Array.isArray(values) || !Array.isArray(counts) || values.length !== counts.length) {
      problems.push('values and counts must be arrays of the same length');
    } else if (problems.length === 0) {
      if (values.length > (o.maxCategories as number)) problems.push('more values than maxCategories');
      if (!values.every((v) => typeof v === 'string')) problems.push('values must be strings');
      if (new Set(values).size !== values.length) problems.push('values must be distinct');
      if (!counts.every((c) => isCount(c) && c > 0)) problems.push('counts must be positive integers');
      const total = counts.reduce((a: number, c) => a + (c as number), 0) + (o.otherCount as number);
      if (problems.length === 0 && total !== o.count) {
        problems.push(`counts and otherCount sum to ${total}, not count ${String(o.count)}`);
      }
    }
  }
  if (problems.length > 0) {
    throw new DriftlineError(ErrorCode.DECODE_FAILED, `invalid categorical sketch: ${problems.join('; ')}`, {
      details: { problems },
    });
  }
  return value as CategoricalSketchJSON;
}
