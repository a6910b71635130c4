/**
 * Request schemas generated from a model version's feature spec and preprocessing, the Ajv
 * options every request schema is compiled with, and the formatter that turns Ajv's errors
 * into messages naming the field ("features.MedInc is required").
 */
import type { FeatureSpec, ModelSpec } from '../../core/feature-spec.ts';
import { LOG1P_EXCLUSIVE_MINIMUM, type Preprocessing } from '../../model/preprocess.ts';

export const MAX_BATCH_RECORDS = 1_000;

/**
 * Ajv options of every request schema (given to fastify, whose compiler also compiles each
 * model version's schema). Strict inputs: an extra field is an error (not silently dropped),
 * "8.3" is not a number; all errors at once; `verbose` so a message can quote the refused value.
 */
export const REQUEST_AJV_OPTIONS = {
  removeAdditional: false,
  coerceTypes: false,
  allErrors: true,
  verbose: true,
} as const;

/** Why a log-transformed feature has a lower bound; quoted in the 400 message. */
const LOG1P_RULE = 'the model takes log(1 + x)';

function featureSchema(feature: FeatureSpec, log1p: boolean): object {
  const type = feature.type === 'double' ? 'number' : 'string';
  return {
    type: feature.optional ? [type, 'null'] : type,
    ...(type === 'string' ? { maxLength: 256 } : {}),
    // log(1 + x) is defined only above −1: below it the model would see NaN, which is how a
    // missing value reaches it, and silently impute the training mean.
    ...(type === 'number' && log1p ? { exclusiveMinimum: LOG1P_EXCLUSIVE_MINIMUM, $comment: LOG1P_RULE } : {}),
  };
}

/** One record of a model version: its features, and for log-transformed ones their domain. */
export function recordSchema(spec: ModelSpec, preprocessing?: Preprocessing): object {
  const logged = new Set(preprocessing?.features.filter((f) => f.log1p).map((f) => f.name));
  return {
    type: 'object',
    required: ['features'],
    additionalProperties: false,
    properties: {
      features: {
        type: 'object',
        required: spec.features.filter((f) => !f.optional).map((f) => f.name),
        additionalProperties: false,
        properties: Object.fromEntries(spec.features.map((f) => [f.name, featureSchema(f, logged.has(f.name))])),
      },
      entity_id: { type: 'string', maxLength: 256 },
      segment: { type: 'string', maxLength: 256 },
      event_time: { type: 'string', format: 'date-time' },
    },
  };
}

/**
 * One record, or `{ "records": [...] }` for a batch. `if/then/else` rather than `oneOf`, so a
 * bad body is checked against the shape the client chose and errors name only its fields.
 */
export function predictBodySchema(spec: ModelSpec, preprocessing?: Preprocessing): object {
  const record = recordSchema(spec, preprocessing);
  return {
    type: 'object',
    if: { required: ['records'] },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else keyword, not a thenable.
    then: {
      type: 'object',
      additionalProperties: false,
      properties: { records: { type: 'array', minItems: 1, maxItems: MAX_BATCH_RECORDS, items: record } },
    },
    else: record,
  };
}

const feedbackRecordSchema = {
  type: 'object',
  required: ['event_id', 'actual'],
  additionalProperties: false,
  properties: {
    event_id: { type: 'string', format: 'uuid' },
    actual: { type: 'number' },
    event_time: { type: 'string', format: 'date-time' },
  },
};

/** One ground-truth record, or `{ "records": [...] }`. */
export const feedbackBodySchema = {
  type: 'object',
  if: { required: ['records'] },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else keyword, not a thenable.
  then: {
    type: 'object',
    additionalProperties: false,
    properties: { records: { type: 'array', minItems: 1, maxItems: MAX_BATCH_RECORDS, items: feedbackRecordSchema } },
  },
  else: feedbackRecordSchema,
};

export interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
  /** With `verbose`: the refused value and the schema holding the keyword. */
  data?: unknown;
  parentSchema?: { $comment?: string };
}

/** "/records/3/features/MedInc" → "records[3].features.MedInc" */
export function fieldPath(instancePath: string, child?: string): string {
  const parts = instancePath.split('/').filter((p) => p !== '');
  if (child !== undefined) parts.push(child);
  return parts.reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

function describe(error: AjvError): string | undefined {
  switch (error.keyword) {
    case 'if':
      return undefined;
    case 'required':
      return `${fieldPath(error.instancePath, String(error.params.missingProperty))} is required`;
    case 'additionalProperties':
      return `${fieldPath(error.instancePath, String(error.params.additionalProperty))} is not an accepted field`;
    case 'type': {
      const types = String(error.params.type).split(',');
      const expected = types.map((t) => (t === 'number' ? 'a number' : t === 'string' ? 'a string' : t)).join(' or ');
      return `${fieldPath(error.instancePath) || 'body'} must be ${expected}`;
    }
    case 'exclusiveMinimum': {
      const rule = error.parentSchema?.$comment;
      return `${fieldPath(error.instancePath)} must be greater than ${String(error.params.limit)}${rule ? ` (${rule})` : ''}; got ${String(error.data)}`;
    }
    default:
      return `${fieldPath(error.instancePath) || 'body'} ${error.message ?? 'is invalid'}`;
  }
}

export function validationMessage(errors: readonly AjvError[]): string {
  const messages = [...new Set(errors.map(describe).filter((m) => m !== undefined))];
  return messages.length > 0 ? messages.join('; ') : 'body is invalid';
}
