/**
 * Wires the predict service: the champion model from the registry, the Kafka sink, the
 * deployment follower and the HTTP server. `stop()` closes them in order: no new requests,
 * in-flight events flushed, then Kafka clients.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../core/config.ts';
import { eventTimeBoundsOf } from '../../core/event-contract.ts';
import type { Logger } from '../../core/logger.ts';
import type { Runtime } from '../../core/runtime.ts';
import { ModelRegistry } from '../../model/registry.ts';
import { build } from './app.ts';
import { followDeployments } from './deployments.ts';
import { createKafkaSink } from './kafka-sink.ts';
import { ModelSlot } from './model-slot.ts';

export interface RunningPredictService {
  app: FastifyInstance;
  url: string;
  slot: ModelSlot;
  stop(): Promise<void>;
}

export async function startPredictService(
  config: Readonly<Config>,
  logger: Logger,
  runtime: Runtime,
  model: string,
  listen: { host: string; port: number } = { host: config.predictHost, port: config.predictPort },
): Promise<RunningPredictService> {
  const registry = ModelRegistry.fromConfig(config);
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
