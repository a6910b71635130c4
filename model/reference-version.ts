/**
 * A model version registered for monitoring only (`driftline models register`): a model served
 * elsewhere, whose predictions already flow through Kafka. Its spec, reference profile and
 * metrics come from a reference file — rows the model scored and whose targets are known, such as
 * its validation set — so each window is compared with what the model saw there, and realized
 * RMSE with its error there. Pure: the CLI reads the file into columns.
 */
import { basename } from 'node:path';
import { DriftlineError, ErrorCode } from '../core/errors.ts';
import { type FeatureSpec, MODEL_NAME_PATTERN, type ModelSpec } from '../core/feature-spec.ts';
import { FIXED_PREDICTION_COLUMN_TYPES } from '../core/prediction-table.ts';
import { CategoricalSketch, NumericSketch } from '../core/sketch/index.ts';
import { IDENTIFIER_PATTERN } from '../core/storage/index.ts';
import { regressionMetrics } from './metrics.ts';
import type { ReferenceProfile } from './profile.ts';
import type { VersionToSave } from './registry.ts';

/** One column of the reference file, read whole, in row order. */
export type ReferenceColumn =
  | { kind: 'numeric'; values: readonly (number | null)[] }
  | { kind: 'categorical'; values: readonly (string | null)[] };

export interface MonitoredVersionInput {
  model: string;
  /** Columns by name, in the file's order. */
  columns: ReadonlyMap<string, ReferenceColumn>;
  /** The column holding the model's prediction (numeric). */
  prediction: string;
  /** The column holding the observed target (numeric). */
  target: string;
  /** The model's inputs; default every other column. */
  features?: readonly string[];
  /** The reference file's path (recorded in metrics.json and origin.json). */
  reference: string;
  registeredAt: Date;
}

/** Fewer rows with both a prediction and a target than this give no usable reference error. */
const MIN_SCORED_ROWS = 2;

const usage = (message: string) => new DriftlineError(ErrorCode.USAGE, message);

export function monitoredVersion(input: MonitoredVersionInput): VersionToSave {
  const { model, columns } = input;
  if (!MODEL_NAME_PATTERN.test(model)) {
    throw usage(
      `${JSON.stringify(model)} is not a model name: lowercase letters, digits and hyphens (${MODEL_NAME_PATTERN})`,
    );
  }
  const prediction = numericColumn(columns, input.prediction, '--prediction');
  const target = numericColumn(columns, input.target, '--target');
  if (input.prediction === input.target) throw usage('--prediction and --target must name different columns');
  const names = input.features ?? [...columns.keys()].filter((n) => n !== input.prediction && n !== input.target);
  if (names.length === 0)
    throw usage('the reference file has no feature columns besides the prediction and the target');
  const features: FeatureSpec[] = names.map((name) => featureSpec(columns, name, input));

  const scored = pairs(prediction, target);
  if (scored.actual.length < MIN_SCORED_ROWS) {
    throw usage(
      `the reference file has ${scored.actual.length} rows with both a finite ${input.prediction} and a finite ${input.target}; at least ${MIN_SCORED_ROWS} are needed for its error`,
    );
  }
  const spec: ModelSpec = { model, features, target: input.target };
  // Built from all values at once, like a trained version's: exact percentiles for PSI and
  // Jensen–Shannon bin edges (model/profile.ts).
  const sketch = (values: readonly (number | null)[]) => NumericSketch.withExactPercentiles(values).toJSON();
  const profile: ReferenceProfile = {
    format: 1,
    model,
    source: 'reference-file',
    rows: prediction.length,
    features: Object.fromEntries(
      features
        .filter((f) => f.type === 'double')
        .map((f) => [f.name, sketch((columns.get(f.name) as ReferenceColumn & { kind: 'numeric' }).values)]),
    ),
    prediction: sketch(prediction),
    target: sketch(target),
  };
  const categorical = features.filter((f) => f.type === 'string');
  if (categorical.length > 0) {
    profile.categorical = Object.fromEntries(
      categorical.map((f) => [
        f.name,
        CategoricalSketch.of((columns.get(f.name) as ReferenceColumn & { kind: 'categorical' }).values).toJSON(),
      ]),
    );
  }
  const registeredAt = input.registeredAt.toISOString();
  return {
    spec,
    profile,
    metrics: {
      ...regressionMetrics(scored.actual, scored.predicted),
      evaluatedOn: 'reference',
      rows: { train: 0, holdout: scored.actual.length },
      trainedAt: registeredAt,
      reference: input.reference,
    },
    origin: {
      format: 1,
      trigger: 'register',
      drift_event_id: null,
      run_id: null,
      decision: null,
      reason: `registered for monitoring from ${basename(input.reference)}`,
      champion_version: null,
      champion_rmse: null,
      challenger_rmse: null,
    },
  };
}

function numericColumn(columns: ReadonlyMap<string, ReferenceColumn>, name: string, flag: string) {
  const column = columns.get(name);
  if (!column)
    throw usage(
      `${flag} ${JSON.stringify(name)} is not a column of the reference file (${[...columns.keys()].join(', ')})`,
    );
  if (column.kind !== 'numeric') throw usage(`${flag} ${JSON.stringify(name)} must be a numeric column; it holds text`);
  return column.values;
}

function featureSpec(
  columns: ReadonlyMap<string, ReferenceColumn>,
  name: string,
  input: MonitoredVersionInput,
): FeatureSpec {
  const column = columns.get(name);
  if (!column) throw usage(`feature ${JSON.stringify(name)} is not a column of the reference file`);
  if (name === input.prediction || name === input.target) {
    throw usage(`${JSON.stringify(name)} is the prediction or the target; it cannot also be a feature`);
  }
  if (!IDENTIFIER_PATTERN.test(name)) {
    throw usage(
      `column ${JSON.stringify(name)} cannot be a feature name: letters, digits and underscores, not starting with a digit (it becomes an Avro field and a ClickHouse column)`,
    );
  }
  if (FIXED_PREDICTION_COLUMN_TYPES.has(name)) {
    throw usage(`column ${JSON.stringify(name)} clashes with a fixed column of the predictions table; rename it`);
  }
  // A feature the reference lacks somewhere may be absent in the stream too.
  const optional = column.values.some((v) => v === null);
  return { name, type: column.kind === 'numeric' ? 'double' : 'string', optional };
}

/** The rows where both the prediction and the target are finite numbers. */
function pairs(prediction: readonly (number | null)[], target: readonly (number | null)[]) {
  const predicted: number[] = [];
  const actual: number[] = [];
  for (let i = 0; i < prediction.length; i++) {
    const p = prediction[i];
    const a = target[i];
    if (p !== null && p !== undefined && a !== null && a !== undefined && Number.isFinite(p) && Number.isFinite(a)) {
      predicted.push(p);
      actual.push(a);
    }
  }
  return { predicted, actual };
}
