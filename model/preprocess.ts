/**
 * Input preprocessing fitted on the training split and stored with the model (spec.json), so
 * that training, the registry and the predict service transform features identically.
 *
 * Per feature, in this order: optional log1p (for the long-tailed, positive counts and ratios),
 * clipping to the training split's [0.1 %, 99.9 %] quantiles, standardization with the
 * training split's mean and standard deviation. Clipping matters here: AveOccup reaches 1,243
 * and AveRooms 142 where their medians are ~2.8 and ~5.2; without it a handful of rows set the
 * scale and a single extreme input at prediction time yields an absurd price.
 */

/**
 * log(1 + x) is defined only for x > −1: the exclusive lower bound of a log-transformed input.
 * Below it the transform gives NaN (read as a missing value and imputed), at it −∞ (clipped);
 * the predict service refuses such inputs with a 400 instead.
 */
export const LOG1P_EXCLUSIVE_MINIMUM = -1;

/** How one feature is turned into a network input. */
export interface FeatureTransform {
  name: string;
  /** Apply log(1 + x) first (only for features that are never ≤ −1; see LOG1P_EXCLUSIVE_MINIMUM). */
  log1p: boolean;
  /** Clip bounds, after the log. */
  clipMin: number;
  clipMax: number;
  /** Standardization of the clipped value: (x − mean) / std. */
  mean: number;
  std: number;
}

export interface Preprocessing {
  features: FeatureTransform[];
}

export interface PreprocessingOptions {
  /** Features to log1p-transform. */
  log1p?: readonly string[];
  /** Clip at this training quantile and its complement; 0 disables clipping. Default 0.001. */
  clipQuantile?: number;
}

export const DEFAULT_LOG1P_FEATURES = ['AveRooms', 'AveBedrms', 'Population', 'AveOccup'] as const;
export const DEFAULT_CLIP_QUANTILE = 0.001;

/** Fits the transforms on training rows (columns in `featureNames` order). */
export function fitPreprocessing(
  featureNames: readonly string[],
  rows: readonly (readonly number[])[],
  options: PreprocessingOptions = {},
): Preprocessing {
  if (rows.length === 0) throw new RangeError('cannot fit preprocessing on zero rows');
  const logged = new Set(options.log1p ?? DEFAULT_LOG1P_FEATURES);
  const clipQuantile = options.clipQuantile ?? DEFAULT_CLIP_QUANTILE;
  return {
    features: featureNames.map((name, j) => {
      const log1p = logged.has(name);
      const column = Float64Array.from(rows, (row) => {
        const v = row[j] as number;
        return log1p ? Math.log1p(v) : v;
      }).sort();
      const clipMin = quantileSorted(column, clipQuantile);
      const clipMax = quantileSorted(column, 1 - clipQuantile);
      let sum = 0;
      for (const v of column) sum += clip(v, clipMin, clipMax);
      const mean = sum / column.length;
      let squares = 0;
      for (const v of column) squares += (clip(v, clipMin, clipMax) - mean) ** 2;
      const std = Math.sqrt(squares / column.length);
      // A constant column carries no information; std 1 keeps it at 0 instead of NaN.
      return { name, log1p, clipMin, clipMax, mean, std: std > 0 ? std : 1 };
    }),
  };
}

/**
 * Transforms rows into one row-major Float32Array for a [rows, features] tensor. A missing
 * value (NaN, which is how the predict service passes an absent optional feature) is imputed
 * with the training mean, i.e. 0 after standardization; ±Infinity is clipped like any value
 * out of range. A value ≤ −1 of a log-transformed feature has no logarithm and ends up imputed
 * or clipped the same way, so callers must refuse it first (LOG1P_EXCLUSIVE_MINIMUM). A row of
 * the wrong width throws a RangeError (a bug in the caller).
 */
export function transformRows(preprocessing: Preprocessing, rows: readonly (readonly number[])[]): Float32Array {
  const features = preprocessing.features;
  const width = features.length;
  const out = new Float32Array(rows.length * width);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as readonly number[];
    if (row.length !== width) throw new RangeError(`row ${i} has ${row.length} values; the model takes ${width}`);
    for (let j = 0; j < width; j++) {
      const f = features[j] as FeatureTransform;
      const raw = row[j] as number;
      const v = f.log1p ? Math.log1p(raw) : raw;
      out[i * width + j] = Number.isNaN(v) ? 0 : (clip(v, f.clipMin, f.clipMax) - f.mean) / f.std;
    }
  }
  return out;
}

/** Linear-interpolated quantile (type 7) of sorted values. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.min(sorted.length - 1, lower + 1);
  const a = sorted[lower] as number;
  const b = sorted[upper] as number;
  return a + (position - lower) * (b - a);
}

function clip(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
