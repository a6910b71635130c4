/**
 * A model's input contract: the feature names and types that the predict service validates,
 * the Avro schema carries as typed fields, and ClickHouse stores as columns.
 */
export const FEATURE_TYPES = ['double', 'string'] as const;
export type FeatureType = (typeof FEATURE_TYPES)[number];

export interface FeatureSpec {
  /** Avro- and SQL-safe name: letters, digits, underscore; not starting with a digit. */
  name: string;
  /** `double` is numerical; `string` is categorical. */
  type: FeatureType;
  /** Optional features may be absent (null); features added after version 1 must be. */
  optional: boolean;
  description?: string;
}

export interface ModelSpec {
  /** Model name: lowercase letters, digits and hyphens (it becomes part of topic names). */
  model: string;
  features: readonly FeatureSpec[];
  /** What the model predicts, e.g. "MedHouseVal". */
  target: string;
}

export const MODEL_NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
