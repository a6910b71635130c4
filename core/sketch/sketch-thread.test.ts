import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../random.ts';
import { NumericSketch } from './numeric-sketch.ts';
import { SketchThread } from './sketch-thread.ts';

describe('SketchThread', () => {
  let thread: SketchThread;
  beforeAll(async () => {
    thread = await SketchThread.start();
  });
  afterAll(async () => {
    await thread.close();
  });

  /** Values with ties, nulls, NaN and infinities, in an order that is not sorted. */
  function values(count: number, seed: number): (number | null)[] {
    const random = mulberry32(seed);
    return Array.from({ length: count }, (_, i) => {
      if (i % 97 === 0) return null;
      if (i % 389 === 0) return Number.NaN;
      if (i % 503 === 0) return i % 2 === 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
      return i % 5 === 0 ? Math.round(random() * 10) : -Math.log(1 - random()) * 1_000;
    });
  }

  it('finishes every sketch exactly as the same values pushed into a NumericSketch here', async () => {
    for (const [count, seed] of [
      [0, 1],
      [1, 2],
      [15, 3],
      [4_096, 4],
      [50_001, 5],
    ] as const) {
      const local = NumericSketch.create();
      const remote = thread.numeric();
      for (const value of values(count, seed)) {
        local.push(value);
        remote.push(value);
      }
      expect(await remote.finish(), `${count} values`).toEqual(local.toJSON());
    }
  });

  it('keeps sketches apart, and forgets each one finished or discarded', async () => {
    const before = await thread.liveSketches();
    const a = thread.numeric();
    const b = thread.numeric();
    const c = thread.numeric();
    const small = thread.numeric();
    for (let i = 0; i < 10_000; i++) {
      a.push(i);
      b.push(-i - 1);
      c.push(i % 3);
    }
    small.push(1);
    // The worker holds what was handed over: three full sketches, not yet the small one.
    expect(await thread.liveSketches()).toBe(before + 3);
    c.discard();
    small.discard();
    const [sa, sb] = await Promise.all([a.finish(), b.finish()]);
    expect([sa.count, sa.min, sa.max, sb.min, sb.max]).toEqual([10_000, 0, 9_999, -10_000, -1]);
    expect(await thread.liveSketches()).toBe(before);
  });

  it('a sketch not finished when the thread closes rejects its finish', async () => {
    const own = await SketchThread.start();
    const sketch = own.numeric();
    sketch.push(1);
    await own.close();
    await expect(sketch.finish()).rejects.toThrow('closed');
  });
});
