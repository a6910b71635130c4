/**
 * Seeded sample generators shared by the drift tests, the accuracy report and the benchmark.
 * Each distribution comes as a pair: the reference law and a "shifted" law that a drift test
 * should flag.
 */
import { mulberry32, type Random } from '../core/random.ts';

/** Standard normal draws by Box–Muller; 1 − u keeps the log argument in (0, 1]. */
export function normalSampler(random: Random): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Poisson draws by Knuth's multiplication method (fine for small λ). */
export function poissonSampler(random: Random, lambda: number): () => number {
  const limit = Math.exp(-lambda);
  return () => {
    let k = 0;
    let p = random();
    while (p > limit) {
      k++;
      p *= random();
    }
    return k;
  };
}

export interface TestDistribution {
  name: string;
  /** A sampler of the reference law (`shifted` false) or of the drifted law. */
  sampler(random: Random, shifted: boolean): () => number;
}

export const TEST_DISTRIBUTIONS: readonly TestDistribution[] = [
  {
    name: 'normal',
    sampler: (random, shifted) => {
      const z = normalSampler(random);
      return () => z() + (shifted ? 1 : 0);
    },
  },
  {
    name: 'log-normal',
    sampler: (random, shifted) => {
      const z = normalSampler(random);
      return () => Math.exp(z() + (shifted ? 0.5 : 0));
    },
  },
  {
    name: 'bimodal',
    sampler: (random, shifted) => {
      const z = normalSampler(random);
      const weight = shifted ? 0.5 : 0.3;
      return () => (random() < weight ? z() - 4 : 0.5 * z() + 3);
    },
  },
  {
    name: 'poisson',
    sampler: (random, shifted) => poissonSampler(random, shifted ? 5 : 4),
  },
  {
    // Rounded log-normal: values 0…~100, the frequent ones repeated thousands of times, a long
    // tail of rare values.
    name: 'rounded log-normal',
    sampler: (random, shifted) => {
      const z = normalSampler(random);
      return () => Math.round(Math.exp(1.5 + 0.8 * z() + (shifted ? 0.2 : 0)));
    },
  },
  {
    // Integers with ~70 distinct values, each 0.1–3.5 % of the data (an "age" column).
    name: 'rounded normal',
    sampler: (random, shifted) => {
      const z = normalSampler(random);
      return () => Math.round(40 + 12 * (z() + (shifted ? 0.3 : 0)));
    },
  },
  {
    // Two-decimal prices: mostly distinct values with some repeats.
    name: 'prices (2 decimals)',
    sampler: (random, shifted) => {
      const z = normalSampler(random);
      return () => Math.round(Math.exp(3 + 0.5 * z() + (shifted ? 0.2 : 0)) * 100) / 100;
    },
  },
  {
    name: 'constant',
    sampler: (_random, shifted) => () => (shifted ? 6 : 5),
  },
];

/** Pareto(α) draws with minimum `scale`: a tail index α ≤ 2 has infinite variance. */
export function paretoSampler(random: Random, alpha: number, scale = 1): () => number {
  return () => scale * (1 - random()) ** (-1 / alpha);
}

/** A draw from `values` with the given weights (summing to 1). */
function pick(random: Random, values: readonly number[], weights: readonly number[]): number {
  let u = random();
  for (let i = 0; i < values.length - 1; i++) {
    u -= weights[i] as number;
    if (u < 0) return values[i] as number;
  }
  return values[values.length - 1] as number;
}

/** 30 fixed full-precision floats (no decimal lattice), the same for every seed. */
const TIED_FLOATS = Array.from({ length: 30 }, (_, i) => Math.exp(1 + i / 7) / 3).sort((a, b) => a - b);

/**
 * Where sketches are hardest: heavy ties off any decimal lattice, heavy tails (Pareto, tail
 * index ≤ 2), point masses mixed with a continuous part.
 */
export const HARD_DISTRIBUTIONS: readonly TestDistribution[] = [
  {
    // 30 distinct full-precision floats, weights tilted when shifted.
    name: 'ties (30 floats)',
    sampler: (random, shifted) => {
      const raw = TIED_FLOATS.map((_, i) => (shifted ? 1 + i / 15 : 1 + (30 - i) / 15));
      const total = raw.reduce((a, b) => a + b, 0);
      const weights = raw.map((w) => w / total);
      return () => pick(random, TIED_FLOATS, weights);
    },
  },
  {
    // Quarter steps: the extremes are often whole numbers, so their decimals do not show the grid.
    name: 'ties (0.25 grid)',
    sampler: (random, shifted) => {
      const z = normalSampler(random);
      return () => Math.round(4 * (10 + 1.5 * z() + (shifted ? 0.4 : 0))) / 4;
    },
  },
  {
    name: 'Pareto α=1.5',
    sampler: (random, shifted) => paretoSampler(random, 1.5, shifted ? 1.3 : 1),
  },
  {
    name: 'Pareto α=2',
    sampler: (random, shifted) => paretoSampler(random, 2, shifted ? 1.3 : 1),
  },
  {
    // 30 % exact zeros, 5 % at π (inside the continuous part), the rest log-normal.
    name: 'point masses + continuous',
    sampler: (random, shifted) => {
      const z = normalSampler(random);
      const zeros = shifted ? 0.4 : 0.3;
      return () => {
        const u = random();
        if (u < zeros) return 0;
        if (u < zeros + 0.05) return Math.PI;
        return Math.exp(1 + 0.7 * z());
      };
    },
  },
];

/**
 * A categorical column of `categories` values with Zipf-like shares (∝ 1/(rank + 10)); the
 * shifted law reverses the ranks of the first half.
 */
export function categoricalSampler(random: Random, categories: number, shifted: boolean): () => string {
  const weights = Array.from({ length: categories }, (_, i) => {
    const rank = shifted && i < categories / 2 ? Math.floor(categories / 2) - 1 - i : i;
    return 1 / (rank + 10);
  });
  const cumulative: number[] = [];
  let total = 0;
  for (const w of weights) {
    total += w;
    cumulative.push(total);
  }
  return () => {
    const u = random() * total;
    let lo = 0;
    let hi = categories - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] as number) > u) hi = mid;
      else lo = mid + 1;
    }
    return `c${lo}`;
  };
}

/** `n` draws from a distribution with a given seed. */
export function draw(distribution: TestDistribution, n: number, seed: number, shifted = false): number[] {
  const next = distribution.sampler(mulberry32(seed), shifted);
  return Array.from({ length: n }, next);
}
