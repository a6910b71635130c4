/**
 * Route schemas generated from a model's feature spec, and the formatter that turns Ajv's
 * errors into messages naming the field ("features.MedInc is required").
 */
import type { FeatureSpec, ModelSpec } from '../../core/feature-spec.ts';

export const MAX_BATCH_RECORDS = 1_000;

function featureSchema(feature: FeatureSpec): object {
  const type = feature.type === 'double' ? 'number' : 'string';
  return { type: feature.optional ? [type, 'null'] : type, ...(type === 'string' ? { maxLength: 256 } : {}) };
}

export function recordSchema(spec: ModelSpec): object {
  return {
    type: 'object',
    required: ['features'],
    additionalProperties: false,
    properties: {
      features: {
        type: 'object',
        required: spec.features.filter((f) => !f.optional).map((f) => f.name),
        additionalProperties: false,
        properties: Object.fromEntries(spec.features.map((f) => [f.name, featureSchema(f)])),
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
export function predictBodySchema(spec: ModelSpec): object {
  const record = recordSchema(spec);
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
    default:
      return `${fieldPath(error.instancePath) || 'body'} ${error.message ?? 'is invalid'}`;
  }
}

export function validationMessage(errors: readonly AjvError[]): string {
  const messages = [...new Set(errors.map(describe).filter((m) => m !== undefined))];
  return messages.length > 0 ? messages.join('; ') : 'body is invalid';
}
