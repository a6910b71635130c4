/**
 * The distribution a NumericSketch stands for, as a piecewise-linear CDF with jumps, which the
 * drift statistics integrate and compare exactly. Unlike `NumericSketch.cdf`, which ramps through
 * every centroid's mid-rank, a centroid that is a **point mass** (copies of one value: the sketch
 * keeps which ones are) becomes a jump: otherwise a value repeated thousands of times (integer
 * data, a zero-inflated feature, a constant column) would be off by half its mass. A sketch that
 * holds its values exactly (every centroid a point mass) gives the exact empirical CDF.
 */
import {
  type Centroids,
  type ExactPercentiles,
  inferPointMasses,
  type NumericSketch,
  type NumericSketchJSON,
} from '../sketch/numeric-sketch.ts';

export { decimals } from '../sketch/numeric-sketch.ts';

/**
 * Piecewise-linear CDF with jumps, in counts (not fractions). At anchor `xs[i]` the CDF jumps
 * from `below[i]` (left limit) to `atOrBelow[i]`; between anchors it is linear from
 * `atOrBelow[i]` to `below[i + 1]`. Left of the first anchor it is 0, from the last one n.
 */
export interface NumericDistribution {
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  /** Population standard deviation (divisor n), exact from the sketch's moments; 0 when n < 2. */
  readonly std: number;
  readonly xs: Float64Array;
  readonly below: Float64Array;
  readonly atOrBelow: Float64Array;
  /** The exact percentiles (k/100, k = 1…99) and their counts when the sketch keeps them (reference profiles). */
  readonly percentiles?: Readonly<ExactPercentiles> | undefined;
}

/** Distributions already built, per sketch and sketch version (a reference is evaluated many times). */
const built = new WeakMap<NumericSketch, { version: number; distribution: NumericDistribution | undefined }>();

/** The distribution of a sketch; `undefined` when the sketch holds no finite value. */
export function numericDistribution(sketch: NumericSketch): NumericDistribution | undefined {
  const centroids = sketch.centroids(); // flushes, so the version below is final
  const cached = built.get(sketch);
  if (cached && cached.version === sketch.version) return cached.distribution;
  const distribution =
    sketch.count === 0
      ? undefined
      : buildDistribution(
          sketch.count,
          sketch.min,
          sketch.max,
          sketch.mean,
          sketch.sumOfSquares,
          centroids,
          sketch.exactPercentiles,
        );
  built.set(sketch, { version: sketch.version, distribution });
  return distribution;
}

/** The distribution of a sketch's JSON (format 1: point masses inferred, `inferPointMasses`). */
export function distributionFromJSON(json: NumericSketchJSON): NumericDistribution | undefined {
  const n = json.count;
  if (n === 0 || json.min === null || json.max === null || json.mean === null) return undefined;
  const pointMass = json.pointMass ?? inferPointMasses(json);
  return buildDistribution(
    n,
    json.min,
    json.max,
    json.mean,
    json.m2,
    {
      size: json.means.length,
      means: Float64Array.from(json.means),
      counts: Float64Array.from(json.counts),
      pointMass: Uint8Array.from(pointMass, (p) => (p ? 1 : 0)),
    },
    json.percentiles,
  );
}

/**
 * Anchors: (min, 0, 0); per centroid, a jump (cumulative, cumulative + count) at a point mass
 * (also at one whose mean is the exact min or max: all its values are then that extreme), or
 * the mid-rank at the mean of a spread one; (max, n, n). The support is exact.
 */
function buildDistribution(
  n: number,
  min: number,
  max: number,
  mean: number,
  m2: number,
  c: Centroids,
  percentiles: Readonly<ExactPercentiles> | undefined,
): NumericDistribution {
  const k = c.size;
  const xs = new Float64Array(k + 2);
  const below = new Float64Array(k + 2);
  const atOrBelow = new Float64Array(k + 2);
  let last = 0;
  xs[0] = min;
  let cumulative = 0;
  for (let i = 0; i <= k; i++) {
    let x: number;
    let lo: number;
    let hi: number;
    if (i < k) {
      const count = c.counts[i] as number;
      x = Math.min(max, Math.max(min, c.means[i] as number));
      if (c.pointMass[i] === 1 || x === min || x === max) {
        lo = cumulative;
        hi = cumulative + count;
      } else {
        lo = cumulative + count / 2;
        hi = lo;
      }
      cumulative += count;
    } else {
      x = max;
      lo = n;
      hi = n;
    }
    // Clamping can make two anchors coincide (a centroid mean rounded just below min, a point
    // mass at max and the closing anchor); one anchor then carries both.
    if (xs[last] === x) atOrBelow[last] = hi;
    else {
      last++;
      xs[last] = x;
      below[last] = lo;
      atOrBelow[last] = hi;
    }
  }
  return {
    count: n,
    min,
    max,
    mean,
    std: n < 2 ? 0 : Math.sqrt(m2 / n),
    xs: xs.subarray(0, last + 1),
    below: below.subarray(0, last + 1),
    atOrBelow: atOrBelow.subarray(0, last + 1),
    percentiles,
  };
}

/** Index of the last anchor ≤ x, or −1. */
function lastAnchorAtOrBelow(d: NumericDistribution, x: number): number {
  let lo = 0;
  let hi = d.xs.length - 1;
  if (!(x >= (d.xs[0] as number))) return -1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((d.xs[mid] as number) <= x) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Count of values ≤ x (right-continuous CDF, in counts). */
export function countAtOrBelow(d: NumericDistribution, x: number): number {
  const i = lastAnchorAtOrBelow(d, x);
  if (i < 0) return 0;
  const x0 = d.xs[i] as number;
  if (x === x0 || i === d.xs.length - 1) return d.atOrBelow[i] as number;
  const x1 = d.xs[i + 1] as number;
  const f0 = d.atOrBelow[i] as number;
  const f1 = d.below[i + 1] as number;
  return f0 + ((x - x0) * (f1 - f0)) / (x1 - x0);
}

/** Count of values < x (left limit of the CDF, in counts). */
export function countBelow(d: NumericDistribution, x: number): number {
  const i = lastAnchorAtOrBelow(d, x);
  if (i < 0) return 0;
  if (x === d.xs[i]) return d.below[i] as number;
  return countAtOrBelow(d, x);
}

/**
 * The smallest x with F(x) ≥ h (h in counts, 0 < h ≤ n): the type-1 inverse of the CDF, the
 * same definition `exact.ts` uses on raw values, so that bin edges of both agree on ties.
 */
export function inverseCount(d: NumericDistribution, h: number): number {
  if (h <= 0) return d.min;
  const { xs, below, atOrBelow } = d;
  // First anchor whose value reaches h (exists: the last anchor is at n ≥ h).
  let lo = 0;
  let hi = xs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((atOrBelow[mid] as number) >= h) hi = mid;
    else lo = mid + 1;
  }
  const b = below[lo] as number;
  if (lo === 0 || b <= h) return xs[lo] as number;
  // F rises linearly from atOrBelow[lo − 1] < h to below[lo] > h on the open segment.
  const x0 = xs[lo - 1] as number;
  const x1 = xs[lo] as number;
  const a = atOrBelow[lo - 1] as number;
  return x0 + ((h - a) * (x1 - x0)) / (b - a);
}
