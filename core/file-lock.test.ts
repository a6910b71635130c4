import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withFileLock } from './file-lock.ts';

const busy = (path: string) => new Error(`busy: ${path}`);

describe('withFileLock', () => {
  it('runs holders one at a time', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'lock-')), 'a.lock');
    const order: string[] = [];
    const holder = (name: string) =>
      withFileLock(
        path,
        async () => {
          order.push(`${name} in`);
          await new Promise((r) => setTimeout(r, 30));
          order.push(`${name} out`);
        },
        { waitMs: 5_000, busy },
      );
    await Promise.all([holder('a'), holder('b')]);
    // Either may win the first open; what matters is that neither enters while the other holds it.
    const first = order[0]!.split(' ')[0]!;
    const second = first === 'a' ? 'b' : 'a';
    expect(order).toEqual([`${first} in`, `${first} out`, `${second} in`, `${second} out`]);
  });

  it('never lets two of several holders in at once', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'lock-')), 'many.lock');
    let holding = 0;
    let most = 0;
    let runs = 0;
    const holder = () =>
      withFileLock(
        path,
        async () => {
          holding += 1;
          most = Math.max(most, holding);
          await new Promise((r) => setTimeout(r, 5));
          holding -= 1;
          runs += 1;
        },
        { waitMs: 20_000, busy },
      );
    await Promise.all(Array.from({ length: 6 }, holder));
    expect(runs).toBe(6);
    expect(most).toBe(1);
  });

  it('takes over a lock whose owner is dead, and gives up on a live one after waitMs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const dead = join(dir, 'dead.lock');
    writeFileSync(dead, '999999999\n');
    await expect(withFileLock(dead, async () => 'ran', { waitMs: 1_000, busy })).resolves.toBe('ran');

    const live = join(dir, 'live.lock');
    writeFileSync(live, `${process.pid}\n`);
    await expect(withFileLock(live, async () => 'ran', { waitMs: 200, busy })).rejects.toThrow(`busy: ${live}`);
  });
});
