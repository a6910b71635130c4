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
/** The contract's type and mappings: core/sketch-snapshot.ts. */
export const sketchSnapshotSchema = (): AvroSchema => loadSchema('sketch-snapshot.avsc');
export const driftEventSchema = (): AvroSchema => loadSchema('drift-event.avsc');

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

export type DriftStateName = 'ok' | 'drift' | 'insufficient_data';

/** `schemas/drift-event.avsc`, field by field (see the schema's docs). */
export interface DriftEvent {
  event_id: string;
  model_name: string;
  model_version: number;
  window_start: Date;
  window_end: Date;
  pane_ms: number;
  window_panes: number;
  pane_count: number;
  row_count: number;
  source_partitions: string[];
  completion: 'all_sources' | 'grace_panes' | 'grace_time' | 'buffer_full';
  columns: DriftEventColumn[];
  drifted_columns: string[];
  drifted_features: string[];
  prediction_drifted: boolean;
  evaluated_count: number;
  drifted_count: number;
  share_of_drifted_columns: number;
  drift_share: number;
  state: DriftStateName;
  previous_state: DriftStateName | null;
  transition: boolean;
  consecutive_drift: number;
  retrain_after: number;
  retrain_recommended: boolean;
  performance: RealizedPerformance;
  report_path: string | null;
  evaluated_at: Date;
  /** Partitions of the source topic the window should hold. */
  sources_expected: number;
  /** Some source partition had not passed the window's newest pane (completion ≠ all_sources). */
  partial: boolean;
  /** 0 for a window's first evaluation, n for its n-th re-evaluation. */
  revision: number;
  /** Pane sketches merged into the window. */
  sketch_count: number;
}

export interface DriftEventColumn {
  column: string;
  is_prediction: boolean;
  kind: 'numerical' | 'categorical';
  method: 'ks' | 'wasserstein' | 'psi' | 'jensenshannon' | 'chisquare' | 'z' | 'chisquare_contingency';
  statistic: number | null;
  threshold: number;
  p_value: number | null;
  drifted: boolean;
  verdict: DriftStateName;
  reference_count: number;
  current_count: number;
  reference_mean: number | null;
  current_mean: number | null;
  reference_std: number | null;
  current_std: number | null;
  ks: number | null;
  ks_p_value: number | null;
  wasserstein: number | null;
  wasserstein_norm: number | null;
  psi: number | null;
  js: number | null;
  chi2: number | null;
  chi2_p_value: number | null;
}

export interface RealizedPerformance {
  labelled_count: number;
  rmse: number | null;
  mae: number | null;
  holdout_rmse: number;
  holdout_mae: number;
  tolerance: number;
  min_labels: number;
  verdict: 'ok' | 'degraded' | 'insufficient_labels';
}
