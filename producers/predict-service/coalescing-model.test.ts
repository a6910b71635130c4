import { describe, expect, it } from 'vitest';
import type { ServingModel } from '../../model/scoring.ts';
import { coalescing } from './coalescing-model.ts';

function recordingModel(fail = false) {
  const calls: number[][][] = [];
  const model: ServingModel = {
    name: 'm',
    version: 3,
    spec: { model: 'm', target: 'y', features: [{ name: 'a', type: 'double', optional: false }] },
    async predict(rows) {
      calls.push(rows.map((r) => [...r]));
      if (fail) throw new Error('model failed');
      return Float32Array.from(rows, (r) => (r[0] ?? 0) * 10);
    },
    dispose() {},
  };
  return { model, calls };
}

describe('coalescing model', () => {
  it('scores the calls of one turn in one model call, each caller getting its own rows back', async () => {
    const { model, calls } = recordingModel();
    const view = coalescing(model);
    const answers = await Promise.all([view.predict([[1]]), view.predict([[2], [3]]), view.predict([[4]])]);
    expect(calls).toEqual([[[1], [2], [3], [4]]]);
    expect(answers.map((a) => Array.from(a))).toEqual([[10], [20, 30], [40]]);
    expect({ name: view.name, version: view.version }).toEqual({ name: 'm', version: 3 });
  });

  it('calls the model again for calls made in a later turn', async () => {
    const { model, calls } = recordingModel();
    const view = coalescing(model);
    expect(Array.from(await view.predict([[1]]))).toEqual([10]);
    expect(Array.from(await view.predict([[2]]))).toEqual([20]);
    expect(calls).toHaveLength(2);
  });

  it('rejects every caller of a failed call', async () => {
    const { model } = recordingModel(true);
    const view = coalescing(model);
    const results = await Promise.allSettled([view.predict([[1]]), view.predict([[2]])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
