import { describe, expect, it } from 'vitest';
import { DriftlineError, ErrorCode } from '../core/errors.ts';
import { CALIFORNIA_HOUSING_SPEC } from './california-housing.ts';
import { CALIFORNIA_FEATURES, loadCaliforniaHousing, parseCaliforniaHousing, splitDataset } from './dataset.ts';

function columnMean(rows: readonly (readonly number[])[], j: number): number {
  return rows.reduce((sum, row) => sum + (row[j] as number), 0) / rows.length;
}

describe('California housing data', () => {
  it('has 20,640 rows and the check means of model/data/README.md', async () => {
    const data = await loadCaliforniaHousing();
    expect(data.x).toHaveLength(20_640);
    expect(data.y).toHaveLength(20_640);
    expect(data.featureNames).toEqual(CALIFORNIA_FEATURES);
    const mean = (name: string) => columnMean(data.x, CALIFORNIA_FEATURES.indexOf(name as never));
    expect(mean('MedInc')).toBeCloseTo(3.8707, 4);
    expect(mean('HouseAge')).toBeCloseTo(28.639, 3);
    expect(mean('AveRooms')).toBeCloseTo(5.429, 3);
    expect(mean('AveOccup')).toBeCloseTo(3.0707, 4);
    expect(data.y.reduce((a, b) => a + b, 0) / data.y.length).toBeCloseTo(2.0686, 4);
    for (const row of data.x) expect(row).toHaveLength(8);
  });

  it('derives the features of one raw line as the README says', () => {
    const data = parseCaliforniaHousing(
      '-122.230000,37.880000,41.000000,880.000000,129.000000,322.000000,126.000000,8.325200,452600.000000',
    );
    expect(data.x[0]).toEqual([8.3252, 41, 880 / 126, 129 / 126, 322, 322 / 126, 37.88, -122.23]);
    expect(data.y[0]).toBeCloseTo(4.526, 12);
  });

  it('rejects a malformed line with DECODE_FAILED and its line number', () => {
    const error = (() => {
      try {
        parseCaliforniaHousing('1,2,3,4,5,6,7,8,9\n1,2,x,4,5,6,7,8,9\n');
      } catch (e) {
        return e as DriftlineError;
      }
    })();
    expect(error).toBeInstanceOf(DriftlineError);
    expect(error?.code).toBe(ErrorCode.DECODE_FAILED);
    expect(error?.details).toEqual({ line: 2 });
  });

  it('splits 80/20, deterministically per seed, without losing or repeating rows', async () => {
    const data = await loadCaliforniaHousing();
    const a = splitDataset(data, 7);
    const b = splitDataset(data, 7);
    const c = splitDataset(data, 8);
    expect(a.train.x).toHaveLength(16_512);
    expect(a.holdout.x).toHaveLength(4_128);
    expect(a.holdout.y).toEqual(b.holdout.y);
    expect(a.holdout.y).not.toEqual(c.holdout.y);
    const all = new Set([...a.train.x, ...a.holdout.x]);
    expect(all.size).toBe(20_640);
  });
});

describe('california-housing model spec', () => {
  it('has the 8 double features, none optional, and target MedHouseVal', () => {
    expect(CALIFORNIA_HOUSING_SPEC.model).toBe('california-housing');
    expect(CALIFORNIA_HOUSING_SPEC.target).toBe('MedHouseVal');
    expect(CALIFORNIA_HOUSING_SPEC.features.map((f) => f.name)).toEqual(CALIFORNIA_FEATURES);
    for (const f of CALIFORNIA_HOUSING_SPEC.features) expect(f).toMatchObject({ type: 'double', optional: false });
  });
});
