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

/** `n` draws from a distribution with a given seed. */
export function draw(distribution: TestDistribution, n: number, seed: number, shifted = false): number[] {
  const next = distribution.sampler(mulberry32(seed), shifted);
  return Array.from({ length: n }, next);
}
