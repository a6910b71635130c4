import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  isClusterId,
  kafkaFormatArgs,
  kafkaServerArgs,
  newClusterId,
  renderLog4j2Properties,
  renderServerProperties,
} from './kafka-config.ts';
import { KAFKA_VERSION } from './layout.ts';

function parseProperties(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const eq = line.indexOf('=');
    map.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return map;
}

describe('renderServerProperties', () => {
  const props = parseProperties(
    renderServerProperties({ port: 19092, controllerPort: 19093, dataDir: '/state/kafka/data', partitions: 3 }),
  );

  it('makes one KRaft node that is broker and controller on loopback', () => {
    expect(props.get('process.roles')).toBe('broker,controller');
    expect(props.get('node.id')).toBe('1');
    expect(props.get('controller.quorum.voters')).toBe('1@127.0.0.1:19093');
    expect(props.get('listeners')).toBe('PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093');
    expect(props.get('advertised.listeners')).toBe('PLAINTEXT://127.0.0.1:19092');
    expect(props.get('controller.listener.names')).toBe('CONTROLLER');
    expect(props.get('log.dirs')).toBe('/state/kafka/data');
    expect(props.get('num.partitions')).toBe('3');
  });

  it('gives every internal topic one replica and joins groups without delay', () => {
    for (const key of [
      'offsets.topic.replication.factor',
      'transaction.state.log.replication.factor',
      'transaction.state.log.min.isr',
      'share.coordinator.state.topic.replication.factor',
      'share.coordinator.state.topic.min.isr',
      'default.replication.factor',
    ]) {
      expect(props.get(key), key).toBe('1');
    }
    expect(props.get('group.initial.rebalance.delay.ms')).toBe('0');
  });

  it('escapes backslashes and refuses line breaks in values', () => {
    const text = renderServerProperties({ port: 1, controllerPort: 2, dataDir: 'C:\\data', partitions: 1 });
    expect(text).toContain('log.dirs=C:\\\\data');
    expect(() => renderServerProperties({ port: 1, controllerPort: 2, dataDir: '/a\nb=c', partitions: 1 })).toThrow(
      /one line/,
    );
  });
});

describe('renderLog4j2Properties', () => {
  it('sends everything to stdout at INFO', () => {
    const text = renderLog4j2Properties();
    expect(text).toContain('appender.stdout.type = Console');
    expect(text).toContain('appender.stdout.target = SYSTEM_OUT');
    expect(text).toContain('rootLogger.level = INFO');
    expect(text).toContain('rootLogger.appenderRef.stdout.ref = STDOUT');
  });
});

describe('cluster ids', () => {
  it('are 22 URL-safe base64 characters', () => {
    const id = newClusterId();
    expect(isClusterId(id)).toBe(true);
    expect(newClusterId(() => Buffer.alloc(16, 0xff))).toBe('_____________________w');
    expect(isClusterId('not-a-cluster-id')).toBe(false);
    expect(() => newClusterId(() => Buffer.alloc(8))).toThrow();
  });

  it("never start with '-', which kafka-storage would read as an option", () => {
    const draws = [Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0x01)]; // '-' first, then 'AQ…'
    expect(Buffer.alloc(16, 0xf8).toString('base64url').startsWith('-')).toBe(true);
    expect(newClusterId(() => draws.shift() as Buffer)).toBe(Buffer.alloc(16, 0x01).toString('base64url'));
    expect(isClusterId(Buffer.alloc(16, 0xf8).toString('base64url'))).toBe(false);
  });
});

describe('JVM command lines', () => {
  const jvm = { libsDir: '/cache/libs', log4jProperties: '/s/log4j2.properties', logsDir: '/s/logs', marker: '-Dm=1' };

  it('runs the broker with a bounded heap, serial GC, our marker and the jar folder', () => {
    const args = kafkaServerArgs(jvm, '/s/server.properties');
    expect(args).toEqual(expect.arrayContaining(['-Xmx512m', '-XX:+UseSerialGC', '-Dm=1', '/cache/libs/*']));
    expect(args).toContain('-Dlog4j2.configurationFile=/s/log4j2.properties');
    expect(args.slice(-2)).toEqual(['kafka.Kafka', '/s/server.properties']);
    expect(args.indexOf('-cp')).toBe(args.indexOf('/cache/libs/*') - 1);
  });

  it('formats storage idempotently with the persisted cluster id', () => {
    const args = kafkaFormatArgs(jvm, 'AAAAAAAAAAAAAAAAAAAAAA', '/s/server.properties');
    expect(args.slice(args.indexOf('kafka.tools.StorageTool'))).toEqual([
      'kafka.tools.StorageTool',
      'format',
      '-t',
      'AAAAAAAAAAAAAAAAAAAAAA',
      '-c',
      '/s/server.properties',
      '--ignore-formatted',
    ]);
    expect(args).not.toContain('--standalone');
  });
});

describe('stack/kafka/pom.xml', () => {
  const pom = readFileSync(new URL('./kafka/pom.xml', import.meta.url), 'utf8');

  it('downloads the Kafka version the code expects', () => {
    expect(pom).toContain(`<kafka.version>${KAFKA_VERSION}</kafka.version>`);
  });

  it('binds slf4j 1.7 to log4j2 with log4j-slf4j-impl, not the slf4j2 binding', () => {
    expect(pom).toContain('<artifactId>log4j-slf4j-impl</artifactId>');
    expect(pom).not.toContain('log4j-slf4j2-impl</artifactId>');
    expect(pom).toContain('<artifactId>log4j-core</artifactId>');
  });
});
