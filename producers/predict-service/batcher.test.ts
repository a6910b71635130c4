import { describe, expect, it } from 'vitest';
import { Batcher, BatcherFullError } from './batcher.ts';

/** A batcher whose flushes record their items (and succeed), with `lingerMs` and `maxBatch` as given. */
function recording(options: { lingerMs: number; maxBatch?: number }) {
  const batches: number[][] = [];
  const batcher = new Batcher<number>({
    maxBatch: 100,
    maxPending: 1_000,
    ...options,
    flush: async (items) => {
      batches.push(items);
    },
  });
  return { batcher, batches };
}

describe('Batcher', () => {
  it('sends concurrent items together and settles each with its batch', async () => {
    const { batcher, batches } = recording({ lingerMs: 10 });
    await Promise.all([1, 2, 3].map((n) => batcher.add(n)));
    expect(batches).toEqual([[1, 2, 3]]);
    expect(batcher.size).toBe(0);
  });

  it('with nothing in flight, sends the items of one turn at once: no linger', async () => {
    const { batcher, batches } = recording({ lingerMs: 60_000 });
    const sent = Promise.all([batcher.add(1), batcher.add(2)]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toEqual([[1, 2]]);
    await sent;
  });

  it('while a flush is in flight, items wait for it to land and then go together', async () => {
    const batches: number[][] = [];
    const gates: (() => void)[] = [];
    const batcher = new Batcher<number>({
      maxBatch: 100,
      lingerMs: 60_000,
      maxPending: 1_000,
      flush: (items) => {
        batches.push(items);
        return new Promise<void>((resolve) => gates.push(resolve));
      },
    });
    const first = batcher.add(1);
    await new Promise((resolve) => setImmediate(resolve));
    const later = [batcher.add(2), batcher.add(3)];
    await new Promise((resolve) => setTimeout(resolve, 20));
    const nextTurn = batcher.add(4);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(batches).toEqual([[1]]); // the rest wait for the flight
    gates[0]?.();
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toEqual([[1], [2, 3, 4]]);
    gates[1]?.();
    await Promise.all([...later, nextTurn]);
  });

  it('a slow flight holds the others back no longer than the linger', async () => {
    const batches: number[][] = [];
    const batcher = new Batcher<number>({
      maxBatch: 100,
      lingerMs: 10,
      maxPending: 1_000,
      flush: async (items) => {
        batches.push(items);
        if (items.includes(1)) await new Promise((resolve) => setTimeout(resolve, 60_000));
      },
    });
    void batcher.add(1);
    await new Promise((resolve) => setImmediate(resolve));
    await batcher.add(2); // goes after lingerMs, beside the stuck flight
    expect(batches).toEqual([[1], [2]]);
  });

  it('flushes as soon as maxBatch items wait, without waiting for the linger', async () => {
    const { batcher, batches } = recording({ lingerMs: 60_000, maxBatch: 2 });
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
