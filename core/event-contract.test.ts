import { describe, expect, it } from 'vitest';
import {
  checkGroundTruth,
  checkPredictionEvent,
  DEFAULT_EVENT_TIME_BOUNDS,
  describeViolations,
  eventTimeBoundsOf,
  eventTimeProblem,
} from './event-contract.ts';
import type { PredictionEvent } from './schemas.ts';

const SENT = Date.UTC(2026, 10, 28, 12);
const event = (overrides: Partial<PredictionEvent> = {}): PredictionEvent => ({
  event_id: 'e-1',
  model_name: 'm',
  model_version: 1,
  event_time: new Date(SENT - 1_000),
  features: { x: 1.5, region: 'north' },
  prediction: 2,
  latency_ms: 0.1,
  entity_id: null,
  segment: null,
  ...overrides,
});

describe('event contract', () => {
  it('accepts an ordinary event, and NaN or ±Infinity features (stored as they are)', () => {
    expect(checkPredictionEvent(event(), SENT)).toEqual([]);
    expect(checkPredictionEvent(event({ features: { x: Number.NaN, y: Number.NEGATIVE_INFINITY } }), SENT)).toEqual([]);
  });

  it('refuses an event that breaks any one rule, each on its own (the quick check lets none through)', () => {
    const long = 'x'.repeat(257);
    const broken: [string, Partial<PredictionEvent>][] = [
      ['event_id', { event_id: '' }],
      ['event_id', { event_id: long }],
      ['model_version', { model_version: 0 }],
      ['model_version', { model_version: 1.5 }],
      ['model_version', { model_version: 2 ** 31 }],
      ['event_time', { event_time: new Date(Number.NaN) }],
      ['event_time', { event_time: new Date(SENT + 301_000) }],
      ['event_time', { event_time: new Date(SENT - 31 * 86_400_000) }],
      ['features.x', { features: { x: 1e16 } }],
      ['features.x', { features: { x: -1e16 } }],
      ['features.region', { features: { region: long } }],
      ['prediction', { prediction: Number.NaN }],
      ['prediction', { prediction: 1e16 }],
      ['latency_ms', { latency_ms: -1 }],
      ['latency_ms', { latency_ms: Number.POSITIVE_INFINITY }],
      ['latency_ms', { latency_ms: 1e16 }],
      ['entity_id', { entity_id: long }],
      ['segment', { segment: long }],
    ];
    for (const [field, overrides] of broken) {
      expect(checkPredictionEvent(event(overrides), SENT).map((v) => v.field)).toEqual([field]);
      // The same when the caller names the features (the store knows them from the writer schema).
      const names = Object.keys(overrides.features ?? event().features);
      expect(
        checkPredictionEvent(event(overrides), SENT, DEFAULT_EVENT_TIME_BOUNDS, names).map((v) => v.field),
      ).toEqual([field]);
    }
    // At the limits, still accepted.
    const edge = event({
      event_id: 'x'.repeat(256),
      model_version: 2 ** 31 - 1,
      features: { x: 1e15, y: -1e15, region: 'x'.repeat(256) },
      prediction: -1e15,
      latency_ms: 0,
    });
    expect(checkPredictionEvent(edge, SENT)).toEqual([]);
  });

  it('bounds event times by the time the event was sent, and by what ClickHouse DateTime holds', () => {
    const bounds = DEFAULT_EVENT_TIME_BOUNDS;
    expect(eventTimeProblem(new Date('2016-12-31T23:59:60Z'), SENT, bounds)).toBe('is not a valid time');
    expect(eventTimeProblem(new Date('9999-12-31T00:00:00Z'), SENT, bounds)).toMatch(/^must be between 1970-01-01/);
    expect(eventTimeProblem(new Date(-1_000), SENT, bounds)).toMatch(/^must be between 1970-01-01/);
    expect(eventTimeProblem(new Date(SENT + 300_000), SENT, bounds)).toBeUndefined();
    expect(eventTimeProblem(new Date(SENT + 301_000), SENT, bounds)).toMatch(
      /^is 5 minutes ahead.*MAX_CLOCK_SKEW_SECONDS/,
    );
    expect(eventTimeProblem(new Date(SENT - 30 * 86_400_000), SENT, bounds)).toBeUndefined();
    expect(eventTimeProblem(new Date(SENT - 31 * 86_400_000), SENT, bounds)).toMatch(
      /^is 31 days older.*MAX_EVENT_AGE_DAYS/,
    );
    const wide = eventTimeBoundsOf({ maxEventAgeDays: 365, maxClockSkewSeconds: 86_400 });
    expect(eventTimeProblem(new Date(SENT + 3_600_000), SENT, wide)).toBeUndefined();
  });

  it('names every broken field at once', () => {
    const violations = checkPredictionEvent(
      event({
        model_version: -3,
        features: { x: 1e200, region: 'r'.repeat(257) },
        prediction: Number.NaN,
        latency_ms: -1,
        segment: 's'.repeat(300),
        event_id: '',
      }),
      SENT,
    );
    expect(violations.map((v) => v.field)).toEqual([
      'event_id',
      'model_version',
      'features.x',
      'features.region',
      'prediction',
      'latency_ms',
      'segment',
    ]);
    expect(describeViolations(violations)).toContain('features.x must be within ±1e15; got 1e+200');
    expect(describeViolations(violations)).toContain('prediction must be a finite number; got NaN');
  });

  it('checks ground truth: a finite actual, an id, a model, a bounded time', () => {
    const truth = { event_id: 'e', model_name: 'm', actual: 3.2, event_time: new Date(SENT) };
    expect(checkGroundTruth(truth, SENT)).toEqual([]);
    expect(
      checkGroundTruth(
        { ...truth, actual: Number.POSITIVE_INFINITY, model_name: '', event_time: new Date(Number.NaN) },
        SENT,
      ).map((v) => v.field),
    ).toEqual(['model_name', 'actual', 'event_time']);
  });
});
