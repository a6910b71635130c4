/**
 * Typed configuration, parsed once from the environment and frozen. Nothing else in Driftline
 * reads `process.env`. A bad value fails fast with every problem listed and the expected
 * format shown. README's "Configuration" table lists the same variables.
 */
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { DriftlineError, ErrorCode } from './errors.ts';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type ServicesMode = 'auto' | 'containers' | 'local';

export interface StackPorts {
  kafka: number;
  kafkaController: number;
  registry: number;
  registryManagement: number;
  clickhouseHttp: number;
  clickhouseTcp: number;
}

export interface Config {
  /** Broker addresses; undefined when not given (the service resolver then provides them). */
  kafkaBrokers: readonly string[] | undefined;
  kafkaClientId: string;
  kafkaTopicPartitions: number;
  kafkaConnectTimeoutMs: number;
  schemaRegistryUrl: string | undefined;
  schemaRegistryUsername: string | undefined;
  schemaRegistryPassword: string | undefined;
  /** ClickHouse server HTTP URL; undefined means embedded chDB. */
  clickhouseUrl: string | undefined;
  clickhouseUser: string;
  clickhousePassword: string;
  clickhouseDatabase: string;
  /** Data directory of embedded chDB. */
  chdbPath: string;
  logLevel: LogLevel;
  /** Where state lives: stack data, logs, pid files, chDB data. */
  home: string;
  /** Where downloads (Kafka jars, Apicurio) are cached across runs. */
  cacheDir: string;
  servicesMode: ServicesMode;
  stackPorts: StackPorts;
  /** Predict service: listen address, body limit, and the URL clients (replay) use. */
  predictHost: string;
  predictPort: number;
  predictBodyLimitBytes: number;
  predictUrl: string;
  /** Store consumer: batch bounds (rows, milliseconds) and event-time panes. */
  storeBatchRows: number;
  storeBatchMs: number;
  paneSeconds: number;
  allowedLatenessSeconds: number;
  /** Store consumer: close an idle partition's open panes after this long without events. */
  paneIdleSeconds: number;
}

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const SERVICES_MODES: readonly ServicesMode[] = ['auto', 'containers', 'local'];
const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:]+\]:\d{1,5}$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses the environment; throws a CONFIG_INVALID error listing every problem. */
export function parseConfig(env: Env = process.env, cwd: string = process.cwd()): Readonly<Config> {
  const problems: string[] = [];
  const reader = new EnvReader(env, problems);

  const home = resolve(cwd, reader.string('DRIFTLINE_HOME') ?? '.driftline');
  const cacheDir = resolve(
    cwd,
    reader.string('DRIFTLINE_CACHE_DIR') ?? resolve(env.XDG_CACHE_HOME ?? resolve(homedir(), '.cache'), 'driftline'),
  );

  const config: Config = {
    kafkaBrokers: reader.brokers('KAFKA_BROKERS'),
    kafkaClientId: reader.string('KAFKA_CLIENT_ID') ?? 'driftline',
    kafkaTopicPartitions: reader.integer('KAFKA_TOPIC_PARTITIONS', 3, 1, 1000),
    kafkaConnectTimeoutMs: reader.integer('KAFKA_CONNECT_TIMEOUT_MS', 10_000, 100, 600_000),
    schemaRegistryUrl: reader.url('SCHEMA_REGISTRY_URL'),
    schemaRegistryUsername: reader.string('SCHEMA_REGISTRY_USERNAME'),
    schemaRegistryPassword: reader.string('SCHEMA_REGISTRY_PASSWORD'),
    clickhouseUrl: reader.url('CLICKHOUSE_URL'),
    clickhouseUser: reader.string('CLICKHOUSE_USER') ?? 'default',
    clickhousePassword: reader.string('CLICKHOUSE_PASSWORD') ?? '',
    clickhouseDatabase: reader.identifier('CLICKHOUSE_DATABASE') ?? 'driftline',
    chdbPath: resolve(cwd, reader.string('CHDB_PATH') ?? resolve(home, 'chdb')),
    logLevel: reader.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    home,
    cacheDir,
    servicesMode: reader.oneOf('DRIFTLINE_SERVICES', SERVICES_MODES, 'auto'),
    stackPorts: {
      kafka: reader.port('STACK_KAFKA_PORT', 9092),
      kafkaController: reader.port('STACK_KAFKA_CONTROLLER_PORT', 9093),
      registry: reader.port('STACK_REGISTRY_PORT', 8081),
      registryManagement: reader.port('STACK_REGISTRY_MANAGEMENT_PORT', 9081),
      clickhouseHttp: reader.port('STACK_CLICKHOUSE_HTTP_PORT', 8123),
      clickhouseTcp: reader.port('STACK_CLICKHOUSE_TCP_PORT', 9000),
    },
    predictHost: reader.string('PREDICT_HOST') ?? '127.0.0.1',
    predictPort: reader.port('PREDICT_PORT', 8000),
    predictBodyLimitBytes: reader.integer('PREDICT_BODY_LIMIT_BYTES', 1_048_576, 1_024, 1_073_741_824),
    predictUrl: '',
    storeBatchRows: reader.integer('STORE_BATCH_ROWS', 5_000, 1, 1_000_000),
    storeBatchMs: reader.integer('STORE_BATCH_MS', 1_000, 10, 600_000),
    paneSeconds: reader.integer('PANE_SECONDS', 60, 1, 86_400),
    allowedLatenessSeconds: reader.integer('ALLOWED_LATENESS_SECONDS', 10, 0, 86_400),
    paneIdleSeconds: reader.integer('PANE_IDLE_SECONDS', 60, 1, 86_400),
  };

  const predictPort = config.predictPort;
  config.predictUrl = reader.url('PREDICT_URL') ?? `http://${hostForUrl(config.predictHost)}:${predictPort}`;

  const ports = Object.entries(config.stackPorts);
  const seen = new Map<number, string>();
  for (const [name, port] of ports) {
    const other = seen.get(port);
    if (other !== undefined) problems.push(`stack ports ${other} and ${name} are both ${port}; each needs its own`);
    seen.set(port, name);
  }

  if (problems.length > 0) {
    throw new DriftlineError(
      ErrorCode.CONFIG_INVALID,
      `Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      { details: { problems } },
    );
  }
  Object.freeze(config.stackPorts);
  if (config.kafkaBrokers) Object.freeze(config.kafkaBrokers);
  return Object.freeze(config);
}

/** Reads one variable at a time, recording problems instead of throwing at the first. */
class EnvReader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  string(name: string): string | undefined {
    const raw = this.env[name];
    if (raw === undefined) return undefined;
    const value = raw.trim();
    return value === '' ? undefined : value;
  }

  brokers(name: string): string[] | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    const brokers = value.split(',').map((b) => b.trim());
    const bad = brokers.filter((b) => !HOST_PORT.test(b) || !validPort(Number(b.slice(b.lastIndexOf(':') + 1))));
    if (bad.length > 0 || brokers.length === 0) {
      this.problems.push(
        `${name} must be host:port[,host:port] (for example 127.0.0.1:9092); got ${JSON.stringify(value)}`,
      );
      return undefined;
    }
    return brokers;
  }

  url(name: string): string | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    try {
      const url = new URL(value);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
      return value.replace(/\/+$/, '');
    } catch {
      this.problems.push(
        `${name} must be an http(s) URL (for example http://127.0.0.1:8123); got ${JSON.stringify(value)}`,
      );
      return undefined;
    }
  }

  identifier(name: string): string | undefined {
    const value = this.string(name);
    if (value === undefined || IDENTIFIER.test(value)) return value;
    this.problems.push(
      `${name} must be letters, digits and underscores, not starting with a digit; got ${JSON.stringify(value)}`,
    );
    return undefined;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.string(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max}; got ${JSON.stringify(value)}`);
      return fallback;
    }
    return n;
  }

  port(name: string, fallback: number): number {
    return this.integer(name, fallback, 1, 65535);
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.string(name);
    if (value === undefined) return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.problems.push(`${name} must be one of ${allowed.join(', ')}; got ${JSON.stringify(value)}`);
    return fallback;
  }
}

/** 0.0.0.0 / :: listen everywhere; clients on this machine reach them on loopback. */
function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}
