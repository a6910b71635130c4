import { describe, expect, it } from 'vitest';
import { mulberry32, permutation, shuffleInPlace } from './random.ts';

describe('mulberry32', () => {
  it('gives the same sequence for the same seed, in [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 1_000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1_000 }, () => b()));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(xs.reduce((s, x) => s + x, 0) / xs.length).toBeCloseTo(0.5, 1);
    expect(mulberry32(43)()).not.toBe(mulberry32(42)());
  });
});

describe('permutation', () => {
  it('is a seeded permutation of 0…n−1', () => {
    const p = permutation(100, mulberry32(1));
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(p).toEqual(permutation(100, mulberry32(1)));
    expect(p).not.toEqual(permutation(100, mulberry32(2)));
    expect(shuffleInPlace([], mulberry32(1))).toEqual([]);
  });
});
