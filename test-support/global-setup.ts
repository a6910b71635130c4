/**
 * Integration tests' services, resolved once per run: environment endpoints, else containers,
 * else the local stack (provisioned on first use). Only what this run started is stopped.
 */
import type { TestProject } from 'vitest/node';
import { parseConfig } from '../core/config.ts';
import { createLogger } from '../core/logger.ts';
import { ALL_SERVICES, resolveServices } from '../platform/services.ts';

export interface TestServices {
  kafkaBrokers: string[];
  schemaRegistryUrl: string;
  clickhouseUrl: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    services: TestServices;
  }
}

export default async function setup(project: TestProject) {
  const config = parseConfig();
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const resolved = await resolveServices(config, logger, ALL_SERVICES);
  if (!resolved.clickhouseUrl) throw new Error('integration tests need a ClickHouse server');
  process.stderr.write(
    `integration services: kafka ${resolved.kafkaBrokers.join(',')} (${resolved.sources.kafka}), ` +
      `registry ${resolved.schemaRegistryUrl} (${resolved.sources.registry}), ` +
      `clickhouse ${resolved.clickhouseUrl} (${resolved.sources.clickhouse})\n`,
  );
  project.provide('services', {
    kafkaBrokers: resolved.kafkaBrokers,
    schemaRegistryUrl: resolved.schemaRegistryUrl,
    clickhouseUrl: resolved.clickhouseUrl,
  });
  return async () => {
    await resolved.stop();
  };
}
