/**
 * Where Kafka, the schema registry and ClickHouse come from, in this order for each one:
 * an endpoint given in the environment; else containers via testcontainers when a Docker engine
 * answers; else the project's own local stack (`stack/`), provisioned and started on demand.
 */

import type { Config } from '../core/config.ts';
import { DriftlineError, ErrorCode } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { stackDown, stackUp } from '../stack/index.ts';
import type { StackServiceName } from '../stack/types.ts';
import { dockerAvailable, startContainers } from './containers.ts';

export type ServiceSource = 'env' | 'containers' | 'local' | 'embedded';

export interface ServiceNeeds {
  kafka: boolean;
  registry: boolean;
  /** A ClickHouse server. When false and CLICKHOUSE_URL is unset, embedded chDB is used. */
  clickhouseServer: boolean;
}

export interface ResolvedServices {
  kafkaBrokers: string[];
  schemaRegistryUrl: string;
  /** Undefined means embedded chDB. */
  clickhouseUrl: string | undefined;
  sources: { kafka: ServiceSource; registry: ServiceSource; clickhouse: ServiceSource };
  /** Stops only what this resolution started. */
  stop(): Promise<void>;
}

export const ALL_SERVICES: ServiceNeeds = { kafka: true, registry: true, clickhouseServer: true };

export async function resolveServices(
  config: Readonly<Config>,
  logger: Logger,
  needs: ServiceNeeds = { kafka: true, registry: true, clickhouseServer: false },
): Promise<ResolvedServices> {
  const log = logger.child({ component: 'services' });
  const missing: StackServiceName[] = [];
  if (needs.kafka && !config.kafkaBrokers) missing.push('kafka');
  if (needs.registry && !config.schemaRegistryUrl) missing.push('registry');
  if (needs.clickhouseServer && !config.clickhouseUrl) missing.push('clickhouse');

  let provided: Partial<Record<StackServiceName, string>> = {};
  let source: ServiceSource = 'env';
  let stop: () => Promise<void> = async () => {};

  if (missing.length > 0) {
    if (config.servicesMode !== 'local' && (await dockerAvailable())) {
      log.info({ services: missing }, 'starting services as containers');
      const containers = await startContainers(config, missing);
      provided = containers.endpoints;
      source = 'containers';
      stop = containers.stop;
    } else if (config.servicesMode === 'containers') {
      throw new DriftlineError(
        ErrorCode.STACK_PREREQUISITE_MISSING,
        'DRIFTLINE_SERVICES=containers, but no Docker engine answers',
      );
    } else {
      log.info({ services: missing }, 'starting services from the local stack');
      const result = await stackUp(config, logger, { services: missing });
      const endpoints: Record<StackServiceName, string> = {
        kafka: result.endpoints.kafkaBrokers.join(','),
        registry: result.endpoints.schemaRegistryUrl,
        clickhouse: result.endpoints.clickhouseUrl,
      };
      // Only what was asked for: an unrequested ClickHouse server must not replace embedded chDB.
      provided = Object.fromEntries(missing.map((name) => [name, endpoints[name]]));
      source = 'local';
      const started = result.started;
      stop = async () => {
        if (started.length > 0) await stackDown(config, logger, { services: started });
      };
    }
  }

  const from = (name: StackServiceName, given: string | undefined): ServiceSource =>
    given !== undefined ? 'env' : missing.includes(name) ? source : 'embedded';

  return {
    kafkaBrokers: config.kafkaBrokers ? [...config.kafkaBrokers] : (provided.kafka?.split(',') ?? []),
    schemaRegistryUrl: config.schemaRegistryUrl ?? provided.registry ?? '',
    clickhouseUrl: config.clickhouseUrl ?? provided.clickhouse,
    sources: {
      kafka: from('kafka', config.kafkaBrokers?.join(',')),
      registry: from('registry', config.schemaRegistryUrl),
      clickhouse: from('clickhouse', config.clickhouseUrl),
    },
    stop,
  };
}
