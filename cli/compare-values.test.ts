import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../core/random.ts';
import { type ColumnCounts, profileCsvFile } from './compare-csv.ts';
import { fewValueSketches, readCsvValues, readCsvValuesInWorker, textSketch } from './compare-values.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'driftline-values-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

const counts = (c: ColumnCounts) => ({
  present: c.present,
  numbers: c.numbers,
  nonFinite: c.nonFinite,
  nonNumeric: c.nonNumeric,
  nonNumericExamples: c.nonNumericExamples,
});

describe('readCsvValues', () => {
  // Unquoted: BOM, CRLF, a lone CR, blank lines, pandas NA markers, inf, stray tokens, short rows,
  // spaces around numbers, no newline at the end.
  const TRICKY =
    '\uFEFFx,label,y\r\n1.5,a,10\r\n\r\n-2,b, 7 \n#N/A,a,inf\r.5,<NA>,NULL\n1.,,?\n+3,c\n\n4e2,-nan,-Infinity\n1e-7,a,12345678901234567890';

  it('reads what the sketch path reads: counts, examples, row count', async () => {
    const path = await file('tricky.csv', TRICKY);
    const [values, profile] = await Promise.all([readCsvValues(path), profileCsvFile(path)]);
    expect(values.header).toEqual(['x', 'label', 'y']);
    expect(values.rows).toBe(profile.rows);
    expect(values.rows).toBe(8);
    for (const name of values.header) {
      const v = values.columns.get(name);
      const p = profile.columns.get(name);
      expect(v && counts(v)).toEqual(p && counts(p));
      expect(v?.finite.length).toBe(p?.numericSketch.count);
      expect(v?.missing).toBe(values.rows - (v?.present ?? 0));
    }
    expect([...(values.columns.get('x')?.finite ?? [])]).toEqual([-2, 1e-7, 0.5, 1, 1.5, 3, 400]);
    expect([...(values.columns.get('y')?.finite ?? [])]).toEqual([7, 10, Number('12345678901234567890')]);
    expect(values.columns.get('y')).toMatchObject({ nonFinite: 2, nonNumeric: 1, nonNumericExamples: ['?'] });
    expect([...(values.columns.get('label')?.texts ?? [])]).toEqual([
      ['a', 3],
      ['b', 1],
      ['c', 1],
    ]);
  });

  it('parses every number to the same double as Number(text)', async () => {
    const random = mulberry32(3);
    const texts: string[] = [];
    for (let i = 0; i < 3_000; i++) {
      const digits = 1 + Math.floor(random() * 19);
      let text = '';
      for (let d = 0; d < digits; d++) text += Math.floor(random() * 10);
      const dot = Math.floor(random() * (digits + 1));
      text = `${text.slice(0, dot)}.${text.slice(dot)}`.replace(/^\.$/, '0');
      if (random() < 0.3) text = `-${text}`;
      texts.push(text);
    }
    texts.push(
      '0',
      '-0',
      '007',
      '1.',
      '.5',
      '+2.25',
      '0.00000000000000000000000123',
      '9007199254740993',
      '9007199254740991.5',
      String(Math.PI),
      String(-Number.MAX_SAFE_INTEGER),
      '0.1',
      '0.3',
    );
    const path = await file('numbers.csv', `v\n${texts.join('\n')}\n`);
    const values = await readCsvValues(path);
    const expected = Float64Array.from(texts.map(Number)).sort();
    const got = values.columns.get('v')?.finite as Float64Array;
    expect(got.length).toBe(expected.length);
    for (let i = 0; i < got.length; i++) expect(Object.is(got[i], expected[i])).toBe(true);
  });

  it('reads a file with quotes through csv-parse, to the same values', async () => {
    const plain = await file('plain.csv', 'a,b\n1,x\n2,y\n3,x\n');
    const quoted = await file('quoted.csv', '"a","b"\n1,"x"\n"2",y\n3,x\n');
    const [p, q] = await Promise.all([readCsvValues(plain), readCsvValues(quoted)]);
    expect(q.header).toEqual(p.header);
    expect(q.rows).toBe(3);
    expect([...(q.columns.get('a')?.finite ?? [])]).toEqual([1, 2, 3]);
    expect(q.columns.get('b')?.texts).toEqual(p.columns.get('b')?.texts);
    const commas = await file('commas.csv', 'city,n\n"Paris, FR",1\n"Lyon, FR",2\n');
    expect([...((await readCsvValues(commas)).columns.get('city')?.texts ?? [])]).toEqual([
      ['Paris, FR', 1],
      ['Lyon, FR', 1],
    ]);
  });

  it('counts the text of numbers only for the columns asked (categorical ones)', async () => {
    const path = await file('mixed.csv', 'code,n\n10,1\n10.0,2\nabc,3\n');
    const first = await readCsvValues(path);
    expect([...(first.columns.get('code')?.texts ?? [])]).toEqual([['abc', 1]]);
    expect(() => textSketch(first.columns.get('code')!)).toThrow(/without the text of its numbers/);
    const again = await readCsvValues(path, new Set(['code']), 'utf8', new Set(['code']));
    expect([...again.columns.keys()]).toEqual(['code']);
    // "10" and "10.0" stay two categories, as in the sketch path (and in pandas' object column).
    expect(textSketch(again.columns.get('code')!).entries()).toEqual([
      ['10', 1],
      ['10.0', 1],
      ['abc', 1],
    ]);
  });

  it('refuses long rows with file and line, invalid UTF-8 with its byte; reads Latin-1 when asked', async () => {
    const wide = await file('wide.csv', 'a,b\n1,2\n\n1,2,3,4\n');
    await expect(readCsvValues(wide)).rejects.toThrow(/wide\.csv line 4: 4 fields, but the header has 2/);
    const latin1 = await file('latin1.csv', Buffer.from('city\nMontréal\nMontrïal\n', 'latin1'));
    await expect(readCsvValues(latin1)).rejects.toThrow(`${latin1}: not valid UTF-8 at byte 10`);
    const read = await readCsvValues(latin1, undefined, 'latin1');
    expect([...(read.columns.get('city')?.texts.keys() ?? [])]).toEqual(['Montréal', 'Montrïal']);
    const empty = await file('empty.csv', '\n\r\n');
    await expect(readCsvValues(empty)).rejects.toThrow(/empty file/);
  });
});

describe('readCsvValuesInWorker (large files are read on two threads)', () => {
  it('gives what the main thread reads, and its usage errors with their code', async () => {
    const path = await file('worker.csv', 'x,label\n1.5,a\n-2,b\nNA,a\n3,?\n');
    const [inWorker, here] = await Promise.all([readCsvValuesInWorker(path), readCsvValues(path)]);
    expect(inWorker.rows).toBe(here.rows);
    expect(inWorker.columns).toEqual(here.columns);
    expect(inWorker.columns.get('x')?.finite).toBeInstanceOf(Float64Array);
    const wide = await file('worker-wide.csv', 'a\n1\n1,2\n');
    await expect(readCsvValuesInWorker(wide)).rejects.toMatchObject({
      code: 'DL_USAGE',
      message: expect.stringMatching(/line 3: 2 fields, but the header has 1/),
    });
  });
});

describe('exact categories', () => {
  it("applies Evidently's few-values rule on both files together, 1 and 1.0 being one value", async () => {
    const a = await file(
      'few-a.csv',
      `v,w\n${['1', '2', '2', '3', '1.0', 'NA'].map((x, i) => `${x},${i}`).join('\n')}\n`,
    );
    const b = await file('few-b.csv', `v,w\n${['4', '5', '1', ''].map((x, i) => `${x},${i + 10}`).join('\n')}\n`);
    const [ra, rb] = await Promise.all([readCsvValues(a), readCsvValues(b)]);
    const few = fewValueSketches(ra.columns.get('v')!, rb.columns.get('v')!);
    expect(few?.distinct).toBe(5);
    expect(few?.reference.entries()).toEqual([
      ['1', 2],
      ['2', 2],
      ['3', 1],
    ]);
    expect(few?.reference.nullCount).toBe(1);
    expect(few?.current.count).toBe(3);
    // w: 10 distinct values in both files together.
    expect(fewValueSketches(ra.columns.get('w')!, rb.columns.get('w')!)).toBeUndefined();
  });

  it('keeps every category of a large column: nothing lumped', async () => {
    const values = Array.from({ length: 30_000 }, (_, i) => `c${i % 12_000}`);
    const path = await file('many.csv', `c\n${values.join('\n')}\n`);
    const sketch = textSketch((await readCsvValues(path)).columns.get('c')!);
    expect(sketch.size).toBe(12_000);
    expect(sketch.otherCount).toBe(0);
    expect(sketch.get('c0')).toBe(3);
    expect(sketch.get('c11999')).toBe(2);
  });
});
