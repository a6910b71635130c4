import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { predictionEventSchema } from '../core/schemas.ts';
import { CALIFORNIA_HOUSING_SPEC } from './california-housing.ts';

describe("the shipped model's prediction schema", () => {
  it('schemas/prediction-event.avsc is the generated schema of the shipped model', () => {
    const file = JSON.parse(readFileSync(new URL('../schemas/prediction-event.avsc', import.meta.url), 'utf8'));
    expect(file).toEqual(predictionEventSchema(CALIFORNIA_HOUSING_SPEC));
  });

  it('makes optional features nullable with a null default, so adding one stays backward compatible', () => {
    const spec = {
      ...CALIFORNIA_HOUSING_SPEC,
      features: [...CALIFORNIA_HOUSING_SPEC.features, { name: 'Coast', type: 'double' as const, optional: true }],
    };
    const v1 = avro.Type.forSchema(predictionEventSchema(CALIFORNIA_HOUSING_SPEC) as avro.Schema);
    const v2 = avro.Type.forSchema(predictionEventSchema(spec) as avro.Schema);
    // Readers on v2 read data written with v1 (BACKWARD): the new field takes its default.
    const resolver = v2.createResolver(v1);
    const written = v1.toBuffer({
      event_id: '6f1c1b7e-8a51-4c1e-9d3c-3b2a1f0e9d8c',
      model_name: 'california-housing',
      model_version: 1,
      event_time: 0,
      features: Object.fromEntries(CALIFORNIA_HOUSING_SPEC.features.map((f) => [f.name, 1])),
      prediction: 2,
      latency_ms: 0.1,
      entity_id: null,
      segment: null,
    });
    expect(v2.fromBuffer(written, resolver).features.Coast).toBeNull();
  });
});
