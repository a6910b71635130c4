/**
 * An exclusive lock between processes: a file created with O_EXCL that holds the owner's pid.
 * A lock whose owner has died (or, with `staleMs`, that is older than that) is taken over.
 */
import { mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface FileLockOptions {
  /** How long to wait for another holder before giving up with `busy(path)`. */
  waitMs: number;
  /** A lock older than this is stale even if its owner seems alive (pid reuse, hung owner). */
  staleMs?: number;
  busy(path: string): Error;
}

export async function withFileLock<T>(path: string, fn: () => Promise<T>, options: FileLockOptions): Promise<T> {
  await mkdir(dirname(path), { recursive: true });
  const deadline = Date.now() + options.waitMs;
  for (;;) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const state = await lockState(path, options.staleMs);
      // Released between our open and our look: try again, and unlink nothing, since a third
      // holder may already have taken it.
      if (state === 'gone') continue;
      if (state === 'stale') {
        await unlink(path).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) throw options.busy(path);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(path).catch(() => undefined);
  }
}

async function lockState(path: string, staleMs: number | undefined): Promise<'gone' | 'stale' | 'held'> {
  const [text, info] = await Promise.all([readFile(path, 'utf8').catch(() => ''), stat(path).catch(() => undefined)]);
  if (!info) return 'gone';
  if (staleMs !== undefined && Date.now() - info.mtimeMs > staleMs) return 'stale';
  const pid = Number(text.trim());
  // A lock being written has no pid yet: give its owner a moment.
  if (!Number.isSafeInteger(pid) || pid <= 0) return Date.now() - info.mtimeMs > 5_000 ? 'stale' : 'held';
  return alive(pid) ? 'held' : 'stale';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
