/**
 * The predict service as a `build(options)` factory: routes, validation and metrics, with the
 * model and the event sink passed in, so tests run it with `inject()` and real or local parts.
 */
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, LogController } from 'fastify';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ErrorCode } from '../../core/errors.ts';
import {
  type ContractViolation,
  checkGroundTruth,
  checkPredictionEvent,
  DEFAULT_EVENT_TIME_BOUNDS,
  describeViolations,
  type EventTimeBounds,
} from '../../core/event-contract.ts';
import type { ModelSpec } from '../../core/feature-spec.ts';
import type { Logger } from '../../core/logger.ts';
import type { GroundTruth } from '../../core/schemas.ts';
import { type EventSink, type InputRecord, type ServingModel, score } from '../../model/scoring.ts';
import { coalescing } from './coalescing-model.ts';
import type { ModelSlot } from './model-slot.ts';
import { type AjvError, feedbackBodySchema, REQUEST_AJV_OPTIONS, validationMessage } from './request-schema.ts';
import {
  type DeployOutcome,
  type PreparedVersion,
  REFUSAL_REASONS,
  type RefusalReason,
  ServingVersions,
} from './serving-versions.ts';

export interface PredictServiceOptions {
  /**
   * The starting version's spec; its model is the one this service serves (metrics, ground
   * truth, deployments). Requests are validated against the version that serves them.
   */
  spec: ModelSpec;
  slot: ModelSlot;
  sink: EventSink;
  logger: Logger;
  /** Largest accepted request body in bytes; larger gets 413. Default 1 MiB. */
  bodyLimit?: number;
  /**
   * How far an event time may lie before or after the time its event is sent
   * (`MAX_EVENT_AGE_DAYS`, `MAX_CLOCK_SKEW_SECONDS`); outside, the request gets 400.
   */
  eventTimeBounds?: EventTimeBounds;
}

type PredictBody = InputRecord | { records: InputRecord[] };

interface FeedbackRecord {
  event_id: string;
  actual: number;
  event_time?: string;
}

type FeedbackBody = FeedbackRecord | { records: FeedbackRecord[] };

const ERROR_STATUS = { unavailable: 503 } as const;

/**
 * `code` of an answer refusing an event that breaks the event contract: the code the store
 * dead-letters such an event with, so both ends name the same rule the same way.
 */
const EVENT_INVALID = ErrorCode.EVENT_INVALID;

/** The service, plus `deploy`: swap in a checked version, or refuse it (see ServingVersions). */
export type PredictService = FastifyInstance & {
  deploy(version: number, load: (version: number) => Promise<ServingModel>): Promise<DeployOutcome>;
};

export async function build(options: PredictServiceOptions): Promise<PredictService> {
  const { spec, slot, sink } = options;
  const bounds = options.eventTimeBounds ?? DEFAULT_EVENT_TIME_BOUNDS;
  const app = Fastify({
    loggerInstance: options.logger.child({ component: 'predict-service' }) as FastifyBaseLogger,
    bodyLimit: options.bodyLimit ?? 1_048_576,
    // Per-request log lines cost more than the prediction itself; metrics cover traffic.
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { ...REQUEST_AJV_OPTIONS } },
    schemaErrorFormatter: (errors) => new Error(validationMessage(errors as AjvError[])),
  });

  const metrics = createMetrics(spec.model);
  /** Per served version: concurrent requests share model calls (coalescing-model.ts). */
  const coalescedModels = new WeakMap<ServingModel, ServingModel>();
  const coalesced = (model: ServingModel): ServingModel => {
    let view = coalescedModels.get(model);
    if (!view) {
      view = coalescing(model);
      coalescedModels.set(model, view);
    }
    return view;
  };
  const versions = new ServingVersions({
    model: spec.model,
    slot,
    sink,
    logger: options.logger,
    // fastify's own compiler (it exists once the app is ready): the same Ajv instance, options
    // and error formatter as the route schemas. ServingVersions compiles once per version.
    compile: (schema) => {
      const compiler = app.validatorCompiler;
      if (!compiler) throw new Error('request schemas can be compiled only once the app is ready');
      return compiler({ schema, method: 'POST', url: '/predict', httpPart: 'body' });
    },
    onRefused: (reason: RefusalReason) => metrics.deploymentsRefused.inc({ reason }),
  });

  // The starting version is prepared (validator compiled, schema registered) before the first
  // request, so that a problem with it stops the start-up instead of failing requests.
  app.addHook('onReady', async () => {
    if (slot.current) await versions.prepare(slot.current);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    const code = (error as { code?: string }).code ?? 'DL_INTERNAL';
    void reply
      .status(status)
      .send({ statusCode: status, code, error: reply.raw.statusMessage, message: error.message });
  });

  // No route schema: the body is validated against the version this request's lease holds, which
  // a deployment may have changed since start-up (other features, other input domains).
  app.post('/predict', async (request, reply) => {
    const lease = slot.acquire();
    if (!lease) return reply.status(ERROR_STATUS.unavailable).send(unavailable('no model is loaded yet'));
    const { model } = lease;
    try {
      let prepared: PreparedVersion;
      try {
        prepared = await versions.prepare(model);
      } catch (error) {
        request.log.error({ err: error, version: model.version }, 'model version cannot be served');
        return reply
          .status(ERROR_STATUS.unavailable)
          .send(unavailable(`model version ${model.version} cannot be served yet`));
      }
      const invalid = prepared.check(request.body);
      if (invalid !== undefined) return reply.status(400).send(badRequest('FST_ERR_VALIDATION', invalid));
      const body = request.body as PredictBody;
      const batch = 'records' in body;
      const records = batch ? body.records : [body];
      const { events, latencyMs } = await score(coalesced(model), records);
      metrics.modelLatency.observe(latencyMs / 1000);
      // The event contract is checked here, before anything is produced: a value that passes the
      // JSON schema but breaks it (a leap second is a valid date-time but no instant) must get
      // its own 400, not fail the producer batch it would share with other requests.
      const sentAt = Date.now();
      const refusal = contractRefusal(
        events,
        (event) => checkPredictionEvent(event, sentAt, bounds),
        PREDICTION_CLIENT_FIELDS,
        batch,
      );
      if (refusal.client) return reply.status(400).send(badRequest(EVENT_INVALID, refusal.client));
      if (refusal.internal) {
        const message = `${model.name} version ${model.version} produced an event that breaks the event contract: ${refusal.internal}`;
        request.log.error({ version: model.version }, message);
        return reply.status(500).send(brokenByUs(message));
      }
      try {
        await Promise.all(events.map((event) => sink.sendPrediction(event)));
      } catch (error) {
        request.log.warn({ err: error }, 'prediction events not acknowledged');
        return reply.status(ERROR_STATUS.unavailable).send(unavailable('prediction events could not be delivered'));
      }
      metrics.predictions.inc({ version: String(model.version) }, events.length);
      const answers = events.map((e) => ({ event_id: e.event_id, prediction: e.prediction }));
      const head = { model_name: model.name, model_version: model.version };
      return batch ? { ...head, predictions: answers } : { ...head, ...answers[0] };
    } finally {
      lease.release();
    }
  });

  app.post<{ Body: FeedbackBody }>('/feedback', { schema: { body: feedbackBodySchema } }, async (request, reply) => {
    const records = 'records' in request.body ? request.body.records : [request.body];
    const now = Date.now();
    const truths = records.map(
      (r): GroundTruth => ({
        event_id: r.event_id,
        model_name: spec.model,
        actual: r.actual,
        event_time: new Date(r.event_time ?? now),
      }),
    );
    const refusal = contractRefusal(
      truths,
      (truth) => checkGroundTruth(truth, now, bounds),
      TRUTH_CLIENT_FIELDS,
      'records' in request.body,
    );
    if (refusal.client) return reply.status(400).send(badRequest(EVENT_INVALID, refusal.client));
    if (refusal.internal) {
      const message = `a ground-truth event breaks the event contract: ${refusal.internal}`;
      request.log.error(message);
      return reply.status(500).send(brokenByUs(message));
    }
    try {
      await Promise.all(truths.map((truth) => sink.sendGroundTruth(truth)));
    } catch (error) {
      request.log.warn({ err: error }, 'ground truth not acknowledged');
      return reply.status(ERROR_STATUS.unavailable).send(unavailable('ground truth could not be delivered'));
    }
    metrics.feedback.inc(records.length);
    return reply
      .status(202)
      .send(
        'records' in request.body ? { accepted: records.length } : { event_id: records[0]?.event_id, accepted: true },
      );
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const model = slot.current;
    const ready = model !== undefined && sink.ready();
    return reply
      .status(ready ? 200 : 503)
      .send({ ready, model_name: spec.model, model_version: model?.version ?? null, sink: sink.ready() });
  });

  app.get('/metrics', async (_request, reply) => {
    metrics.modelVersion.set(slot.current?.version ?? 0);
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.decorate('deploy', async (version: number, load: (version: number) => Promise<ServingModel>) => {
    await app.ready(); // the validator compiler exists once the app is ready
    return versions.deploy(version, load);
  });
  // Resolves (fastify instances are thenable: this awaits the boot) to this same, decorated object.
  return app as unknown as PredictService;
}

/** Fields a client sets; a contract violation elsewhere (prediction, latency) is the service's fault. */
const PREDICTION_CLIENT_FIELDS = /^(event_time|entity_id|segment|features\.)/;
const TRUTH_CLIENT_FIELDS = /^(event_id|actual|event_time)$/;

/**
 * The contract violations of a request's events as messages naming each field as the client
 * wrote it (`records[3].event_time …` in a batch): `client` for a 400, `internal` for a 500.
 */
function contractRefusal<T>(
  events: readonly T[],
  check: (event: T) => ContractViolation[],
  clientFields: RegExp,
  batch: boolean,
): { client?: string; internal?: string } {
  const client: ContractViolation[] = [];
  const internal: ContractViolation[] = [];
  events.forEach((event, i) => {
    for (const v of check(event)) {
      const named = batch ? { field: `records[${i}].${v.field}`, message: v.message } : v;
      (clientFields.test(v.field) ? client : internal).push(named);
    }
  });
  return {
    ...(client.length > 0 ? { client: describeViolations(client) } : {}),
    ...(internal.length > 0 ? { internal: describeViolations(internal) } : {}),
  };
}

function badRequest(code: string, message: string) {
  return { statusCode: 400, code, error: 'Bad Request', message };
}

/** An event the service itself made breaks the contract (say, a non-finite prediction). */
function brokenByUs(message: string) {
  return { statusCode: 500, code: EVENT_INVALID, error: 'Internal Server Error', message };
}

function unavailable(message: string) {
  return { statusCode: 503, code: 'DL_UNAVAILABLE', error: 'Service Unavailable', message };
}

function createMetrics(model: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ model });
  return {
    registry,
    predictions: new Counter({
      name: 'driftline_predictions_total',
      help: 'Predictions served and acknowledged by Kafka',
      labelNames: ['version'],
      registers: [registry],
    }),
    feedback: new Counter({
      name: 'driftline_feedback_total',
      help: 'Ground-truth values accepted',
      registers: [registry],
    }),
    modelLatency: new Histogram({
      name: 'driftline_model_latency_seconds',
      help: 'Time the model took per predict call',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers: [registry],
    }),
    deploymentsRefused: refusedCounter(registry),
    modelVersion: new Gauge({
      name: 'driftline_model_version',
      help: 'Model version being served',
      registers: [registry],
    }),
  };
}

function refusedCounter(registry: Registry): Counter<'reason'> {
  const counter = new Counter({
    name: 'driftline_deployments_refused_total',
    help: 'Model deployments not applied (the current version kept serving), by reason',
    labelNames: ['reason'],
    registers: [registry],
  });
  // Every reason present from the start, so an alert on increase() sees the first refusal.
  for (const reason of REFUSAL_REASONS) counter.inc({ reason }, 0);
  return counter;
}
