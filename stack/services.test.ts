import { describe, expect, it } from 'vitest';
import { parseConfig } from '../core/config.ts';
import { ErrorCode } from '../core/errors.ts';
import { stackLayout } from './layout.ts';
import { registryArgs } from './registry-config.ts';
import { selectServices, serviceSpec, stackEndpointsFor } from './services.ts';

const config = parseConfig(
  {
    DRIFTLINE_HOME: '/h',
    DRIFTLINE_CACHE_DIR: '/c',
    STACK_KAFKA_PORT: '29092',
    STACK_KAFKA_CONTROLLER_PORT: '29093',
    STACK_REGISTRY_PORT: '28081',
    STACK_REGISTRY_MANAGEMENT_PORT: '29081',
    STACK_CLICKHOUSE_HTTP_PORT: '28123',
    STACK_CLICKHOUSE_TCP_PORT: '29000',
  },
  '/',
);

describe('stackLayout', () => {
  it('keeps state under <home>/stack and downloads in the cache dir', () => {
    const layout = stackLayout(config);
    expect(layout.logsDir).toBe('/h/stack/logs');
    expect(layout.runDir).toBe('/h/stack/run');
    expect(layout.kafka.dataDir).toBe('/h/stack/kafka/data');
    expect(layout.kafka.libsDir).toBe('/c/kafka-4.1.1/libs');
    expect(layout.registry.runJar).toBe('/c/apicurio-registry-3.3.3/quarkus-run.jar');
    expect(layout.clickhouse.dataDir).toBe('/h/stack/clickhouse/data');
  });
});

describe('serviceSpec', () => {
  it('takes ports from the config and names the variable of each', () => {
    expect(serviceSpec(config, 'kafka').ports.map((p) => [p.port, p.variable])).toEqual([
      [29092, 'STACK_KAFKA_PORT'],
      [29093, 'STACK_KAFKA_CONTROLLER_PORT'],
    ]);
    expect(serviceSpec(config, 'registry').ports.map((p) => [p.port, p.variable])).toEqual([
      [28081, 'STACK_REGISTRY_PORT'],
      [29081, 'STACK_REGISTRY_MANAGEMENT_PORT'],
    ]);
    expect(serviceSpec(config, 'clickhouse').ports.map((p) => [p.port, p.variable])).toEqual([
      [28123, 'STACK_CLICKHOUSE_HTTP_PORT'],
      [29000, 'STACK_CLICKHOUSE_TCP_PORT'],
    ]);
  });

  it('puts all logs in one folder and pid files under run/', () => {
    for (const name of ['kafka', 'registry', 'clickhouse'] as const) {
      const spec = serviceSpec(config, name);
      expect(spec.logFile).toBe(`/h/stack/logs/${name}.log`);
      expect(spec.pidFile).toBe(`/h/stack/run/${name}.pid`);
    }
  });

  it('recognises processes by markers specific to this home', () => {
    expect(serviceSpec(config, 'kafka').markers).toEqual(['-Ddriftline.stack=/h/stack', 'kafka.Kafka']);
    expect(serviceSpec(config, 'registry').markers).toEqual([
      '-Ddriftline.stack=/h/stack',
      '/c/apicurio-registry-3.3.3/quarkus-run.jar',
    ]);
    expect(serviceSpec(config, 'clickhouse').markers).toEqual(['--config-file=/h/stack/clickhouse/config.xml']);
  });

  it('bounds every start', () => {
    expect(serviceSpec(config, 'kafka').startTimeoutMs).toBe(90_000);
    expect(serviceSpec(config, 'registry').startTimeoutMs).toBe(120_000);
    expect(serviceSpec(config, 'clickhouse').startTimeoutMs).toBe(60_000);
  });
});

describe('stackEndpointsFor', () => {
  it('gives the addresses clients use', () => {
    expect(stackEndpointsFor(config)).toEqual({
      kafkaBrokers: ['127.0.0.1:29092'],
      schemaRegistryUrl: 'http://127.0.0.1:28081/apis/ccompat/v7',
      clickhouseUrl: 'http://127.0.0.1:28123',
    });
  });
});

describe('selectServices', () => {
  it('defaults to all three, and keeps canonical order without duplicates', () => {
    expect(selectServices(undefined)).toEqual(['kafka', 'registry', 'clickhouse']);
    expect(selectServices(['clickhouse', 'kafka', 'clickhouse'])).toEqual(['kafka', 'clickhouse']);
    expect(selectServices([])).toEqual([]);
  });

  it('rejects unknown names as a usage error', () => {
    expect(() => selectServices(['kafka', 'zookeeper' as never])).toThrow(
      expect.objectContaining({ code: ErrorCode.USAGE }),
    );
  });
});

describe('registryArgs', () => {
  const args = registryArgs({
    port: 28081,
    managementPort: 29081,
    runJar: '/c/app/quarkus-run.jar',
    marker: '-Dm=1',
    dataDir: '/h/stack/registry/data',
  });

  it('binds HTTP and management to loopback on our ports, away from 9000', () => {
    expect(args).toEqual(
      expect.arrayContaining([
        '-Dquarkus.http.port=28081',
        '-Dquarkus.http.host=127.0.0.1',
        '-Dquarkus.management.port=29081',
        '-Dquarkus.management.host=127.0.0.1',
        '-Dm=1',
      ]),
    );
    expect(args.slice(-2)).toEqual(['-jar', '/c/app/quarkus-run.jar']);
    // Schemas survive a restart, so ids in messages already in Kafka stay valid.
    expect(args).toContain('-Dapicurio.datasource.url=jdbc:h2:file:/h/stack/registry/data/registry');
    expect(args.some((a) => a.startsWith('-Xmx'))).toBe(true);
  });
});
