/**
 * Special functions behind the drift p-values: log-gamma, the regularized upper incomplete
 * gamma function (→ chi-square survival function) and the Kolmogorov distribution's survival
 * function. Written here rather than pulled from a package; each is tested against values
 * computed with scipy (`core/drift/special.test.ts`).
 */

/** Lanczos approximation (g = 7, 9 terms): |relative error| < 1e-15 for x > 0. */
const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);
const EPSILON = 1e-16;
const TINY = 1e-300;
const MAX_ITERATIONS = 100_000;

/** ln Γ(x) for x > 0 (NaN otherwise). */
export function logGamma(x: number): number {
  if (!(x > 0)) return Number.NaN;
  if (x < 0.5) {
    // Reflection keeps the Lanczos sum in its accurate range: Γ(x)Γ(1−x) = π / sin(πx).
    return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  }
  const z = x - 1;
  let sum = LANCZOS[0] as number;
  for (let i = 1; i < LANCZOS.length; i++) sum += (LANCZOS[i] as number) / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return HALF_LOG_TWO_PI + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/**
 * Q(a, x) = Γ(a, x) / Γ(a), the regularized upper incomplete gamma function, for a > 0 and
 * x ≥ 0 (NaN otherwise). Power series for P = 1 − Q when x < a + 1, where it converges fast;
 * Lentz's continued fraction for Q otherwise, so small tail probabilities keep their
 * relative precision (this is the branch small p-values come from).
 */
export function regularizedGammaQ(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) return Number.NaN;
  if (x === 0) return 1;
  if (x === Number.POSITIVE_INFINITY) return 0;
  const logPrefix = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < MAX_ITERATIONS; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * EPSILON) break;
    }
    return Math.min(1, Math.max(0, 1 - sum * Math.exp(logPrefix)));
  }
  // Continued fraction Γ(a,x) e^x x^−a = 1/(x+1−a− 1·(1−a)/(x+3−a− 2·(2−a)/(x+5−a− …))).
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPSILON) break;
  }
  return Math.min(1, Math.max(0, Math.exp(logPrefix) * h));
}

/** P(X > x) for X ~ χ² with `dof` degrees of freedom (scipy `chi2.sf`); 1 when dof is 0. */
export function chiSquareSf(x: number, dof: number): number {
  if (dof === 0) return 1;
  if (!(x >= 0)) return x < 0 ? 1 : Number.NaN;
  return regularizedGammaQ(dof / 2, x / 2);
}

/**
 * Survival function of the limiting Kolmogorov distribution, P(K > z) (scipy
 * `kstwobign.sf`). Two series, each used where it converges in a few terms:
 * z < 1: 1 − √(2π)/z · Σ_{k≥1} exp(−(2k−1)²π²/(8z²));  z ≥ 1: 2 Σ_{k≥1} (−1)^{k−1} exp(−2k²z²).
 */
export function kolmogorovSf(z: number): number {
  if (Number.isNaN(z)) return Number.NaN;
  if (z <= 0) return 1;
  if (z < 1) {
    const w = (Math.PI * Math.PI) / (8 * z * z);
    let sum = 0;
    for (let k = 1; k < 100; k++) {
      const term = Math.exp(-(2 * k - 1) * (2 * k - 1) * w);
      sum += term;
      if (term < sum * EPSILON) break;
    }
    return Math.min(1, Math.max(0, 1 - (Math.sqrt(2 * Math.PI) / z) * sum));
  }
  let sum = 0;
  for (let k = 1; k < 100; k++) {
    const term = Math.exp(-2 * k * k * z * z);
    sum += k % 2 === 1 ? term : -term;
    if (term < Math.abs(sum) * EPSILON || term === 0) break;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}
