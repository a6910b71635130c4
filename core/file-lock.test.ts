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
    expect(order).toEqual(['a in', 'a out', 'b in', 'b out']);
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
