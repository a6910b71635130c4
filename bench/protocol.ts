/**
 * The protocol every bench script follows, so `npm run bench` (bench/run.ts) can run them all and
 * print one table: `--json` makes a script print, as the last line of stdout, one object
 * `{"suite", "results": [{key, value, unit, target?, pass?}]}`; `--quick` asks for smaller sizes.
 * Without `--json` a script prints its results as a Markdown table for a human.
 */

import { spawn } from 'node:child_process';

export interface BenchResult {
  /** A stable name: the key it gets in reports/bench.json. */
  key: string;
  value: number;
  unit: string;
  /** The target as written in the issue, e.g. "≥ 100000" or "< 20". */
  target?: string;
  pass?: boolean;
}

export interface BenchReport {
  suite: string;
  results: BenchResult[];
}

export interface BenchFlags {
  json: boolean;
  quick: boolean;
}

export function benchFlags(argv: readonly string[] = process.argv.slice(2)): BenchFlags {
  return { json: argv.includes('--json'), quick: argv.includes('--quick') };
}

/** The value of `--name <n>` (a positive integer), or `fallback`. */
export function numberArgument(
  name: string,
  fallback: number,
  argv: readonly string[] = process.argv.slice(2),
): number {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(argv[i + 1]);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
}

/** A result with a lower bound (`at least`) or upper bound (`below`) as target, judged here. */
export function atLeast(key: string, value: number, unit: string, min: number): BenchResult {
  return { key, value, unit, target: `≥ ${min}`, pass: value >= min };
}

export function below(key: string, value: number, unit: string, max: number): BenchResult {
  return { key, value, unit, target: `< ${max}`, pass: value < max };
}

export function atMost(key: string, value: number, unit: string, max: number): BenchResult {
  return { key, value, unit, target: `≤ ${max}`, pass: value <= max };
}

export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return Number(value.toPrecision(3)).toString();
}

export function markdownTable(report: BenchReport): string {
  const lines = ['| key | value | unit | target | pass |', '|---|---:|---|---|---|'];
  for (const r of report.results) {
    const pass = r.pass === undefined ? '' : r.pass ? 'pass' : 'FAIL';
    lines.push(`| ${r.key} | ${formatValue(r.value)} | ${r.unit} | ${r.target ?? ''} | ${pass} |`);
  }
  return `${lines.join('\n')}\n`;
}

/** Prints the report in the form asked for (the JSON object last on stdout with `--json`). */
export function emit(report: BenchReport, flags: BenchFlags): void {
  if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else process.stdout.write(`\n${report.suite}\n${markdownTable(report)}`);
}

/** Runs a bench's main; a failure exits non-zero with the message on stderr. */
export function runBench(main: () => Promise<void>): void {
  main().then(
    () => process.exit(process.exitCode ?? 0),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}

export interface ProcessOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node <args>` to its end, collecting its output; `onStderr` sees stderr as it comes. */
export function runNode(args: readonly string[], onStderr?: (chunk: Buffer) => void): Promise<ProcessOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      onStderr?.(chunk);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
