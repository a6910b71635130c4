/**
 * Writes that run while consumption goes on (the store's inserts overlap its next batch): one at a
 * time, in the order they were started, so the commits that follow them never go backwards. A
 * failed write pauses consumption and is retried in place — nothing started after it runs first —
 * with backoff until it succeeds, when consumption resumes, or until it is given up.
 */
import type { FlushLoopOptions } from './flush-loop.ts';

export class WriteLane {
  private tail: Promise<void> = Promise.resolve();
  /** The tail before the last write was started: settles when only that write is left. */
  private beforeLast: Promise<void> = Promise.resolve();
  private backoffMs: number;
  /** The write waiting for its next attempt, and how to cut that wait short. */
  private waiting: { wake: () => void; giveUp: boolean } | undefined;
  private closed = false;

  constructor(private readonly options: FlushLoopOptions) {
    this.backoffMs = options.retry.initialMs;
  }

  /**
   * Starts `write` once every write before it has finished. The promise settles with its first
   * attempt (a caller learns of an outage at once); retries go on in the background.
   * `onGivenUp` runs when the write is abandoned unfinished (see `giveUpWaiting`, `close`).
   */
  run(write: () => Promise<void>, onGivenUp: () => void = () => {}): Promise<void> {
    let firstAttempt!: { resolve: () => void; reject: (error: unknown) => void };
    const first = new Promise<void>((resolve, reject) => {
      firstAttempt = { resolve, reject };
    });
    this.beforeLast = this.tail;
    this.tail = this.tail.then(async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          await write();
          this.backoffMs = this.options.retry.initialMs;
          this.options.resume();
          firstAttempt.resolve();
          return;
        } catch (error) {
          const retryInMs = this.backoffMs;
          this.options.onFailure(error, retryInMs);
          this.options.pause();
          if (attempt === 0) firstAttempt.reject(error);
          // Closed: the last attempt was made (close wakes a waiting write for one more).
          const givenUp = this.closed || (await this.wait(retryInMs));
          if (givenUp) {
            onGivenUp();
            return;
          }
          this.backoffMs = Math.min(this.options.retry.maxMs, this.backoffMs * 2);
        }
      }
    });
    return first;
  }

  /** Resolves once at most one write is outstanding: room for one more behind it. */
  room(): Promise<void> {
    return this.beforeLast;
  }

  /** Resolves once every write started so far has succeeded or been given up. */
  settled(): Promise<void> {
    return this.tail;
  }

  /**
   * A write waiting to retry is given up, now: what it held is read again from the committed
   * offsets (after a rebalance). Consumption resumes; the next write finds out whether the
   * dependency is back.
   */
  giveUpWaiting(): void {
    if (!this.waiting) return;
    this.waiting.giveUp = true;
    this.waiting.wake();
    this.options.resume();
  }

  /** No more retries: a write waiting for one is tried once more, now, and given up if it fails. */
  close(): void {
    this.closed = true;
    this.waiting?.wake();
  }

  /** Waits `ms` (less when woken); true when the write was given up meanwhile. */
  private async wait(ms: number): Promise<boolean> {
    const waiting = { wake: () => {}, giveUp: false };
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      waiting.wake = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiting = waiting;
    });
    this.waiting = undefined;
    return waiting.giveUp;
  }
}
