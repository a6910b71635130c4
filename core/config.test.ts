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
});
