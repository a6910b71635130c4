import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { parseConfig } from '../../core/config.ts';
import { publishDeployment } from '../../core/deployments.ts';
import { DriftlineError, ErrorCode } from '../../core/errors.ts';
import type { ModelSpec } from '../../core/feature-spec.ts';
import { AvroCodec } from '../../core/kafka/avro.ts';
import { createKafka } from '../../core/kafka/client.ts';
import { createLogger } from '../../core/logger.ts';
import type { GroundTruth, PredictionEvent } from '../../core/schemas.ts';
import { predictionsTopic, TOPICS } from '../../core/topics.ts';
import type { ServingModel } from '../../model/scoring.ts';
import { startRuntime } from '../../platform/runtime.ts';
import { readTopic as readTopicFrom } from '../../test-support/read-topic.ts';
import { until } from '../../test-support/until.ts';
import { build, type PredictService } from './app.ts';
import { deploymentsEndOffsets, followDeployments } from './deployments.ts';
import { createKafkaSink, type KafkaSink } from './kafka-sink.ts';
import { startPredictService, type VersionSource } from './main.ts';
import { ModelSlot } from './model-slot.ts';

const services = inject('services');
const logger = createLogger('silent');
const connect = { brokers: services.kafkaBrokers, connectTimeoutMs: 10_000, partitions: 2 };

function toySpec(): ModelSpec {
  return {
    model: `toy-${randomBytes(4).toString('hex')}`,
    target: 'y',
    features: [
      { name: 'MedInc', type: 'double', optional: false },
      { name: 'HouseAge', type: 'double', optional: false },
    ],
  };
}

/** prediction = MedInc + version: a response tells which version answered it. */
function versionedModel(spec: ModelSpec, version: number): ServingModel {
  return { name: spec.model, version, spec, predict: (rows) => rows.map(([x = 0]) => x + version), dispose() {} };
}

/** Reads every message of `topic` from the beginning until `done` says enough, or times out. */
async function readTopic<T>(kafka: Kafka, codec: AvroCodec, topic: string, done: (seen: T[]) => boolean): Promise<T[]> {
  const consumer = kafka.consumer({ groupId: `reader-${randomBytes(4).toString('hex')}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: T[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${seen.length} messages within 60 s`)), 60_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          seen.push(await codec.decode<T>(message.value as Buffer));
          if (done(seen)) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

describe('predict service against real Kafka and schema registry', () => {
  let kafka: Kafka;
  let codec: AvroCodec;
  const spec = toySpec();
  const slot = new ModelSlot();
  let sink: KafkaSink;
  let app: PredictService;

  function promote(model: string, version: number): Promise<void> {
    const deployment = {
      model_name: model,
      model_version: version,
      action: 'promote' as const,
      metrics: { rmse: 0.5, mae: 0.3, r2: 0.8 },
      location: 'test',
      deployed_at: new Date(),
    };
    return publishDeployment(kafka, codec, deployment, connect);
  }

  /** A service of a fresh model following deployments; `specOf(version)` is each version's spec. */
  async function serveModel(specOf: (version: number) => ModelSpec) {
    const first = specOf(1);
    const modelSlot = new ModelSlot();
    modelSlot.swap(versionedModel(first, 1));
    const modelSink = await createKafkaSink({ kafka, codec, spec: first, logger, ...connect });
    const service = await build({ spec: first, slot: modelSlot, sink: modelSink, logger });
    const follower = await followDeployments({
      kafka,
      codec,
      model: first.model,
      logger,
      ...connect,
      startOffsets: await deploymentsEndOffsets({ kafka, ...connect }),
      deploy: (version) => service.deploy(version, async (v) => versionedModel(specOf(v), v)),
    });
    onTestFinished(async () => {
      await follower.close();
      await service.close();
      await modelSink.close();
    });
    return { spec: first, slot: modelSlot, app: service };
  }

  beforeAll(async () => {
    kafka = createKafka({ brokers: services.kafkaBrokers, clientId: 'predict-test', connectTimeoutMs: 10_000, logger });
    codec = new AvroCodec({ url: services.schemaRegistryUrl });
    slot.swap(versionedModel(spec, 1));
    sink = await createKafkaSink({ kafka, codec, spec, logger, ...connect });
    app = await build({ spec, slot, sink, logger });
  });

  afterAll(async () => {
    await app?.close();
    await sink?.close();
  });

  it('POST /predict: the event read back from Kafka decodes to the same features, prediction and version', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/predict',
      payload: { features: { MedInc: 8.3252, HouseAge: 41 }, entity_id: 'block-7' },
    });
    expect(res.statusCode).toBe(200);
    const answer = res.json();
    expect(answer).toMatchObject({ model_name: spec.model, model_version: 1, prediction: 9.3252 });

    const events = await readTopic<PredictionEvent>(kafka, codec, predictionsTopic(spec.model), (seen) =>
      seen.some((e) => e.event_id === answer.event_id),
    );
    const event = events.find((e) => e.event_id === answer.event_id);
    expect(event).toMatchObject({
      model_name: spec.model,
      model_version: 1,
      features: { MedInc: 8.3252, HouseAge: 41 },
      prediction: 9.3252,
      entity_id: 'block-7',
      segment: null,
    });
    expect(event?.event_time).toBeInstanceOf(Date);
    expect(event?.latency_ms).toBeGreaterThanOrEqual(0);
  });

  it('a new optional feature registers; a new required feature is refused before anything is produced', async () => {
    const withOptional: ModelSpec = {
      ...spec,
      features: [...spec.features, { name: 'Coast', type: 'double', optional: true }],
    };
    const evolved = await createKafkaSink({ kafka, codec, spec: withOptional, logger, ...connect });
    await evolved.close();

    const admin = kafka.admin();
    await admin.connect();
    const before = await admin.fetchTopicOffsets(predictionsTopic(spec.model));
    const withRequired: ModelSpec = {
      ...spec,
      features: [...spec.features, { name: 'Rooms', type: 'double', optional: false }],
    };
    const refused = await createKafkaSink({ kafka, codec, spec: withRequired, logger, ...connect }).catch(
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(DriftlineError);
    expect((refused as DriftlineError).code).toBe(ErrorCode.SCHEMA_REJECTED);
    expect((refused as DriftlineError).message).toContain(`predictions.${spec.model}-value`);
    expect(await admin.fetchTopicOffsets(predictionsTopic(spec.model))).toEqual(before);
    await admin.disconnect();
  });

  // Regression: the sink encoded a whole producer batch at once, so one event that Avro could not
  // encode (an Invalid Date) failed every request sharing its batch.
  it('an event that cannot be encoded fails only its own send, not the others of its batch', async () => {
    const batchSpec = toySpec();
    const batchSink = await createKafkaSink({ kafka, codec, spec: batchSpec, logger, ...connect, lingerMs: 200 });
    onTestFinished(() => batchSink.close());
    const event = (medInc: number, eventTime: Date): PredictionEvent => ({
      event_id: crypto.randomUUID(),
      model_name: batchSpec.model,
      model_version: 1,
      event_time: eventTime,
      features: { MedInc: medInc, HouseAge: 1 },
      prediction: medInc,
      latency_ms: 0.1,
      entity_id: null,
      segment: null,
    });
    const events = [event(1, new Date()), event(2, new Date('2016-12-31T23:59:60Z')), event(3, new Date())];
    const sent = await Promise.allSettled(events.map((e) => batchSink.sendPrediction(e)));

    expect(sent.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const refused = (sent[1] as PromiseRejectedResult).reason;
    expect(refused).toBeInstanceOf(DriftlineError);
    expect((refused as DriftlineError).code).toBe(ErrorCode.ENCODE_FAILED);
    const read = await readTopic<PredictionEvent>(
      kafka,
      codec,
      predictionsTopic(batchSpec.model),
      (seen) => seen.length >= 2,
    );
    expect(read.map((e) => e.features.MedInc).sort()).toEqual([1, 3]);
  });

  // Regression: requests were validated (route schema) and encoded (Avro schema) with the starting
  // version's spec, so a promoted version with another feature set got every request refused.
  it('a deployed version with a new optional feature is validated and encoded with its own schema', async () => {
    const base = toySpec();
    const withCoast: ModelSpec = {
      ...base,
      features: [...base.features, { name: 'Coast', type: 'double', optional: true }],
    };
    const { spec: served, slot: servedSlot, app: service } = await serveModel((v) => (v === 1 ? base : withCoast));
    await promote(served.model, 2);
    await until(() => servedSlot.current?.version === 2, 'version 2 swapped in');

    const res = await service.inject({
      method: 'POST',
      url: '/predict',
      payload: { features: { MedInc: 1, HouseAge: 2, Coast: 0.5 } },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ model_version: 2, prediction: 3 });
    const events = await readTopic<PredictionEvent>(kafka, codec, predictionsTopic(served.model), (seen) =>
      seen.some((e) => e.event_id === res.json().event_id),
    );
    expect(events.find((e) => e.event_id === res.json().event_id)?.features).toEqual({
      MedInc: 1,
      HouseAge: 2,
      Coast: 0.5,
    });
  });

  it('a deployment whose schema the registry refuses is not swapped in, and is counted', async () => {
    const base = toySpec();
    const withRooms: ModelSpec = {
      ...base,
      features: [...base.features, { name: 'Rooms', type: 'double', optional: false }],
    };
    const { spec: served, slot: servedSlot, app: service } = await serveModel((v) => (v === 1 ? base : withRooms));
    await promote(served.model, 2);
    await until(
      async () =>
        (await service.inject({ method: 'GET', url: '/metrics' })).body.includes(
          `driftline_deployments_refused_total{reason="schema_rejected",model="${served.model}"} 1`,
        ),
      'the refusal counted on /metrics',
    );
    expect(servedSlot.current?.version).toBe(1);
    const res = await service.inject({
      method: 'POST',
      url: '/predict',
      payload: { features: { MedInc: 1, HouseAge: 2 } },
    });
    expect(res.json()).toMatchObject({ model_version: 1, prediction: 2 });
  });

  it('POST /feedback lands in ground-truth', async () => {
    const eventId = crypto.randomUUID();
    // ground-truth is shared by every test and run: read only what arrives after this point.
    const admin = kafka.admin();
    await admin.connect();
    const before = new Map(
      (await admin.fetchTopicOffsets(TOPICS.groundTruth)).map((o) => [o.partition, BigInt(o.high)] as const),
    );
    await admin.disconnect();
    const res = await app.inject({ method: 'POST', url: '/feedback', payload: { event_id: eventId, actual: 3.25 } });
    expect(res.statusCode).toBe(202);
    const messages = await readTopicFrom(kafka, TOPICS.groundTruth, () => true, before);
    const truths = await Promise.all(messages.map((m) => codec.decode<GroundTruth>(m.value as Buffer)));
    expect(truths.find((t) => t.event_id === eventId)).toMatchObject({ actual: 3.25, model_name: spec.model });
  });

  it('a model swap through model-deployments under continuous load loses no request', async () => {
    let onSwap: (model: ServingModel) => void = () => {};
    const swapped = new Promise<ServingModel>((resolve) => {
      onSwap = resolve;
    });
    const follower = await followDeployments({
      kafka,
      codec,
      model: spec.model,
      logger,
      ...connect,
      startOffsets: await deploymentsEndOffsets({ kafka, ...connect }),
      deploy: async (version) => {
        const outcome = await app.deploy(version, async (v) => versionedModel(spec, v));
        if (outcome.applied) onSwap(outcome.model);
      },
    });
    onTestFinished(() => follower.close());

    const answers: { event_id: string; model_version: number; prediction: number; medInc: number }[] = [];
    const failures: number[] = [];
    let stop = false;
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const medInc = w * 100_000 + i;
        const res = await app.inject({
          method: 'POST',
          url: '/predict',
          payload: { features: { MedInc: medInc, HouseAge: 1 } },
        });
        if (res.statusCode !== 200) failures.push(res.statusCode);
        else answers.push({ ...res.json(), medInc });
      }
    };
    const load = Promise.all([1, 2, 3, 4].map(worker));
    await new Promise((r) => setTimeout(r, 500));
    await promote(spec.model, 2);
    expect((await swapped).version).toBe(2);
    await new Promise((r) => setTimeout(r, 500));
    stop = true;
    await load;

    expect(failures).toEqual([]);
    const versions = new Set(answers.map((a) => a.model_version));
    expect(versions).toEqual(new Set([1, 2]));
    // Each answer is internally consistent: its prediction came from the version it names.
    for (const a of answers) expect(a.prediction).toBe(a.medInc + a.model_version);

    const ids = new Set(answers.map((a) => a.event_id));
    const events = await readTopic<PredictionEvent>(kafka, codec, predictionsTopic(spec.model), (seen) => {
      return seen.filter((e) => ids.has(e.event_id)).length >= ids.size;
    });
    const byId = new Map(events.map((e) => [e.event_id, e]));
    for (const a of answers) expect(byId.get(a.event_id)?.model_version).toBe(a.model_version);
  });

  // Regression: the champion was read before the deployments topic's start offsets were taken,
  // so a promotion made in between was skipped and the old version served until a restart.
  it('a promotion made while the service reads its champion at start-up is applied', async () => {
    const base = toySpec();
    const registry: VersionSource = {
      async loadVersion(model, ref) {
        if (ref !== 'champion') return versionedModel(base, ref);
        // The promotion lands while the champion, still version 1, is being read.
        await promote(model, 2);
        return versionedModel(base, 1);
      },
    };
    const config = parseConfig({
      KAFKA_BROKERS: services.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: services.schemaRegistryUrl,
      KAFKA_TOPIC_PARTITIONS: String(connect.partitions),
    });
    const runtime = await startRuntime(config, logger);
    const service = await startPredictService(
      config,
      logger,
      runtime,
      base.model,
      { host: '127.0.0.1', port: 0 },
      registry,
    );
    onTestFinished(() => service.stop());
    await until(() => service.slot.current?.version === 2, 'the promotion made during start-up applied', 20_000);
  });

  // Regression: every start left a consumer group `predict-service.<model>.<uuid>` behind.
  it('closing the deployment follower removes its consumer group', async () => {
    const base = toySpec();
    const prefix = `predict-service.${base.model}.`;
    const groups = async () => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        return (await admin.listGroups()).groups.map((g) => g.groupId).filter((id) => id.startsWith(prefix));
      } finally {
        await admin.disconnect();
      }
    };
    const follower = await followDeployments({
      kafka,
      codec,
      model: base.model,
      logger,
      ...connect,
      startOffsets: await deploymentsEndOffsets({ kafka, ...connect }),
      deploy: async () => {},
    });
    await until(async () => (await groups()).length === 1, 'the follower group to exist');
    await follower.close();
    expect(await groups()).toEqual([]);
  });
});
