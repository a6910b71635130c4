/** Wires the alert consumer from configuration: storage opened and migrated, channels built, then consuming. */
import type { Config } from '../../core/config.ts';
import type { Logger } from '../../core/logger.ts';
import type { Storage } from '../../core/storage/index.ts';
import { openMigratedStorage, type Runtime } from '../../platform/runtime.ts';
import { alertingSecrets, channelsFromConfig } from './channels/index.ts';
import { type AlertConsumer, type AlertSettings, type AlertStats, startAlertConsumer } from './consumer.ts';

export interface RunningAlert {
  consumer: AlertConsumer;
  storage: Storage;
  /** Names of the channels alerts go to (log always). */
  channels: string[];
  stats(): AlertStats;
  stop(): Promise<void>;
}

export function alertSettingsOf(config: Readonly<Config>): AlertSettings {
  return {
    updateIntervalMs: config.alerting.updateIntervalSeconds * 1000,
    retryBudgetMs: config.alerting.retryBudgetSeconds * 1000,
    dashboardUrl: config.alerting.dashboardUrl,
  };
}

export async function runAlert(
  config: Readonly<Config>,
  logger: Logger,
  runtime: Runtime,
  options: { out?: NodeJS.WritableStream | null; groupId?: string; topic?: string; storage?: Storage } = {},
): Promise<RunningAlert> {
  // A storage shared with the store (embedded chDB: one engine per process) is migrated already.
  const storage = options.storage ?? (await openMigratedStorage(config, logger, runtime));
  const channels = channelsFromConfig(config.alerting, { logger, out: options.out ?? null });
  const consumer = await startAlertConsumer({
    kafka: runtime.kafka,
    codec: runtime.codec,
    storage,
    logger,
    connect: runtime.connect,
    channels,
    settings: alertSettingsOf(config),
    secrets: alertingSecrets(config.alerting),
    ...(options.groupId ? { groupId: options.groupId } : {}),
    ...(options.topic ? { topic: options.topic } : {}),
  });
  return {
    consumer,
    storage,
    channels: channels.map((c) => c.name),
    stats: () => consumer.stats(),
    async stop() {
      await consumer.stop();
      if (!options.storage) await storage.close();
    },
  };
}
