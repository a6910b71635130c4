/** Wires the drift consumer from configuration: storage opened and migrated, then consuming. */
import type { Config } from '../../core/config.ts';
import type { DatasetDriftOptions } from '../../core/drift/index.ts';
import type { Logger } from '../../core/logger.ts';
import type { Storage } from '../../core/storage/index.ts';
import { ModelRegistry } from '../../model/registry.ts';
import { openMigratedStorage, type Runtime } from '../../platform/runtime.ts';
import { type DriftConsumer, type DriftSettings, type DriftStats, startDriftConsumer } from './consumer.ts';

export interface RunningDrift {
  consumer: DriftConsumer;
  storage: Storage;
  stats(): DriftStats;
  stop(): Promise<void>;
}

/** evaluateDataset options from the configuration. */
export function driftOptionsOf(config: Readonly<Config>): DatasetDriftOptions {
  return { driftShare: config.driftShare, minSample: config.driftMinSample, columns: config.driftColumnOverrides };
}

/** The drift consumer's settings from the configuration (DRIFT_* variables). */
export function driftSettingsOf(config: Readonly<Config>): DriftSettings {
  return {
    windowPanes: config.driftWindowPanes,
    gracePanes: config.driftGracePanes,
    graceMs: config.driftGraceMs,
    maxClockSkewMs: config.maxClockSkewSeconds * 1000,
    retrainAfter: config.driftRetrainAfter,
    evaluation: driftOptionsOf(config),
    performance: { tolerance: config.driftPerformanceTolerance, minLabels: config.driftMinLabels },
    reportsDir: config.reportsDir,
  };
}

export async function runDrift(
  config: Readonly<Config>,
  logger: Logger,
  runtime: Runtime,
  options: { models?: readonly string[]; groupId?: string; startAt?: 'beginning' | 'end' } = {},
): Promise<RunningDrift> {
  const storage = await openMigratedStorage(config, logger, runtime);
  const consumer = await startDriftConsumer({
    kafka: runtime.kafka,
    codec: runtime.codec,
    storage,
    logger,
    connect: runtime.connect,
    references: ModelRegistry.fromConfig(config),
    settings: driftSettingsOf(config),
    ...(options.models ? { models: options.models } : {}),
    ...(options.groupId ? { groupId: options.groupId } : {}),
    ...(options.startAt ? { startAt: options.startAt } : {}),
  });
  return {
    consumer,
    storage,
    stats: () => consumer.stats(),
    async stop() {
      await consumer.stop();
      await storage.close();
    },
  };
}
