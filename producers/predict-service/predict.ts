/**
 * Scoring a batch of input records with one model version and turning the results into
 * prediction events: shared by the HTTP route and the replay's straight-to-Kafka mode.
 */
import { randomUUID } from 'node:crypto';
import type { PredictionEvent } from '../../core/schemas.ts';
import type { ServingModel } from './model-slot.ts';

export interface InputRecord {
  features: Record<string, number | string | null>;
  entity_id?: string;
  segment?: string;
  /** ISO-8601; default: when the record was scored. */
  event_time?: string;
}

export interface Scored {
  events: PredictionEvent[];
  /** Time the model call took for the whole batch. */
  latencyMs: number;
}

export async function score(model: ServingModel, records: readonly InputRecord[]): Promise<Scored> {
  const names = model.spec.features.map((f) => f.name);
  const rows = records.map((record) => names.map((name) => toModelInput(record.features[name])));
  const started = performance.now();
  const predictions = await model.predict(rows);
  const latencyMs = performance.now() - started;
  const scoredAt = Date.now();
  const events = records.map(
    (record, i): PredictionEvent => ({
      event_id: randomUUID(),
      model_name: model.name,
      model_version: model.version,
      event_time: new Date(record.event_time ?? scoredAt),
      features: Object.fromEntries(names.map((name) => [name, record.features[name] ?? null])),
      prediction: predictions[i] ?? Number.NaN,
      latency_ms: latencyMs,
      entity_id: record.entity_id ?? null,
      segment: record.segment ?? null,
    }),
  );
  return { events, latencyMs };
}

/** A missing optional feature reaches the model as NaN, which the model imputes. */
function toModelInput(value: number | string | null | undefined): number {
  return typeof value === 'number' ? value : Number.NaN;
}
