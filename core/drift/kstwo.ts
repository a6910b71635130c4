/**
 * The distribution of the one-sample two-sided Kolmogorov–Smirnov statistic D_n, as scipy's
 * `kstwo.sf` computes it (scipy/stats/_ksstats.py `_kolmogn`, Simard & L'Ecuyer's choice of
 * method by n and x): what `ks_2samp` uses, at the effective size round(n·m/(n+m)), when a side
 * holds more than 10,000 values or its exact lattice sum fails. Each regime is scipy's:
 *   - x ≥ 1 → 0; x ≤ 0 or n·x ≤ 0.5 → 1; n·x ≤ 1 and n·x ≥ n − 1: Ruben–Gambino closed forms;
 *   - x ≥ 0.5: 2·smirnov(n, x), the exact one-sided tail (Birnbaum–Tingey sum) doubled;
 *   - n ≤ 140: n·x² ≤ 0.754693 Durbin's matrix (Marsaglia–Tsang–Wang), ≤ 4 Pomeranz's
 *     recursion, beyond 2·smirnov;
 *   - n > 140: n·x² ≥ 370 → 0; ≥ 2.2 (p ≲ 0.02) 2·smirnov; n ≤ 100,000 and n·x^1.5 ≤ 1.4
 *     (p ≈ 1) Durbin's matrix; else 1 − the Pelz–Good series.
 * Pure; no I/O.
 */

/**
 * P(D_n > x) (scipy `kstwo.sf(x, n)`), clipped to [0, 1].
 */
export function kstwoSf(x: number, n: number): number {
  if (!(n > 0 && Number.isInteger(n)) || Number.isNaN(x)) return Number.NaN;
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    // P(D_n ≤ x) = n!/n^n · (2t − 1)^n.
    let cdf: number;
    if (n <= 140) {
      cdf = 1;
      for (let i = 1; i <= n; i++) cdf *= i * (1 / n) * (2 * t - 1);
    } else cdf = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    return clip(1 - cdf);
  }
  if (t >= n - 1) return clip(2 * (1 - x) ** n);
  if (x >= 0.5) return clip(2 * smirnovSf(n, x));
  const nx2 = t * x;
  if (n <= 140) {
    if (nx2 <= 0.754693) return clip(1 - durbinCdf(n, x));
    if (nx2 <= 4) return clip(1 - pomeranzCdf(n, x));
    return clip(2 * smirnovSf(n, x));
  }
  if (nx2 >= 370) return 0;
  if (nx2 >= 2.2) return clip(2 * smirnovSf(n, x));
  if (n <= 100_000 && n * x ** 1.5 <= 1.4) return clip(1 - durbinCdf(n, x));
  return clip(1 - pelzGoodCdf(n, x));
}

function clip(p: number): number {
  return Math.min(1, Math.max(0, p));
}

/** scipy's Stirling series coefficients B_2j/(2j)/(2j − 1), j = 8…1 (`_STIRLING_COEFFS`). */
const STIRLING = [-3617 / 122_400, 1 / 156, -691 / 360_360, 1 / 1188, -1 / 1680, 1 / 1260, -1 / 360, 1 / 12];

/** log(n!/n^n) by Stirling's series, n log n removed up front (scipy `_log_nfactorial_div_n_pow_n`). */
function logFactorialOverPower(n: number): number {
  const rn = 1 / n;
  let series = 0;
  for (const c of STIRLING) series = series * (rn / n) + c;
  return Math.log(n) / 2 - n + Math.log(2 * Math.PI) / 2 + rn * series;
}

/** Beyond this n scipy's smirnov takes an asymptotic form (`SMIRNOV_MAX_COMPUTE_N`). */
const SMIRNOV_MAX_COMPUTE_N = 1_000_000;
/** exp of anything below this underflows (cephes `MINLOG`). */
const MIN_LOG = -708.3964185322641;

/**
 * P(D⁺_n ≥ x), the one-sided Smirnov tail, with scipy.special.smirnov's special cases (xsf
 * `_smirnov`): n = 1; x ≤ 1/n; −2n·x² below the underflow limit → 0; x ≥ 1 − 1/n; and beyond
 * n = 1,000,000 its asymptotic exp(−(6n·x + 1)²/(18n)). Otherwise the Birnbaum–Tingey sum
 * x · Σ_{v=0}^{n−⌊n·x⌋−1} C(n, v) (x + v/n)^(v−1) (1 − x − v/n)^(n−v), every term positive
 * and taken in logs, stopping as scipy does once the terms left cannot reach a rounding error of
 * the sum. scipy sums in double-double arithmetic; the two agree to ~2e-11 for n up to 20,000
 * and ~1e-9 at 500,000 (the log-binomial's rounding), which is O(n) work: ~70 ms at 500,000.
 */
export function smirnovSf(n: number, x: number): number {
  if (!(n > 0 && x >= 0 && x <= 1)) return Number.NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  const nx = n * x;
  const nxFloor = Math.floor(nx);
  const exactMultiple = nx === nxFloor;
  if (nxFloor === 0 || (nxFloor === 1 && exactMultiple)) return 1 - x * (1 + x) ** (n - 1);
  if (-2 * n * x * x < MIN_LOG) return 0;
  if (nxFloor >= n - 1) return (1 - x) ** n;
  if (n > SMIRNOV_MAX_COMPUTE_N) {
    const logp = -((6 * nx + 1) ** 2) / 18 / n;
    return logp < -Math.LN2 ? Math.exp(logp) : 1 + Math.expm1(logp);
  }
  // v = 0 … n − ⌊n·x⌋ − 1: every v with x + v/n < 1.
  const terms = n - nxFloor;
  let logBinomial = 0;
  let sum = 0;
  for (let v = 0; v < terms; v++) {
    const evn = x + v / n;
    const term = Math.exp(logBinomial + (v - 1) * Math.log(evn) + (n - v) * Math.log(1 - evn));
    sum += term;
    if (term > 0 && 4 * (terms - v) * term < Number.EPSILON * sum && v !== terms - 1) break;
    logBinomial += Math.log((n - v) / (v + 1));
  }
  return Math.min(1, sum * x);
}

/** 2^128 and its inverse: the scaling steps of the matrix and recursion methods below. */
const E128 = 128;
const EP128 = 2 ** 128;
const EM128 = 2 ** -128;

/**
 * P(D_n ≤ d) by Durbin's matrix method as Marsaglia, Tsang & Wang compute it (scipy
 * `_kolmogn_DMTW`): the (k, k) entry of H^n, k = ⌈n·d⌉, H of order 2k − 1, times n!/n^n, with
 * powers of 2^128 carried aside.
 */
function durbinCdf(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] = (1 - h ** j) * fac;
  }
  const tt = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + tt) * fac;
  let H: Float64Array = new Float64Array(m * m);
  for (let i = 1; i < m; i++) {
    // H[i − 1:, i] = w[:m − i + 1]
    for (let r = i - 1; r < m; r++) H[r * m + i] = w[r - (i - 1)] as number;
  }
  for (let r = 0; r < m; r++) H[r * m] = v[r] as number;
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c] as number;
  let power: Float64Array = identity(m);
  let nn = n;
  let exponent = 0;
  let hExponent = 0;
  while (nn > 0) {
    if (nn % 2 === 1) {
      power = multiply(power, H, m);
      exponent += hExponent;
    }
    H = multiply(H, H, m);
    hExponent *= 2;
    if (Math.abs(H[(k - 1) * m + (k - 1)] as number) > EP128) {
      for (let i = 0; i < H.length; i++) H[i] = (H[i] as number) / EP128;
      hExponent += E128;
    }
    nn = Math.floor(nn / 2);
  }
  let p = power[(k - 1) * m + (k - 1)] as number;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < EM128) {
      p *= EP128;
      exponent -= E128;
    }
  }
  return clip(ldexp(p, exponent));
}

/** x·2^e without overflowing the power on the way (numpy `ldexp`). */
function ldexp(x: number, e: number): number {
  let y = x;
  let rest = e;
  while (rest > 1000) {
    y *= 2 ** 1000;
    rest -= 1000;
  }
  while (rest < -1000) {
    y *= 2 ** -1000;
    rest += 1000;
  }
  return y * 2 ** rest;
}

function identity(m: number): Float64Array {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) out[i * m + i] = 1;
  return out;
}

function multiply(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let l = 0; l < m; l++) {
      const ail = a[i * m + l] as number;
      if (ail === 0) continue;
      for (let j = 0; j < m; j++) out[i * m + j] = (out[i * m + j] as number) + ail * (b[l * m + j] as number);
    }
  }
  return out;
}

/** The interval of row i of Pomeranz's recursion (scipy `_pomeranz_compute_j1j2`). */
function pomeranzRange(i: number, n: number, ll: number, ceilf: number, roundf: number): [number, number] {
  let j1: number;
  let j2: number;
  if (i === 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const half = Math.floor((i + 1) / 2);
    if ((i + 1) % 2 === 0) {
      if (half === n + 1) {
        j1 = n - ll - ceilf - 1;
        j2 = n + ll + ceilf - 1;
      } else {
        j1 = half - 1 - ll - roundf - 1;
        j2 = half + ll - 1 + ceilf - 1;
      }
    } else {
      j1 = half - 1 - ll - 1;
      j2 = half + ll + roundf - 1;
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/**
 * P(D_n ≤ x) by Pomeranz's recursion (scipy `_kolmogn_Pomeranz`): 2n + 1 rows, each the
 * convolution of the previous one with Poisson-like weights, only a sliding band kept, scaled by
 * 2^128 against underflow; the answer is n! times the last entry.
 */
function pomeranzCdf(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const ceilf = f > 0 ? 1 : 0;
  const roundf = f > 0.5 ? 1 : 0;
  const npwrs = 2 * (ll + 1);
  const gpower = new Float64Array(npwrs);
  const twogpower = new Float64Array(npwrs);
  const onem2gpower = new Float64Array(npwrs);
  gpower[0] = 1;
  twogpower[0] = 1;
  onem2gpower[0] = 1;
  let exponent = 0;
  const gOverN = g / n;
  const twoGOverN = (2 * g) / n;
  const oneMinusTwoGOverN = (1 - 2 * g) / n;
  for (let m = 1; m < npwrs; m++) {
    gpower[m] = ((gpower[m - 1] as number) * gOverN) / m;
    twogpower[m] = ((twogpower[m - 1] as number) * twoGOverN) / m;
    onem2gpower[m] = ((onem2gpower[m - 1] as number) * oneMinusTwoGOverN) / m;
  }
  let v0: Float64Array = new Float64Array(npwrs);
  let v1: Float64Array = new Float64Array(npwrs);
  v1[0] = 1;
  let v0s = 0;
  let v1s = 0;
  let [j1, j2] = pomeranzRange(0, n, ll, ceilf, roundf);
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    [v0, v1] = [v1, v0];
    [v0s, v1s] = [v1s, v0s];
    v1.fill(0);
    [j1, j2] = pomeranzRange(i, n, ll, ceilf, roundf);
    const powers = i === 1 || i === 2 * n + 1 ? gpower : i % 2 === 1 ? twogpower : onem2gpower;
    const ln2 = j2 - k1 + 1;
    if (ln2 > 0) {
      // conv = convolve(V0[k1 − V0s : k1 − V0s + ln2], powers[:ln2]); keep conv[j1 − k1 …].
      const start = j1 - k1;
      const length = j2 - j1 + 1;
      let largest = 0;
      for (let c = 0; c < length; c++) {
        const at = start + c;
        let sum = 0;
        for (let a = Math.max(0, at - ln2 + 1); a <= Math.min(at, ln2 - 1); a++) {
          sum += (v0[k1 - v0s + a] ?? 0) * (powers[at - a] as number);
        }
        v1[c] = sum;
        if (sum > largest) largest = sum;
      }
      if (largest > 0 && largest < EM128) {
        for (let c = 0; c < npwrs; c++) v1[c] = (v1[c] as number) * EP128;
        exponent -= E128;
      }
      v1s = v0s + j1 - k1;
    }
  }
  let answer = v1[n - v1s] as number;
  for (let m = 1; m <= n; m++) {
    if (Math.abs(answer) > EP128) {
      answer *= EM128;
      exponent += E128;
    }
    answer *= m;
  }
  return clip(ldexp(answer, exponent));
}

const PI2 = Math.PI ** 2;
const PI4 = Math.PI ** 4;
const PI6 = Math.PI ** 6;
const SQRT_2PI = Math.sqrt(2 * Math.PI);

/**
 * Pelz–Good (1976) approximation of P(D_n ≤ x), a port of scipy's `_kolmogn_PelzGood`: the
 * Li-Chien–Korolyuk expansion K0 + K1/√n + K2/n + K3/n^1.5 in z = x√n, each term rewritten with
 * Jacobi theta functions so that it converges for small z.
 */
function pelzGoodCdf(n: number, x: number): number {
  const z = Math.sqrt(n) * x;
  const z2 = z * z;
  const z4 = z2 * z2;
  const z6 = z4 * z2;
  const qlog = -PI2 / 8 / z2;
  if (qlog < -708) return 0;
  let q = Math.exp(qlog);
  const k1a = -z2;
  const k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI2) / 4;
  const k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64;
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z4 * z4;
  const terms = [0, 0, 0, 0];
  // Horner scheme over the odd m = 2k − 1 of Σ c_m q^(m²).
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k >= 1; k--) {
    const m2 = (2 * k - 1) ** 2;
    const qpower = q ** (8 * k);
    const coefficients = [
      1,
      k1a + k1b * m2,
      k2a + k2b * m2 + k2c * m2 * m2,
      k3a + k3b * m2 + k3c * m2 * m2 + k3d * m2 * m2 * m2,
    ];
    for (let i = 0; i < 4; i++) terms[i] = (terms[i] as number) * qpower + (coefficients[i] as number);
  }
  const divisors = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) terms[i] = ((terms[i] as number) * q * SQRT_2PI) / (divisors[i] as number);
  // The sums over all integers k in K2 and K3.
  q = Math.exp(-PI2 / 2 / z2);
  let k2extra = 0;
  let k3extra = 0;
  const sqrt3z = Math.sqrt(3) * z;
  for (let k = maxk; k >= 1; k--) {
    const k2 = k * k;
    const qk = q ** k2;
    k2extra += k2 * qk;
    k3extra += (sqrt3z + Math.PI * k) * (sqrt3z - Math.PI * k) * k2 * qk;
  }
  terms[2] = (terms[2] as number) + (k2extra * PI2 * SQRT_2PI) / (-36 * z2 * z);
  terms[3] = (terms[3] as number) + (k3extra * PI2 * SQRT_2PI) / (216 * z6);
  let cdf = 0;
  for (let i = 0; i < 4; i++) cdf += (terms[i] as number) / n ** (i / 2);
  return cdf;
}
