import { describe, expect, it } from 'vitest';
import { WriteLane } from './write-lane.ts';

function lane(events: string[]) {
  return new WriteLane({
    retry: { initialMs: 5, maxMs: 20 },
    pause: () => events.push('pause'),
    resume: () => events.push('resume'),
    onFailure: (_error, retryInMs) => events.push(`failed, retry in ${retryInMs}`),
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('WriteLane', () => {
  it('runs writes one at a time in the order they were started', async () => {
    const writes = lane([]);
    const order: string[] = [];
    await Promise.all(
      [30, 10, 0].map((delay, i) =>
        writes.run(async () => {
          order.push(`start ${i}`);
          await sleep(delay);
          order.push(`end ${i}`);
        }),
      ),
    );
    expect(order).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
  });

  it('has room for one more write while at most one is outstanding', async () => {
    const writes = lane([]);
    let roomAfterTwo = false;
    let finishFirst!: () => void;
    void writes.run(() => new Promise<void>((resolve) => (finishFirst = resolve)));
    await writes.room(); // one outstanding: room at once
    void writes.run(async () => {});
    void writes.room().then(() => (roomAfterTwo = true));
    await sleep(5);
    expect(roomAfterTwo).toBe(false);
    finishFirst();
    await sleep(1);
    expect(roomAfterTwo).toBe(true);
  });

  it('retries a failed write in place: the caller hears of the failure, later writes wait for the retry', async () => {
    const events: string[] = [];
    const writes = lane(events);
    let attempts = 0;
    const first = writes.run(async () => {
      attempts++;
      events.push(`write A, attempt ${attempts}`);
      if (attempts < 3) throw new Error('ClickHouse down');
    });
    const second = writes.run(async () => {
      events.push('write B');
    });
    await expect(first).rejects.toThrow('ClickHouse down');
    await second;
    expect(events).toEqual([
      'write A, attempt 1',
      'failed, retry in 5',
      'pause',
      'write A, attempt 2',
      'failed, retry in 10',
      'pause',
      'write A, attempt 3',
      'resume',
      'write B',
      'resume',
    ]);
  });

  it('gives up a write waiting to retry when told, resumes consumption and runs the next', async () => {
    const events: string[] = [];
    const writes = new WriteLane({
      retry: { initialMs: 60_000, maxMs: 60_000 },
      pause: () => events.push('pause'),
      resume: () => events.push('resume'),
      onFailure: () => events.push('failed'),
    });
    const givenUp: string[] = [];
    await expect(
      writes.run(
        async () => {
          throw new Error('down');
        },
        () => givenUp.push('A'),
      ),
    ).rejects.toThrow();
    const next = writes.run(async () => {
      events.push('write B');
    });
    await sleep(5);
    expect(events).toEqual(['failed', 'pause']);
    writes.giveUpWaiting();
    await next;
    expect(givenUp).toEqual(['A']);
    expect(events).toEqual(['failed', 'pause', 'resume', 'write B', 'resume']);
  });

  it('once closed, a waiting write is tried once more at once, then given up', async () => {
    const writes = new WriteLane({
      retry: { initialMs: 60_000, maxMs: 60_000 },
      pause: () => {},
      resume: () => {},
      onFailure: () => {},
    });
    let attempts = 0;
    let givenUp = false;
    await expect(
      writes.run(
        async () => {
          attempts++;
          throw new Error('down');
        },
        () => (givenUp = true),
      ),
    ).rejects.toThrow();
    writes.close();
    await writes.settled();
    expect(attempts).toBe(2);
    expect(givenUp).toBe(true);
  });
});
