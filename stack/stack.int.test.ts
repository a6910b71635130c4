/**
 * The stack's lifecycle against a real ClickHouse (the quickest of the three to start), in
 * homes and on ports of its own so that it never touches the stack the global setup runs.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Config, parseConfig } from '../core/config.ts';
import { ErrorCode } from '../core/errors.ts';
import { clickhouseHealthy } from './health.ts';
import { stackDown, stackStatus, stackUp } from './index.ts';
import { pidFile, stackLayout } from './layout.ts';

const logger = pino({ level: 'silent' });
const CLICKHOUSE = { services: ['clickhouse'] } as const;

function listen(port = 0): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function portOf(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('not a TCP server');
  return address.port;
}

/** Six distinct ports the OS just had free. */
async function freePorts(): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: 6 }, () => listen()));
  const ports = servers.map(portOf);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

function configFor(home: string, ports: readonly number[], overrides: Record<string, string> = {}): Readonly<Config> {
  const [kafka, controller, registry, management, http, tcp] = ports.map(String);
  return parseConfig(
    {
      DRIFTLINE_HOME: home,
      DRIFTLINE_CACHE_DIR: join(home, 'cache'),
      STACK_KAFKA_PORT: kafka,
      STACK_KAFKA_CONTROLLER_PORT: controller,
      STACK_REGISTRY_PORT: registry,
      STACK_REGISTRY_MANAGEMENT_PORT: management,
      STACK_CLICKHOUSE_HTTP_PORT: http,
      STACK_CLICKHOUSE_TCP_PORT: tcp,
      ...overrides,
    },
    home,
  );
}

describe('local stack lifecycle (ClickHouse)', () => {
  let root: string;
  let ports: number[];
  let ours: Readonly<Config>;
  let other: Readonly<Config>;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'driftline-stack-'));
    ports = await freePorts();
    ours = configFor(join(root, 'ours'), ports);
    // Another home on the same ports: to it, our ClickHouse is someone else's.
    other = configFor(join(root, 'other'), ports);
  });

  afterAll(async () => {
    await stackDown(ours, logger).catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  });

  it('starts ClickHouse once; a second stackUp is harmless and starts nothing', async () => {
    const first = await stackUp(ours, logger, CLICKHOUSE);
    expect(first.started).toEqual(['clickhouse']);
    expect(first.statuses).toEqual([
      expect.objectContaining({ name: 'clickhouse', state: 'running', endpoint: `http://127.0.0.1:${ports[4]}` }),
    ]);
    const pid = first.statuses[0]?.pid;
    expect(pid).toBeGreaterThan(1);

    const second = await stackUp(ours, logger, CLICKHOUSE);
    expect(second.started).toEqual([]);
    expect(second.endpoints).toEqual(first.endpoints);
    expect(second.statuses[0]).toEqual(expect.objectContaining({ state: 'running', pid }));
    expect(await clickhouseHealthy(ours.stackPorts.clickhouseHttp)).toBe(true);
  });

  it('uses a service another home started as external, and its stackDown leaves it running', async () => {
    const result = await stackUp(other, logger, CLICKHOUSE);
    expect(result.started).toEqual([]);
    expect(result.statuses[0]).toEqual(expect.objectContaining({ state: 'external', pid: undefined }));

    expect(await stackDown(other, logger)).toEqual([]);
    expect(await clickhouseHealthy(ours.stackPorts.clickhouseHttp)).toBe(true);
    const status = (await stackStatus(other)).find((s) => s.name === 'clickhouse');
    expect(status?.state).toBe('external');
  });

  it('cleans stale pid files: process gone, or pid reused by something else', async () => {
    const stale = pidFile(stackLayout(other), 'clickhouse');
    await mkdir(dirname(stale), { recursive: true });
    // A pid far above any in use here, then this test runner's own pid (alive, but no ClickHouse).
    for (const pid of [4_194_000, process.pid]) {
      await writeFile(stale, `${pid}\n`);
      const status = (await stackStatus(other)).find((s) => s.name === 'clickhouse');
      expect(status).toEqual(expect.objectContaining({ state: 'external', pid: undefined }));
      expect(existsSync(stale)).toBe(false);
    }
  });

  it('stackDown stops what it started and removes its pid file', async () => {
    expect(await stackDown(ours, logger)).toEqual(['clickhouse']);
    expect(await clickhouseHealthy(ours.stackPorts.clickhouseHttp)).toBe(false);
    expect(existsSync(pidFile(stackLayout(ours), 'clickhouse'))).toBe(false);
    expect(await stackDown(ours, logger)).toEqual([]);
    const status = (await stackStatus(ours)).find((s) => s.name === 'clickhouse');
    expect(status?.state).toBe('stopped');
  });

  it('two stackUp at once in one home start the service once; the other finds it running', async () => {
    const config = configFor(join(root, 'concurrent'), await freePorts());
    try {
      const results = await Promise.all([stackUp(config, logger, CLICKHOUSE), stackUp(config, logger, CLICKHOUSE)]);
      expect(results.map((r) => r.started).sort()).toEqual([[], ['clickhouse']]);
      expect(results.map((r) => r.statuses[0]?.state)).toEqual(['running', 'running']);
    } finally {
      await stackDown(config, logger);
    }
  });

  it('fails fast, naming the port and its variable, when a plain server holds a port', async () => {
    const squatter = await listen();
    try {
      const port = portOf(squatter);
      const config = configFor(join(root, 'squatted'), [...ports.slice(0, 4), port, ports[5] as number]);
      const began = Date.now();
      const error = await stackUp(config, logger, CLICKHOUSE).catch((e: unknown) => e);
      expect(error).toEqual(expect.objectContaining({ code: ErrorCode.STACK_PREREQUISITE_MISSING }));
      expect((error as Error).message).toContain(String(port));
      expect((error as Error).message).toContain('STACK_CLICKHOUSE_HTTP_PORT');
      expect((error as Error).message).toContain('clickhouse');
      expect(Date.now() - began).toBeLessThan(10_000);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });
});
