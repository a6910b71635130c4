/**
 * Ctrl-C during `driftline demo`, as a user sends it: the demo runs as its own process (bin/driftline.js,
 * output piped, so plain lines) on the real services, gets SIGINT once its replay is under way, and
 * stops every component cleanly: it exits 130, says what it closed, and prints no stack trace.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../core/config.ts';
import { ModelRegistry } from '../model/registry.ts';
import { trainModel } from '../model/train.ts';

const services = inject('services');
const ROOT = join(import.meta.dirname, '..');

/** Resolves with the output so far once `pattern` appears in it; rejects if the process exits first. */
function waitForOutput(child: ChildProcess, output: () => string, pattern: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    const look = () => {
      if (pattern.test(output())) {
        child.stdout?.off('data', look);
        resolve();
      }
    };
    child.stdout?.on('data', look);
    child.once('exit', (code) => reject(new Error(`demo exited (${code}) before ${pattern}:\n${output()}`)));
    look();
  });
}

describe('driftline demo, Ctrl-C', () => {
  let home: string | undefined;
  let child: ChildProcess | undefined;
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('stops mid-replay: predict service closed, each consumer flushed and committed, exit 130, no stack trace', async () => {
    home = await mkdtemp(join(tmpdir(), 'dl-demo-sigint-'));
    // A small champion, so the demo does not spend its first seconds training one.
    const registry = ModelRegistry.fromConfig(parseConfig({ DRIFTLINE_HOME: home }, home));
    const model = await trainModel({ maxRows: 400, epochs: 1, seed: 3 });
    await registry.saveVersion(model, { promote: true });
    model.predictor.dispose();

    child = spawn(process.execPath, ['bin/driftline.js', 'demo', '--rate', '500'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        KAFKA_BROKERS: services.kafkaBrokers.join(','),
        SCHEMA_REGISTRY_URL: services.schemaRegistryUrl,
        DRIFTLINE_HOME: home,
        DRIFT_REPORTS_DIR: join(home, 'reports'),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));

    // Once the replay has sent something, every component runs and has work under way.
    await waitForOutput(child, () => stdout, /replay: [1-9]\d*\/12000 sent/);
    child.kill('SIGINT');
    const code = await exited;

    const output = `${stdout}\n--- stderr ---\n${stderr}`;
    expect(code, output).toBe(130);
    expect(stdout).toContain('Ctrl-C: stopping…');
    const shutdown = stdout.slice(stdout.indexOf('stopping: predict service first'));
    // In order: no more requests, then each consumer flushes and commits, the store last.
    const steps = [
      'predict service closed',
      'retrain consumer stopped',
      'alert consumer stopped, its offsets committed',
      'drift consumer stopped, its offsets committed',
      'store consumer stopped: what it consumed is stored, its offsets committed',
      'stopped cleanly',
    ].map((line) => shutdown.indexOf(line));
    expect(steps[0], output).toBeGreaterThan(0);
    // The retrain consumer had not joined yet (it joins after the first replay): not in the list.
    expect(steps[1], output).toBe(-1);
    const started = steps.filter((at) => at !== -1);
    expect(started, output).toEqual([...started].sort((a, b) => a - b));
    expect(started, output).toHaveLength(5);
    expect(stdout).not.toContain('7/7 summary');
    expect(stdout).not.toContain('closing failed');
    expect(stderr, output).not.toMatch(/\n\s+at /);
  }, 180_000);
});
