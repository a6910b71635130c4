/**
 * `npm run bench`: runs every bench suite, one after the other (they measure CPU), each in its
 * own process with `--json` (and `--quick` when given), prints one table and writes
 * reports/bench.json. A suite that is missing or fails is reported as such in the table; the
 * others still run. The protocol a suite follows is in bench/protocol.ts.
 *
 *   npm run bench [-- --quick] [-- --only store-pipeline,predict-service]
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { type BenchReport, type BenchResult, formatValue, runNode } from './protocol.ts';

/** Every suite, in the order they run. */
export const SUITES = [
  'drift-eval',
  'drift-accuracy',
  'store-pipeline',
  'kafka-clients',
  'predict-service',
  'pane-memory',
  'detection-delay',
  'dashboard-load',
  'evidently-side-by-side',
] as const;

/** Result keys that form one object in bench.json, keyed by what follows the family name. */
const KEYED_FAMILIES = ['drift_eval_ms', 'drift_exact_ms'];

export interface SuiteOutcome {
  suite: string;
  status: 'ok' | 'missing' | 'failed';
  seconds: number;
  results: BenchResult[];
  /** Why it failed: the exit code and the end of its stderr. */
  error?: string;
}

/** The suite's report from its stdout: the last line that parses as a report object. */
export function parseReport(stdout: string): BenchReport | undefined {
  const lines = stdout.trim().split('\n').reverse();
  for (const line of lines) {
    try {
      const value = JSON.parse(line) as Partial<BenchReport>;
      if (typeof value.suite === 'string' && Array.isArray(value.results)) return value as BenchReport;
    } catch {
      // not the report line
    }
    break;
  }
  return undefined;
}

async function runSuite(suite: string, quick: boolean): Promise<SuiteOutcome> {
  const script = join('bench', `${suite}.ts`);
  if (!existsSync(script)) return { suite, status: 'missing', seconds: 0, results: [] };
  const started = performance.now();
  const args = ['--import', 'tsx', script, '--json', ...(quick ? ['--quick'] : [])];
  const { code, stdout, stderr } = await runNode(args, (chunk) => process.stderr.write(chunk));
  const seconds = (performance.now() - started) / 1000;
  const report = parseReport(stdout);
  if (code === 0 && report) return { suite, status: 'ok', seconds, results: report.results };
  const tail = stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 300);
  const why = code === 0 ? 'no JSON report on the last stdout line' : `exit code ${code}: ${tail}`;
  return { suite, status: 'failed', seconds, results: report?.results ?? [], error: why };
}

export function table(outcomes: readonly SuiteOutcome[]): string {
  const rows: string[][] = [['suite', 'key', 'value', 'unit', 'target', 'pass/fail']];
  for (const o of outcomes) {
    if (o.status !== 'ok') rows.push([o.suite, o.status, '', '', '', o.error ?? '']);
    for (const r of o.results) {
      const verdict = r.pass === undefined ? '' : r.pass ? 'pass' : 'FAIL';
      rows.push([o.suite, r.key, formatValue(r.value), r.unit, r.target ?? '', verdict]);
    }
  }
  const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(rows[0] as string[]), line(widths.map((w) => '-'.repeat(w))), ...rows.slice(1).map(line)].join('\n');
}

/** reports/bench.json: each result under its key, keyed families (drift_eval_ms) also as objects. */
export function benchJson(outcomes: readonly SuiteOutcome[], quick: boolean): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  const details: Record<string, BenchResult & { suite: string }> = {};
  for (const o of outcomes) {
    for (const r of o.results) {
      values[r.key] = r.value;
      details[r.key] = { ...r, suite: o.suite };
      const family = KEYED_FAMILIES.find((f) => r.key.startsWith(`${f}_`));
      if (family) {
        const byKey = (values[family] ?? {}) as Record<string, number>;
        byKey[r.key.slice(family.length + 1)] = r.value;
        values[family] = byKey;
      }
    }
  }
  const cpu = cpus();
  return {
    generatedAt: new Date().toISOString(),
    quick,
    machine: {
      cpus: cpu.length,
      cpuModel: cpu[0]?.model ?? 'unknown',
      memoryBytes: totalmem(),
      loadAverageAtEnd: loadavg(),
      node: process.version,
    },
    suites: Object.fromEntries(
      outcomes.map((o) => [o.suite, { status: o.status, seconds: o.seconds, ...(o.error ? { error: o.error } : {}) }]),
    ),
    ...values,
    results: details,
  };
}

async function main() {
  const argv = process.argv.slice(2);
  const quick = argv.includes('--quick');
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? (argv[onlyAt + 1] ?? '').split(',') : undefined;
  const outcomes: SuiteOutcome[] = [];
  for (const suite of SUITES) {
    if (only && !only.includes(suite)) continue;
    process.stderr.write(`bench: ${suite}${quick ? ' (quick)' : ''}…\n`);
    outcomes.push(await runSuite(suite, quick));
  }
  process.stdout.write(`${table(outcomes)}\n`);
  mkdirSync('reports', { recursive: true });
  writeFileSync(join('reports', 'bench.json'), `${JSON.stringify(benchJson(outcomes, quick), null, 2)}\n`);
  process.stdout.write(
    `written: reports/bench.json (load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')})\n`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exitCode = 1;
  });
}
