import { describe, expect, it } from 'vitest';
import { SourcePartitions } from './source-partitions.ts';

function counting(answers: Record<string, (number | undefined)[]>) {
  const calls: string[] = [];
  const lookup = async (topic: string) => {
    calls.push(topic);
    return answers[topic]?.shift();
  };
  return { calls, lookup };
}

describe('source topic partition counts', () => {
  it('looks a topic up once and answers from the cache while partitions stay below the count', async () => {
    const { calls, lookup } = counting({ 'predictions.m': [3] });
    const counts = new SourcePartitions(lookup, { now: () => 0 });
    expect(await counts.count('predictions.m', 0)).toBe(3);
    expect(await counts.count('predictions.m', 2)).toBe(3);
    expect(calls).toEqual(['predictions.m']);
  });

  it('looks again when a sketch names a partition beyond the cached count (partitions were added)', async () => {
    const { calls, lookup } = counting({ 'predictions.m': [3, 6] });
    const counts = new SourcePartitions(lookup, { now: () => 0 });
    expect(await counts.count('predictions.m', 1)).toBe(3);
    expect(await counts.count('predictions.m', 4)).toBe(6);
    expect(await counts.count('predictions.m', 5)).toBe(6);
    expect(calls).toEqual(['predictions.m', 'predictions.m']);
  });

  it('answers undefined for a topic the cluster does not know, and asks again only after a while', async () => {
    let now = 0;
    const { calls, lookup } = counting({ 'predictions.gone': [undefined, undefined, 2] });
    const counts = new SourcePartitions(lookup, { now: () => now, unknownTtlMs: 1_000 });
    expect(await counts.count('predictions.gone', 0)).toBeUndefined();
    expect(await counts.count('predictions.gone', 0)).toBeUndefined();
    expect(calls).toHaveLength(1);
    now = 1_000;
    expect(await counts.count('predictions.gone', 0)).toBeUndefined();
    now = 2_000;
    expect(await counts.count('predictions.gone', 1)).toBe(2);
    expect(calls).toHaveLength(3);
  });

  it('lets a lookup failure through for the caller to retry, caching nothing', async () => {
    let fail = true;
    const counts = new SourcePartitions(
      async () => {
        if (fail) throw new Error('broker down');
        return 3;
      },
      { now: () => 0 },
    );
    await expect(counts.count('predictions.m', 0)).rejects.toThrow('broker down');
    fail = false;
    expect(await counts.count('predictions.m', 0)).toBe(3);
  });
});
