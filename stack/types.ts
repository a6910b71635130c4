/** The local stack's public contract: what `driftline stack` and the service resolver use. */
export const STACK_SERVICES = ['kafka', 'registry', 'clickhouse'] as const;
export type StackServiceName = (typeof STACK_SERVICES)[number];

export interface StackEndpoints {
  kafkaBrokers: string[];
  /** Confluent-compatible base URL (Apicurio's /apis/ccompat/v7). */
  schemaRegistryUrl: string;
  /** ClickHouse server HTTP URL. */
  clickhouseUrl: string;
}

export type ServiceState =
  /** Running and healthy, started by this stack (pid file present). */
  | 'running'
  /** Healthy on its port, but not started by this stack: used, never stopped by it. */
  | 'external'
  /** Not running. */
  | 'stopped';

export interface ServiceStatus {
  name: StackServiceName;
  state: ServiceState;
  /** host:port or URL that clients use. */
  endpoint: string;
  pid: number | undefined;
  logFile: string;
  provisioned: boolean;
}

export interface StackUpResult {
  endpoints: StackEndpoints;
  /** Services this call started (empty when everything was already up). */
  started: StackServiceName[];
  statuses: ServiceStatus[];
}
