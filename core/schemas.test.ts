import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { groundTruthSchema, loadSchema, modelDeploymentSchema, pascalCase } from './schemas.ts';

describe('Avro schemas', () => {
  it('every .avsc file parses as an Avro schema', () => {
    for (const file of [
      'ground-truth.avsc',
      'model-deployment.avsc',
      'sketch-snapshot.avsc',
      'prediction-event.avsc',
    ]) {
      expect(() => avro.Type.forSchema(loadSchema(file) as avro.Schema), file).not.toThrow();
    }
    expect(groundTruthSchema().name).toBe('GroundTruth');
    expect(modelDeploymentSchema().name).toBe('ModelDeployment');
  });

  it('names records after the model', () => {
    expect(pascalCase('california-housing')).toBe('CaliforniaHousing');
  });
});
