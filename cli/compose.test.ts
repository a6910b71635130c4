/**
 * docker-compose.yml checked without Docker (`docker compose config` is not available here): the
 * file is parsed as Compose reads it (YAML merge keys on) and every Driftline service is held to
 * the production shape — built from the repository's Dockerfile, running a command the CLI has,
 * setting only variables Driftline reads, and scalable where the issue says it must be.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../core/config.ts';
import { CONSUMERS } from './consume.ts';
import { COMMANDS } from './main.ts';
import { parseReplayArgs } from './replay.ts';
import { parseTrainArgs } from './train.ts';

const ROOT = join(import.meta.dirname, '..');

interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | number | { published?: string | number })[];
  container_name?: string;
  profiles?: string[];
  healthcheck?: { test?: string[] };
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const services = Object.entries(compose.services);
/** The services that run Driftline: the ones built from this repository. */
const driftline = services.filter(([, service]) => service.build !== undefined);
/** Components the issue says scale by running more of them: the predict service and every consumer. */
const scalable = driftline.filter(([, service]) => ['serve', 'consume'].includes(argv(service)[0] ?? ''));

function argv(service: ComposeService): string[] {
  const { command } = service;
  if (command === undefined) return [];
  return Array.isArray(command) ? command : command.split(/\s+/).filter((word) => word !== '');
}

function environmentNames(service: ComposeService): string[] {
  const env = service.environment ?? {};
  return Array.isArray(env) ? env.map((entry) => entry.split('=')[0] as string) : Object.keys(env);
}

/** The variables parseConfig looks up: it is run on an environment that records every read. */
function variablesConfigReads(): Set<string> {
  const read = new Set<string>();
  const env = new Proxy({} as Record<string, string | undefined>, {
    get(_target, name) {
      if (typeof name === 'string') read.add(name);
      return undefined;
    },
  });
  parseConfig(env, ROOT);
  return read;
}

/** A host port given in a ports entry ("8080:8080", "${X:-8080}:8080", {published}); none for "8000". */
function fixedHostPort(entry: string | number | { published?: string | number }): string | undefined {
  if (typeof entry === 'object') return entry.published === undefined ? undefined : String(entry.published);
  const text = String(entry).replace(/\/(tcp|udp)$/, '');
  const colon = text.lastIndexOf(':');
  if (colon < 0) return undefined;
  const host = text.slice(0, colon);
  const published = host.includes(':') && !host.startsWith('$') ? host.slice(host.lastIndexOf(':') + 1) : host;
  return published === '' ? undefined : published;
}

describe('docker-compose.yml', () => {
  it('runs every component as its own service: predict, each consumer, the dashboard', () => {
    const commands = driftline.map(([, service]) => argv(service).slice(0, 2).join(' '));
    expect(commands).toEqual(
      expect.arrayContaining(['serve --host', ...CONSUMERS.map((name) => `consume ${name}`), 'dashboard --host']),
    );
    // One consumer per service, so each scales on its own.
    for (const [name, service] of driftline.filter(([, s]) => argv(s)[0] === 'consume'))
      expect(argv(service), name).toHaveLength(2);
    expect(compose.services.kafka?.image).toMatch(/^apache\/kafka:4\.1\./);
    expect(compose.services.registry?.image).toMatch(/^apicurio\/apicurio-registry:3\.3\./);
    expect(compose.services.clickhouse?.image).toMatch(/^clickhouse\/clickhouse-server:/);
  });

  it('builds every Driftline service from the one Dockerfile, which runs bin/driftline.js on node 20', () => {
    expect(driftline.length).toBeGreaterThanOrEqual(7);
    const images = new Set<string | undefined>();
    for (const [name, service] of driftline) {
      const build = typeof service.build === 'string' ? { context: service.build } : (service.build ?? {});
      expect(build.context, name).toBe('.');
      expect(build.dockerfile ?? 'Dockerfile', name).toBe('Dockerfile');
      images.add(service.image);
    }
    expect(images.size).toBe(1);
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20\b/m);
    expect(dockerfile).toMatch(/^RUN \(?npm ci\b/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "bin\/driftline\.js"\]/m);
    expect(existsSync(join(ROOT, 'bin/driftline.js'))).toBe(true);
    // The image installs its own modules and carries no local state.
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', '.driftline', '.git']));
  });

  it('runs only commands the CLI has, with arguments they accept', async () => {
    const config = parseConfig({}, ROOT);
    /** Commands whose argument parser is exported are checked with it; the others against their usage line. */
    const parsers: Record<string, (args: string[]) => unknown> = {
      consume: (args) => {
        for (const consumer of args) expect(CONSUMERS).toContain(consumer);
      },
      replay: (args) => parseReplayArgs(args, config),
      train: (args) => parseTrainArgs(args),
    };
    for (const [name, service] of driftline) {
      const [command, ...args] = argv(service);
      expect(command, name).toBeDefined();
      expect(Object.hasOwn(COMMANDS, command as string), `${name}: driftline ${command}`).toBe(true);
      const parser = parsers[command as string];
      if (parser) {
        expect(() => parser(args), `${name}: driftline ${argv(service).join(' ')}`).not.toThrow();
        continue;
      }
      const loaded = await (COMMANDS[command as string] as () => Promise<{ usage: string }>)();
      for (const option of args.filter((arg) => arg.startsWith('--')))
        expect(loaded.usage, `${name}: driftline ${command} ${option}`).toContain(`[${option.split('=')[0]}`);
    }
    // The parsers refuse what the CLI refuses, so a typo in the file would fail here.
    expect(() => parsers.consume?.(['stores'])).toThrow();
    expect(() => parsers.replay?.(['--urll', 'http://predict:8000'])).toThrow();
  });

  it('sets only variables Driftline reads (core/config.ts) or the README documents', () => {
    const read = variablesConfigReads();
    // The proxy sees real reads: a sample from each part of the configuration.
    for (const known of ['KAFKA_BROKERS', 'CLICKHOUSE_URL', 'METRICS_PORT', 'RETRAIN_MODE', 'SLACK_BOT_TOKEN'])
      expect(read).toContain(known);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const [name, service] of driftline) {
      for (const variable of environmentNames(service)) {
        expect(read.has(variable) || readme.includes(`\`${variable}\``), `${name}: ${variable}`).toBe(true);
      }
    }
  });

  it('lets `--scale` add replicas of the predict service and of every consumer', () => {
    expect(scalable.map(([name]) => name).sort()).toEqual(['alert', 'drift', 'predict', 'retrain', 'store']);
    for (const [name, service] of scalable) {
      expect(service.container_name, name).toBeUndefined();
      for (const port of service.ports ?? []) expect(fixedHostPort(port), `${name}: ${String(port)}`).toBeUndefined();
    }
    // Consumers serve /healthz and /metrics inside their containers.
    for (const [name, service] of scalable.filter(([, s]) => argv(s)[0] === 'consume')) {
      expect(environmentNames(service), name).toContain('METRICS_PORT');
    }
  });

  it('gives every long-running Driftline service a health check on its own /healthz', () => {
    const longRunning = driftline.filter(([, s]) => ['serve', 'consume', 'dashboard'].includes(argv(s)[0] ?? ''));
    expect(longRunning.map(([name]) => name).sort()).toEqual([
      'alert',
      'dashboard',
      'drift',
      'predict',
      'retrain',
      'store',
    ]);
    for (const [name, service] of longRunning) {
      const test = service.healthcheck?.test ?? [];
      expect(test.join(' '), name).toMatch(/http:\/\/127\.0\.0\.1:\d+\/healthz/);
    }
  });

  it('tells a fixed host port from a container port (the helper the scale check relies on)', () => {
    expect(fixedHostPort('8000')).toBeUndefined();
    expect(fixedHostPort(8000)).toBeUndefined();
    expect(fixedHostPort('8080:8080')).toBe('8080');
    expect(fixedHostPort('127.0.0.1:8080:8080')).toBe('8080');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose interpolation, not a JS template
    const interpolated = '${DASHBOARD_PORT:-8080}';
    expect(fixedHostPort(`${interpolated}:8080`)).toBe(interpolated);
    expect(fixedHostPort({ published: 9000 })).toBe('9000');
  });
});
