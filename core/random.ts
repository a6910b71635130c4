/**
 * Seeded pseudo-random numbers for everything that must be reproducible (train/holdout split,
 * per-epoch shuffles, t-digest recompression). `Math.random` is never used where a result is
 * stored or compared.
 */

/** A function returning uniform floats in [0, 1). */
export type Random = () => number;

/**
 * mulberry32: a 32-bit-state generator, fast and good enough for shuffling and sampling (not
 * for cryptography). The same seed gives the same sequence on every platform.
 */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle in place, driven by `random`; returns the same array. */
export function shuffleInPlace<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = items[i] as T;
    items[i] = items[j] as T;
    items[j] = tmp;
  }
  return items;
}

/** The integers 0…n−1 in a seeded random order. */
export function permutation(n: number, random: Random): number[] {
  return shuffleInPlace(
    Array.from({ length: n }, (_, i) => i),
    random,
  );
}
