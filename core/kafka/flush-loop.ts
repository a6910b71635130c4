/**
 * The write-then-commit loop every consumer runs: one flush at a time (everything that touches
 * buffers goes through `serialized`), and a failed flush pauses consumption and is retried
 * with backoff until it succeeds, when consumption resumes. Nothing is dropped meanwhile.
 */
export interface FlushLoopOptions {
  retry: { initialMs: number; maxMs: number };
  /** Stops fetching while flushes fail, so buffers stay bounded. */
  pause(): void;
  resume(): void;
  onFailure(error: unknown, retryInMs: number): void;
}

export class FlushLoop {
  private chain: Promise<unknown> = Promise.resolve();
  private backoffMs: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: FlushLoopOptions) {
    this.backoffMs = options.retry.initialMs;
  }

  /** Runs `work` after everything queued before it, whether that succeeded or not. */
  serialized<T>(work: () => Promise<T>): Promise<T> {
    const next = this.chain.then(work, work);
    this.chain = next.catch(() => {});
    return next;
  }

  /** Runs `flushNow` in turn; on failure pauses, schedules a retry of it, and rethrows. */
  run(flushNow: () => Promise<void>): Promise<void> {
    return this.serialized(async () => {
      try {
        await flushNow();
        this.backoffMs = this.options.retry.initialMs;
        this.options.resume();
      } catch (error) {
        this.options.onFailure(error, this.backoffMs);
        this.options.pause();
        if (!this.closed && !this.retryTimer) {
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            void this.run(flushNow).catch(() => {});
          }, this.backoffMs);
          this.backoffMs = Math.min(this.options.retry.maxMs, this.backoffMs * 2);
        }
        throw error;
      }
    });
  }

  /** No more retries (on stop); a flush already queued still runs. */
  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}
