import { describe, expect, it } from 'vitest';
import { parseConfig } from './config.ts';
import { DriftlineError, ErrorCode } from './errors.ts';

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseConfig(env, '/work');
  } catch (error) {
    expect(error).toBeInstanceOf(DriftlineError);
    expect((error as DriftlineError).code).toBe(ErrorCode.CONFIG_INVALID);
    return (error as DriftlineError).details.problems as string[];
  }
  throw new Error('expected parseConfig to throw');
}

describe('parseConfig', () => {
  it('gives defaults when nothing is set: no endpoints, embedded chDB under .driftline', () => {
    const config = parseConfig({ HOME: '/home/u' }, '/work');
    expect(config.kafkaBrokers).toBeUndefined();
    expect(config.schemaRegistryUrl).toBeUndefined();
    expect(config.clickhouseUrl).toBeUndefined();
    expect(config.chdbPath).toBe('/work/.driftline/chdb');
    expect(config.kafkaTopicPartitions).toBe(3);
    expect(config.stackPorts.kafka).toBe(9092);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.stackPorts)).toBe(true);
  });

  it('parses a broker list, trimming spaces and a trailing slash on URLs', () => {
    const config = parseConfig(
      { KAFKA_BROKERS: 'a.example:9092, 10.0.0.2:19092', CLICKHOUSE_URL: 'http://ch:8123/', LOG_LEVEL: 'debug' },
      '/work',
    );
    expect(config.kafkaBrokers).toEqual(['a.example:9092', '10.0.0.2:19092']);
    expect(config.clickhouseUrl).toBe('http://ch:8123');
    expect(config.logLevel).toBe('debug');
  });

  it.each([['localhost'], ['localhost:'], ['localhost:99999'], ['kafka://a:9092'], ['a:9092,,b:9092']])(
    'rejects KAFKA_BROKERS=%s naming the variable and the expected format',
    (value) => {
      const [problem] = problemsOf({ KAFKA_BROKERS: value });
      expect(problem).toContain('KAFKA_BROKERS must be host:port[,host:port]');
      expect(problem).toContain(JSON.stringify(value));
    },
  );

  it('lists every problem at once, not just the first', () => {
    const problems = problemsOf({
      KAFKA_BROKERS: 'nope',
      SCHEMA_REGISTRY_URL: 'ftp://x',
      KAFKA_TOPIC_PARTITIONS: '0',
      LOG_LEVEL: 'loud',
      CLICKHOUSE_DATABASE: 'drop table',
    });
    expect(problems.map((p) => p.split(' ')[0])).toEqual([
      'KAFKA_BROKERS',
      'KAFKA_TOPIC_PARTITIONS',
      'SCHEMA_REGISTRY_URL',
      'CLICKHOUSE_DATABASE',
      'LOG_LEVEL',
    ]);
  });

  it('refuses two stack services on one port', () => {
    const [problem] = problemsOf({ STACK_REGISTRY_PORT: '9092' });
    expect(problem).toMatch(/kafka and registry are both 9092/);
  });

  it('starts no metrics server unless METRICS_PORT is set; METRICS_HOST defaults to loopback', () => {
    expect(parseConfig({}, '/work')).toMatchObject({ metricsPort: undefined, metricsHost: '127.0.0.1' });
    expect(parseConfig({ METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0' }, '/work')).toMatchObject({
      metricsPort: 9464,
      metricsHost: '0.0.0.0',
    });
    const [problem] = problemsOf({ METRICS_PORT: 'http' });
    expect(problem).toMatch(/METRICS_PORT/);
  });
});

describe('parseConfig: drift consumer settings', () => {
  it('has defaults: 5-pane windows, Evidently drift share 0.5, retrain after 3, reports in ./reports', () => {
    const config = parseConfig({}, '/work');
    expect(config).toMatchObject({
      driftWindowPanes: 5,
      driftGracePanes: 2,
      driftGraceMs: 60_000,
      driftRetrainAfter: 3,
      driftShare: 0.5,
      driftMinSample: 100,
      driftPerformanceTolerance: 1.2,
      driftMinLabels: 100,
      reportsDir: '/work/reports',
    });
    expect(config.driftColumnOverrides).toEqual({});
  });

  it('reads per-column methods and thresholds into one frozen override per column', () => {
    const config = parseConfig(
      {
        DRIFT_METHODS: 'MedInc=ks, prediction=psi',
        DRIFT_THRESHOLDS: 'MedInc=0.01,AveRooms=0.2',
        DRIFT_SHARE: '0.25',
        DRIFT_PERFORMANCE_TOLERANCE: '1.5',
        DRIFT_REPORTS_DIR: 'out/reports',
      },
      '/work',
    );
    expect({ ...config.driftColumnOverrides }).toEqual({
      MedInc: { method: 'ks', threshold: 0.01 },
      prediction: { method: 'psi' },
      AveRooms: { threshold: 0.2 },
    });
    expect(Object.isFrozen(config.driftColumnOverrides)).toBe(true);
    expect(config.driftShare).toBe(0.25);
    expect(config.driftPerformanceTolerance).toBe(1.5);
    expect(config.reportsDir).toBe('/work/out/reports');
  });

  it('lists every bad drift setting with the expected format', () => {
    const problems = problemsOf({
      DRIFT_WINDOW_PANES: '0',
      DRIFT_SHARE: '1.5',
      DRIFT_PERFORMANCE_TOLERANCE: 'high',
      DRIFT_METHODS: 'MedInc=magic',
      DRIFT_THRESHOLDS: 'MedInc',
    });
    expect(problems).toEqual([
      'DRIFT_WINDOW_PANES must be an integer from 1 to 1000; got "0"',
      'DRIFT_SHARE must be a number in (0, 1] (for example 0.5); got "1.5"',
      expect.stringContaining(
        'DRIFT_METHODS: method of MedInc must be one of ks, wasserstein, psi, jensenshannon, chisquare',
      ),
      expect.stringContaining(
        'DRIFT_THRESHOLDS must be column=value[,column=value] (for example MedInc=0.2,prediction=0.01)',
      ),
      'DRIFT_PERFORMANCE_TOLERANCE must be a number from 1 to 1000 (for example 1.2); got "high"',
    ]);
    expect(problemsOf({ DRIFT_METHODS: 'MedInc=ks', DRIFT_THRESHOLDS: 'MedInc=2' })).toEqual([
      expect.stringContaining('threshold must be a p-value in (0, 1); got 2'),
    ]);
  });
});

describe('parseConfig: retraining settings', () => {
  it('has defaults: in-process, 30 min cooldown, 2,000 labels, 24 h window, half base data, 2 % improvement', () => {
    const { retrain } = parseConfig({}, '/w');
    expect(retrain).toEqual({
      mode: 'inprocess',
      cooldownSeconds: 1800,
      minLabels: 2000,
      windowHours: 24,
      baseShare: 0.5,
      minImprovement: 0.02,
      epochs: 40,
      airflow: undefined,
    });
    expect(Object.isFrozen(retrain)).toBe(true);
  });

  it('reads the Airflow trigger for API version 1 (basic auth) and 2 (bearer token)', () => {
    const v1 = parseConfig(
      { RETRAIN_MODE: 'airflow', AIRFLOW_URL: 'http://af:8080/', AIRFLOW_USERNAME: 'u', AIRFLOW_PASSWORD: 'p' },
      '/w',
    ).retrain.airflow;
    expect(v1).toEqual({
      url: 'http://af:8080',
      dagId: 'driftline_retraining',
      apiVersion: 1,
      username: 'u',
      password: 'p',
      token: undefined,
      retries: 4,
    });
    const v2 = parseConfig(
      { RETRAIN_MODE: 'airflow', AIRFLOW_URL: 'http://af:8080', AIRFLOW_API_VERSION: '2', AIRFLOW_TOKEN: 't' },
      '/w',
    ).retrain.airflow;
    expect(v2).toMatchObject({ apiVersion: 2, token: 't' });
  });

  it('lists every bad retraining setting, never echoing an Airflow secret', () => {
    const error = (() => {
      try {
        parseConfig(
          {
            RETRAIN_MODE: 'batch',
            RETRAIN_BASE_SHARE: '1',
            RETRAIN_MIN_IMPROVEMENT: 'two',
            RETRAIN_COOLDOWN_SECONDS: '-1',
            AIRFLOW_DAG_ID: 'no spaces please',
            AIRFLOW_API_VERSION: '3',
          },
          '/w',
        );
      } catch (e) {
        return e as DriftlineError;
      }
      throw new Error('expected a configuration error');
    })();
    const problems = error.details.problems as string[];
    expect(problems.map((p) => p.split(' ')[0])).toEqual([
      'RETRAIN_MODE',
      'RETRAIN_BASE_SHARE',
      'AIRFLOW_DAG_ID',
      'AIRFLOW_API_VERSION',
      'RETRAIN_COOLDOWN_SECONDS',
      'RETRAIN_MIN_IMPROVEMENT',
    ]);
    const missing = (() => {
      try {
        parseConfig({ RETRAIN_MODE: 'airflow', AIRFLOW_API_VERSION: '2', AIRFLOW_PASSWORD: 'hunter2' }, '/w');
      } catch (e) {
        return e as DriftlineError;
      }
      throw new Error('expected a configuration error');
    })();
    expect(missing.message).toContain('AIRFLOW_URL must be set');
    expect(missing.message).toContain('AIRFLOW_TOKEN must be set');
    expect(missing.message).not.toContain('hunter2');
  });

  describe('alerting', () => {
    it('turns no channel on when nothing is set, with the documented defaults', () => {
      const { alerting } = parseConfig({}, '/work');
      expect(alerting).toMatchObject({
        slack: undefined,
        slackWebhookUrl: undefined,
        email: undefined,
        webhook: undefined,
        updateIntervalSeconds: 900,
        retryBudgetSeconds: 600,
      });
      expect(Object.isFrozen(alerting)).toBe(true);
    });

    it('parses every channel', () => {
      const { alerting } = parseConfig(
        {
          SLACK_BOT_TOKEN: 'xoxb-1-2-abc',
          SLACK_CHANNEL: 'C0123456789',
          SLACK_API_URL: 'http://127.0.0.1:9999/api/',
          SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x',
          SMTP_URL: 'smtps://user:p%40ss@smtp.example.com:465',
          ALERT_EMAIL_FROM: 'driftline@example.com',
          ALERT_EMAIL_TO: 'a@example.com, b@example.com',
          ALERT_WEBHOOK_URL: 'https://hooks.example.com/driftline',
          ALERT_WEBHOOK_SECRET: 's3cret',
          DASHBOARD_URL: 'https://dash.example.com/',
          ALERT_UPDATE_INTERVAL_SECONDS: '60',
          ALERT_RETRY_BUDGET_SECONDS: '30',
        },
        '/work',
      );
      expect(alerting.slack).toEqual({
        botToken: 'xoxb-1-2-abc',
        channel: 'C0123456789',
        apiUrl: 'http://127.0.0.1:9999/api',
      });
      expect(alerting.email?.to).toEqual(['a@example.com', 'b@example.com']);
      expect(alerting.webhook).toEqual({ url: 'https://hooks.example.com/driftline', secret: 's3cret' });
      expect(alerting.dashboardUrl).toBe('https://dash.example.com');
      expect(alerting.updateIntervalSeconds).toBe(60);
      expect(alerting.retryBudgetSeconds).toBe(30);
    });

    it('lists every alerting problem at once and never shows a secret', () => {
      const problems = problemsOf({
        SLACK_BOT_TOKEN: 'xoxb-secret-token',
        SLACK_WEBHOOK_URL: 'not a url xoxp-hidden',
        SMTP_URL: 'http://user:hunter2@mail.example.com',
        ALERT_EMAIL_TO: 'nobody',
        ALERT_WEBHOOK_URL: 'https://hooks.example.com/x',
        ALERT_UPDATE_INTERVAL_SECONDS: 'soon',
      });
      const text = problems.join('\n');
      expect(text).toContain('SLACK_CHANNEL must be set with SLACK_BOT_TOKEN');
      expect(text).toContain('SLACK_WEBHOOK_URL must be a http:// or https:// URL');
      expect(text).toContain('SMTP_URL must be a smtp:// or smtps:// URL');
      expect(text).toContain('ALERT_EMAIL_TO must be address[,address]');
      expect(text).toContain('SMTP_URL, ALERT_EMAIL_FROM and ALERT_EMAIL_TO must be set together');
      expect(text).toContain('ALERT_WEBHOOK_SECRET must be set with ALERT_WEBHOOK_URL');
      expect(text).toContain('ALERT_UPDATE_INTERVAL_SECONDS must be an integer');
      for (const secret of ['xoxb-secret-token', 'xoxp-hidden', 'hunter2']) expect(text).not.toContain(secret);
    });
  });
});
