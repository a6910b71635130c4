/**
 * Avro schemas. The shared contracts live as `.avsc` files in `schemas/`; the prediction event
 * of a model is generated from its feature spec (its features are typed fields of a nested
 * record), and `schemas/prediction-event.avsc` is that generation for the shipped model, kept
 * equal by a test.
 */
import { readFileSync } from 'node:fs';
import type { FeatureSpec, ModelSpec } from './feature-spec.ts';

const SCHEMA_DIR = new URL('../schemas/', import.meta.url);

export type AvroSchema = Record<string, unknown>;

export function loadSchema(file: string): AvroSchema {
  return JSON.parse(readFileSync(new URL(file, SCHEMA_DIR), 'utf8')) as AvroSchema;
}

export const groundTruthSchema = (): AvroSchema => loadSchema('ground-truth.avsc');
export const modelDeploymentSchema = (): AvroSchema => loadSchema('model-deployment.avsc');

/** "california-housing" → "CaliforniaHousing" */
export function pascalCase(model: string): string {
  return model
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

function featureField(feature: FeatureSpec): AvroSchema {
  const doc = feature.description ? { doc: feature.description } : {};
  return feature.optional
    ? { name: feature.name, type: ['null', feature.type], default: null, ...doc }
    : { name: feature.name, type: feature.type, ...doc };
}

export function predictionEventSchema(spec: ModelSpec): AvroSchema {
  return {
    type: 'record',
    name: 'PredictionEvent',
    namespace: `io.driftline.${spec.model.replace(/-/g, '_')}`,
    doc: `One prediction of model ${spec.model}: its inputs, output and serving latency.`,
    fields: [
      { name: 'event_id', type: { type: 'string', logicalType: 'uuid' } },
      { name: 'model_name', type: 'string' },
      { name: 'model_version', type: 'int' },
      { name: 'event_time', type: { type: 'long', logicalType: 'timestamp-millis' } },
      {
        name: 'features',
        type: { type: 'record', name: `${pascalCase(spec.model)}Features`, fields: spec.features.map(featureField) },
      },
      { name: 'prediction', type: 'double', doc: `Predicted ${spec.target}.` },
      { name: 'latency_ms', type: 'double', doc: 'Time the model took to answer, in milliseconds.' },
      { name: 'entity_id', type: ['null', 'string'], default: null },
      { name: 'segment', type: ['null', 'string'], default: null },
    ],
  };
}

export interface PredictionEvent {
  event_id: string;
  model_name: string;
  model_version: number;
  event_time: Date;
  features: Record<string, number | string | null>;
  prediction: number;
  latency_ms: number;
  entity_id: string | null;
  segment: string | null;
}

export interface GroundTruth {
  event_id: string;
  model_name: string;
  actual: number;
  event_time: Date;
}

export interface ModelDeployment {
  model_name: string;
  model_version: number;
  action: 'promote' | 'rollback';
  metrics: { rmse: number; mae: number; r2: number };
  location: string;
  deployed_at: Date;
}
