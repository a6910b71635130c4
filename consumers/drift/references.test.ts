import { describe, expect, it } from 'vitest';
import { DriftlineError, ErrorCode } from '../../core/errors.ts';
import { NumericSketch } from '../../core/sketch/index.ts';
import { ReferenceCache, type ReferenceSource } from './references.ts';

const artifacts = {
  profile: {
    features: { a: NumericSketch.of([1, 2, 3]).toJSON() },
    prediction: NumericSketch.of([0.5]).toJSON(),
  },
  metrics: { rmse: 0.5, mae: 0.4 },
};

function source(answer: (model: string, version: number) => unknown): ReferenceSource & { calls: number } {
  const s = {
    calls: 0,
    async readVersion(model: string, version: number) {
      s.calls++;
      const value = answer(model, version);
      if (value instanceof Error) throw value;
      return value;
    },
  };
  return s as unknown as ReferenceSource & { calls: number };
}

describe('reference cache', () => {
  it('reads a version once: features in profile order, then the prediction, and the holdout error', async () => {
    const registry = source(() => artifacts);
    const cache = new ReferenceCache(registry);
    const reference = await cache.get('m', 1);
    expect(reference?.columns.map((c) => [c.name, c.isPrediction, c.sketch.count])).toEqual([
      ['a', false, 3],
      ['prediction', true, 1],
    ]);
    expect(reference?.holdout).toEqual({ rmse: 0.5, mae: 0.4 });
    await cache.get('m', 1);
    expect(registry.calls).toBe(1);
  });

  it('remembers a missing version for a while, then looks again', async () => {
    let now = 0;
    let registered = false;
    const missing: string[] = [];
    const registry = source(() =>
      registered ? artifacts : new DriftlineError(ErrorCode.MODEL_NOT_FOUND, 'model m has no version 2'),
    );
    const cache = new ReferenceCache(registry, {
      now: () => now,
      missingTtlMs: 1_000,
      onMissing: (model, version, error) => missing.push(`${model}/${version}:${error.code}`),
    });
    expect(await cache.get('m', 2)).toBeUndefined();
    expect(await cache.get('m', 2)).toBeUndefined();
    expect(registry.calls).toBe(1);
    expect(missing).toEqual(['m/2:DL_MODEL_NOT_FOUND']);
    registered = true;
    now = 1_000;
    expect((await cache.get('m', 2))?.version).toBe(2);
  });

  it('throws retriable errors for the caller to retry', async () => {
    const busy = new DriftlineError(ErrorCode.MODEL_REGISTRY_BUSY, 'locked', { retriable: true });
    const cache = new ReferenceCache(source(() => busy));
    await expect(cache.get('m', 1)).rejects.toBe(busy);
  });
});
