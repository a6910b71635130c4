/**
 * What each local service is, as plain data: its ports (and the variable that moves each),
 * endpoint, files, how long it may take to become healthy, and the markers that recognise
 * its process. Pure.
 */
import type { Config } from '../core/config.ts';
import { DriftlineError, ErrorCode } from '../core/errors.ts';
import { logFile, pidFile, type StackLayout, stackLayout } from './layout.ts';
import { ccompatUrl } from './registry-config.ts';
import { STACK_SERVICES, type StackEndpoints, type StackServiceName } from './types.ts';

export interface PortRef {
  port: number;
  /** The environment variable that sets it, named in errors so the fix is obvious. */
  variable: string;
  role: string;
}

export interface ServiceSpec {
  name: StackServiceName;
  /** Every port the service binds; the first is the one clients use. */
  ports: readonly PortRef[];
  endpoint: string;
  logFile: string;
  pidFile: string;
  /** Arguments that must all appear in /proc/<pid>/cmdline for the process to be ours. */
  markers: readonly string[];
  startTimeoutMs: number;
}

/** Budget from spawn to healthy; a 2-core machine running all three JVMs at once is slow. */
export const START_TIMEOUT_MS: Readonly<Record<StackServiceName, number>> = {
  kafka: 90_000,
  registry: 120_000,
  clickhouse: 60_000,
};

export const KAFKA_MAIN_CLASS = 'kafka.Kafka';

/**
 * A system property naming the stack root. The JVM ignores it; it is there so that
 * /proc/<pid>/cmdline says which home started the process.
 */
export function homeMarker(layout: StackLayout): string {
  return `-Ddriftline.stack=${layout.root}`;
}

export function clickhouseConfigArg(layout: StackLayout): string {
  return `--config-file=${layout.clickhouse.configFile}`;
}

export function serviceSpec(config: Readonly<Config>, name: StackServiceName): ServiceSpec {
  const layout = stackLayout(config);
  const ports = config.stackPorts;
  const files = {
    logFile: logFile(layout, name),
    pidFile: pidFile(layout, name),
    startTimeoutMs: START_TIMEOUT_MS[name],
  };
  switch (name) {
    case 'kafka':
      return {
        name,
        ports: [
          { port: ports.kafka, variable: 'STACK_KAFKA_PORT', role: 'broker' },
          { port: ports.kafkaController, variable: 'STACK_KAFKA_CONTROLLER_PORT', role: 'controller' },
        ],
        endpoint: `127.0.0.1:${ports.kafka}`,
        markers: [homeMarker(layout), KAFKA_MAIN_CLASS],
        ...files,
      };
    case 'registry':
      return {
        name,
        ports: [
          { port: ports.registry, variable: 'STACK_REGISTRY_PORT', role: 'HTTP API' },
          { port: ports.registryManagement, variable: 'STACK_REGISTRY_MANAGEMENT_PORT', role: 'management' },
        ],
        endpoint: ccompatUrl(ports.registry),
        markers: [homeMarker(layout), layout.registry.runJar],
        ...files,
      };
    case 'clickhouse':
      return {
        name,
        ports: [
          { port: ports.clickhouseHttp, variable: 'STACK_CLICKHOUSE_HTTP_PORT', role: 'HTTP' },
          { port: ports.clickhouseTcp, variable: 'STACK_CLICKHOUSE_TCP_PORT', role: 'native TCP' },
        ],
        endpoint: `http://127.0.0.1:${ports.clickhouseHttp}`,
        markers: [clickhouseConfigArg(layout)],
        ...files,
      };
  }
}

export function stackEndpointsFor(config: Readonly<Config>): StackEndpoints {
  return {
    kafkaBrokers: [serviceSpec(config, 'kafka').endpoint],
    schemaRegistryUrl: serviceSpec(config, 'registry').endpoint,
    clickhouseUrl: serviceSpec(config, 'clickhouse').endpoint,
  };
}

/** The requested services, deduplicated, in the stack's canonical order. */
export function selectServices(requested: readonly StackServiceName[] | undefined): StackServiceName[] {
  if (requested === undefined) return [...STACK_SERVICES];
  const unknown = requested.filter((name) => !(STACK_SERVICES as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new DriftlineError(
      ErrorCode.USAGE,
      `Unknown stack service(s): ${unknown.join(', ')}; expected some of ${STACK_SERVICES.join(', ')}`,
    );
  }
  return STACK_SERVICES.filter((name) => requested.includes(name));
}
