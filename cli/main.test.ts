import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = new URL('../bin/driftline.js', import.meta.url).pathname;

async function driftline(args: string[], env: Record<string, string>) {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('driftline command', () => {
  it('fails at start-up on a malformed KAFKA_BROKERS, naming it and the expected format', async () => {
    const result = await driftline(['demo'], { KAFKA_BROKERS: 'broker-without-port' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('KAFKA_BROKERS must be host:port[,host:port]');
    expect(result.stderr).toContain('"broker-without-port"');
    expect(result.stderr).toContain('DL_CONFIG_INVALID');
  });

  it('rejects an unknown command with usage', async () => {
    const result = await driftline(['frobnicate'], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown command "frobnicate"');
    expect(result.stderr).toContain('stack up|down|status');
  });

  it('rejects an unknown stack service', async () => {
    const result = await driftline(['stack', 'up', 'zookeeper'], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown service "zookeeper"');
  });
});

describe('command table', () => {
  it('loads, for every name, the command of that name', async () => {
    const { COMMANDS } = await import('./main.ts');
    for (const [name, load] of Object.entries(COMMANDS)) expect((await load()).name).toBe(name);
  });
});
