import { describe, expect, it } from 'vitest';
import { FlushLoop } from './flush-loop.ts';

function loop(events: string[]) {
  return new FlushLoop({
    retry: { initialMs: 5, maxMs: 20 },
    pause: () => events.push('pause'),
    resume: () => events.push('resume'),
    onFailure: (_error, retryInMs) => events.push(`failed, retry in ${retryInMs}`),
  });
}

describe('FlushLoop', () => {
  it('runs serialized work one at a time, in order', async () => {
    const flushes = loop([]);
    const order: number[] = [];
    await Promise.all(
      [30, 10, 0].map((delay, i) =>
        flushes.serialized(async () => {
          await new Promise((r) => setTimeout(r, delay));
          order.push(i);
        }),
      ),
    );
    expect(order).toEqual([0, 1, 2]);
  });

  it('pauses on failure, retries with growing backoff, and resumes once a flush succeeds', async () => {
    const events: string[] = [];
    const flushes = loop(events);
    let attempts = 0;
    let succeeded: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      succeeded = resolve;
    });
    const flushNow = async () => {
      attempts++;
      if (attempts < 4) throw new Error('ClickHouse down');
      succeeded();
    };
    await expect(flushes.run(flushNow)).rejects.toThrow('ClickHouse down');
    await done;
    await flushes.serialized(async () => {});
    expect(events).toEqual([
      'failed, retry in 5',
      'pause',
      'failed, retry in 10',
      'pause',
      'failed, retry in 20',
      'pause',
      'resume',
    ]);
    flushes.close();
  });

  it('stops retrying once closed', async () => {
    const events: string[] = [];
    const flushes = loop(events);
    let attempts = 0;
    await expect(
      flushes.run(async () => {
        attempts++;
        throw new Error('down');
      }),
    ).rejects.toThrow();
    flushes.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(attempts).toBe(1);
  });
});
