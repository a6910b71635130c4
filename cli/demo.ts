import { connectAdmin, createKafka } from '../core/kafka/client.ts';
import { resolveServices } from '../core/services.ts';
import { openStorage } from '../core/storage/index.ts';
import type { Command } from './command.ts';

/**
 * The main job. For now it brings up every service the pipeline needs (from the environment,
 * containers or the local stack), checks each answers, and reports where they are.
 */
export const demoCommand: Command = {
  name: 'demo',
  usage: 'demo',
  summary: 'run the main job on local defaults: bring the services up and check them',
  async run(_args, { config, logger, out }) {
    const services = await resolveServices(config, logger, { kafka: true, registry: true, clickhouseServer: false });
    const kafka = createKafka({
      brokers: services.kafkaBrokers,
      clientId: config.kafkaClientId,
      connectTimeoutMs: config.kafkaConnectTimeoutMs,
      logger,
    });
    const admin = await connectAdmin(kafka, {
      brokers: services.kafkaBrokers,
      connectTimeoutMs: config.kafkaConnectTimeoutMs,
    });
    const cluster = await admin.describeCluster();
    await admin.disconnect();

    const subjects = await fetch(`${services.schemaRegistryUrl}/subjects`, { signal: AbortSignal.timeout(10_000) });
    if (!subjects.ok) throw new Error(`schema registry answered HTTP ${subjects.status}`);

    const storage = await openStorage(
      config,
      logger,
      services.clickhouseUrl ? { clickhouseUrl: services.clickhouseUrl } : {},
    );
    const [version] = await storage.query<{ version: string }>('SELECT version() AS version');
    await storage.close();

    out.write(
      [
        `kafka       ${services.kafkaBrokers.join(',')} (${services.sources.kafka}, ${cluster.brokers.length} broker)`,
        `registry    ${services.schemaRegistryUrl} (${services.sources.registry})`,
        `clickhouse  ${services.clickhouseUrl ?? config.chdbPath} (${services.sources.clickhouse}, ${storage.kind} ${version?.version ?? '?'})`,
        'services are up; the streaming pipeline is added by the next milestones (see README).',
        '',
      ].join('\n'),
    );
    return 0;
  },
};
