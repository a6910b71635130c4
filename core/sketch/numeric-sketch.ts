/**
 * A mergeable, serializable summary of one numeric column: exact count, missing counts, min,
 * max, mean and variance, plus sorted centroids (a merging t-digest) for the CDF and quantiles.
 * The reference profile of a model is built from these, and stream consumers build one per pane
 * and merge them: merged moments equal one sketch's over all the values (`merge`).
 *
 * Centroids are of two kinds, and each carries which it is (`pointMass`):
 *   - a **point mass** holds copies of one value only: exact, whatever its count;
 *   - a **spread** centroid merged different values: its mass is spread around its mean.
 * While a sketch has seen at most `EXACT_VALUES` distinct values it keeps them all as point
 * masses, so the distribution is exact — a small pane, a window of a few hundred values, or a
 * column with few distinct values (integers, ties) at any size. Beyond that it compresses: in
 * sorted order, neighbouring centroids merge while a centroid at quantile q holds at most
 * 4·n·δ·q·(1−q) values (the `tdigest` package's size rule: ≤ 1 % of the data at the median,
 * single values in the extreme tails), except that a point mass holding at least half of that
 * never absorbs other values (a repeated value stays an exact jump in the CDF, mixed with
 * continuous data or not), and the rule then applies to the other values by their own quantiles
 * (the tails of a continuous part next to a big point mass stay fine-grained).
 */
import { DriftlineError, ErrorCode } from '../errors.ts';

/** Default compression δ: a centroid at quantile q holds at most 4·n·δ·q·(1−q) values. */
export const DEFAULT_COMPRESSION = 0.01;
/** Distinct values a sketch keeps exactly (every centroid a point mass) before compressing. */
export const EXACT_VALUES = 1_000;
/** Values buffered unsorted before they are sorted and merged into the centroids. */
const MAX_BUFFER = 1_024;
/** Most centroids a valid sketch holds: K/δ (K = 25, as in `tdigest`), and at least EXACT_VALUES. */
const MAX_CENTROIDS_K = 25;

/** The plain-object form of a sketch: what `toJSON` returns and `fromJSON` accepts. */
export interface NumericSketchJSON {
  /**
   * Format version. 2: `pointMass` says which centroids are point masses. 1 (written by the
   * `tdigest`-based sketch before): no `pointMass`; read by inferring it (`inferPointMasses`).
   */
  format: 1 | 2;
  /** Compression δ (a centroid at quantile q holds at most 4·n·δ·q·(1−q) values). */
  compression: number;
  /** Finite values pushed. */
  count: number;
  /** `null`/`undefined` values pushed. */
  nullCount: number;
  /** NaN and ±Infinity values pushed (kept out of every other statistic). */
  nonFiniteCount: number;
  /** Smallest / largest finite value; null when `count` is 0. */
  min: number | null;
  max: number | null;
  /** Mean of the finite values; null when `count` is 0. */
  mean: number | null;
  /** Sum of squared deviations from the mean (Welford's M2); 0 when `count` < 2. */
  m2: number;
  /** Centroid means, strictly increasing; `counts[i]` values sit at `means[i]`. */
  means: number[];
  counts: number[];
  /** Format 2: whether centroid i holds copies of one value only (an exact point mass). */
  pointMass?: boolean[];
  /**
   * Optional (format 2): the exact type-1 percentiles of the values and how many values lie at
   * or below each (`NumericSketch.withExactPercentiles`: reference profiles, built from all
   * their values at once). Absent on sketches that were pushed to or merged into.
   */
  percentiles?: ExactPercentiles;
}

/**
 * The exact type-1 percentiles k/100 (k = 1…99) of a sketch's values: `values[k − 1]` is the
 * smallest value whose empirical CDF reaches k/100, and `atOrBelow[k − 1]` the count of values
 * ≤ it (more than ⌈k·n/100⌉ when it is tied).
 */
export interface ExactPercentiles {
  values: number[];
  atOrBelow: number[];
}

export interface NumericSketchOptions {
  /** Compression δ in (0, 1); smaller keeps more centroids. Default 0.01. */
  compression?: number;
}

/** Sorted centroids: `means[i]` (strictly increasing), `counts[i]`, `pointMass[i]` (1 or 0). */
export interface Centroids {
  readonly size: number;
  readonly means: Float64Array;
  readonly counts: Float64Array;
  readonly pointMass: Uint8Array;
}

const EMPTY: Centroids = {
  size: 0,
  means: new Float64Array(0),
  counts: new Float64Array(0),
  pointMass: new Uint8Array(0),
};

export class NumericSketch {
  readonly kind = 'numeric' as const;
  readonly compression: number;
  private n = 0;
  private nulls = 0;
  private nonFinite = 0;
  private lo = Number.POSITIVE_INFINITY;
  private hi = Number.NEGATIVE_INFINITY;
  private mu = 0;
  private m2 = 0;
  private centroidList: Centroids = EMPTY;
  /** Values pushed since the last flush, unsorted. */
  private buffer = new Float64Array(0);
  private buffered = 0;
  private changes = 0;
  /** Sorted centroid means and mid-ranks for `quantile`/`cdf`, rebuilt lazily after any change. */
  private cache: { means: Float64Array; ranks: Float64Array } | undefined;
  /** Exact percentiles of exactly the values held (`withExactPercentiles`); any change drops them. */
  private exactPercentileValues: ExactPercentiles | undefined;

  private constructor(compression: number) {
    if (!(compression > 0 && compression < 1)) {
      throw new RangeError(`compression must be in (0, 1); got ${compression}`);
    }
    this.compression = compression;
  }

  /** An empty sketch. */
  static create(options: NumericSketchOptions = {}): NumericSketch {
    return new NumericSketch(options.compression ?? DEFAULT_COMPRESSION);
  }

  /** A sketch over `values`. */
  static of(values: Iterable<number | null | undefined>, options: NumericSketchOptions = {}): NumericSketch {
    const sketch = NumericSketch.create(options);
    for (const value of values) sketch.push(value);
    return sketch;
  }

  /**
   * A sketch over `values` that also keeps their exact percentiles (type 1, k/100 for
   * k = 1…99; `exactPercentiles`), for references built from all their values at once. The
   * reference-quantile bin edges of PSI and Jensen–Shannon then come out exact: an edge
   * interpolated inside a centroid is off by a few reference ranks, which is within the digest's
   * guarantee, but a current window whose densest part starts right there (a shifted Pareto
   * tail, at its minimum) puts many values on the wrong side of it — and PSI takes logarithms of
   * such nearly empty bins. Pushing to or merging into the sketch drops the percentiles.
   */
  static withExactPercentiles(
    values: Iterable<number | null | undefined>,
    options: NumericSketchOptions = {},
  ): NumericSketch {
    const finite: number[] = [];
    const sketch = NumericSketch.create(options);
    for (const value of values) {
      sketch.push(value);
      if (typeof value === 'number' && Number.isFinite(value)) finite.push(value);
    }
    if (finite.length > 0) {
      const sorted = Float64Array.from(finite).sort();
      const values = Array.from({ length: PERCENTILES }, (_, i) => typeOneQuantile(sorted, i + 1, PERCENTILES + 1));
      sketch.exactPercentileValues = { values, atOrBelow: values.map((v) => countAtOrBelowSorted(sorted, v)) };
    }
    return sketch;
  }

  /**
   * Rebuilds a sketch from `toJSON` output (format 1 or 2); throws DECODE_FAILED on a malformed
   * object. A format-1 object's point masses are inferred (`inferPointMasses`).
   */
  static fromJSON(value: unknown): NumericSketch {
    const json = validateJSON(value);
    const sketch = new NumericSketch(json.compression);
    sketch.n = json.count;
    sketch.nulls = json.nullCount;
    sketch.nonFinite = json.nonFiniteCount;
    if (json.count > 0) {
      sketch.lo = json.min as number;
      sketch.hi = json.max as number;
      sketch.mu = json.mean as number;
      sketch.m2 = json.m2;
    }
    const size = json.means.length;
    const pointMass = json.pointMass ?? inferPointMasses(json);
    sketch.centroidList = {
      size,
      means: Float64Array.from(json.means),
      counts: Float64Array.from(json.counts),
      pointMass: Uint8Array.from(pointMass, (p) => (p ? 1 : 0)),
    };
    if (json.percentiles) {
      sketch.exactPercentileValues = {
        values: [...json.percentiles.values],
        atOrBelow: [...json.percentiles.atOrBelow],
      };
    }
    return sketch;
  }

  /** Adds one value; null/undefined and non-finite numbers are only counted. */
  push(value: number | null | undefined): void {
    if (value === null || value === undefined) {
      this.nulls++;
      return;
    }
    if (!Number.isFinite(value)) {
      this.nonFinite++;
      return;
    }
    this.n++;
    const delta = value - this.mu;
    this.mu += delta / this.n;
    this.m2 += delta * (value - this.mu);
    if (value < this.lo) this.lo = value;
    if (value > this.hi) this.hi = value;
    if (this.buffered === this.buffer.length) {
      if (this.buffered >= MAX_BUFFER) this.flush();
      else {
        // Grown on demand, so a pane of a few values stays small.
        const larger = new Float64Array(Math.min(MAX_BUFFER, Math.max(16, 2 * this.buffer.length)));
        larger.set(this.buffer);
        this.buffer = larger;
      }
    }
    this.buffer[this.buffered++] = value;
    this.changed();
  }

  pushAll(values: Iterable<number | null | undefined>): void {
    for (const value of values) this.push(value);
  }

  /**
   * Folds `other` into this sketch (`other` is unchanged) and returns this sketch. Moments are
   * exact up to floating-point rounding (Welford's update per value in `push`, Chan et al.'s
   * pairwise formula here). Centroids merge in sorted order: two exact sketches whose distinct
   * values together are at most EXACT_VALUES give an exact sketch, equal to one over all values.
   */
  merge(other: NumericSketch): this {
    this.nulls += other.nulls;
    this.nonFinite += other.nonFinite;
    if (other.n === 0) return this;
    // Chan, Golub & LeVeque's pairwise update: exact, and stable when the means differ a lot.
    const n = this.n + other.n;
    const delta = other.mu - this.mu;
    this.mu += (delta * other.n) / n;
    this.m2 += other.m2 + (delta * delta * this.n * other.n) / n;
    this.n = n;
    if (other.lo < this.lo) this.lo = other.lo;
    if (other.hi > this.hi) this.hi = other.hi;
    this.flush();
    this.absorb(other.centroids());
    this.changed();
    return this;
  }

  /** A deep copy. */
  clone(): NumericSketch {
    return NumericSketch.fromJSON(this.toJSON());
  }

  get count(): number {
    return this.n;
  }
  get nullCount(): number {
    return this.nulls;
  }
  get nonFiniteCount(): number {
    return this.nonFinite;
  }
  /** NaN when empty. */
  get min(): number {
    return this.n === 0 ? Number.NaN : this.lo;
  }
  get max(): number {
    return this.n === 0 ? Number.NaN : this.hi;
  }
  get mean(): number {
    return this.n === 0 ? Number.NaN : this.mu;
  }
  /** Sum of squared deviations from the mean. */
  get sumOfSquares(): number {
    return this.m2;
  }
  /** Sample variance (divisor n − 1); NaN below two values. */
  get variance(): number {
    return this.n < 2 ? Number.NaN : this.m2 / (this.n - 1);
  }
  /** Sample standard deviation. */
  get std(): number {
    return Math.sqrt(this.variance);
  }
  get centroidCount(): number {
    return this.centroids().size;
  }
  /** Whether every centroid is a point mass: the sketch then holds the values exactly. */
  get exact(): boolean {
    const c = this.centroids();
    for (let i = 0; i < c.size; i++) if (c.pointMass[i] === 0) return false;
    return true;
  }
  /**
   * The exact type-1 percentiles (k/100, k = 1…99) of the values held and their counts, when the
   * sketch was built by `withExactPercentiles` (or read from its JSON) and not changed since.
   */
  get exactPercentiles(): Readonly<ExactPercentiles> | undefined {
    return this.exactPercentileValues;
  }
  /** Increases with every change (for caches of values derived from the sketch). */
  get version(): number {
    return this.changes;
  }

  /** The sorted centroids (read-only view; valid until the sketch changes). */
  centroids(): Centroids {
    this.flush();
    return this.centroidList;
  }

  /**
   * The value below which a fraction `q` (0…1) of the values lie; NaN when empty.
   *
   * Piecewise-linear through (rank 0, min), each centroid at (its mid-rank, its mean) and
   * (rank n, max). On discrete data with ties the answer is interpolated between neighbouring
   * values (the median of {1,1,2,2,2} may come out as 1.8); the true quantile is then the floor
   * or the ceil. (The drift statistics use the point masses: core/drift/numeric-distribution.ts.)
   */
  quantile(q: number): number {
    if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile needs q in [0, 1]; got ${q}`);
    if (this.n === 0) return Number.NaN;
    const { means, ranks } = this.points();
    const h = q * this.n;
    // Binary search: the last point with rank ≤ h.
    let lo = 0;
    let hi = ranks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((ranks[mid] as number) <= h) lo = mid;
      else hi = mid - 1;
    }
    if (lo === ranks.length - 1) return this.hi;
    const r0 = ranks[lo] as number;
    const r1 = ranks[lo + 1] as number;
    const v0 = means[lo] as number;
    const v1 = means[lo + 1] as number;
    const value = r1 === r0 ? v1 : v0 + ((h - r0) * (v1 - v0)) / (r1 - r0);
    return Math.min(this.hi, Math.max(this.lo, value));
  }

  quantiles(qs: readonly number[]): number[] {
    return qs.map((q) => this.quantile(q));
  }

  /**
   * Estimated fraction of values ≤ x (0 below min, 1 from max on); NaN when empty. Same
   * interpolation as `quantile`. A value that carries a tie (a centroid whose mean is exactly
   * x) gets its mid-rank, (P(X<x) + P(X≤x))/2 — except at max.
   */
  cdf(x: number): number {
    if (this.n === 0 || Number.isNaN(x)) return Number.NaN;
    if (x < this.lo) return 0;
    if (x >= this.hi) return 1;
    const { means, ranks } = this.points();
    // Binary search: the last point with value ≤ x (exists: points[0] is min ≤ x).
    let lo = 0;
    let hi = means.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((means[mid] as number) <= x) lo = mid;
      else hi = mid - 1;
    }
    const v0 = means[lo] as number;
    const v1 = means[lo + 1] as number; // exists: the last point is max > x
    const r0 = ranks[lo] as number;
    const r1 = ranks[lo + 1] as number;
    return (r0 + ((x - v0) * (r1 - r0)) / (v1 - v0)) / this.n;
  }

  toJSON(): NumericSketchJSON {
    const c = this.centroids();
    const empty = this.n === 0;
    return {
      format: 2,
      compression: this.compression,
      count: this.n,
      nullCount: this.nulls,
      nonFiniteCount: this.nonFinite,
      min: empty ? null : this.lo,
      max: empty ? null : this.hi,
      mean: empty ? null : this.mu,
      m2: this.m2,
      means: Array.from(c.means.subarray(0, c.size)),
      counts: Array.from(c.counts.subarray(0, c.size)),
      pointMass: Array.from(c.pointMass.subarray(0, c.size), (p) => p === 1),
      ...(this.exactPercentileValues
        ? {
            percentiles: {
              values: [...this.exactPercentileValues.values],
              atOrBelow: [...this.exactPercentileValues.atOrBelow],
            },
          }
        : {}),
    };
  }

  private changed(): void {
    this.changes++;
    this.cache = undefined;
    this.exactPercentileValues = undefined;
  }

  /** Sorts the buffered values into runs of equal values (point masses) and merges them in. */
  private flush(): void {
    const b = this.buffered;
    if (b === 0) return;
    this.buffered = 0;
    const sorted = this.buffer.subarray(0, b).sort();
    const means = new Float64Array(b);
    const counts = new Float64Array(b);
    let k = 0;
    for (let i = 0; i < b; i++) {
      const x = sorted[i] as number;
      if (k > 0 && means[k - 1] === x) counts[k - 1] = (counts[k - 1] as number) + 1;
      else {
        means[k] = x;
        counts[k++] = 1;
      }
    }
    this.absorb({ size: k, means, counts, pointMass: new Uint8Array(k).fill(1) });
  }

  /**
   * Merges sorted centroids into this sketch's (whose count `n` already includes them):
   * equal point masses add up; then, unless every centroid is a point mass and there are at
   * most EXACT_VALUES of them, compresses.
   */
  private absorb(other: Centroids): void {
    const a = this.centroidList;
    const size = a.size + other.size;
    const means = new Float64Array(size);
    const counts = new Float64Array(size);
    const pointMass = new Uint8Array(size);
    let i = 0;
    let j = 0;
    let k = 0;
    let exact = true;
    while (i < a.size || j < other.size) {
      const fromA = j >= other.size || (i < a.size && (a.means[i] as number) <= (other.means[j] as number));
      const source = fromA ? a : other;
      const index = fromA ? i++ : j++;
      const x = source.means[index] as number;
      const c = source.counts[index] as number;
      const p = source.pointMass[index] as number;
      if (k > 0 && means[k - 1] === x) {
        // Equal means: one centroid (a point mass only when both are).
        counts[k - 1] = (counts[k - 1] as number) + c;
        pointMass[k - 1] = (pointMass[k - 1] as number) & p;
      } else {
        means[k] = x;
        counts[k] = c;
        pointMass[k++] = p;
      }
      if (p === 0) exact = false;
    }
    const merged = { size: k, means, counts, pointMass };
    this.centroidList = exact && k <= EXACT_VALUES ? merged : compress(merged, this.n, this.compression);
  }

  /** (value, rank) points: (min, 0), each centroid at its mid-rank, (max, n). */
  private points(): { means: Float64Array; ranks: Float64Array } {
    if (this.cache) return this.cache;
    const c = this.centroids();
    const k = c.size;
    const means = new Float64Array(k + 2);
    const ranks = new Float64Array(k + 2);
    means[0] = this.lo;
    let cumulative = 0;
    for (let i = 0; i < k; i++) {
      const count = c.counts[i] as number;
      // A centroid's mean is a weighted mean of values in [min, max]; clamp rounding drift.
      means[i + 1] = Math.min(this.hi, Math.max(this.lo, c.means[i] as number));
      ranks[i + 1] = cumulative + count / 2;
      cumulative += count;
    }
    means[k + 1] = this.hi;
    ranks[k + 1] = this.n;
    this.cache = { means, ranks };
    return this.cache;
  }
}

/**
 * One pass over sorted centroids (total count n): a centroid absorbs its right neighbour while
 * together they hold at most max(1, 4·S·δ·q·(1−q)) values, q the quantile of their middle among
 * the S values outside heavy point masses — a point mass (of more than one value) holding at
 * least half of the bound 4·n·δ·p·(1−p) at its own quantile p never merges. The result is a
 * spread centroid at the weighted mean. Runs in place.
 */
function compress(c: Centroids, n: number, delta: number): Centroids {
  const { means, counts, pointMass } = c;
  // Heavy point masses (of more than one value, at least half the bound at their quantile)
  // stay apart; the size bound then applies to the rest, by its own quantiles, so that the
  // continuous part's tails get the small centroids a tail needs even next to a big point mass
  // (a zero-inflated feature: 30 % zeros, then the left tail of the continuous part).
  const apart = new Uint8Array(c.size);
  let cumulative = 0;
  let spreadTotal = 0;
  for (let i = 0; i < c.size; i++) {
    const w = counts[i] as number;
    const q = (cumulative + w / 2) / n;
    if (pointMass[i] === 1 && w > 1 && 2 * w >= 4 * n * delta * q * (1 - q)) apart[i] = 1;
    else spreadTotal += w;
    cumulative += w;
  }
  const scale = 4 * spreadTotal * delta;
  let k = 0; // index of the centroid being built
  let kApart = apart[0] as number;
  let before = 0; // values left of it, heavy point masses left out
  for (let i = 1; i < c.size; i++) {
    const x = means[i] as number;
    const w = counts[i] as number;
    const w0 = counts[k] as number;
    const total = w0 + w;
    const q = (before + total / 2) / spreadTotal;
    if (apart[i] === 0 && kApart === 0 && total <= Math.max(1, scale * q * (1 - q))) {
      const mean = means[k] as number;
      means[k] = mean + ((x - mean) * w) / total;
      counts[k] = total;
      pointMass[k] = 0;
    } else {
      if (kApart === 0) before += w0;
      k++;
      kApart = apart[i] as number;
      means[k] = x;
      counts[k] = w;
      pointMass[k] = pointMass[i] as number;
    }
  }
  // Rounding can move a merged mean onto (or past) its neighbour's: fold such neighbours.
  let out = 0;
  for (let i = 0; i <= k && c.size > 0; i++) {
    if (out > 0 && (means[i] as number) <= (means[out - 1] as number)) {
      const total = (counts[out - 1] as number) + (counts[i] as number);
      means[out - 1] =
        (means[out - 1] as number) +
        (((means[i] as number) - (means[out - 1] as number)) * (counts[i] as number)) / total;
      counts[out - 1] = total;
      pointMass[out - 1] = 0;
    } else {
      means[out] = means[i] as number;
      counts[out] = counts[i] as number;
      pointMass[out++] = pointMass[i] as number;
    }
  }
  return { size: out, means, counts, pointMass };
}

/** Exact percentiles a reference sketch may keep: k/100 for k = 1…99. */
export const PERCENTILES = 99;

/**
 * The type-1 quantile k/parts of sorted values (the smallest value whose empirical CDF reaches
 * k/parts: rank ⌈k·n/parts⌉). k·n/parts is one correctly rounded quotient of exact integers
 * (below 2^53), so the 4/10 and 40/100 quantiles are the same value.
 */
export function typeOneQuantile(sorted: ArrayLike<number>, k: number, parts: number): number {
  const rank = Math.max(1, Math.ceil((k * sorted.length) / parts));
  return sorted[rank - 1] as number;
}

/** Number of values ≤ x in sorted values. */
export function countAtOrBelowSorted(sorted: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A format-1 centroid is taken as a point mass when its count exceeds this many times its capacity + 1. */
const POINT_MASS_FACTOR = 4;
/** Format-1 data whose min and max have more decimals than this is treated as continuous. */
const MAX_LATTICE_DECIMALS = 10;

/**
 * Which centroids of a format-1 sketch (`tdigest`, which kept no such flag) hold one repeated
 * value, inferred as the drift statistics did before format 2:
 *   - it holds one value (count 1), or its mean equals the exact min or max;
 *   - its count exceeds 4·(c + 1), c = 4·n·δ·p·(1−p) being the capacity at its quantile p:
 *     tdigest let a centroid grow past that only by absorbing exact repeats of its mean;
 *   - or the data sit on a decimal lattice (the exact min and max have at most 10 decimals)
 *     and the mean has no more decimals than they do: exact repeats keep a centroid's mean on
 *     the lattice, a centroid that merged different values has a mean like 40.0833….
 */
export function inferPointMasses(json: NumericSketchJSON): boolean[] {
  const n = json.count;
  if (n === 0 || json.min === null || json.max === null) return json.means.map(() => false);
  const { min, max } = json;
  const lattice = Math.max(decimals(min), decimals(max));
  let cumulative = 0;
  return json.means.map((mean, i) => {
    const c = json.counts[i] as number;
    const x = Math.min(max, Math.max(min, mean));
    const p = (cumulative + c / 2) / n;
    cumulative += c;
    const capacity = 4 * n * json.compression * p * (1 - p);
    return (
      c === 1 ||
      x === min ||
      x === max ||
      c > POINT_MASS_FACTOR * (capacity + 1) ||
      (lattice <= MAX_LATTICE_DECIMALS && decimals(x) <= lattice)
    );
  });
}

/** Digits after the decimal point in the shortest representation of x (3.25 → 2, 1e-7 → 7). */
export function decimals(x: number): number {
  const text = Math.abs(x).toString();
  const e = text.indexOf('e');
  const mantissa = e < 0 ? text : text.slice(0, e);
  const exponent = e < 0 ? 0 : Number(text.slice(e + 1));
  const dot = mantissa.indexOf('.');
  return Math.max(0, (dot < 0 ? 0 : mantissa.length - dot - 1) - exponent);
}

/** Most centroids a valid sketch of compression δ may hold. */
export function maxCentroids(compression: number): number {
  return Math.max(EXACT_VALUES, Math.ceil(MAX_CENTROIDS_K / compression));
}

function validateJSON(value: unknown): NumericSketchJSON {
  const problems: string[] = [];
  const fail = (): never => {
    throw new DriftlineError(ErrorCode.DECODE_FAILED, `invalid numeric sketch: ${problems.join('; ')}`, {
      details: { problems },
    });
  };
  if (typeof value !== 'object' || value === null) {
    problems.push('not an object');
    return fail();
  }
  const o = value as Record<string, unknown>;
  const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  if (o.format !== 1 && o.format !== 2) problems.push(`format must be 1 or 2; got ${JSON.stringify(o.format)}`);
  if (!(isFiniteNumber(o.compression) && o.compression > 0 && o.compression < 1)) {
    problems.push('compression must be a number in (0, 1)');
  }
  for (const key of ['count', 'nullCount', 'nonFiniteCount'] as const) {
    if (!isCount(o[key])) problems.push(`${key} must be a non-negative integer`);
  }
  if (!(isFiniteNumber(o.m2) && o.m2 >= 0)) problems.push('m2 must be a non-negative number');
  const means = o.means;
  const counts = o.counts;
  if (!Array.isArray(means) || !Array.isArray(counts) || means.length !== counts.length) {
    problems.push('means and counts must be arrays of the same length');
    return fail();
  }
  if (o.format === 2) {
    const pointMass = o.pointMass;
    if (
      !Array.isArray(pointMass) ||
      pointMass.length !== means.length ||
      !pointMass.every((p) => typeof p === 'boolean')
    ) {
      problems.push('pointMass must be an array of booleans, one per centroid (format 2)');
    }
  } else if (o.format === 1 && o.pointMass !== undefined) {
    problems.push('pointMass belongs to format 2');
  }
  if (o.percentiles !== undefined && !validPercentiles(o.percentiles, o)) {
    problems.push(
      `percentiles must hold ${PERCENTILES} non-decreasing values within [min, max] and their non-decreasing counts up to count (format 2)`,
    );
  }
  if (problems.length > 0) return fail();
  const count = o.count as number;
  if (count === 0) {
    if (o.min !== null || o.max !== null || o.mean !== null || means.length > 0) {
      problems.push('an empty sketch has null min, max and mean and no centroids');
    }
  } else {
    if (!isFiniteNumber(o.min) || !isFiniteNumber(o.max) || !isFiniteNumber(o.mean) || o.min > o.max) {
      problems.push('min ≤ max and mean must be finite numbers when count > 0');
    }
    let total = 0;
    for (let i = 0; i < means.length; i++) {
      const mean = means[i];
      const n = counts[i];
      if (!isFiniteNumber(mean) || (i > 0 && mean <= (means[i - 1] as number))) {
        problems.push('means must be finite and strictly increasing');
        break;
      }
      if (!(isFiniteNumber(n) && n > 0)) {
        problems.push('counts must be positive numbers');
        break;
      }
      total += n;
    }
    if (problems.length === 0 && total !== count) problems.push(`counts sum to ${total}, not count ${count}`);
    if (means.length > maxCentroids(o.compression as number)) problems.push('too many centroids');
  }
  if (problems.length > 0) return fail();
  return value as NumericSketchJSON;
}

/** Whether `p` is a valid `ExactPercentiles` for the sketch object `o`. */
function validPercentiles(p: unknown, o: Record<string, unknown>): boolean {
  if (o.format !== 2 || typeof p !== 'object' || p === null) return false;
  const { values, atOrBelow } = p as Record<string, unknown>;
  const { min, max, count } = o;
  if (typeof min !== 'number' || typeof max !== 'number' || typeof count !== 'number') return false;
  if (!Array.isArray(values) || !Array.isArray(atOrBelow)) return false;
  if (values.length !== PERCENTILES || atOrBelow.length !== PERCENTILES) return false;
  for (let i = 0; i < PERCENTILES; i++) {
    const v = values[i];
    const c = atOrBelow[i];
    if (typeof v !== 'number' || !(v >= min && v <= max) || (i > 0 && v < values[i - 1])) return false;
    if (!Number.isSafeInteger(c) || c < 1 || c > count || (i > 0 && c < atOrBelow[i - 1])) return false;
  }
  return true;
}
