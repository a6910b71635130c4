/**
 * A mergeable, serializable summary of one numeric column: a t-digest for quantiles and the
 * CDF, plus exact count, missing counts, min, max, mean and variance. The reference profile of
 * a model is built from these, and stream consumers build one per pane and merge them: merged
 * moments equal one sketch's over all the values (`merge`), quantiles agree within the t-digest's
 * error (`DEFAULT_COMPRESSION`).
 */
import { TDigest } from 'tdigest';
import { DriftlineError, ErrorCode } from '../errors.ts';
import { mulberry32, type Random, shuffleInPlace } from '../random.ts';

/**
 * Default t-digest compression δ (the `tdigest` package's own default).
 *
 * Error bounds. The t-digest (package `tdigest` 0.1.3) lets a centroid sitting at quantile p hold
 * at most ⌊4·n·δ·p·(1−p)⌋ values: at most 1 % of the data at the median, 0.04 % at the 1st/99th
 * percentile, and single values in the extreme tails. Interpolating inside a centroid is off by
 * at most half its weight, so the rank error of a quantile is about 2·δ·q·(1−q) (≤ 0.5 % at the
 * median, ~0.02 % at q = 0.01), never worse than half of one centroid. The digest is
 * recompressed when it exceeds K/δ = 2,500 centroids; in practice it holds a few hundred
 * (≈ 700–800 for 10⁶ values).
 */
export const DEFAULT_COMPRESSION = 0.01;
/** tdigest recompresses once it holds more than K/δ centroids; K = 25 is the package default. */
const RECOMPRESS_K = 25;
/** Seed of each sketch's recompression shuffle, so that equal inputs give equal sketches. */
const COMPRESS_SEED = 0x5eed;

/** The plain-object form of a sketch: what `toJSON` returns and `fromJSON` accepts. */
export interface NumericSketchJSON {
  /** Format version of this object. */
  format: 1;
  /** t-digest compression δ (max. fraction of the mass one centroid may hold, scaled by 4·p·(1−p)). */
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
}

export interface NumericSketchOptions {
  /** t-digest compression δ in (0, 1); smaller keeps more centroids. Default 0.01. */
  compression?: number;
}

/**
 * The internals of `tdigest`'s TDigest that are not in its type declarations; used only to
 * replace its `compress`, which shuffles with `Math.random` (so two runs over the same data
 * would give different centroids and different profile files).
 */
interface TDigestInternals extends TDigest {
  compressing?: boolean;
  _cumulate(exact: boolean): void;
}

export class NumericSketch {
  readonly compression: number;
  private digest: TDigestInternals;
  private readonly random: Random;
  private n = 0;
  private nulls = 0;
  private nonFinite = 0;
  private lo = Number.POSITIVE_INFINITY;
  private hi = Number.NEGATIVE_INFINITY;
  private mu = 0;
  private m2 = 0;
  /** Sorted centroid means and mid-ranks, rebuilt lazily after any change. */
  private cache: { means: Float64Array; ranks: Float64Array } | undefined;

  private constructor(compression: number) {
    if (!(compression > 0 && compression < 1)) {
      throw new RangeError(`t-digest compression must be in (0, 1); got ${compression}`);
    }
    this.compression = compression;
    this.random = mulberry32(COMPRESS_SEED);
    this.digest = this.newDigest();
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

  /** Rebuilds a sketch from `toJSON` output; throws DECODE_FAILED on a malformed object. */
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
    // Pushed in increasing order, each centroid lands beyond the current maximum and becomes
    // a centroid of its own (tdigest never merges at the boundary), so the digest is rebuilt
    // exactly; a valid object holds ≤ K/δ centroids, so no recompression is triggered.
    sketch.digest.push_centroid(json.means.map((mean, i) => ({ mean, n: json.counts[i] as number })));
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
    this.digest.push(value);
    this.cache = undefined;
  }

  pushAll(values: Iterable<number | null | undefined>): void {
    for (const value of values) this.push(value);
  }

  /**
   * Folds `other` into this sketch (`other` is unchanged) and returns this sketch. Moments are
   * exact up to floating-point rounding (Welford's update per value in `push`, Chan et al.'s
   * pairwise formula here): the same count, min, max, mean and variance as one sketch over all
   * the values (mean/variance equal to ~1e-12 relative); quantiles agree within the t-digest error.
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
    // Pushing the other's centroids in sorted order is tdigest's worst case (each lands at the
    // boundary and stays separate); recompressing re-pushes all centroids in shuffled order,
    // which is how tdigest itself merges.
    this.digest.push_centroid(other.digest.toArray());
    this.digest.compress();
    this.cache = undefined;
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
  /** Sample variance (divisor n − 1); NaN below two values. */
  get variance(): number {
    return this.n < 2 ? Number.NaN : this.m2 / (this.n - 1);
  }
  /** Sample standard deviation. */
  get std(): number {
    return Math.sqrt(this.variance);
  }
  get centroidCount(): number {
    return this.digest.size();
  }

  /**
   * The value below which a fraction `q` (0…1) of the values lie; NaN when empty.
   *
   * Piecewise-linear through (rank 0, min), each centroid at (its mid-rank, its mean) and
   * (rank n, max). Inside the first and last centroid this is what tdigest's `percentile`
   * computes; we do it ourselves because `percentile` ignores the true min/max (q = 0 gives
   * the first centroid's mean, and every q below the first mid-rank gives that same value).
   * On discrete data with ties the answer is interpolated between neighbouring values (the
   * median of {1,1,2,2,2} may come out as 1.8); the true quantile is then the floor or the ceil.
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
   * x) gets its mid-rank, (P(X<x) + P(X≤x))/2, as tdigest's `p_rank` does — except at max.
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
    const centroids = this.digest.toArray();
    const empty = this.n === 0;
    return {
      format: 1,
      compression: this.compression,
      count: this.n,
      nullCount: this.nulls,
      nonFiniteCount: this.nonFinite,
      min: empty ? null : this.lo,
      max: empty ? null : this.hi,
      mean: empty ? null : this.mu,
      m2: this.m2,
      means: centroids.map((c) => c.mean),
      counts: centroids.map((c) => c.n),
    };
  }

  private newDigest(): TDigestInternals {
    // CX = 1.1 (the default): while ingesting, cumulative counts (used to size centroids) are
    // refreshed only after 10 % growth; quantile/cdf here never read them (see `points`).
    const digest = new TDigest(this.compression, RECOMPRESS_K, 1.1) as TDigestInternals;
    const random = this.random;
    // Same algorithm as tdigest's compress (reset, re-push every centroid in random order),
    // with a seeded shuffle instead of Math.random.
    digest.compress = function compress(this: TDigestInternals) {
      if (this.compressing) return;
      const points = shuffleInPlace(this.toArray(), random);
      this.reset();
      this.compressing = true;
      this.push_centroid(points);
      this._cumulate(true);
      this.compressing = false;
    };
    return digest;
  }

  /** (value, rank) points: (min, 0), each centroid at its mid-rank, (max, n). */
  private points(): { means: Float64Array; ranks: Float64Array } {
    if (this.cache) return this.cache;
    const centroids = this.digest.toArray();
    const k = centroids.length;
    const means = new Float64Array(k + 2);
    const ranks = new Float64Array(k + 2);
    means[0] = this.lo;
    let cumulative = 0;
    for (let i = 0; i < k; i++) {
      const c = centroids[i] as { mean: number; n: number };
      // A centroid's mean is a weighted mean of values in [min, max]; clamp rounding drift.
      means[i + 1] = Math.min(this.hi, Math.max(this.lo, c.mean));
      ranks[i + 1] = cumulative + c.n / 2;
      cumulative += c.n;
    }
    means[k + 1] = this.hi;
    ranks[k + 1] = this.n;
    this.cache = { means, ranks };
    return this.cache;
  }
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
  if (o.format !== 1) problems.push(`format must be 1; got ${JSON.stringify(o.format)}`);
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
    if (means.length > RECOMPRESS_K / (o.compression as number)) problems.push('too many centroids');
  }
  if (problems.length > 0) return fail();
  return value as NumericSketchJSON;
}
