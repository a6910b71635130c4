/**
 * Services as containers, for machines with a Docker engine (testcontainers). Host ports are
 * the stack's configured ports: Kafka must advertise an address clients can reach, and a fixed
 * port is the simplest one that is known before the broker starts.
 */
import type { StartedTestContainer } from 'testcontainers';
import type { Config } from '../core/config.ts';
import { DriftlineError, ErrorCode } from '../core/errors.ts';
import type { StackServiceName } from '../stack/types.ts';

export const CONTAINER_IMAGES = {
  kafka: 'apache/kafka:4.1.1',
  registry: 'apicurio/apicurio-registry:3.3.3',
  clickhouse: 'clickhouse/clickhouse-server:25.8',
} as const;

/** True when a Docker (or compatible) engine answers; false fast when there is none. */
export async function dockerAvailable(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await Promise.race([
      getContainerRuntimeClient(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 10_000)),
    ]);
    return true;
  } catch {
    return false;
  }
}

export async function startContainers(
  config: Readonly<Config>,
  services: readonly StackServiceName[],
): Promise<{ endpoints: Partial<Record<StackServiceName, string>>; stop(): Promise<void> }> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const ports = config.stackPorts;
  const started: StartedTestContainer[] = [];
  const endpoints: Partial<Record<StackServiceName, string>> = {};
  try {
    for (const service of services) {
      if (service === 'kafka') {
        const container = await new GenericContainer(CONTAINER_IMAGES.kafka)
          .withExposedPorts({ container: 9092, host: ports.kafka })
          .withEnvironment({
            KAFKA_NODE_ID: '1',
            KAFKA_PROCESS_ROLES: 'broker,controller',
            KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093',
            KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${ports.kafka}`,
            KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
            KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
            KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
            KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
            KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
            KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
            KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: '1',
            KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: '1',
            KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
          })
          .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
          .start();
        started.push(container);
        endpoints.kafka = `127.0.0.1:${ports.kafka}`;
      } else if (service === 'registry') {
        const container = await new GenericContainer(CONTAINER_IMAGES.registry)
          .withExposedPorts({ container: 8080, host: ports.registry })
          .withWaitStrategy(Wait.forHttp('/apis/ccompat/v7/subjects', 8080))
          .start();
        started.push(container);
        endpoints.registry = `http://127.0.0.1:${ports.registry}/apis/ccompat/v7`;
      } else {
        const container = await new GenericContainer(CONTAINER_IMAGES.clickhouse)
          .withExposedPorts({ container: 8123, host: ports.clickhouseHttp })
          .withEnvironment({ CLICKHOUSE_SKIP_USER_SETUP: '1' })
          .withWaitStrategy(Wait.forHttp('/ping', 8123))
          .start();
        started.push(container);
        endpoints.clickhouse = `http://127.0.0.1:${ports.clickhouseHttp}`;
      }
    }
  } catch (error) {
    await Promise.allSettled(started.map((c) => c.stop()));
    throw new DriftlineError(ErrorCode.STACK_START_FAILED, `Starting containers failed: ${String(error)}`, {
      cause: error,
    });
  }
  return {
    endpoints,
    stop: async () => {
      await Promise.allSettled(started.map((c) => c.stop()));
    },
  };
}
