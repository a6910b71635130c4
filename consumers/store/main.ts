/** Wires the store consumer from configuration: storage opened and migrated, then consuming. */
import type { Config } from '../../core/config.ts';
import { eventTimeBoundsOf } from '../../core/event-contract.ts';
import type { Logger } from '../../core/logger.ts';
import type { Storage } from '../../core/storage/index.ts';
import { openMigratedStorage, type Runtime } from '../../platform/runtime.ts';
import { type StoreConsumer, startStoreConsumer } from './consumer.ts';

export interface RunningStore {
  consumer: StoreConsumer;
  storage: Storage;
  stop(): Promise<void>;
}

export async function runStore(
  config: Readonly<Config>,
  logger: Logger,
  runtime: Runtime,
  topics?: readonly string[],
): Promise<RunningStore> {
  const storage = await openMigratedStorage(config, logger, runtime);
  const consumer = await startStoreConsumer({
    kafka: runtime.kafka,
    codec: runtime.codec,
    storage,
    logger,
    connect: runtime.connect,
    ...(topics ? { topics } : {}),
    batchRows: config.storeBatchRows,
    batchMs: config.storeBatchMs,
    panes: { paneMs: config.paneSeconds * 1000, allowedLatenessMs: config.allowedLatenessSeconds * 1000 },
    idleCloseMs: config.paneIdleSeconds * 1000,
    eventTimeBounds: eventTimeBoundsOf(config),
  });
  return {
    consumer,
    storage,
    async stop() {
      await consumer.stop();
      await storage.close();
    },
  };
}
