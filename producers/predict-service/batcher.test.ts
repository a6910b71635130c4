import { describe, expect, it } from 'vitest';
import { Batcher, BatcherFullError } from './batcher.ts';

describe('Batcher', () => {
  it('sends concurrent items together and settles each with its batch', async () => {
    const batches: number[][] = [];
    const batcher = new Batcher<number>({
      maxBatch: 100,
      lingerMs: 10,
      maxPending: 1_000,
      flush: async (items) => {
        batches.push(items);
      },
    });
    await Promise.all([1, 2, 3].map((n) => batcher.add(n)));
    expect(batches).toEqual([[1, 2, 3]]);
    expect(batcher.size).toBe(0);
  });

  it('flushes as soon as maxBatch items wait, without waiting for the linger', async () => {
    const batches: number[][] = [];
    const batcher = new Batcher<number>({
      maxBatch: 2,
      lingerMs: 60_000,
      maxPending: 1_000,
      flush: async (items) => {
        batches.push(items);
      },
    });
    await Promise.all([batcher.add(1), batcher.add(2)]);
    expect(batches).toEqual([[1, 2]]);
  });

  it('rejects every item of a failed batch, and only those', async () => {
    let calls = 0;
    const batcher = new Batcher<number>({
      maxBatch: 2,
      lingerMs: 5,
      maxPending: 1_000,
      flush: async () => {
        calls++;
        if (calls === 1) throw new Error('broker down');
      },
    });
    const first = await Promise.allSettled([batcher.add(1), batcher.add(2)]);
    const second = await Promise.allSettled([batcher.add(3)]);
    expect(first.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(second.map((r) => r.status)).toEqual(['fulfilled']);
  });

  it('refuses new items past maxPending instead of buffering without bound', async () => {
    let release: () => void = () => {};
    const blocked = new Promise<void>((resolve) => {
      release = resolve;
    });
    const batcher = new Batcher<number>({ maxBatch: 1, lingerMs: 5, maxPending: 2, flush: () => blocked });
    const a = batcher.add(1);
    const b = batcher.add(2);
    await expect(batcher.add(3)).rejects.toBeInstanceOf(BatcherFullError);
    release();
    await Promise.all([a, b]);
    await expect(batcher.add(4)).resolves.toBeUndefined();
  });

  it('drain sends what waits', async () => {
    const sent: number[] = [];
    const batcher = new Batcher<number>({
      maxBatch: 100,
      lingerMs: 60_000,
      maxPending: 100,
      flush: async (items) => {
        sent.push(...items);
      },
    });
    const pending = batcher.add(7);
    await batcher.drain();
    await pending;
    expect(sent).toEqual([7]);
  });
});
