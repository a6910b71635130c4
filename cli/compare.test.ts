import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { mulberry32 } from '../core/random.ts';
import { normalSampler } from '../test-support/distributions.ts';
import { EXACT_MAX_FILE_BYTES, statisticsMode } from './compare.ts';
import { main } from './main.ts';

const CITIES = ['"Paris, FR"', '"Berlin, DE"', 'Rome', '"Lisbon, ""PT"""'];

/** A CSV with a numeric `amount` (normal, mean 100, sd 20, shifted by `shiftSd` sd) and a categorical `city`. */
function csv(rows: number, seed: number, shiftSd = 0): string {
  const random = mulberry32(seed);
  const z = normalSampler(random);
  const lines = ['amount,city'];
  for (let i = 0; i < rows; i++) {
    const amount = 100 + 20 * (z() + shiftSd);
    const city = CITIES[Math.floor(random() * CITIES.length)];
    lines.push(`${amount.toFixed(4)},${i % 50 === 0 ? '' : city}`);
  }
  return `${lines.join('\n')}\n`;
}

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  const out = new Writable({
    write(chunk, _encoding, callback) {
      stdout += chunk.toString();
      callback();
    },
  });
  let stderr = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  });
  try {
    const code = await main(['compare', ...args], out);
    return { code, stdout, stderr };
  } finally {
    spy.mockRestore();
  }
}

describe('driftline compare', () => {
  let dir: string;
  let reference: string;
  let same: string;
  let shifted: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftline-compare-'));
    reference = join(dir, 'reference.csv');
    same = join(dir, 'same.csv');
    shifted = join(dir, 'shifted.csv');
    await writeFile(reference, csv(3_000, 1));
    await writeFile(same, csv(2_000, 2));
    await writeFile(shifted, csv(2_000, 3, 1));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('finds no drift between samples of the same data (--json, one object)', async () => {
    const { code, stdout } = await run(['--reference', reference, '--current', same, '--json']);
    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(1);
    const result = JSON.parse(stdout);
    expect(result.dataset_drift).toBe(false);
    expect(result.drift_share).toBe(0.5);
    expect(result.drifted_columns).toEqual([]);
    expect(result.columns.amount).toMatchObject({
      kind: 'numerical',
      method: 'wasserstein',
      threshold: 0.1,
      p_value: null,
      drifted: false,
      verdict: 'ok',
    });
    expect(result.columns.city).toMatchObject({
      kind: 'categorical',
      method: 'jensenshannon',
      drifted: false,
      verdict: 'ok',
      unseen_categories: [],
    });
    expect(result.columns.amount.stats).toHaveProperty('ks');
    expect(result.columns.city.current_count).toBe(1_960); // every 50th city is empty
  });

  it('flags the column shifted by 1 σ and not the other one', async () => {
    const { code, stdout } = await run(['--reference', reference, '--current', shifted, '--json']);
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.columns.amount).toMatchObject({ drifted: true, verdict: 'drift' });
    expect(result.columns.amount.statistic).toBeGreaterThan(0.8);
    expect(result.columns.city).toMatchObject({ drifted: false, verdict: 'ok' });
    expect(result.drifted_columns).toEqual(['amount']);
    // One of two columns is a share of 0.5, which reaches the default drift_share.
    expect(result.dataset_drift).toBe(true);
    const stricter = JSON.parse(
      (await run(['--reference', reference, '--current', shifted, '--json', '--drift-share', '0.75'])).stdout,
    );
    expect(stricter.dataset_drift).toBe(false);
  });

  it('prints a readable table and the verdict by default, and takes thresholds and methods per column', async () => {
    const { code, stdout } = await run([
      '--reference',
      reference,
      '--current',
      shifted,
      '--threshold',
      'amount=2',
      '--method',
      'city=chisquare_contingency',
      '--columns',
      'amount,city',
    ]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/COLUMN\s+KIND\s+METHOD\s+STATISTIC\s+THRESHOLD\s+P-VALUE\s+DRIFTED/);
    expect(stdout).toMatch(/amount\s+numerical\s+wasserstein\s+\S+\s+≥ 2\s+–\s+no/);
    expect(stdout).toMatch(/city\s+categorical\s+chisquare_contingency\s+\S+\s+p < 0\.05\s+\S+\s+no/);
    expect(stdout).toContain('dataset drift: no');
    // Evidently's goodness-of-fit form treats the reference shares as exact, so on these two
    // samples of the same city law it finds p ≈ 0.036: the false alarm the contingency form avoids.
    const gof = await run(['--reference', reference, '--current', shifted, '--method', 'city=chisquare']);
    expect(gof.stdout).toMatch(/city\s+categorical\s+chisquare\s+8\.553\s+p < 0\.05\s+0\.03586\s+YES/);
  });

  it('writes a self-contained HTML report with a chart per column', async () => {
    const html = join(dir, 'report.html');
    const { code, stdout } = await run(['--reference', reference, '--current', shifted, '--html', html]);
    expect(code).toBe(0);
    expect(stdout).toContain(`HTML report: ${html}`);
    const text = await readFile(html, 'utf8');
    expect(text.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(text.match(/<svg/g)?.length).toBeGreaterThanOrEqual(2);
    for (const column of ['amount', 'city']) expect(text).toContain(`<h2>${column}</h2>`);
    expect(text).not.toMatch(/https?:\/\//);
    expect(text).not.toMatch(/<script|<link|<img|@import|url\(/i);
    expect(text).toContain('Paris, FR');
  });

  it('exits 2 naming missing files and unknown columns', async () => {
    const missing = await run(['--reference', join(dir, 'nope.csv'), '--current', same]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`--reference file not found: ${join(dir, 'nope.csv')}`);
    const unknown = await run(['--reference', reference, '--current', same, '--columns', 'amount,colour,size']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown columns.*"colour", "size"/);
    const noArgs = await run([]);
    expect(noArgs.code).toBe(2);
    expect(noArgs.stderr).toContain('--reference <file.csv> is required');
  });

  it('keeps a numeric column with pandas NA markers, inf and stray tokens numerical, and reports them', async () => {
    const messy = join(dir, 'messy.csv');
    const lines = csv(2_000, 2).trimEnd().split('\n');
    const markers = ['#N/A', '<NA>', '-1.#QNAN', 'NULL', 'n/a', '-nan', 'inf', '-Infinity', '?'];
    markers.forEach((marker, i) => {
      lines[10 + i] = `${marker},Rome`;
    });
    await writeFile(messy, `${lines.join('\n')}\n`);
    const json = JSON.parse((await run(['--reference', reference, '--current', messy, '--json'])).stdout);
    expect(json.columns.amount).toMatchObject({
      kind: 'numerical',
      method: 'wasserstein',
      verdict: 'ok',
      current_count: 2_000 - markers.length,
      non_numeric: { reference: 0, current: 1, examples: ['?'] },
      non_finite: { reference: 0, current: 2 },
    });
    expect(json.columns.city).not.toHaveProperty('non_numeric');
    const table = (await run(['--reference', reference, '--current', messy])).stdout;
    expect(table).toMatch(/amount\s+numerical\s+wasserstein/);
    expect(table).toContain('amount: 1 non-numeric value, read as missing (reference 0, current 1; e.g. "?")');
    expect(table).toContain('amount: 2 infinite values left out (reference 0, current 2)');
  });

  it("tests a numeric column with at most 5 distinct values as categorical (Evidently's rule)", async () => {
    const random = mulberry32(9);
    const ratings = (n: number, values: number) =>
      `rating,score\n${Array.from({ length: n }, (_, i) => `${1 + Math.floor(random() * values)}${i % 2 ? '.0' : ''},${random()}`).join('\n')}\n`;
    const small = join(dir, 'ratings-small.csv');
    const large = join(dir, 'ratings-large.csv');
    const six = join(dir, 'ratings-six.csv');
    await writeFile(small, ratings(800, 5));
    await writeFile(large, ratings(3_000, 5));
    await writeFile(six, ratings(800, 6));
    const bySmall = JSON.parse((await run(['--reference', small, '--current', small, '--json'])).stdout);
    // "1" and "1.0" are one value: 5 distinct, not 10.
    expect(bySmall.columns.rating).toMatchObject({
      kind: 'categorical',
      method: 'chisquare',
      numeric_distinct_values: 5,
    });
    expect(bySmall.columns.score).toMatchObject({ kind: 'numerical', method: 'ks' });
    expect(bySmall.columns.score).not.toHaveProperty('numeric_distinct_values');
    const byLarge = JSON.parse((await run(['--reference', large, '--current', small, '--json'])).stdout);
    expect(byLarge.columns.rating).toMatchObject({ kind: 'categorical', method: 'jensenshannon' });
    // Six distinct values in the two files together: numerical.
    const bySix = JSON.parse((await run(['--reference', small, '--current', six, '--json'])).stdout);
    expect(bySix.columns.rating).toMatchObject({ kind: 'numerical', method: 'ks' });
    // A numeric-only method keeps the numeric tests.
    const byKs = JSON.parse(
      (await run(['--reference', large, '--current', small, '--json', '--method', 'rating=ks'])).stdout,
    );
    expect(byKs.columns.rating).toMatchObject({ kind: 'numerical', method: 'ks' });
    expect(byKs.columns.rating).not.toHaveProperty('numeric_distinct_values');
    const table = (await run(['--reference', small, '--current', small])).stdout;
    expect(table).toContain('rating: numbers with 5 distinct values (≤ 5), tested as categorical as Evidently does');
    // Stray tokens in such a column are still missing values, not what makes it categorical.
    const stray = join(dir, 'ratings-stray.csv');
    await writeFile(stray, `${ratings(800, 5)}?,0.5\n`);
    const strayTable = (await run(['--reference', small, '--current', stray])).stdout;
    expect(strayTable).toContain('rating: 1 non-numeric value, read as missing (reference 0, current 1; e.g. "?")');
  });

  it('refuses a non-UTF-8 file with its byte offset, and reads it with --encoding latin1', async () => {
    const latin1 = join(dir, 'latin1.csv');
    const body = Array.from({ length: 30_000 }, (_, i) => `${i % 3 === 0 ? 'Montréal' : 'Montrïal'},${i}`);
    await writeFile(latin1, Buffer.from(`city,n\n${'Paris,1\n'.repeat(20_000)}${body.join('\n')}\n`, 'latin1'));
    const refused = await run(['--reference', latin1, '--current', latin1]);
    expect(refused.code).toBe(2);
    // "city,n\n" is 7 bytes, each "Paris,1\n" 8, then "Montr" 5: the é is byte 160,012.
    expect(refused.stderr).toContain(`${latin1}: not valid UTF-8 at byte 160012; if the file is Latin-1`);
    const read = JSON.parse(
      (await run(['--reference', latin1, '--current', latin1, '--encoding', 'latin1', '--json'])).stdout,
    );
    expect(read.columns.city).toMatchObject({ kind: 'categorical', verdict: 'ok', unseen_categories: [] });
    const bad = await run(['--reference', latin1, '--current', latin1, '--encoding', 'cp1252']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--encoding must be one of utf8, latin1');
  });

  it('exits 2 on bad options', async () => {
    for (const args of [
      ['--drift-share', '0'],
      ['--threshold', 'amount'],
      ['--threshold', 'nowhere=0.1'],
      ['--method', 'amount=chisquare'],
      ['--method', 'amount=magic'],
      ['--columns', 'amount', '--method', 'amount=ks', '--threshold', 'amount=3'],
      ['--bogus'],
    ]) {
      const result = await run(['--reference', reference, '--current', same, ...args]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toContain('DL_USAGE');
    }
  });

  describe('exact statistics and the memory bound', () => {
    // scipy 1.17.1 on these values: ks_2samp(ref, cur) = (0.09333333333333334, 0.341957679475744);
    // wasserstein_distance(ref2, cur2) / np.std(ref2) = 0.20648879780639254.
    const series = (n: number, step: number, offset: number) =>
      Array.from({ length: n }, (_, i) => Number((((i * step) % 17) + offset).toFixed(2)));
    let small: [string, string];
    let large: [string, string];
    beforeAll(async () => {
      const write = async (name: string, values: number[]) => {
        const path = join(dir, name);
        await writeFile(path, `v\n${values.join('\n')}\n`);
        return path;
      };
      small = [await write('exact-ref.csv', series(300, 0.37, 0)), await write('exact-cur.csv', series(150, 0.53, 1))];
      large = [
        await write('exact-ref2.csv', series(3000, 0.37, 0)),
        await write('exact-cur2.csv', series(2000, 0.53, 1)),
      ];
    });

    it('computes on all values by default: KS p-value and normalised Wasserstein as scipy gives them', async () => {
      const ks = JSON.parse((await run(['--reference', small[0], '--current', small[1], '--json'])).stdout);
      expect(ks.statistics).toBe('exact');
      expect(ks.columns.v).toMatchObject({ method: 'ks', reference_count: 300, current_count: 150, drifted: false });
      expect(ks.columns.v.statistic).toBeCloseTo(0.09333333333333334, 14);
      expect(ks.columns.v.p_value).toBeCloseTo(0.341957679475744, 12);
      expect(ks.columns.v.stats.wasserstein).toBeCloseTo(1.15, 12);
      const w = JSON.parse((await run(['--reference', large[0], '--current', large[1], '--json'])).stdout);
      expect(w.columns.v.method).toBe('wasserstein');
      expect(w.columns.v.statistic).toBeCloseTo(0.20648879780639254, 12);
      expect(w.columns.v.drifted).toBe(true);
    });

    it('uses sketches with --sketch and says so (a KS column still gets scipy’s p-value)', async () => {
      const { stdout } = await run(['--reference', small[0], '--current', small[1], '--json', '--sketch']);
      const out = JSON.parse(stdout);
      expect(out.statistics).toBe('sketch');
      // 300 and 150 values: the sketches are exact, and a KS column's p-value is ks_2samp's.
      expect(out.columns.v.p_value).toBeCloseTo(0.341957679475744, 12);
      const table = await run(['--reference', small[0], '--current', small[1]]);
      expect(table.stdout).toMatch(/statistics: exact \(all values\)/);
      expect((await run(['--reference', small[0], '--current', small[1], '--exact', '--sketch'])).code).toBe(2);
    });

    it("gives the sketch path's categorical results on exact counts, numbers in a categorical column read as text", async () => {
      const write = async (name: string, rows: string[]) => {
        const path = join(dir, name);
        await writeFile(path, `code,label\n${rows.join('\n')}\n`);
        return path;
      };
      const random = mulberry32(5);
      const codes = ['10', '10.0', 'A7', 'B', '11', 'C'];
      const rows = (n: number, tilt: number) =>
        Array.from({ length: n }, () => {
          const code = codes[Math.min(codes.length - 1, Math.floor(random() ** tilt * codes.length))];
          return `${code},${random() < 0.5 ? 'x' : 'y'}`;
        });
      const ref = await write('cat-ref.csv', rows(600, 1));
      const cur = await write('cat-cur.csv', rows(400, 1.3));
      const exact = JSON.parse((await run(['--reference', ref, '--current', cur, '--json'])).stdout);
      const sketch = JSON.parse((await run(['--reference', ref, '--current', cur, '--json', '--sketch'])).stdout);
      expect(exact.statistics).toBe('exact');
      expect(exact.columns.code.kind).toBe('categorical');
      expect(exact.columns.code.method).toBe('chisquare');
      expect(exact.columns.code.drifted).toBe(true);
      expect(exact.columns.label.method).toBe('z');
      for (const column of ['code', 'label']) {
        const { stats, ...rest } = exact.columns[column];
        const { stats: sketchStats, ...sketchRest } = sketch.columns[column];
        expect(rest).toEqual(sketchRest);
        for (const [key, value] of Object.entries(stats)) expect(value).toBeCloseTo(sketchStats[key], 12);
      }
    });

    it('falls back to sketches only for a file over the bound, unless forced', () => {
      expect(statisticsMode(EXACT_MAX_FILE_BYTES)).toBe('exact');
      expect(statisticsMode(EXACT_MAX_FILE_BYTES + 1)).toBe('sketch');
      expect(statisticsMode(EXACT_MAX_FILE_BYTES + 1, 'exact')).toBe('exact');
      expect(statisticsMode(10, 'sketch')).toBe('sketch');
      expect(statisticsMode(2_000, undefined, 1_000)).toBe('sketch');
    });
  });
});
