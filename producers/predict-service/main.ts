/**
 * Wires the predict service: the champion model from the registry, the Kafka sink, the
 * deployment follower and the HTTP server. `stop()` closes them in order: the deployment
 * follower (its consumer group removed), no new requests, in-flight events flushed, then the
 * producer.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../core/config.ts';
import { eventTimeBoundsOf } from '../../core/event-contract.ts';
import type { Logger } from '../../core/logger.ts';
import { ModelLoader } from '../../model/model-loader.ts';
import type { VersionRef } from '../../model/registry.ts';
import type { ServingModel } from '../../model/scoring.ts';
import type { Runtime } from '../../platform/runtime.ts';
import { build } from './app.ts';
import { deploymentsEndOffsets, followDeployments } from './deployments.ts';
import { createKafkaSink } from './kafka-sink.ts';
import { ModelSlot } from './model-slot.ts';

export interface RunningPredictService {
  app: FastifyInstance;
  url: string;
  slot: ModelSlot;
  stop(): Promise<void>;
}

/** Where versions are loaded from; the model registry of `config` unless given (tests). */
export interface VersionSource {
  loadVersion(model: string, ref: VersionRef): Promise<ServingModel>;
}

export async function startPredictService(
  config: Readonly<Config>,
  logger: Logger,
  runtime: Runtime,
  model: string,
  listen: { host: string; port: number } = { host: config.predictHost, port: config.predictPort },
  registry: VersionSource = ModelLoader.fromConfig(config),
): Promise<RunningPredictService> {
  // End offsets first, then the champion: a promotion made after this point, even while the
  // champion is being read, lies past these offsets and is applied by the follower.
  const deploymentsStart = await deploymentsEndOffsets({ kafka: runtime.kafka, ...runtime.connect });
  const champion = await registry.loadVersion(model, 'champion');
  const slot = new ModelSlot();
  slot.swap(champion);
  const sink = await createKafkaSink({
    kafka: runtime.kafka,
    codec: runtime.codec,
    spec: champion.spec,
    logger,
    ...runtime.connect,
  });
  const app = await build({
    spec: champion.spec,
    slot,
    sink,
    logger,
    bodyLimit: config.predictBodyLimitBytes,
    eventTimeBounds: eventTimeBoundsOf(config),
  });
  const follower = await followDeployments({
    kafka: runtime.kafka,
    codec: runtime.codec,
    model,
    logger,
    ...runtime.connect,
    startOffsets: deploymentsStart,
    deploy: (version) => app.deploy(version, (v) => registry.loadVersion(model, v)),
  });
  const address = await app.listen({ host: listen.host, port: listen.port });
  logger.info({ address, model, version: champion.version }, 'predict service listening');
  return {
    app,
    url: address,
    slot,
    async stop() {
      await follower.close(); // no swap while the last requests finish
      await app.close();
      await sink.close();
      slot.close();
    },
  };
}
