/**
 * Typed configuration, parsed once from the environment and frozen. Nothing else in Driftline
 * reads `process.env`. A bad value fails fast with every problem listed and the expected
 * format shown. README's "Configuration" table lists the same variables.
 */

import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { type ColumnDriftOverride, DRIFT_DEFAULTS, DriftMethod, overrideProblems } from './drift/evaluate.ts';
import { DriftlineError, ErrorCode } from './errors.ts';
import { IDENTIFIER_PATTERN } from './storage/sql.ts';

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
  /** JDK the local stack runs Kafka and the registry with; undefined: found automatically. */
  stackJavaHome: string | undefined;
  /** Predict service: listen address, body limit, and the URL clients (replay) use. */
  predictHost: string;
  predictPort: number;
  predictBodyLimitBytes: number;
  predictUrl: string;
  /**
   * `driftline consume`: port of the /healthz and /metrics server (one per process, for every
   * consumer it runs); undefined (METRICS_PORT unset): no server.
   */
  metricsPort: number | undefined;
  /** Address the consumers' metrics server listens on. */
  metricsHost: string;
  /** `driftline dashboard`: port (DASHBOARD_PORT, default 8080). */
  dashboardPort: number;
  /** Token the dashboard requires for the page, the API and the actions; undefined: none (loopback only). */
  dashboardToken: string | undefined;
  /** Store consumer: batch bounds (rows, milliseconds) and event-time panes. */
  storeBatchRows: number;
  storeBatchMs: number;
  paneSeconds: number;
  allowedLatenessSeconds: number;
  /** Store consumer: close an idle partition's open panes after this long without events. */
  paneIdleSeconds: number;
  /**
   * Event-time bounds every prediction and ground-truth event must meet (predict service: 400;
   * store: dead letter), relative to the time it was produced: at most this old…
   */
  maxEventAgeDays: number;
  /** …and at most this far ahead (a producer's clock may run a little fast). */
  maxClockSkewSeconds: number;
  /** Drift consumer: sliding window length in panes (the window slides by one pane). */
  driftWindowPanes: number;
  /**
   * Drift consumer: evaluate a pane once some source partition of the model is this many panes
   * past it, even if other partitions lag (0: wait for every partition or the wall-clock grace).
   */
  driftGracePanes: number;
  /** Drift consumer: evaluate a pane this long (wall clock) after its first sketch arrived (0: never). */
  driftGraceMs: number;
  /** Drift consumer: `retrain_recommended` once drift persists for this many evaluations in a row. */
  driftRetrainAfter: number;
  /** Drift consumer: the dataset drifts when at least this share of the evaluated columns drifted. */
  driftShare: number;
  /** Drift consumer: fewer current values than this make a column "insufficient_data". */
  driftMinSample: number;
  /** Drift consumer: per-column method/threshold overrides (DRIFT_METHODS, DRIFT_THRESHOLDS). */
  driftColumnOverrides: Readonly<Record<string, Readonly<ColumnDriftOverride>>>;
  /** Drift consumer: realized RMSE above holdout RMSE × this is "degraded". */
  driftPerformanceTolerance: number;
  /** Drift consumer: fewer labelled predictions in the window than this is "insufficient_labels". */
  driftMinLabels: number;
  /** Where HTML drift reports are written. */
  reportsDir: string;
  /** Alert channels; each is on when its variables are set (`alerting` is frozen, secrets never logged). */
  alerting: AlertingConfig;
  /** The retrain consumer and `driftline retrain` (RETRAIN_*, AIRFLOW_*); frozen, secrets never logged. */
  retrain: RetrainConfig;
}

/** How a retraining cycle runs: in this process (TF.js) or as an Airflow DAG run. */
export type RetrainMode = 'inprocess' | 'airflow';

/** The retraining cycle's guardrails, training set and promotion rule, and the Airflow trigger. */
export interface RetrainConfig {
  mode: RetrainMode;
  /** After a cycle that trained (or started a DAG run), triggers from drift events are refused this long. */
  cooldownSeconds: number;
  /** Labelled predictions (joined with ground truth) needed in the window to train. */
  minLabels: number;
  /** The recent labelled events trained on: the last this many hours (event time). */
  windowHours: number;
  /** Share of the training set drawn from the original training data, in [0, 1). */
  baseShare: number;
  /** The challenger is promoted only when its RMSE is below the champion's by this fraction. */
  minImprovement: number;
  /** Epochs of each challenger's training. */
  epochs: number;
  /** `RETRAIN_MODE=airflow`: the DAG to start; undefined otherwise. */
  airflow: AirflowConfig | undefined;
}

export interface AirflowConfig {
  /** Base URL of the Airflow webserver / API server, e.g. http://airflow:8080. */
  url: string;
  dagId: string;
  /** 1: Airflow 2 (`/api/v1`, basic auth); 2: Airflow 3 (`/api/v2`, bearer token). */
  apiVersion: 1 | 2;
  username: string | undefined;
  /** Secret: never logged nor echoed. */
  password: string | undefined;
  /** Secret: never logged nor echoed. */
  token: string | undefined;
  /** Attempts after the first on a network error, 5xx or 429, with doubling backoff. */
  retries: number;
}

/** The alert consumer's channels and timing (ALERT_*, SLACK_*, SMTP_URL, DASHBOARD_URL). */
export interface AlertingConfig {
  /** Slack Web API (`chat.postMessage`, threads): bot token, channel, API base URL. */
  slack: { botToken: string; channel: string; apiUrl: string } | undefined;
  /** Slack incoming webhook (no threads). The URL is a secret. */
  slackWebhookUrl: string | undefined;
  /** Email over SMTP: `smtp://` or `smtps://` URL (credentials inside are secret), sender, recipients. */
  email: { smtpUrl: string; from: string; to: readonly string[] } | undefined;
  /** JSON webhook signed with HMAC-SHA256 of the body under `secret` (X-Driftline-Signature). */
  webhook: { url: string; secret: string } | undefined;
  /** Linked from every alert when set. */
  dashboardUrl: string | undefined;
  /** While an alert stays open and nothing changes, at most one update per this many seconds. */
  updateIntervalSeconds: number;
  /** A delivery still failing (network, 5xx, 429) this long after its first attempt is recorded as failed. */
  retryBudgetSeconds: number;
}

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const SERVICES_MODES: readonly ServicesMode[] = ['auto', 'containers', 'local'];
const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:]+\]:\d{1,5}$/;
const DECIMAL = /^\d+(\.\d+)?$/;

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
    stackJavaHome: reader.string('STACK_JAVA_HOME'),
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
    metricsPort: reader.string('METRICS_PORT') === undefined ? undefined : reader.port('METRICS_PORT', 0),
    metricsHost: reader.string('METRICS_HOST') ?? '127.0.0.1',
    dashboardPort: reader.port('DASHBOARD_PORT', 8080),
    dashboardToken: reader.string('DASHBOARD_TOKEN'),
    // Every insert makes a part: ClickHouse 18.16 spends ~6.6 µs of CPU a row in 5,000-row
    // inserts and ~4 µs in 20,000-row ones (bench/store-pipeline.ts); STORE_BATCH_MS bounds the wait.
    storeBatchRows: reader.integer('STORE_BATCH_ROWS', 40_000, 1, 1_000_000),
    storeBatchMs: reader.integer('STORE_BATCH_MS', 1_000, 10, 600_000),
    paneSeconds: reader.integer('PANE_SECONDS', 60, 1, 86_400),
    allowedLatenessSeconds: reader.integer('ALLOWED_LATENESS_SECONDS', 10, 0, 86_400),
    paneIdleSeconds: reader.integer('PANE_IDLE_SECONDS', 60, 1, 86_400),
    maxEventAgeDays: reader.integer('MAX_EVENT_AGE_DAYS', 30, 1, 36_500),
    maxClockSkewSeconds: reader.integer('MAX_CLOCK_SKEW_SECONDS', 300, 0, 86_400),
    driftWindowPanes: reader.integer('DRIFT_WINDOW_PANES', 5, 1, 1_000),
    driftGracePanes: reader.integer('DRIFT_GRACE_PANES', 2, 0, 1_000),
    driftGraceMs: reader.integer('DRIFT_GRACE_MS', 60_000, 0, 86_400_000),
    driftRetrainAfter: reader.integer('DRIFT_RETRAIN_AFTER', 3, 1, 10_000),
    driftShare: reader.fraction('DRIFT_SHARE', DRIFT_DEFAULTS.driftShare),
    driftMinSample: reader.integer('DRIFT_MIN_SAMPLE', DRIFT_DEFAULTS.minSample, 1, 1_000_000_000),
    driftColumnOverrides: reader.columnOverrides('DRIFT_METHODS', 'DRIFT_THRESHOLDS'),
    driftPerformanceTolerance: reader.decimal('DRIFT_PERFORMANCE_TOLERANCE', 1.2, 1, 1_000),
    driftMinLabels: reader.integer('DRIFT_MIN_LABELS', 100, 1, 1_000_000_000),
    reportsDir: resolve(cwd, reader.string('DRIFT_REPORTS_DIR') ?? 'reports'),
    alerting: alertingConfig(reader),
    retrain: retrainConfig(reader),
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
  for (const part of [config.alerting.slack, config.alerting.email, config.alerting.webhook])
    if (part) Object.freeze(part);
  if (config.alerting.email) Object.freeze(config.alerting.email.to);
  Object.freeze(config.alerting);
  if (config.retrain.airflow) Object.freeze(config.retrain.airflow);
  Object.freeze(config.retrain);
  if (config.kafkaBrokers) Object.freeze(config.kafkaBrokers);
  return Object.freeze(config);
}

const EMAIL = /^[^\s@<>,]+@[^\s@<>,]+$/;

/**
 * The alert channels. Secrets (the bot token, the Slack webhook URL, the SMTP URL with its
 * password, the webhook secret) are never echoed in a problem: only what is wrong with them.
 */
function alertingConfig(reader: EnvReader): AlertingConfig {
  const botToken = reader.string('SLACK_BOT_TOKEN');
  const channel = reader.string('SLACK_CHANNEL');
  const apiUrl = reader.url('SLACK_API_URL') ?? 'https://slack.com/api';
  if (botToken !== undefined && channel === undefined)
    reader.problem('SLACK_CHANNEL must be set with SLACK_BOT_TOKEN (a channel id such as C0123456789, or #name)');
  if (channel !== undefined && botToken === undefined)
    reader.problem('SLACK_BOT_TOKEN must be set with SLACK_CHANNEL (a bot token, xoxb-…)');
  if (botToken !== undefined && /\s/.test(botToken))
    reader.problem('SLACK_BOT_TOKEN must be one token without spaces (xoxb-…); the value is not shown');

  const slackWebhookUrl = reader.secretUrl(
    'SLACK_WEBHOOK_URL',
    ['http:', 'https:'],
    'https://hooks.slack.com/services/…',
  );

  const smtpUrl = reader.secretUrl('SMTP_URL', ['smtp:', 'smtps:'], 'smtps://user:password@smtp.example.com:465');
  const from = reader.string('ALERT_EMAIL_FROM');
  const toRaw = reader.string('ALERT_EMAIL_TO');
  const to = toRaw?.split(',').map((a) => a.trim()) ?? [];
  if (from !== undefined && !EMAIL.test(from))
    reader.problem(
      `ALERT_EMAIL_FROM must be one address (for example driftline@example.com); got ${JSON.stringify(from)}`,
    );
  if (toRaw !== undefined && (to.length === 0 || to.some((a) => !EMAIL.test(a))))
    reader.problem(
      `ALERT_EMAIL_TO must be address[,address] (for example ml-team@example.com,oncall@example.com); got ${JSON.stringify(toRaw)}`,
    );
  const emailSet = [reader.string('SMTP_URL'), from, toRaw].filter((v) => v !== undefined).length;
  if (emailSet > 0 && emailSet < 3)
    reader.problem('SMTP_URL, ALERT_EMAIL_FROM and ALERT_EMAIL_TO must be set together for email alerts');

  const webhookUrl = reader.url('ALERT_WEBHOOK_URL');
  const secret = reader.string('ALERT_WEBHOOK_SECRET');
  if (reader.string('ALERT_WEBHOOK_URL') !== undefined && secret === undefined)
    reader.problem(
      'ALERT_WEBHOOK_SECRET must be set with ALERT_WEBHOOK_URL (the key the X-Driftline-Signature HMAC is made with)',
    );
  if (secret !== undefined && reader.string('ALERT_WEBHOOK_URL') === undefined)
    reader.problem('ALERT_WEBHOOK_URL must be set with ALERT_WEBHOOK_SECRET');

  return {
    slack: botToken !== undefined && channel !== undefined ? { botToken, channel, apiUrl } : undefined,
    slackWebhookUrl,
    email: smtpUrl !== undefined && from !== undefined && toRaw !== undefined ? { smtpUrl, from, to } : undefined,
    webhook: webhookUrl !== undefined && secret !== undefined ? { url: webhookUrl, secret } : undefined,
    dashboardUrl: reader.url('DASHBOARD_URL'),
    updateIntervalSeconds: reader.integer('ALERT_UPDATE_INTERVAL_SECONDS', 900, 0, 604_800),
    retryBudgetSeconds: reader.integer('ALERT_RETRY_BUDGET_SECONDS', 600, 1, 604_800),
  };
}

const RETRAIN_MODES: readonly RetrainMode[] = ['inprocess', 'airflow'];
const DAG_ID = /^[A-Za-z0-9_.-]{1,250}$/;

/**
 * The retraining settings. In airflow mode AIRFLOW_URL is required, with AIRFLOW_USERNAME and
 * AIRFLOW_PASSWORD for API version 1 or AIRFLOW_TOKEN for version 2; the secrets are never echoed.
 */
function retrainConfig(reader: EnvReader): RetrainConfig {
  const mode = reader.oneOf('RETRAIN_MODE', RETRAIN_MODES, 'inprocess');
  const baseShare = reader.decimal('RETRAIN_BASE_SHARE', 0.5, 0, 1);
  if (baseShare >= 1) reader.problem('RETRAIN_BASE_SHARE must be below 1 (some recent data must be trained on); got 1');
  const url = reader.url('AIRFLOW_URL');
  const dagId = reader.string('AIRFLOW_DAG_ID') ?? 'driftline_retraining';
  if (!DAG_ID.test(dagId))
    reader.problem(
      `AIRFLOW_DAG_ID must be letters, digits, '_', '.' or '-' (for example driftline_retraining); got ${JSON.stringify(dagId)}`,
    );
  const apiVersion = reader.oneOf('AIRFLOW_API_VERSION', ['1', '2'] as const, '1') === '2' ? 2 : 1;
  const username = reader.string('AIRFLOW_USERNAME');
  const password = reader.string('AIRFLOW_PASSWORD');
  const token = reader.string('AIRFLOW_TOKEN');
  const retries = reader.integer('AIRFLOW_RETRIES', 4, 0, 20);
  if (mode === 'airflow') {
    if (reader.string('AIRFLOW_URL') === undefined)
      reader.problem('AIRFLOW_URL must be set when RETRAIN_MODE=airflow (for example http://airflow:8080)');
    if (apiVersion === 1 && (username === undefined || password === undefined))
      reader.problem('AIRFLOW_USERNAME and AIRFLOW_PASSWORD must be set for AIRFLOW_API_VERSION=1 (basic auth)');
    if (apiVersion === 2 && token === undefined)
      reader.problem('AIRFLOW_TOKEN must be set for AIRFLOW_API_VERSION=2 (a bearer token; the value is never shown)');
  }
  return {
    mode,
    cooldownSeconds: reader.integer('RETRAIN_COOLDOWN_SECONDS', 1_800, 0, 604_800),
    minLabels: reader.integer('RETRAIN_MIN_LABELS', 2_000, 10, 1_000_000_000),
    windowHours: reader.integer('RETRAIN_WINDOW_HOURS', 24, 1, 8_760),
    baseShare,
    minImprovement: reader.decimal('RETRAIN_MIN_IMPROVEMENT', 0.02, 0, 1),
    epochs: reader.integer('RETRAIN_EPOCHS', 40, 1, 10_000),
    airflow:
      mode === 'airflow' && url !== undefined
        ? { url, dagId, apiVersion, username, password, token, retries }
        : undefined,
  };
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

  problem(text: string): void {
    this.problems.push(text);
  }

  /** A URL that is itself a secret (credentials or a token inside): a problem never shows it. */
  secretUrl(name: string, protocols: readonly string[], example: string): string | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    let ok = false;
    try {
      ok = protocols.includes(new URL(value).protocol);
    } catch {
      ok = false;
    }
    if (!ok) {
      this.problems.push(
        `${name} must be a ${protocols.map((p) => `${p}//`).join(' or ')} URL (for example ${example}); the value is not shown, it may hold a secret`,
      );
      return undefined;
    }
    return value;
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
    if (value === undefined || IDENTIFIER_PATTERN.test(value)) return value;
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

  /** A decimal number in [min, max], e.g. 1.2. */
  decimal(name: string, fallback: number, min: number, max: number): number {
    const value = this.string(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!DECIMAL.test(value) || n < min || n > max) {
      this.problems.push(
        `${name} must be a number from ${min} to ${max} (for example ${fallback}); got ${JSON.stringify(value)}`,
      );
      return fallback;
    }
    return n;
  }

  /** A share in (0, 1], e.g. 0.5. */
  fraction(name: string, fallback: number): number {
    const value = this.string(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!DECIMAL.test(value) || !(n > 0 && n <= 1)) {
      this.problems.push(`${name} must be a number in (0, 1] (for example ${fallback}); got ${JSON.stringify(value)}`);
      return fallback;
    }
    return n;
  }

  /**
   * Per-column drift overrides from two lists, `column=method[,column=method]` and
   * `column=threshold[,column=threshold]` (the same forms as `driftline compare --method/--threshold`).
   */
  columnOverrides(
    methodsName: string,
    thresholdsName: string,
  ): Readonly<Record<string, Readonly<ColumnDriftOverride>>> {
    const overrides: Record<string, ColumnDriftOverride> = Object.create(null);
    const pairs = (name: string, example: string): [string, string][] => {
      const value = this.string(name);
      if (value === undefined) return [];
      const out: [string, string][] = [];
      for (const item of value.split(',').map((p) => p.trim())) {
        const at = item.indexOf('=');
        const column = item.slice(0, at).trim();
        const setting = item.slice(at + 1).trim();
        if (at <= 0 || setting === '' || !IDENTIFIER_PATTERN.test(column)) {
          this.problems.push(
            `${name} must be column=value[,column=value] (for example ${example}); got ${JSON.stringify(value)}`,
          );
          return [];
        }
        out.push([column, setting]);
      }
      return out;
    };
    const methods = Object.values(DriftMethod) as string[];
    for (const [column, method] of pairs(methodsName, 'MedInc=ks,prediction=psi')) {
      if (!methods.includes(method)) {
        this.problems.push(
          `${methodsName}: method of ${column} must be one of ${methods.join(', ')}; got ${JSON.stringify(method)}`,
        );
        continue;
      }
      overrides[column] = { ...overrides[column], method: method as DriftMethod };
    }
    for (const [column, raw] of pairs(thresholdsName, 'MedInc=0.2,prediction=0.01')) {
      if (!DECIMAL.test(raw)) {
        this.problems.push(`${thresholdsName}: threshold of ${column} must be a number; got ${JSON.stringify(raw)}`);
        continue;
      }
      overrides[column] = { ...overrides[column], threshold: Number(raw) };
    }
    for (const [column, override] of Object.entries(overrides)) {
      for (const problem of overrideProblems(column, override))
        this.problems.push(`${thresholdsName}/${methodsName}: ${problem}`);
      Object.freeze(override);
    }
    return Object.freeze(overrides);
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
