import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DriftlineError, ErrorCode } from '../core/errors.ts';
import { mulberry32 } from '../core/random.ts';
import {
  csvParser,
  isMissing,
  isNumericColumn,
  normalizeHeader,
  parseCsv,
  parseNumber,
  profileCsvFile,
  readCsvHeader,
  utf8Validator,
} from './compare-csv.ts';

const TRICKY =
  '\uFEFFname,note,value\r\n"Smith, John","said ""hi""\nthen left",1.5\r\n\r\nplain,,2\n"",x"y,3\nlast,"a,b",4';
const TRICKY_ROWS = [
  ['name', 'note', 'value'],
  ['Smith, John', 'said "hi"\nthen left', '1.5'],
  ['plain', '', '2'],
  ['', 'x"y', '3'],
  ['last', 'a,b', '4'],
];

async function parseInChunks(text: string, sizes: () => number): Promise<string[][]> {
  const rows: string[][] = [];
  const parser = csvParser();
  parser.on('data', (row: string[]) => rows.push(row));
  const ended = new Promise((resolve, reject) => {
    parser.on('end', resolve);
    parser.on('error', reject);
  });
  for (let i = 0; i < text.length; ) {
    const size = sizes();
    parser.write(text.slice(i, i + size));
    i += size;
  }
  parser.end();
  await ended;
  return rows;
}

describe('CSV parsing', () => {
  it('handles quoted commas, doubled quotes, newlines in quotes, CRLF, BOM and blank lines', () => {
    expect(parseCsv(TRICKY)).toEqual(TRICKY_ROWS);
  });

  it('gives the same rows however the input is split into chunks', async () => {
    expect(await parseInChunks(TRICKY, () => 1)).toEqual(TRICKY_ROWS);
    const random = mulberry32(3);
    for (let trial = 0; trial < 20; trial++) {
      expect(await parseInChunks(TRICKY, () => 1 + Math.floor(random() * 7))).toEqual(TRICKY_ROWS);
    }
    // A CRLF split across two chunks is one line end, not a blank line plus a row.
    expect(await parseInChunks('a,b\r\nc,d\r\n', () => 4)).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
  });

  it('keeps empty trailing fields and a last row without a newline', () => {
    expect(parseCsv('a,b,c\n1,,\n2,3')).toEqual([
      ['a', 'b', 'c'],
      ['1', '', ''],
      ['2', '3'],
    ]);
    expect(parseCsv('')).toEqual([]);
    expect(parseCsv('\n\n')).toEqual([]);
  });

  it('reports an unterminated quote with its starting line as a usage error', () => {
    try {
      parseCsv('a,b\n1,2\n3,"oops\nstill open');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DriftlineError);
      expect((error as DriftlineError).code).toBe(ErrorCode.USAGE);
      expect((error as DriftlineError).message).toContain('line 3');
    }
  });

  it('names empty header columns as pandas does and refuses duplicates', () => {
    expect(normalizeHeader(['', 'a', ' '], 'f.csv')).toEqual(['Unnamed: 0', 'a', 'Unnamed: 2']);
    expect(() => normalizeHeader(['a', 'b', 'a'], 'f.csv')).toThrow(/duplicate column names.*"a"/);
  });
});

describe('values', () => {
  it('parses decimal numbers, and infinities as pandas spells them', () => {
    expect(['1', '-2.5', ' 3e2 ', '.5', '+7.', '1E-3'].map(parseNumber)).toEqual([1, -2.5, 300, 0.5, 7, 0.001]);
    for (const text of ['inf', '+inf', 'Inf', 'INF', 'Infinity', '+infinity', '1e400'])
      expect(parseNumber(text)).toBe(Number.POSITIVE_INFINITY);
    for (const text of ['-inf', '-Infinity', '-INFINITY']) expect(parseNumber(text)).toBe(Number.NEGATIVE_INFINITY);
    for (const text of ['0x10', 'infin', '1,5', '1.2.3', 'abc', '', '1e', '--1', 'NaN'])
      expect(parseNumber(text)).toBeUndefined();
  });

  it("reads pandas read_csv's default NA values as missing", () => {
    const pandas = ['#N/A', '#N/A N/A', '#NA', '-1.#IND', '-1.#QNAN', '-NaN', '-nan', '1.#IND', '1.#QNAN', '<NA>'];
    for (const text of [...pandas, '', '  ', 'N/A', 'NA', 'NULL', 'NaN', 'None', 'n/a', 'nan', 'null'])
      expect(isMissing(text)).toBe(true);
    for (const text of ['0', 'none', 'n', 'false', 'Null', 'NAN', '-']) expect(isMissing(text)).toBe(false);
  });
});

describe('utf8Validator', () => {
  const firstBad = (...chunks: number[][]) => {
    const v = utf8Validator();
    for (const chunk of chunks) {
      const bad = v.push(Uint8Array.from(chunk));
      if (bad >= 0) return bad;
    }
    return v.end();
  };
  it('accepts UTF-8, with characters split across chunks', () => {
    const bytes = [...Buffer.from('a,é,€,𝄞\n')];
    expect(firstBad(bytes)).toBe(-1);
    for (let cut = 0; cut <= bytes.length; cut++) expect(firstBad(bytes.slice(0, cut), bytes.slice(cut))).toBe(-1);
  });
  it('finds the first malformed sequence: Latin-1, overlong, surrogate, beyond U+10FFFF, truncated', () => {
    expect(firstBad([...Buffer.from('Montréal', 'latin1')])).toBe(5);
    expect(firstBad([0x41, 0xc0, 0x80])).toBe(1);
    expect(firstBad([0x41, 0xe0, 0x80, 0x80])).toBe(1);
    expect(firstBad([0xed, 0xa0, 0x80])).toBe(0);
    expect(firstBad([0xf4, 0x90, 0x80, 0x80])).toBe(0);
    expect(firstBad([0x41, 0x42, 0xf5])).toBe(2);
    expect(firstBad([0x41, 0xe2], [0x82, 0x41])).toBe(1);
    expect(firstBad([0x41], [0xe2, 0x82])).toBe(1);
    expect(firstBad([0x41, 0x42], [0xe2], [0x82], [0x41])).toBe(2);
  });
});

describe('profileCsvFile and column detection', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftline-csv-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('builds sketches per column and tells numeric from categorical', async () => {
    const path = join(dir, 'a.csv');
    await writeFile(path, 'id,score,code,label\n1,0.5,10,"x, y"\n2,NA,11,z\n3,1.5,abc,z\n4,2.5\n');
    const profile = await profileCsvFile(path);
    expect(profile.header).toEqual(['id', 'score', 'code', 'label']);
    expect(profile.rows).toBe(4);
    const score = profile.columns.get('score');
    expect(score).toMatchObject({ present: 3, numbers: 3, nonNumeric: 0 });
    expect(score?.numericSketch.count).toBe(3);
    expect(score?.numericSketch.nullCount).toBe(1);
    const code = profile.columns.get('code');
    expect(code).toMatchObject({ present: 3, numbers: 2, nonNumeric: 1, nonNumericExamples: ['abc'] });
    expect(isNumericColumn(code!, code!)).toBe(false);
    expect(code?.categoricalSketch.entries()).toEqual([
      ['10', 1],
      ['11', 1],
      ['abc', 1],
    ]);
    expect(profile.columns.get('label')?.categoricalSketch.get('x, y')).toBe(1);
    expect(profile.columns.get('label')?.categoricalSketch.nullCount).toBe(1);
  });

  it('is numeric only when numeric in both files', async () => {
    const a = join(dir, 'num-a.csv');
    const b = join(dir, 'num-b.csv');
    await writeFile(a, 'v,w\n1,1\n2,2\n');
    await writeFile(b, 'v,w\n3,3\nthree,4\n');
    const [pa, pb] = await Promise.all([profileCsvFile(a), profileCsvFile(b)]);
    expect(isNumericColumn(pa.columns.get('w')!, pb.columns.get('w')!)).toBe(true);
    expect(isNumericColumn(pa.columns.get('v')!, pb.columns.get('v')!)).toBe(false);
  });

  it('keeps a numeric column with pandas NA markers, inf and a few stray tokens numerical', async () => {
    const a = join(dir, 'stray-a.csv');
    const b = join(dir, 'stray-b.csv');
    const values = (n: number) => Array.from({ length: n }, (_, i) => String(i % 37));
    await writeFile(a, `v\n${[...values(300), '#N/A', '<NA>', '-1.#IND', 'NULL', 'inf', '?'].join('\n')}\n`);
    await writeFile(b, `v\n${[...values(300), '-inf', 'Infinity', '-nan', 'n/a', '?', 'unknown'].join('\n')}\n`);
    const [pa, pb] = await Promise.all([profileCsvFile(a), profileCsvFile(b)]);
    const ra = pa.columns.get('v')!;
    const rb = pb.columns.get('v')!;
    expect(ra).toMatchObject({ present: 302, numbers: 301, nonFinite: 1, nonNumeric: 1, nonNumericExamples: ['?'] });
    expect(rb).toMatchObject({ present: 304, numbers: 302, nonFinite: 2, nonNumeric: 2 });
    expect(rb.nonNumericExamples).toEqual(['?', 'unknown']);
    expect(ra.numericSketch.count).toBe(300);
    expect(ra.numericSketch.nullCount).toBe(6);
    expect(isNumericColumn(ra, rb)).toBe(true);
  });

  it('refuses invalid UTF-8 naming the file and byte offset, and reads Latin-1 when asked', async () => {
    const path = join(dir, 'latin1.csv');
    await writeFile(path, Buffer.from('city\nMontréal\nMontrïal\n', 'latin1'));
    await expect(profileCsvFile(path)).rejects.toThrow(
      `${path}: not valid UTF-8 at byte 10; if the file is Latin-1 (ISO-8859-1), pass --encoding latin1`,
    );
    await expect(readCsvHeader(path)).rejects.toThrow(/not valid UTF-8 at byte 10/);
    const profile = await profileCsvFile(path, undefined, 'latin1');
    expect(profile.columns.get('city')?.categoricalSketch.entries()).toEqual([
      ['Montréal', 1],
      ['Montrïal', 1],
    ]);
    const utf8 = join(dir, 'utf8.csv');
    await writeFile(utf8, 'city\nMontréal\n');
    expect((await profileCsvFile(utf8)).columns.get('city')?.categoricalSketch.get('Montréal')).toBe(1);
  });

  it('reads just the header', async () => {
    const path = join(dir, 'header.csv');
    await writeFile(path, `\uFEFF"id","a, b",\n${'1,2,3\n'.repeat(10_000)}"unterminated`);
    expect(await readCsvHeader(path)).toEqual(['id', 'a, b', 'Unnamed: 2']);
    const empty = join(dir, 'header-empty.csv');
    await writeFile(empty, '\n\n');
    await expect(readCsvHeader(empty)).rejects.toThrow(/empty file/);
  });

  it('profiles only the wanted columns', async () => {
    const path = join(dir, 'wanted.csv');
    await writeFile(path, 'a,b,c\n1,2,3\n');
    const profile = await profileCsvFile(path, new Set(['c']));
    expect([...profile.columns.keys()]).toEqual(['c']);
  });

  it('refuses rows with more fields than the header, naming file and line', async () => {
    const path = join(dir, 'wide.csv');
    await writeFile(path, 'a,b\n1,2\n1,2,3\n');
    await expect(profileCsvFile(path)).rejects.toThrow(/wide\.csv line 3: 3 fields, but the header has 2/);
  });

  it('refuses an empty file', async () => {
    const path = join(dir, 'empty.csv');
    await writeFile(path, '');
    await expect(profileCsvFile(path)).rejects.toThrow(/empty file/);
  });
});
