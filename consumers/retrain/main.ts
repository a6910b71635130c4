/** Wires the retrain consumer and the retraining cycle from configuration. */
import type { Config } from '../../core/config.ts';
import { publishDeployment } from '../../core/deployments.ts';
import type { Logger } from '../../core/logger.ts';
import type { Storage } from '../../core/storage/index.ts';
import { openMigratedStorage, type Runtime } from '../../platform/runtime.ts';
import { type RetrainConsumer, type RetrainStats, startRetrainConsumer } from './consumer.ts';
import type { Retrainer, RetrainerOptions } from './cycle.ts';

/** What `driftline demo` changes: a group of its own, the store's storage, progress printed, a training-set size. */
export interface RetrainRunOptions extends Pick<RetrainerOptions, 'onProgress' | 'maxRows'> {
  groupId?: string;
  /** A new group starts at the end of drift-events instead of its beginning. */
  startAt?: 'beginning' | 'end';
  /** Storage opened by another consumer in this process (embedded chDB is one engine per process); not closed here. */
  storage?: Storage;
}

export interface RunningRetrain {
  consumer: RetrainConsumer;
  storage: Storage;
  stats(): RetrainStats;
  stop(): Promise<void>;
}

/** The storage (opened and migrated) and the retraining cycle, as `driftline retrain` and the consumer use them. */
export async function openRetrainer(
  config: Readonly<Config>,
  logger: Logger,
  runtime: Runtime,
  options: RetrainRunOptions = {},
): Promise<{ retrainer: Retrainer; storage: Storage }> {
  // A storage shared with the store (embedded chDB: one engine per process) is migrated already.
  const storage = options.storage ?? (await openMigratedStorage(config, logger, runtime));
  // Training loads TF.js: imported when a retrainer is made, so `driftline consume` (store, drift)
  // starts without it (cli/consume.test.ts).
  const [{ createRetrainer }, { ModelLoader }] = await Promise.all([
    import('./cycle.ts'),
    import('../../model/model-loader.ts'),
  ]);
  const retrainer = createRetrainer({
    storage,
    registry: ModelLoader.fromConfig(config),
    settings: config.retrain,
    logger,
    // Labelled rows as far ahead of the clock as the services accept events.
    maxAheadMs: Math.max(60_000, config.maxClockSkewSeconds * 1000),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.maxRows ? { maxRows: options.maxRows } : {}),
    deploy: (deployment) => publishDeployment(runtime.kafka, runtime.codec, deployment, runtime.connect),
  });
  return { retrainer, storage };
}

export async function runRetrain(
  config: Readonly<Config>,
  logger: Logger,
  runtime: Runtime,
  options: RetrainRunOptions = {},
): Promise<RunningRetrain> {
  const { retrainer, storage } = await openRetrainer(config, logger, runtime, options);
  const consumer = await startRetrainConsumer({
    kafka: runtime.kafka,
    codec: runtime.codec,
    logger,
    connect: runtime.connect,
    retrainer,
    maxEventAgeMs: config.retrain.windowHours * 3_600_000,
    ...(options.groupId ? { groupId: options.groupId } : {}),
    ...(options.startAt ? { startAt: options.startAt } : {}),
  });
  return {
    consumer,
    storage,
    stats: () => consumer.stats(),
    async stop() {
      await consumer.stop();
      if (!options.storage) await storage.close();
    },
  };
}
