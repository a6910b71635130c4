import { describe, expect, it } from 'vitest';
import { DriftlineError } from '../../core/errors.ts';
import {
  columnStats,
  composeScenarios,
  createScenario,
  parseFilter,
  type Row,
  type ScenarioOptions,
} from './scenarios.ts';

const names = ['a', 'b', 'c'];
const rows = [
  [1, 10, 100],
  [3, 20, 300],
  [5, 30, 500],
];
const stats = columnStats(rows, 3);
const base: ScenarioOptions = { kind: 'none', features: [], k: 1, factor: 1, start: 0.5, ramp: 0 };
const row = (i: number): Row => ({ features: [...(rows[i] as number[])], target: 2 });

describe('columnStats', () => {
  it('gives mean and population standard deviation', () => {
    expect(stats[0]?.mean).toBeCloseTo(3, 12);
    expect(stats[0]?.std).toBeCloseTo(Math.sqrt(8 / 3), 12);
    expect(stats[2]?.mean).toBeCloseTo(300, 12);
  });
});

describe('createScenario', () => {
  it('none leaves every row alone', () => {
    const s = createScenario(base, names, stats);
    expect(s.apply(row(0), 0.9)).toEqual(row(0));
  });

  it('shift moves only the chosen features by k σ, and only from the start on', () => {
    const s = createScenario({ ...base, kind: 'shift', features: ['a', 'c'], k: 2 }, names, stats);
    expect(s.apply(row(1), 0.49)).toEqual(row(1));
    const shifted = s.apply(row(1), 0.5);
    expect(shifted?.features[0]).toBeCloseTo(3 + 2 * (stats[0]?.std ?? 0), 12);
    expect(shifted?.features[1]).toBe(20);
    expect(shifted?.features[2]).toBeCloseTo(300 + 2 * (stats[2]?.std ?? 0), 12);
    expect(shifted?.target).toBe(2);
  });

  it('gradual ramps the shift linearly from 0 to k σ', () => {
    const s = createScenario({ ...base, kind: 'gradual', features: ['a'], k: 1, start: 0.2, ramp: 0.4 }, names, stats);
    const std = stats[0]?.std ?? 0;
    expect(s.apply(row(0), 0.2)?.features[0]).toBeCloseTo(1, 12);
    expect(s.apply(row(0), 0.4)?.features[0]).toBeCloseTo(1 + 0.5 * std, 12);
    expect(s.apply(row(0), 0.9)?.features[0]).toBeCloseTo(1 + std, 12);
  });

  it('scale widens the spread around the mean', () => {
    const s = createScenario({ ...base, kind: 'scale', features: ['b'], factor: 3 }, names, stats);
    expect(s.apply(row(0), 0.7)?.features[1]).toBeCloseTo(20 + 3 * (10 - 20), 12);
    expect(s.apply(row(1), 0.7)?.features[1]).toBeCloseTo(20, 12);
  });

  it('subpopulation drops rows outside the filter once drift starts', () => {
    const s = createScenario({ ...base, kind: 'subpopulation', filter: parseFilter('b>=20') }, names, stats);
    expect(s.apply(row(0), 0.1)).toEqual(row(0));
    expect(s.apply(row(0), 0.6)).toBeUndefined();
    expect(s.apply(row(2), 0.6)).toEqual(row(2));
  });

  it('concept changes the target, not the features', () => {
    const s = createScenario({ ...base, kind: 'concept', factor: 1.5 }, names, stats);
    expect(s.apply(row(0), 0.6)).toEqual({ features: [1, 10, 100], target: 3 });
  });

  it('concept with a filter changes the target of the selected rows only (one region)', () => {
    const s = createScenario({ ...base, kind: 'concept', factor: 1.5, filter: parseFilter('a>=3') }, names, stats);
    expect(s.apply(row(0), 0.6)).toEqual(row(0));
    expect(s.apply(row(1), 0.6)).toEqual({ features: [3, 20, 300], target: 3 });
    expect(s.apply(row(1), 0.1)).toEqual(row(1));
    expect(s.describe()).toContain('where a>=3');
  });

  it('refuses unknown features and missing arguments with usage errors', () => {
    expect(() => createScenario({ ...base, kind: 'shift', features: ['zz'] }, names, stats)).toThrow(
      /unknown feature "zz"/,
    );
    expect(() => createScenario({ ...base, kind: 'shift', features: [] }, names, stats)).toThrow(DriftlineError);
    expect(() => createScenario({ ...base, kind: 'subpopulation' }, names, stats)).toThrow(/needs --filter/);
    expect(() => parseFilter('a ~ 3')).toThrow(/filter must look like/);
  });
});

describe('composeScenarios', () => {
  it('shift+concept moves the features and scales the target, both from the start on', () => {
    const options = { ...base, features: ['a'], k: 1, factor: 1.5 };
    const s = composeScenarios([
      createScenario({ ...options, kind: 'shift' }, names, stats),
      createScenario({ ...options, kind: 'concept' }, names, stats),
    ]);
    expect(s.apply(row(1), 0.2)).toEqual(row(1));
    const changed = s.apply(row(1), 0.7);
    expect(changed?.features[0]).toBeCloseTo(3 + (stats[0]?.std ?? 0), 12);
    expect(changed?.target).toBe(3);
    expect(s.describe()).toContain('; target × 1.5');
  });
});
