import { describe, expect, it } from 'vitest';
import { normalSampler, poissonSampler } from '../../test-support/distributions.ts';
import { evaluateDataset } from '../drift/evaluate.ts';
import { mulberry32 } from '../random.ts';
import { CategoricalSketch } from '../sketch/categorical-sketch.ts';
import { NumericSketch } from '../sketch/numeric-sketch.ts';
import { esc, fmt, renderDriftReport } from './html-report.ts';

function input() {
  const random = mulberry32(1);
  const z = normalSampler(random);
  const poisson = poissonSampler(random, 3);
  const sketches = new Map([
    [
      'price',
      {
        reference: NumericSketch.of(Array.from({ length: 3_000 }, z)),
        current: NumericSketch.of(Array.from({ length: 3_000 }, () => z() + 1)),
      },
    ],
    [
      'visits',
      {
        reference: NumericSketch.of(Array.from({ length: 3_000 }, poisson)),
        current: NumericSketch.of(Array.from({ length: 3_000 }, poisson)),
      },
    ],
    ['constant', { reference: NumericSketch.of(Array(500).fill(7)), current: NumericSketch.of(Array(500).fill(7)) }],
    [
      '<b>city</b>',
      {
        reference: CategoricalSketch.of(['a', 'b', 'b', 'c'].flatMap((v) => Array(100).fill(v))),
        current: CategoricalSketch.of(['a', 'b', 'd'].flatMap((v) => Array(100).fill(v))),
      },
    ],
    ['empty', { reference: NumericSketch.of([1, 2, 3]), current: NumericSketch.create() }],
  ]);
  const result = evaluateDataset([...sketches].map(([column, pair]) => ({ column, ...pair })));
  return { result, sketches };
}

describe('renderDriftReport', () => {
  const { result, sketches } = input();
  const html = renderDriftReport({
    result,
    sketches,
    title: 'Test & report',
    referenceLabel: 'ref.csv',
    currentLabel: 'cur.csv',
    generatedAt: '2025-01-01T00:00:00Z',
  });

  it('is one self-contained document with an inline chart per column that has data', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('<style>');
    // One SVG for each column with values on at least one side.
    expect(html.match(/<svg/g)).toHaveLength(5);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(/i);
  });

  it('shows the verdicts, thresholds and statistics', () => {
    expect(html).toContain('Dataset drift detected');
    expect(html).toContain('p &#60; 0.05');
    expect(html).toContain('drift when statistic ≥ 0.1');
    expect(html).toContain('insufficient data');
    expect(html).toContain('wasserstein_norm');
    expect(html).toContain('Unseen in reference: d');
    expect(html).toContain('Share per value'); // the Poisson column is drawn value by value
    expect(html).toContain('Density (central 99 %)');
  });

  it('escapes names and labels', () => {
    expect(html).toContain('&#60;b&#62;city&#60;/b&#62;');
    expect(html).not.toContain('<b>city</b>');
    expect(html).toContain('<title>Test &#38; report</title>');
    expect(esc(`"'<>&`)).toBe('&#34;&#39;&#60;&#62;&#38;');
  });

  it('formats numbers compactly and never prints NaN', () => {
    expect([fmt(null), fmt(0), fmt(0.123456), fmt(1234567), fmt(1e-9), fmt(1e9)]).toEqual([
      '–',
      '0',
      '0.1235',
      '1235000',
      '1.00e-9',
      '1.00e+9',
    ]);
    expect([fmt(Number.POSITIVE_INFINITY), fmt(Number.NEGATIVE_INFINITY)]).toEqual(['∞', '−∞']);
    expect(html).not.toContain('NaN');
    expect(html).not.toContain('Infinity');
  });
});
