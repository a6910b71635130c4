import { describe, expect, it } from 'vitest';
import type { DriftlineError } from '../core/errors.ts';
import { CategoricalSketch, NumericSketch } from '../core/sketch/index.ts';
import { monitoredVersion, type ReferenceColumn } from './reference-version.ts';

const registeredAt = new Date('2026-11-28T12:00:00Z');

/** 200 rows: x numeric, region text, y the target, score the model's prediction (y + noise). */
function referenceColumns(): Map<string, ReferenceColumn> {
  const x = Array.from({ length: 200 }, (_, i) => i / 10);
  const y = x.map((v) => 2 * v + 1);
  const score = y.map((v, i) => v + (i % 2 === 0 ? 0.5 : -0.5));
  return new Map<string, ReferenceColumn>([
    ['x', { kind: 'numeric', values: x.map((v, i) => (i === 7 ? null : v)) }],
    ['region', { kind: 'categorical', values: x.map((_, i) => (i % 3 === 0 ? 'north' : 'south')) }],
    ['y', { kind: 'numeric', values: y }],
    ['score', { kind: 'numeric', values: score }],
  ]);
}

function caught(fn: () => unknown): DriftlineError {
  try {
    fn();
  } catch (error) {
    return error as DriftlineError;
  }
  throw new Error('expected a throw');
}

describe('monitoredVersion', () => {
  it('makes the spec, the reference profile and the reference error of a model served elsewhere', () => {
    const columns = referenceColumns();
    const version = monitoredVersion({
      model: 'credit-risk',
      columns,
      prediction: 'score',
      target: 'y',
      reference: '/data/validation.csv',
      registeredAt,
    });
    expect(version.spec).toEqual({
      model: 'credit-risk',
      target: 'y',
      features: [
        // x lacks a value on one row: optional in the stream too.
        { name: 'x', type: 'double', optional: true },
        { name: 'region', type: 'string', optional: false },
      ],
    });
    expect(version.predictor).toBeUndefined();
    expect(version.preprocessing).toBeUndefined();
    // Numeric features as t-digests with exact percentiles, the categorical one as category counts.
    expect(Object.keys(version.profile.features)).toEqual(['x']);
    expect(version.profile.categorical).toEqual({
      region: CategoricalSketch.of(columns.get('region')?.values as string[]).toJSON(),
    });
    expect(version.profile.categorical?.region?.counts).toEqual([133, 67]);
    expect(version.profile).toMatchObject({ format: 1, model: 'credit-risk', source: 'reference-file', rows: 200 });
    const x = NumericSketch.fromJSON(version.profile.features.x);
    expect(x.count).toBe(199);
    expect(NumericSketch.fromJSON(version.profile.prediction).count).toBe(200);
    // Every prediction is 0.5 off its target.
    expect(version.metrics).toMatchObject({
      evaluatedOn: 'reference',
      rows: { train: 0, holdout: 200 },
      trainedAt: '2026-11-28T12:00:00.000Z',
      reference: '/data/validation.csv',
    });
    expect(version.metrics.rmse).toBeCloseTo(0.5, 12);
    expect(version.metrics.mae).toBeCloseTo(0.5, 12);
    expect(version.origin).toMatchObject({
      trigger: 'register',
      reason: 'registered for monitoring from validation.csv',
    });
  });

  it('takes only the features asked for', () => {
    const version = monitoredVersion({
      model: 'credit-risk',
      columns: referenceColumns(),
      prediction: 'score',
      target: 'y',
      features: ['region'],
      reference: 'ref.csv',
      registeredAt,
    });
    expect(version.spec.features.map((f) => f.name)).toEqual(['region']);
    expect(version.profile.features).toEqual({});
    expect(Object.keys(version.profile.categorical ?? {})).toEqual(['region']);
  });

  it('refuses, naming the column: a missing or textual prediction or target, a bad feature name, a fixed column', () => {
    const base = { model: 'credit-risk', prediction: 'score', target: 'y', reference: 'ref.csv', registeredAt };
    const with_ = (extra: [string, ReferenceColumn][]) => new Map([...referenceColumns(), ...extra]);
    const cases: [Parameters<typeof monitoredVersion>[0], RegExp][] = [
      [{ ...base, columns: referenceColumns(), prediction: 'p' }, /--prediction "p" is not a column/],
      [{ ...base, columns: referenceColumns(), target: 'region' }, /--target "region" must be a numeric column/],
      [{ ...base, columns: referenceColumns(), target: 'score' }, /must name different columns/],
      [{ ...base, model: 'Credit Risk', columns: referenceColumns() }, /is not a model name/],
      [{ ...base, columns: with_([['2nd', { kind: 'numeric', values: [1] }]]) }, /"2nd" cannot be a feature name/],
      [{ ...base, columns: with_([['event_time', { kind: 'numeric', values: [1] }]]) }, /clashes with a fixed column/],
      [{ ...base, columns: referenceColumns(), features: ['nope'] }, /feature "nope" is not a column/],
      [{ ...base, columns: referenceColumns(), features: ['y'] }, /cannot also be a feature/],
      [
        {
          ...base,
          columns: new Map<string, ReferenceColumn>([
            ['x', { kind: 'numeric', values: [1, 2, 3] }],
            ['y', { kind: 'numeric', values: [1, null, 3] }],
            ['score', { kind: 'numeric', values: [null, 2, Number.NaN] }],
          ]),
        },
        /0 rows with both a finite score and a finite y/,
      ],
    ];
    for (const [input, message] of cases) {
      const error = caught(() => monitoredVersion(input));
      expect(error.code, String(message)).toBe('DL_USAGE');
      expect(error.message).toMatch(message);
    }
  });
});
