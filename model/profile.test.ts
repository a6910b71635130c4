import { describe, expect, it } from 'vitest';
import { DriftlineError, ErrorCode } from '../core/errors.ts';
import type { ModelSpec } from '../core/feature-spec.ts';
import { buildReferenceProfile, parseReferenceProfile, profileSketches } from './profile.ts';

const spec: ModelSpec = {
  model: 'toy',
  target: 'y',
  features: [
    { name: 'a', type: 'double', optional: false },
    { name: 'b', type: 'double', optional: true },
  ],
};

describe('reference profile', () => {
  const profile = buildReferenceProfile(
    spec,
    [
      [1, null],
      [2, 5],
      [3, 7],
    ],
    [10, 20, 30],
    Float32Array.from([11, 19, 31]),
  );

  it('has one sketch per feature, plus prediction and target, with counts and moments', () => {
    expect(profile).toMatchObject({ format: 1, model: 'toy', source: 'training-split', rows: 3 });
    expect(profile.features.a).toMatchObject({ count: 3, nullCount: 0, min: 1, max: 3, mean: 2, m2: 2 });
    expect(profile.features.b).toMatchObject({ count: 2, nullCount: 1, mean: 6 });
    expect(profile.prediction).toMatchObject({ count: 3, min: 11, max: 31 });
    expect(profile.target).toMatchObject({ count: 3, mean: 20 });
  });

  it('survives JSON and turns back into live sketches', () => {
    const parsed = parseReferenceProfile(JSON.parse(JSON.stringify(profile)));
    expect(parsed).toEqual(profile);
    const sketches = profileSketches(parsed);
    expect(sketches.features.get('a')?.quantile(1)).toBe(3);
    expect(sketches.features.get('b')?.nullCount).toBe(1);
    expect(sketches.target.variance).toBe(100);
  });

  it('rejects a malformed profile with DECODE_FAILED', () => {
    for (const bad of [
      null,
      { ...profile, format: 2 },
      { ...profile, target: { count: 1 } },
      { ...profile, categorical: 'region' },
      { ...profile, categorical: { region: { format: 1, count: 3, values: ['a'], counts: [1] } } },
    ]) {
      expect(() => parseReferenceProfile(bad)).toThrow(DriftlineError);
    }
    try {
      parseReferenceProfile({ ...profile, features: { a: { nonsense: true } } });
    } catch (error) {
      expect((error as DriftlineError).code).toBe(ErrorCode.DECODE_FAILED);
    }
  });

  it('needs as many targets and predictions as rows', () => {
    expect(() => buildReferenceProfile(spec, [[1, 2]], [1, 2], [1])).toThrow(RangeError);
  });
});
