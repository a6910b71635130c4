/**
 * The contract every prediction and ground-truth event meets before Driftline stores or sketches
 * it, checked at the way in: the predict service answers 400 naming the field, the store
 * dead-letters the message with the same words. One bad value must never reach a batch insert
 * (where it would fail every good row beside it) or a watermark (where a far-future time would
 * make every later event late).
 *
 * Event times are judged against the time the event was produced (the predict service's clock;
 * in the store, the Kafka message's create time), never the reader's clock, so a store re-reading
 * a week-old backlog after a restart decides exactly as it did the first time.
 */
import type { GroundTruth, PredictionEvent } from './schemas.ts';

export interface EventTimeBounds {
  /** Oldest accepted event time, as a distance before the produce time (ms). */
  maxAgeMs: number;
  /** Newest accepted event time, as a distance after the produce time (ms). */
  maxSkewMs: number;
}

export const DEFAULT_EVENT_TIME_BOUNDS: Readonly<EventTimeBounds> = Object.freeze({
  maxAgeMs: 30 * 86_400_000,
  maxSkewMs: 300_000,
});

/** ClickHouse's `DateTime` holds whole seconds from 1970-01-01 to 2106-02-07T06:28:15Z. */
export const CLICKHOUSE_DATETIME_MIN_MS = 0;
export const CLICKHOUSE_DATETIME_MAX_MS = 4_294_967_295_000;

/**
 * Largest accepted magnitude of a finite number. Far beyond any real feature or prediction, and
 * small enough that a sketch's running sums of squares (n · x², n up to 10¹²) stay finite.
 */
export const MAX_ABS_VALUE = 1e15;

/** Longest accepted string (ids, categorical features, segment), in UTF-16 code units. */
export const MAX_STRING_LENGTH = 256;

/** Largest model version a `UInt32` column and Avro's `int` both hold. */
const MAX_MODEL_VERSION = 2_147_483_647;

/** One broken rule, naming the field as a client would write its path. */
export interface ContractViolation {
  field: string;
  message: string;
}

/** "features.MedInc must be within ±1e15; got 1e+200" — for a 400 body or a dead-letter reason. */
export function describeViolations(violations: readonly ContractViolation[]): string {
  return violations.map((v) => `${v.field} ${v.message}`).join('; ');
}

export function eventTimeBoundsOf(config: { maxEventAgeDays: number; maxClockSkewSeconds: number }): EventTimeBounds {
  return { maxAgeMs: config.maxEventAgeDays * 86_400_000, maxSkewMs: config.maxClockSkewSeconds * 1000 };
}

/**
 * Why an event time is refused, or undefined when it is accepted: a valid instant, inside
 * ClickHouse's DateTime range, and within [producedAt − maxAge, producedAt + maxSkew].
 */
export function eventTimeProblem(time: Date, producedAtMs: number, bounds: EventTimeBounds): string | undefined {
  const ms = time.getTime();
  if (!Number.isFinite(ms)) return 'is not a valid time';
  if (ms < CLICKHOUSE_DATETIME_MIN_MS || ms > CLICKHOUSE_DATETIME_MAX_MS) {
    return `must be between 1970-01-01 and 2106-02-07 (what ClickHouse DateTime holds); got ${time.toISOString()}`;
  }
  if (ms > producedAtMs + bounds.maxSkewMs) {
    return `is ${formatDuration(ms - producedAtMs)} ahead of the time it was sent (at most ${formatDuration(bounds.maxSkewMs)} accepted, MAX_CLOCK_SKEW_SECONDS); got ${time.toISOString()}`;
  }
  if (ms < producedAtMs - bounds.maxAgeMs) {
    return `is ${formatDuration(producedAtMs - ms)} older than the time it was sent (at most ${formatDuration(bounds.maxAgeMs)} accepted, MAX_EVENT_AGE_DAYS); got ${time.toISOString()}`;
  }
  return undefined;
}

/** Why a number is refused; non-finite values are a separate decision of the caller. */
export function finiteValueProblem(value: number): string | undefined {
  if (Math.abs(value) > MAX_ABS_VALUE) return `must be within ±1e15; got ${value}`;
  return undefined;
}

function stringProblem(value: string): string | undefined {
  if (value.length > MAX_STRING_LENGTH) {
    return `must be at most ${MAX_STRING_LENGTH} characters; got ${value.length}`;
  }
  return undefined;
}

function requiredStringProblem(value: string): string | undefined {
  return value.length === 0 ? 'must not be empty' : stringProblem(value);
}

type Report = (field: string, problem: string | undefined) => void;

/** Runs `check`, keeping every problem it reports. */
function violationsOf(check: (report: Report) => void): ContractViolation[] {
  const violations: ContractViolation[] = [];
  check((field, message) => {
    if (message !== undefined) violations.push({ field, message });
  });
  return violations;
}

/**
 * Checks a decoded prediction event (the store) or one about to be produced (the predict
 * service). Features: a NaN or ±Infinity (only a direct producer can write one; JSON cannot)
 * is accepted — it is stored as NaN and counted in its sketch's `nonfinite_count`, never merged
 * into a t-digest — but a finite value beyond ±1e15 is refused. The prediction and latency
 * must be finite: a row without a usable prediction is no monitoring data.
 */
export function checkPredictionEvent(
  event: PredictionEvent,
  producedAtMs: number,
  bounds: EventTimeBounds = DEFAULT_EVENT_TIME_BOUNDS,
  /** The keys of `event.features` when the caller knows them (its writer schema's features). */
  featureNames?: readonly string[],
): ContractViolation[] {
  // Nearly every event passes: say so without building a report (the store checks each one).
  if (passesPredictionContract(event, producedAtMs, bounds, featureNames)) return [];
  return violationsOf((report) => {
    report('event_id', requiredStringProblem(event.event_id));
    report(
      'model_version',
      Number.isInteger(event.model_version) && event.model_version >= 1 && event.model_version <= MAX_MODEL_VERSION
        ? undefined
        : `must be a whole number from 1 to ${MAX_MODEL_VERSION}; got ${event.model_version}`,
    );
    report('event_time', eventTimeProblem(event.event_time, producedAtMs, bounds));
    for (const [name, value] of Object.entries(event.features)) {
      if (typeof value === 'number') {
        if (Number.isFinite(value)) report(`features.${name}`, finiteValueProblem(value));
      } else if (typeof value === 'string') {
        report(`features.${name}`, stringProblem(value));
      }
    }
    report('prediction', finiteRequired(event.prediction));
    report('latency_ms', latencyProblem(event.latency_ms));
    if (event.entity_id !== null) report('entity_id', stringProblem(event.entity_id));
    if (event.segment !== null) report('segment', stringProblem(event.segment));
  });
}

/** Whether `checkPredictionEvent` finds nothing — the same rules, with no closure or array per event. */
function passesPredictionContract(
  event: PredictionEvent,
  producedAtMs: number,
  bounds: EventTimeBounds,
  featureNames: readonly string[] | undefined,
): boolean {
  const id = event.event_id;
  if (id.length === 0 || id.length > MAX_STRING_LENGTH) return false;
  const version = event.model_version;
  if (!Number.isInteger(version) || version < 1 || version > MAX_MODEL_VERSION) return false;
  const ms = event.event_time.getTime();
  if (!(ms >= CLICKHOUSE_DATETIME_MIN_MS && ms <= CLICKHOUSE_DATETIME_MAX_MS)) return false;
  if (ms > producedAtMs + bounds.maxSkewMs || ms < producedAtMs - bounds.maxAgeMs) return false;
  const features = event.features;
  // Own keys only: a decoded Avro record also inherits enumerable methods (clone, toBuffer, …).
  const names = featureNames ?? Object.keys(features);
  for (let i = 0; i < names.length; i++) {
    const value = features[names[i] as string];
    if (typeof value === 'number') {
      if (Math.abs(value) > MAX_ABS_VALUE && Number.isFinite(value)) return false;
    } else if (typeof value === 'string' && value.length > MAX_STRING_LENGTH) {
      return false;
    }
  }
  const prediction = event.prediction;
  if (!Number.isFinite(prediction) || Math.abs(prediction) > MAX_ABS_VALUE) return false;
  const latency = event.latency_ms;
  if (!Number.isFinite(latency) || latency < 0 || latency > MAX_ABS_VALUE) return false;
  if (event.entity_id !== null && event.entity_id.length > MAX_STRING_LENGTH) return false;
  if (event.segment !== null && event.segment.length > MAX_STRING_LENGTH) return false;
  return true;
}

/** Checks a ground-truth event: the actual value must be finite and within bounds. */
export function checkGroundTruth(
  truth: GroundTruth,
  producedAtMs: number,
  bounds: EventTimeBounds = DEFAULT_EVENT_TIME_BOUNDS,
): ContractViolation[] {
  return violationsOf((report) => {
    report('event_id', requiredStringProblem(truth.event_id));
    report('model_name', requiredStringProblem(truth.model_name));
    report('actual', finiteRequired(truth.actual));
    report('event_time', eventTimeProblem(truth.event_time, producedAtMs, bounds));
  });
}

/** A non-finite feature value, which the store keeps as NaN (see checkPredictionEvent). */
export function isNonFinite(value: unknown): value is number {
  return typeof value === 'number' && !Number.isFinite(value);
}

function finiteRequired(value: number): string | undefined {
  if (!Number.isFinite(value)) return `must be a finite number; got ${value}`;
  return finiteValueProblem(value);
}

function latencyProblem(value: number): string | undefined {
  if (!Number.isFinite(value) || value < 0) return `must be a finite number ≥ 0; got ${value}`;
  return finiteValueProblem(value);
}

function formatDuration(ms: number): string {
  if (ms >= 2 * 86_400_000) return `${Math.round(ms / 86_400_000)} days`;
  if (ms >= 2 * 3_600_000) return `${Math.round(ms / 3_600_000)} hours`;
  if (ms >= 2 * 60_000) return `${Math.round(ms / 60_000)} minutes`;
  return `${Math.round(ms / 1000)} s`;
}
