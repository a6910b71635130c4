/**
 * Scoring: a batch of input records scored by one model version and turned into prediction
 * events, and the two contracts around it — the model being served and the sink its events go
 * to. Shared by the predict service (HTTP route) and the replay's straight-to-Kafka mode. No
 * TF.js here: a served model is anything that predicts rows (model-loader.ts loads a network).
 */
import { randomUUID } from 'node:crypto';
import type { ModelSpec } from '../core/feature-spec.ts';
import type { GroundTruth, PredictionEvent } from '../core/schemas.ts';
import type { Preprocessing } from './preprocess.ts';

/** One model version as it is served. */
export interface ServingModel {
  readonly name: string;
  readonly version: number;
  readonly spec: ModelSpec;
  /** The version's input transforms; its log-transformed features only accept values above −1. */
  readonly preprocessing?: Preprocessing;
  /** Rows of feature values in `spec.features` order; one prediction per row. */
  predict(rows: readonly (readonly number[])[]): ArrayLike<number> | Promise<ArrayLike<number>>;
  dispose(): void;
}

/** Where events go; each promise resolves once the event is acknowledged by Kafka. */
export interface EventSink {
  sendPrediction(event: PredictionEvent): Promise<void>;
  sendGroundTruth(event: GroundTruth): Promise<void>;
  ready(): boolean;
  /**
   * Registers a model version's prediction schema under its model's subject, so that its events
   * are encoded with its own features; rejects with SCHEMA_REJECTED when the registry refuses it.
   * Called once per version before it is served. A sink without schemas need not have it.
   */
  registerVersion?(model: Pick<ServingModel, 'version' | 'spec'>): Promise<void>;
}

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
