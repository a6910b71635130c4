/**
 * The California housing data set (model/data/README.md): loading, the 8 derived features and
 * the target, and a seeded train/holdout split.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { DriftlineError, ErrorCode } from '../core/errors.ts';
import { mulberry32, permutation } from '../core/random.ts';

/** The shipped data file, found next to this module (not relative to the working directory). */
export const CALIFORNIA_HOUSING_DATA = fileURLToPath(new URL('./data/cal_housing.data', import.meta.url));

/** Feature names in model input order. */
export const CALIFORNIA_FEATURES = [
  'MedInc',
  'HouseAge',
  'AveRooms',
  'AveBedrms',
  'Population',
  'AveOccup',
  'Latitude',
  'Longitude',
] as const;
export type CaliforniaFeature = (typeof CALIFORNIA_FEATURES)[number];

export const CALIFORNIA_TARGET = 'MedHouseVal';

/** Rows of features (in `featureNames` order) and their targets. */
export interface Dataset {
  readonly featureNames: readonly string[];
  readonly x: readonly (readonly number[])[];
  readonly y: readonly number[];
}

export interface DatasetSplit {
  train: Dataset;
  holdout: Dataset;
}

const RAW_COLUMNS = 9;

/**
 * Parses `cal_housing.data` text (comma-separated, no header; columns longitude, latitude,
 * housingMedianAge, totalRooms, totalBedrooms, population, households, medianIncome,
 * medianHouseValue) into the derived features and the target in units of $100,000.
 */
export function parseCaliforniaHousing(text: string): Dataset {
  const x: number[][] = [];
  const y: number[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    const cells = line.split(',').map(Number);
    if (cells.length !== RAW_COLUMNS || cells.some((v) => !Number.isFinite(v)) || (cells[6] as number) <= 0) {
      throw new DriftlineError(ErrorCode.DECODE_FAILED, `California housing data line ${i + 1} is malformed`, {
        details: { line: i + 1 },
      });
    }
    const [longitude, latitude, age, rooms, bedrooms, population, households, income, value] = cells as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    x.push([
      income,
      age,
      rooms / households,
      bedrooms / households,
      population,
      population / households,
      latitude,
      longitude,
    ]);
    y.push(value / 100_000);
  }
  return { featureNames: CALIFORNIA_FEATURES, x, y };
}

/** Loads and derives the shipped data set (20,640 rows). */
export async function loadCaliforniaHousing(path: string = CALIFORNIA_HOUSING_DATA): Promise<Dataset> {
  return parseCaliforniaHousing(await readFile(path, 'utf8'));
}

/** The first `n` rows (for quick tests). */
export function takeRows(data: Dataset, n: number): Dataset {
  return { featureNames: data.featureNames, x: data.x.slice(0, n), y: data.y.slice(0, n) };
}

/**
 * A seeded random split: the same seed always puts the same rows in the holdout. Rows are
 * shuffled once (mulberry32(seed)); the last `holdoutFraction` of the shuffled order is the holdout.
 */
export function splitDataset(data: Dataset, seed: number, holdoutFraction = 0.2): DatasetSplit {
  if (!(holdoutFraction > 0 && holdoutFraction < 1)) {
    throw new RangeError(`holdoutFraction must be in (0, 1); got ${holdoutFraction}`);
  }
  const order = permutation(data.x.length, mulberry32(seed));
  const trainSize = data.x.length - Math.round(data.x.length * holdoutFraction);
  const pick = (indices: number[]): Dataset => ({
    featureNames: data.featureNames,
    x: indices.map((i) => data.x[i] as readonly number[]),
    y: indices.map((i) => data.y[i] as number),
  });
  return { train: pick(order.slice(0, trainSize)), holdout: pick(order.slice(trainSize)) };
}
