import { describe, expect, it } from 'vitest';
import { benchJson, parseReport, type SuiteOutcome, table } from './run.ts';

const outcomes: SuiteOutcome[] = [
  {
    suite: 'drift-eval',
    status: 'ok',
    seconds: 1,
    results: [
      { key: 'drift_eval_ms_10k', value: 0.4, unit: 'ms', target: '≤ 1', pass: true },
      { key: 'drift_eval_ms_10m', value: 1.5, unit: 'ms', target: '≤ 1', pass: false },
    ],
  },
  { suite: 'store-pipeline', status: 'failed', seconds: 2, results: [], error: 'exit code 1: Kafka is down' },
  { suite: 'pane-memory', status: 'missing', seconds: 0, results: [] },
];

describe('bench runner', () => {
  it('takes the report from the last stdout line only', () => {
    const report = { suite: 's', results: [{ key: 'k', value: 1, unit: 'u' }] };
    expect(parseReport(`progress…\n${JSON.stringify(report)}\n`)).toEqual(report);
    expect(parseReport(`${JSON.stringify(report)}\nthen something else\n`)).toBeUndefined();
    expect(parseReport('{"not":"a report"}')).toBeUndefined();
  });

  it('lists failed and missing suites as rows, with pass and FAIL per result', () => {
    const text = table(outcomes);
    expect(text).toMatch(/\| drift-eval +\| drift_eval_ms_10k +\| 0\.4 +\| ms +\| ≤ 1 +\| pass/);
    expect(text).toMatch(/drift_eval_ms_10m .*FAIL/);
    expect(text).toMatch(/store-pipeline +\| failed .*Kafka is down/);
    expect(text).toMatch(/pane-memory +\| missing/);
  });

  it('writes each result under its key and keyed families as one object', () => {
    const json = benchJson(outcomes, true);
    expect(json.drift_eval_ms_10k).toBe(0.4);
    expect(json.drift_eval_ms).toEqual({ '10k': 0.4, '10m': 1.5 });
    expect(json.suites).toMatchObject({ 'store-pipeline': { status: 'failed' }, 'pane-memory': { status: 'missing' } });
    expect(json.quick).toBe(true);
  });
});
