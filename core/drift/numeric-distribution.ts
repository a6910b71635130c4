/**
 * The distribution a NumericSketch stands for, as a piecewise-linear CDF with jumps, which the
 * drift statistics integrate and compare exactly. Unlike `NumericSketch.cdf`, which ramps through
 * every centroid's mid-rank, a centroid whose mass sits at one value becomes a **point mass** (a
 * jump): otherwise a value repeated thousands of times (integer data, a zero-inflated feature, a
 * constant column) is off by half its mass — up to 10–20 % on Poisson-like data, which breaks KS
 * and PSI on ties. Which centroids are point masses: `distributionFromJSON`.
 */
import type { NumericSketch, NumericSketchJSON } from '../sketch/numeric-sketch.ts';

/** A centroid is a point mass when its count is more than this many times its capacity + 1. */
const POINT_MASS_FACTOR = 4;
/** Data whose min and max have more decimals than this is treated as continuous. */
const MAX_LATTICE_DECIMALS = 10;

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
}

/** The distribution of a sketch; `undefined` when the sketch holds no finite value. */
export function numericDistribution(sketch: NumericSketch): NumericDistribution | undefined {
  return distributionFromJSON(sketch.toJSON());
}

/**
 * A centroid is a point mass when its mass provably or almost surely sits at one value:
 *   - it holds one value (count 1), or its mean equals the exact min or max (all its values
 *     are then that extreme);
 *   - its count exceeds 4·(c + 1), c = 4·n·δ·p·(1−p) being the t-digest capacity at its
 *     quantile p. tdigest lets a centroid grow past that capacity only by absorbing exact
 *     repeats of its mean, so heavy ties are the only way to get there in a single pass.
 *     Merged sketches bend the capacity rule in the upper tail (re-pushing in shuffled order),
 *     but measured over normal/log-normal data, single-pass and merged from 5–100 parts, no
 *     spread centroid this rule catches holds more than 0.25 % of the mass, so a wrong call
 *     moves the CDF by at most ~0.13 %;
 *   - or the data sit on a decimal lattice and the mean is on it. The exact min and max show
 *     the data's precision (integers → 0 decimals, prices → 2); when they have at most 10
 *     decimals, a centroid whose mean has no more decimals than they do is taken to hold one
 *     repeated value. This catches what the capacity rule cannot: integer columns with tens of
 *     distinct values (an age), each 1–4 % of the data, below 4× capacity. Exact repeats keep
 *     a centroid's mean exactly on the lattice, while a centroid that merged different values
 *     has a mean like 40.0833…, off the lattice (rarely on it by chance, and then it holds few
 *     values, since merges stop at the capacity). Full-precision floats have ~16 decimals and
 *     switch this rule off.
 * Every other centroid is spread: the CDF passes through its mid-rank at its mean and is
 * linear in between, as in `NumericSketch.cdf`. Anchors at the exact min (rank 0) and max
 * (rank n) close the curve, so the support is exact.
 */
export function distributionFromJSON(json: NumericSketchJSON): NumericDistribution | undefined {
  const n = json.count;
  if (n === 0 || json.min === null || json.max === null || json.mean === null) return undefined;
  const min = json.min;
  const max = json.max;
  const k = json.means.length;
  const xs: number[] = [];
  const below: number[] = [];
  const atOrBelow: number[] = [];
  const add = (x: number, lo: number, hi: number): void => {
    const last = xs.length - 1;
    // Clamping can make two anchors coincide (a centroid mean rounded just below min); one
    // anchor then carries both: the left limit of the first, the value of the last.
    if (last >= 0 && xs[last] === x) {
      atOrBelow[last] = hi;
      return;
    }
    xs.push(x);
    below.push(lo);
    atOrBelow.push(hi);
  };
  const lattice = latticeDecimals(min, max);
  add(min, 0, 0);
  let cumulative = 0;
  for (let i = 0; i < k; i++) {
    const c = json.counts[i] as number;
    const x = Math.min(max, Math.max(min, json.means[i] as number));
    const p = (cumulative + c / 2) / n;
    const capacity = 4 * n * json.compression * p * (1 - p);
    const pointMass =
      c === 1 ||
      x === min ||
      x === max ||
      c > POINT_MASS_FACTOR * (capacity + 1) ||
      (lattice !== undefined && decimals(x) <= lattice);
    if (pointMass) add(x, cumulative, cumulative + c);
    else add(x, cumulative + c / 2, cumulative + c / 2);
    cumulative += c;
  }
  // A point mass at max was added as (max, n − c, n); this closing anchor merges into it.
  add(max, n, n);
  return {
    count: n,
    min,
    max,
    mean: json.mean,
    std: n < 2 ? 0 : Math.sqrt(json.m2 / n),
    xs: Float64Array.from(xs),
    below: Float64Array.from(below),
    atOrBelow: Float64Array.from(atOrBelow),
  };
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

/**
 * The decimal precision of the data as the exact min and max show it (integers → 0, prices →
 * 2), or undefined when they look like full-precision floats (more than 10 decimals).
 */
function latticeDecimals(min: number, max: number): number | undefined {
  const lattice = Math.max(decimals(min), decimals(max));
  return lattice <= MAX_LATTICE_DECIMALS ? lattice : undefined;
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
