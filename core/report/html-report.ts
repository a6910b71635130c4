/**
 * A self-contained HTML drift report: data in, string out. Inline CSS and inline SVG only —
 * no script, font, image or stylesheet is loaded from anywhere, so the file can be mailed,
 * attached to an alert or opened offline. Used by `driftline compare --html` and by the drift
 * consumer's window reports (consumers/drift/window-report.ts).
 */
import { type ColumnDriftResult, type DatasetDriftResult, isTestMethod } from '../drift/evaluate.ts';
import {
  countAtOrBelow,
  countBelow,
  type NumericDistribution,
  numericDistribution,
} from '../drift/numeric-distribution.ts';
import { CategoricalSketch } from '../sketch/categorical-sketch.ts';
import type { ColumnSketch } from '../sketch/index.ts';
import { NumericSketch } from '../sketch/numeric-sketch.ts';
import { binDensities, categoryShares, centralRange } from './histogram.ts';

export interface DriftReportInput {
  result: DatasetDriftResult;
  /** The sketches each column's result was computed from, by column name (for the charts). */
  sketches: ReadonlyMap<string, { reference: ColumnSketch; current: ColumnSketch }>;
  title?: string;
  /** Describes each side, e.g. "reference.csv (10,000 rows)". */
  referenceLabel?: string;
  currentLabel?: string;
  /** Shown as is (the renderer reads no clock). */
  generatedAt?: string;
}

const REF_COLOR = '#3b6fb6';
const CUR_COLOR = '#e07b39';
const HISTOGRAM_BINS = 40;
const CDF_POINTS = 200;
const MAX_CATEGORY_BARS = 12;
const MAX_POINT_BARS = 100;

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2430;margin:0;background:#f6f7f9}
main{max-width:1000px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:0}
.muted{color:#667085}.banner{padding:14px 16px;border-radius:8px;margin:16px 0;font-weight:600}
.banner.drift{background:#fde8e6;color:#8a1c12}.banner.ok{background:#e6f4ea;color:#1e5e2f}
.banner.insufficient_data{background:#eef0f3;color:#475467}
table{border-collapse:collapse;width:100%;background:#fff}th,td{padding:6px 10px;text-align:left;border-bottom:1px solid #e4e7ec}
th{font-weight:600;color:#475467;font-size:12px;text-transform:uppercase;letter-spacing:.03em}
td.num{font-variant-numeric:tabular-nums;text-align:right}
section{background:#fff;border:1px solid #e4e7ec;border-radius:8px;padding:16px;margin:16px 0}
.head{display:flex;gap:12px;align-items:center;justify-content:space-between;margin-bottom:8px}
.badge{display:inline-block;padding:2px 8px;border-radius:10px;font-size:12px;font-weight:600}
.badge.drift{background:#fde8e6;color:#8a1c12}.badge.ok{background:#e6f4ea;color:#1e5e2f}
.badge.insufficient_data{background:#eef0f3;color:#475467}
.stats{display:flex;flex-wrap:wrap;gap:6px 18px;margin:8px 0 12px;font-size:13px}
.stats b{font-weight:600}.legend{font-size:12px}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 10px;vertical-align:middle}
svg{display:block;max-width:100%;height:auto}
`;

/** The report as one HTML document. */
export function renderDriftReport(input: DriftReportInput): string {
  const { result } = input;
  const title = input.title ?? 'Data drift report';
  const state = result.state;
  const banner =
    state === 'insufficient_data'
      ? 'Not enough data to decide: no column reached the minimum current sample.'
      : `${result.dataset_drift ? 'Dataset drift detected' : 'No dataset drift'}: ${result.drifted_count} of ${result.evaluated_count} evaluated columns drifted (share ${fmt(result.share_of_drifted_columns)}; dataset drift at ≥ ${fmt(result.drift_share)}).`;
  const sides = [
    input.referenceLabel ? `Reference: ${input.referenceLabel}` : '',
    input.currentLabel ? `Current: ${input.currentLabel}` : '',
    input.generatedAt ? `Generated ${input.generatedAt}` : '',
  ].filter((s) => s !== '');
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title><style>${CSS}</style></head><body><main>`,
    `<h1>${esc(title)}</h1>`,
    sides.length > 0 ? `<div class="muted">${sides.map(esc).join(' · ')}</div>` : '',
    `<div class="banner ${state}">${esc(banner)}</div>`,
    summaryTable(result.columns),
    ...result.columns.map((column) => columnSection(column, input.sketches.get(column.column))),
    '</main></body></html>',
    '',
  ].join('\n');
}

function summaryTable(columns: readonly ColumnDriftResult[]): string {
  const rows = columns.map(
    (c) =>
      `<tr><td>${esc(c.column)}</td><td>${c.kind}</td><td>${c.method}</td><td class="num">${fmt(c.statistic)}</td>` +
      `<td class="num">${esc(thresholdText(c))}</td><td class="num">${fmt(c.p_value)}</td>` +
      `<td><span class="badge ${c.verdict}">${verdictText(c.verdict)}</span></td></tr>`,
  );
  return `<table><thead><tr><th>Column</th><th>Kind</th><th>Method</th><th>Statistic</th><th>Threshold</th><th>p-value</th><th>Verdict</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** "p < 0.05" for tests, "≥ 0.1" for distances. */
export function thresholdText(c: Pick<ColumnDriftResult, 'method' | 'threshold'>): string {
  return isTestMethod(c.method) ? `p < ${fmt(c.threshold)}` : `≥ ${fmt(c.threshold)}`;
}

function verdictText(verdict: ColumnDriftResult['verdict']): string {
  return verdict === 'insufficient_data' ? 'insufficient data' : verdict;
}

function columnSection(
  c: ColumnDriftResult,
  sketches: { reference: ColumnSketch; current: ColumnSketch } | undefined,
): string {
  const stats = c.stats
    ? Object.entries(c.stats)
        .map(([k, v]) => `<span>${esc(k)} <b>${fmt(v as number)}</b></span>`)
        .join('')
    : '<span class="muted">no statistics: one side has no values</span>';
  const counts = `<span>reference n <b>${c.reference_count.toLocaleString('en-US')}</b></span><span>current n <b>${c.current_count.toLocaleString('en-US')}</b></span>`;
  const unseen =
    c.unseen_categories && c.unseen_categories.length > 0
      ? `<div class="muted">Unseen in reference: ${esc(c.unseen_categories.slice(0, 20).join(', '))}${c.unseen_categories.length > 20 ? ` … (+${c.unseen_categories.length - 20})` : ''}</div>`
      : '';
  let chart = '';
  if (sketches) {
    const { reference, current } = sketches;
    if (reference instanceof NumericSketch && current instanceof NumericSketch)
      chart = numericChart(reference, current);
    else if (reference instanceof CategoricalSketch && current instanceof CategoricalSketch)
      chart = categoricalChart(reference, current);
  }
  return [
    '<section>',
    `<div class="head"><h2>${esc(c.column)}</h2><span class="badge ${c.verdict}">${verdictText(c.verdict)}</span></div>`,
    `<div class="muted">${c.kind}; ${c.method}: statistic ${fmt(c.statistic)}${c.p_value === null ? '' : `, p-value ${fmt(c.p_value)}`}; drift when ${esc(isTestMethod(c.method) ? `p-value < ${fmt(c.threshold)}` : `statistic ≥ ${fmt(c.threshold)}`)}</div>`,
    `<div class="stats">${counts}${stats}</div>`,
    unseen,
    chart,
    '<div class="legend muted"><span class="swatch" style="background:' +
      REF_COLOR +
      '"></span>reference<span class="swatch" style="background:' +
      CUR_COLOR +
      '"></span>current</div>',
    '</section>',
  ].join('\n');
}

// ---- numerical chart: density histogram and CDF, side by side ----------------------------

const W = 920;
const H = 240;
const PAD = { left: 48, right: 12, top: 22, bottom: 28 };
const PANEL_GAP = 40;

function numericChart(reference: NumericSketch, current: NumericSketch): string {
  const ref = numericDistribution(reference);
  const cur = numericDistribution(current);
  const ds = [ref, cur].filter((d): d is NumericDistribution => d !== undefined);
  if (ds.length === 0) return '';
  const [lo, hi] = centralRange(ds);
  const panelWidth = (W - PANEL_GAP) / 2;
  const support = discreteSupport(ds);
  const density = support
    ? pointMassPanel(ref, cur, support, 0, panelWidth)
    : histogramPanel(ref, cur, lo, hi, 0, panelWidth);
  const cdf = cdfPanel(ref, cur, lo, hi, panelWidth + PANEL_GAP, panelWidth);
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="reference and current distributions">${density}${cdf}</svg>`;
}

interface Frame {
  x0: number;
  width: number;
  lo: number;
  hi: number;
  yMax: number;
}

function sx(f: Frame, x: number): number {
  return f.x0 + PAD.left + ((x - f.lo) / (f.hi - f.lo)) * (f.width - PAD.left - PAD.right);
}
function sy(f: Frame, y: number): number {
  return PAD.top + (1 - y / f.yMax) * (H - PAD.top - PAD.bottom);
}

function axes(f: Frame, title: string, yLabel: (y: number) => string, xRange: [number, number] = [f.lo, f.hi]): string {
  const left = f.x0 + PAD.left;
  const right = f.x0 + f.width - PAD.right;
  const bottom = H - PAD.bottom;
  return [
    `<text x="${left}" y="14" font-size="12" font-weight="600" fill="#344054">${esc(title)}</text>`,
    `<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#98a2b3"/>`,
    `<line x1="${left}" y1="${PAD.top}" x2="${left}" y2="${bottom}" stroke="#98a2b3"/>`,
    `<text x="${left}" y="${H - 8}" font-size="11" fill="#667085">${esc(fmt(xRange[0]))}</text>`,
    `<text x="${right}" y="${H - 8}" font-size="11" fill="#667085" text-anchor="end">${esc(fmt(xRange[1]))}</text>`,
    `<text x="${left - 4}" y="${PAD.top + 4}" font-size="11" fill="#667085" text-anchor="end">${esc(yLabel(f.yMax))}</text>`,
    `<text x="${left - 4}" y="${bottom}" font-size="11" fill="#667085" text-anchor="end">0</text>`,
  ].join('');
}

function histogramPanel(
  ref: NumericDistribution | undefined,
  cur: NumericDistribution | undefined,
  lo: number,
  hi: number,
  x0: number,
  width: number,
): string {
  const step = (hi - lo) / HISTOGRAM_BINS;
  const densities = (d: NumericDistribution | undefined): number[] | undefined =>
    d ? binDensities(d, lo, hi, HISTOGRAM_BINS) : undefined;
  const r = densities(ref);
  const c = densities(cur);
  const yMax = Math.max(1e-12, ...(r ?? []), ...(c ?? [])) * 1.05;
  const f: Frame = { x0, width, lo, hi, yMax };
  const path = (values: number[]): string => {
    let p = `M${sx(f, lo).toFixed(1)},${sy(f, 0).toFixed(1)}`;
    values.forEach((v, i) => {
      const y = sy(f, v).toFixed(1);
      p += `L${sx(f, lo + i * step).toFixed(1)},${y}L${sx(f, lo + (i + 1) * step).toFixed(1)},${y}`;
    });
    return `${p}L${sx(f, hi).toFixed(1)},${sy(f, 0).toFixed(1)}Z`;
  };
  return [
    axes(f, 'Density (central 99 %)', (y) => fmt(y / 1.05)),
    r ? `<path d="${path(r)}" fill="${REF_COLOR}" fill-opacity="0.35" stroke="${REF_COLOR}" stroke-width="1"/>` : '',
    c ? `<path d="${path(c)}" fill="${CUR_COLOR}" fill-opacity="0.25" stroke="${CUR_COLOR}" stroke-width="1.5"/>` : '',
  ].join('');
}

/**
 * The sorted values carrying the mass when both distributions are (almost) all point masses on
 * at most MAX_POINT_BARS values — integer codes, counts, ratings — else undefined. Such
 * columns get one bar per value; a histogram would split them unevenly between bins.
 */
function discreteSupport(ds: readonly NumericDistribution[]): number[] | undefined {
  const support = new Set<number>();
  for (const d of ds) {
    let jumpMass = 0;
    d.xs.forEach((x, i) => {
      const jump = (d.atOrBelow[i] as number) - (d.below[i] as number);
      if (jump > 0) {
        jumpMass += jump;
        support.add(x);
      }
    });
    if (jumpMass < 0.99 * d.count || support.size > MAX_POINT_BARS) return undefined;
  }
  return [...support].sort((a, b) => a - b);
}

function pointMassPanel(
  ref: NumericDistribution | undefined,
  cur: NumericDistribution | undefined,
  support: number[],
  x0: number,
  width: number,
): string {
  const share = (d: NumericDistribution | undefined, x: number): number =>
    d ? (countAtOrBelow(d, x) - countBelow(d, x)) / d.count : 0;
  const lo = support[0] as number;
  const hi = support[support.length - 1] as number;
  const pad = support.length > 1 ? (hi - lo) / (support.length - 1) / 2 : 0.5;
  const yMax = Math.max(1e-12, ...support.map((x) => Math.max(share(ref, x), share(cur, x)))) * 1.05;
  const f: Frame = { x0, width, lo: lo - pad, hi: hi + pad, yMax };
  const slot = Math.max(1, ((width - PAD.left - PAD.right) / (support.length + 1)) * 0.4);
  const bars = support.map((x) => {
    const cx = sx(f, x);
    const rect = (value: number, offset: number, color: string) =>
      `<rect x="${(cx + offset).toFixed(1)}" y="${sy(f, value).toFixed(1)}" width="${slot.toFixed(1)}" height="${(sy(f, 0) - sy(f, value)).toFixed(1)}" fill="${color}"/>`;
    return rect(share(ref, x), -slot, REF_COLOR) + rect(share(cur, x), 0, CUR_COLOR);
  });
  return axes(f, 'Share per value', (y) => pct(y / 1.05), [lo, hi]) + bars.join('');
}

function cdfPanel(
  ref: NumericDistribution | undefined,
  cur: NumericDistribution | undefined,
  lo: number,
  hi: number,
  x0: number,
  width: number,
): string {
  const f: Frame = { x0, width, lo, hi, yMax: 1 };
  const line = (d: NumericDistribution | undefined, color: string): string => {
    if (!d) return '';
    // A grid plus every jump inside the range, each drawn as a vertical step.
    const xs = new Set<number>();
    for (let i = 0; i <= CDF_POINTS; i++) xs.add(lo + ((hi - lo) * i) / CDF_POINTS);
    d.xs.forEach((x, i) => {
      if (x > lo && x < hi && (d.below[i] as number) !== (d.atOrBelow[i] as number)) xs.add(x);
    });
    const points: [string, string][] = [];
    for (const x of [...xs].sort((a, b) => a - b)) {
      const px = sx(f, x).toFixed(1);
      const left = countBelow(d, x) / d.count;
      const right = countAtOrBelow(d, x) / d.count;
      if (left !== right) points.push([px, sy(f, left).toFixed(1)]);
      points.push([px, sy(f, right).toFixed(1)]);
    }
    // Drop the inner points of flat runs: same picture, a fraction of the bytes.
    const kept = points.filter(
      (p, i) => i === 0 || i === points.length - 1 || p[1] !== points[i - 1]?.[1] || p[1] !== points[i + 1]?.[1],
    );
    return `<polyline points="${kept.map((p) => p.join(',')).join(' ')}" fill="none" stroke="${color}" stroke-width="1.8"/>`;
  };
  return [axes(f, 'Cumulative distribution', () => '1'), line(ref, REF_COLOR), line(cur, CUR_COLOR)].join('');
}

// ---- categorical chart: grouped horizontal bars of category shares ------------------------

function categoricalChart(reference: CategoricalSketch, current: CategoricalSketch): string {
  const rows = categoryShares(reference, current, MAX_CATEGORY_BARS).map((s) => ({
    label: s.label,
    r: s.reference,
    c: s.current,
  }));
  if (rows.length === 0) return '';
  const rowHeight = 26;
  const labelWidth = 180;
  const height = rows.length * rowHeight + 30;
  const max = Math.max(1e-12, ...rows.map((row) => Math.max(row.r, row.c)));
  const barSpace = W - labelWidth - 130;
  const bars = rows.map((row, i) => {
    const y = 24 + i * rowHeight;
    const label = row.label.length > 28 ? `${row.label.slice(0, 27)}…` : row.label;
    return [
      `<text x="${labelWidth - 8}" y="${y + 14}" font-size="12" fill="#344054" text-anchor="end">${esc(label)}</text>`,
      `<rect x="${labelWidth}" y="${y + 2}" width="${((row.r / max) * barSpace).toFixed(1)}" height="10" fill="${REF_COLOR}"/>`,
      `<rect x="${labelWidth}" y="${y + 12}" width="${((row.c / max) * barSpace).toFixed(1)}" height="10" fill="${CUR_COLOR}"/>`,
      `<text x="${labelWidth + (Math.max(row.r, row.c) / max) * barSpace + 6}" y="${y + 16}" font-size="11" fill="#667085">${pct(row.r)} → ${pct(row.c)}</text>`,
    ].join('');
  });
  return `<svg viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" aria-label="category shares"><text x="0" y="14" font-size="12" font-weight="600" fill="#344054">Category shares</text>${bars.join('')}</svg>`;
}

// ---- formatting ---------------------------------------------------------------------------

function pct(share: number): string {
  return `${(share * 100).toFixed(share < 0.001 && share > 0 ? 3 : 1)} %`;
}

/** A compact number: 4 significant digits, exponent notation for the very small or large. */
export function fmt(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  // Evidently's chi-square is infinite when the current sample has a category the reference lacks.
  if (value === Number.POSITIVE_INFINITY) return '∞';
  if (value === Number.NEGATIVE_INFINITY) return '−∞';
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs < 1e-4 || abs >= 1e7) return value.toExponential(2);
  return String(Number(value.toPrecision(4)));
}

export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
