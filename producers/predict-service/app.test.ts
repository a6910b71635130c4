import { afterEach, describe, expect, it } from 'vitest';
import { DriftlineError, ErrorCode } from '../../core/errors.ts';
import type { EventTimeBounds } from '../../core/event-contract.ts';
import type { ModelSpec } from '../../core/feature-spec.ts';
import { createLogger } from '../../core/logger.ts';
import type { GroundTruth, PredictionEvent } from '../../core/schemas.ts';
import type { Preprocessing } from '../../model/preprocess.ts';
import type { EventSink, ServingModel } from '../../model/scoring.ts';
import { build, type PredictService } from './app.ts';
import { ModelSlot } from './model-slot.ts';

const spec: ModelSpec = {
  model: 'toy',
  target: 'y',
  features: [
    { name: 'a', type: 'double', optional: false },
    { name: 'b', type: 'double', optional: false },
    { name: 'c', type: 'double', optional: true },
  ],
};

/** Version 2 of the toy model: `c` dropped, `d` added as a required feature. */
const specV2: ModelSpec = {
  model: 'toy',
  target: 'y',
  features: [
    { name: 'a', type: 'double', optional: false },
    { name: 'b', type: 'double', optional: false },
    { name: 'd', type: 'double', optional: false },
  ],
};

/** `b` is log-transformed (and so defined only for b > −1); the other features are not. */
function logB(modelSpec: ModelSpec): Preprocessing {
  return {
    features: modelSpec.features.map((f) => ({
      name: f.name,
      log1p: f.name === 'b',
      clipMin: -10,
      clipMax: 10,
      mean: 0,
      std: 1,
    })),
  };
}

/** y = a + 2b, tagged with its version so tests can tell models apart. */
function linearModel(
  version: number,
  modelSpec: ModelSpec = spec,
  preprocessing?: Preprocessing,
): ServingModel & { disposed: boolean } {
  return {
    name: modelSpec.model,
    version,
    spec: modelSpec,
    ...(preprocessing ? { preprocessing } : {}),
    disposed: false,
    predict: (rows) => rows.map(([a = 0, b = 0]) => a + 2 * b + version * 1000),
    dispose() {
      this.disposed = true;
    },
  };
}

class MemorySink implements EventSink {
  predictions: PredictionEvent[] = [];
  truths: GroundTruth[] = [];
  failing = false;
  /** Versions whose schema was registered; `refusedVersions` plays a registry refusing theirs. */
  registered: number[] = [];
  refusedVersions = new Set<number>();
  async registerVersion(model: { version: number; spec: ModelSpec }) {
    if (this.refusedVersions.has(model.version)) {
      throw new DriftlineError(
        ErrorCode.SCHEMA_REJECTED,
        `schema of version ${model.version} is not BACKWARD compatible`,
      );
    }
    this.registered.push(model.version);
  }
  async sendPrediction(event: PredictionEvent) {
    if (this.failing) throw new Error('broker down');
    this.predictions.push(event);
  }
  async sendGroundTruth(event: GroundTruth) {
    this.truths.push(event);
  }
  ready() {
    return !this.failing;
  }
}

async function setup(bodyLimit?: number, eventTimeBounds?: EventTimeBounds, logger = createLogger('silent')) {
  const slot = new ModelSlot();
  slot.swap(linearModel(1));
  const sink = new MemorySink();
  const app = await build({
    spec,
    slot,
    sink,
    logger,
    ...(bodyLimit ? { bodyLimit } : {}),
    ...(eventTimeBounds ? { eventTimeBounds } : {}),
  });
  return { app, slot, sink };
}

const DAY_MS = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

let close: (() => Promise<unknown>) | undefined;
afterEach(async () => {
  await close?.();
});

describe('POST /predict', () => {
  it('answers one record with its prediction, event id and version, after the event is sent', async () => {
    const { app, sink } = await setup();
    close = () => app.close();
    const res = await app.inject({
      method: 'POST',
      url: '/predict',
      payload: { features: { a: 1, b: 2 }, segment: 's1' },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ model_name: 'toy', model_version: 1, prediction: 1005 });
    expect(sink.predictions).toHaveLength(1);
    expect(sink.predictions[0]).toMatchObject({
      event_id: body.event_id,
      features: { a: 1, b: 2, c: null },
      prediction: 1005,
      model_version: 1,
      segment: 's1',
      entity_id: null,
    });
  });

  it('answers a batch in order', async () => {
    const { app, sink } = await setup();
    close = () => app.close();
    const records = [{ features: { a: 1, b: 0 } }, { features: { a: 0, b: 1, c: 3 } }];
    const res = await app.inject({ method: 'POST', url: '/predict', payload: { records } });
    expect(res.statusCode).toBe(200);
    expect(res.json().predictions.map((p: { prediction: number }) => p.prediction)).toEqual([1001, 1002]);
    expect(sink.predictions.map((e) => e.features.c)).toEqual([null, 3]);
  });

  it.each([
    [{ features: { a: 1 } }, 'features.b is required'],
    [{ features: { a: 1, b: 2, d: 4 } }, 'features.d is not an accepted field'],
    [{ features: { a: 1, b: 'two' } }, 'features.b must be a number'],
    [{ features: { a: 1, b: '2' } }, 'features.b must be a number'],
    [{ features: { a: null, b: 2 } }, 'features.a must be a number'],
    [{ features: { a: 1, b: 2 }, colour: 'red' }, 'colour is not an accepted field'],
    [{ records: [{ features: { a: 1, b: 2 } }, { features: { a: 1 } }] }, 'records[1].features.b is required'],
    [{ records: [] }, 'records must NOT have fewer than 1 items'],
    [{}, 'features is required'],
  ])('refuses %j with 400: %s', async (payload, message) => {
    const { app, sink } = await setup();
    close = () => app.close();
    const res = await app.inject({ method: 'POST', url: '/predict', payload });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toBe(message);
    expect(sink.predictions).toHaveLength(0);
  });

  // Regression: a leap second passes JSON Schema's date-time but is no instant; its Invalid Date
  // failed Avro encoding for every request sharing its producer batch (all answered 503).
  it.each([
    [{ features: { a: 1, b: 2 }, event_time: '2016-12-31T23:59:60Z' }, 'event_time is not a valid time'],
    [
      {
        records: [
          ...Array.from({ length: 3 }, () => ({ features: { a: 1, b: 2 } })),
          { features: { a: 1, b: 2 }, event_time: '2016-12-31T23:59:60Z' },
        ],
      },
      'records[3].event_time is not a valid time',
    ],
    [
      { features: { a: 1, b: 2 }, event_time: '9999-12-31T00:00:00Z' },
      'event_time must be between 1970-01-01 and 2106-02-07 (what ClickHouse DateTime holds); got 9999-12-31T00:00:00.000Z',
    ],
    [{ features: { a: 1e200, b: 2 } }, 'features.a must be within ±1e15; got 1e+200'],
  ])('refuses an event that breaks the event contract, before anything is sent: %j', async (payload, message) => {
    const { app, sink } = await setup();
    close = () => app.close();
    const res = await app.inject({ method: 'POST', url: '/predict', payload });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'DL_EVENT_INVALID', message });
    expect(sink.predictions).toHaveLength(0);
  });

  it('refuses an event time too far ahead of the time it was sent, naming the limit', async () => {
    const { app, sink } = await setup();
    close = () => app.close();
    const eventTime = iso(Date.now() + 10 * DAY_MS);
    const res = await app.inject({
      method: 'POST',
      url: '/predict',
      payload: { features: { a: 1, b: 2 }, event_time: eventTime },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toBe(
      `event_time is 10 days ahead of the time it was sent (at most 5 minutes accepted, MAX_CLOCK_SKEW_SECONDS); got ${eventTime}`,
    );
    expect(sink.predictions).toHaveLength(0);
  });

  it('answers 500, not 400, when the model breaks the event contract, and sends nothing', async () => {
    const { app, slot, sink } = await setup();
    close = () => app.close();
    slot.swap({ ...linearModel(2), predict: (rows) => rows.map(() => Number.NaN) });
    const res = await predict(app, { a: 1, b: 2 });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({
      code: 'DL_EVENT_INVALID',
      message:
        'toy version 2 produced an event that breaks the event contract: prediction must be a finite number; got NaN',
    });
    expect(sink.predictions).toHaveLength(0);
  });

  it('judges event times with the bounds it was built with', async () => {
    const threeDaysAgo = iso(Date.now() - 3 * DAY_MS);
    const payload = { features: { a: 1, b: 2 }, event_time: threeDaysAgo };
    const lenient = await setup();
    const strict = await setup(undefined, { maxAgeMs: DAY_MS, maxSkewMs: 0 });
    close = async () => {
      await lenient.app.close();
      await strict.app.close();
    };
    expect((await lenient.app.inject({ method: 'POST', url: '/predict', payload })).statusCode).toBe(200);
    const res = await strict.app.inject({ method: 'POST', url: '/predict', payload });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toBe(
      `event_time is 3 days older than the time it was sent (at most 24 hours accepted, MAX_EVENT_AGE_DAYS); got ${threeDaysAgo}`,
    );
  });

  it('refuses a body over the limit with 413', async () => {
    const { app } = await setup(2_000);
    close = () => app.close();
    const records = Array.from({ length: 100 }, () => ({ features: { a: 1.23456, b: 2.34567 } }));
    const res = await app.inject({ method: 'POST', url: '/predict', payload: { records } });
    expect(res.statusCode).toBe(413);
    expect(res.json().message).toBe('Request body is too large');
  });

  it('answers 503, not 200, when the events cannot be delivered', async () => {
    const { app, sink } = await setup();
    close = () => app.close();
    sink.failing = true;
    const res = await app.inject({ method: 'POST', url: '/predict', payload: { features: { a: 1, b: 2 } } });
    expect(res.statusCode).toBe(503);
    expect(res.json().message).toBe('prediction events could not be delivered');
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
  });

  it('uses one model version for a whole request while a swap happens, then disposes the old one', async () => {
    const slot = new ModelSlot();
    let releaseFirst: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    let entered: () => void = () => {};
    const predicting = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const slow = {
      ...linearModel(1),
      predict: async (rows: readonly (readonly number[])[]) => {
        entered();
        await gate;
        return rows.map(() => 1);
      },
    };
    let disposed = false;
    slow.dispose = () => {
      disposed = true;
    };
    slot.swap(slow);
    const sink = new MemorySink();
    const app = await build({ spec, slot, sink, logger: createLogger('silent') });
    close = () => app.close();
    // inject() starts only when awaited or then-ed.
    const inFlight = Promise.resolve(
      app.inject({ method: 'POST', url: '/predict', payload: { features: { a: 1, b: 1 } } }),
    );
    await predicting;
    slot.swap(linearModel(2));
    expect(disposed).toBe(false);
    const after = await app.inject({ method: 'POST', url: '/predict', payload: { features: { a: 1, b: 1 } } });
    expect(after.json().model_version).toBe(2);
    releaseFirst();
    const first = await inFlight;
    expect(first.json().model_version).toBe(1);
    expect(sink.predictions.find((e) => e.event_id === first.json().event_id)?.model_version).toBe(1);
    expect(disposed).toBe(true);
  });
});

describe('POST /feedback', () => {
  it('accepts ground truth by event id', async () => {
    const { app, sink } = await setup();
    close = () => app.close();
    const id = '6f1c1b7e-8a51-4c1e-9d3c-3b2a1f0e9d8c';
    const res = await app.inject({ method: 'POST', url: '/feedback', payload: { event_id: id, actual: 2.5 } });
    expect(res.statusCode).toBe(202);
    expect(sink.truths).toMatchObject([{ event_id: id, actual: 2.5, model_name: 'toy' }]);
  });

  it.each([
    [{ actual: 1 }, 'event_id is required'],
    [{ event_id: 'not-a-uuid', actual: 1 }, 'event_id must match format "uuid"'],
    [{ event_id: '6f1c1b7e-8a51-4c1e-9d3c-3b2a1f0e9d8c', actual: 'x' }, 'actual must be a number'],
  ])('refuses %j with 400: %s', async (payload, message) => {
    const { app } = await setup();
    close = () => app.close();
    const res = await app.inject({ method: 'POST', url: '/feedback', payload });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toBe(message);
  });

  it.each([
    [
      { event_id: '6f1c1b7e-8a51-4c1e-9d3c-3b2a1f0e9d8c', actual: 1, event_time: '2016-12-31T23:59:60Z' },
      'event_time is not a valid time',
    ],
    [{ event_id: '6f1c1b7e-8a51-4c1e-9d3c-3b2a1f0e9d8c', actual: 1e200 }, 'actual must be within ±1e15; got 1e+200'],
    [
      {
        records: [
          { event_id: '6f1c1b7e-8a51-4c1e-9d3c-3b2a1f0e9d8c', actual: 1 },
          { event_id: '7f1c1b7e-8a51-4c1e-9d3c-3b2a1f0e9d8c', actual: 1, event_time: '2016-12-31T23:59:60Z' },
        ],
      },
      'records[1].event_time is not a valid time',
    ],
  ])('refuses ground truth that breaks the event contract, before anything is sent: %j', async (payload, message) => {
    const { app, sink } = await setup();
    close = () => app.close();
    const res = await app.inject({ method: 'POST', url: '/feedback', payload });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'DL_EVENT_INVALID', message });
    expect(sink.truths).toHaveLength(0);
  });
});

const predict = (app: PredictService, features: Record<string, unknown>) =>
  app.inject({ method: 'POST', url: '/predict', payload: { features } });

describe('model versions', () => {
  // Regression: the route schema was compiled once, from the starting version's spec, so after a
  // swap to a version with other features every request was refused or a feature imputed.
  it('validates requests against the version being served after a swap to another feature set', async () => {
    const { app, slot, sink } = await setup();
    close = () => app.close();
    expect((await predict(app, { a: 1, b: 2, c: 3 })).statusCode).toBe(200);
    slot.swap(linearModel(2, specV2));

    const ok = await predict(app, { a: 1, b: 2, d: 4 });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ model_version: 2, prediction: 2005 });
    expect(sink.predictions.at(-1)?.features).toEqual({ a: 1, b: 2, d: 4 });
    const old = await predict(app, { a: 1, b: 2, c: 3 });
    expect(old.statusCode).toBe(400);
    expect(old.json().message).toBe('features.d is required; features.c is not an accepted field');
  });

  it('deploy checks a version, registers its schema and swaps it in', async () => {
    const { app, slot, sink } = await setup();
    close = () => app.close();
    const outcome = await app.deploy(2, async () => linearModel(2, specV2));
    expect(outcome).toMatchObject({ applied: true });
    expect(slot.current?.version).toBe(2);
    expect(sink.registered).toContain(2);
    expect((await predict(app, { a: 1, b: 2, d: 4 })).json()).toMatchObject({ model_version: 2 });
  });

  it.each([
    [
      'wrong_model',
      (_sink: MemorySink) => ({ ...linearModel(2), name: 'other-model', spec: { ...spec, model: 'other-model' } }),
      'version 2 is of model other-model, not toy',
    ],
    [
      'schema_rejected',
      (sink: MemorySink) => {
        sink.refusedVersions.add(2);
        return linearModel(2, specV2);
      },
      'schema of version 2 is not BACKWARD compatible',
    ],
  ])('refuses a deployment (%s): keeps serving, logs why, counts it', async (reason, next, why) => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (line: string) => lines.push(line) });
    const { app, slot, sink } = await setup(undefined, undefined, logger);
    close = () => app.close();
    const version = next(sink);
    const outcome = await app.deploy(2, async () => version);

    expect(outcome).toMatchObject({ applied: false, reason });
    expect(slot.current?.version).toBe(1);
    expect(version.disposed).toBe(true);
    expect((await predict(app, { a: 1, b: 2 })).json()).toMatchObject({ model_version: 1 });
    const errors = lines.map((l) => JSON.parse(l)).filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ version: 2, reason, msg: expect.stringContaining('deployment refused') });
    expect(JSON.stringify(errors[0])).toContain(why);
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain(`driftline_deployments_refused_total{reason="${reason}",model="toy"} 1`);
  });
});

describe('log-transformed features', () => {
  // Regression: log1p(x) is NaN for x < −1, and NaN is how a missing feature reaches the model, so
  // a negative value of a log-transformed feature was silently imputed with the training mean.
  it.each([
    [-3, 'features.b must be greater than -1 (the model takes log(1 + x)); got -3'],
    [-1, 'features.b must be greater than -1 (the model takes log(1 + x)); got -1'],
  ])('refuses %d for a log-transformed feature with 400 naming the rule', async (b, message) => {
    const { app, slot, sink } = await setup();
    close = () => app.close();
    slot.swap(linearModel(2, spec, logB(spec)));
    const res = await predict(app, { a: 1, b });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toBe(message);
    const batch = await app.inject({
      method: 'POST',
      url: '/predict',
      payload: { records: [{ features: { a: 1, b: 1 } }, { features: { a: 1, b } }] },
    });
    expect(batch.json().message).toBe(`records[1].${message}`);
    expect(sink.predictions).toHaveLength(0);
  });

  it('accepts values above -1, and judges each version by its own transforms', async () => {
    const { app, slot } = await setup();
    close = () => app.close();
    expect((await predict(app, { a: 1, b: -3 })).statusCode).toBe(200);
    slot.swap(linearModel(2, spec, logB(spec)));
    expect((await predict(app, { a: 1, b: -0.5 })).statusCode).toBe(200);
    expect((await predict(app, { a: -3, b: -3 })).json().message).toBe(
      'features.b must be greater than -1 (the model takes log(1 + x)); got -3',
    );
  });
});

describe('operations', () => {
  it('reports health, readiness and Prometheus metrics', async () => {
    const { app } = await setup();
    close = () => app.close();
    await app.inject({ method: 'POST', url: '/predict', payload: { features: { a: 1, b: 2 } } });
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.json()).toMatchObject({ ready: true, model_version: 1 });
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('driftline_predictions_total{version="1",model="toy"} 1');
    expect(metrics).toContain('driftline_model_version{model="toy"} 1');
  });
});
