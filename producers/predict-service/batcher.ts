/**
 * Collects items from concurrent callers and flushes them together. With no flush in flight,
 * what arrived in the same turn of the event loop goes at once; while `maxInFlight` flushes are
 * out, items wait for one to land and go together then (or after `lingerMs`, whichever comes
 * first) — so batches grow with the load instead of every item waiting out a linger. Each
 * caller's promise settles with the flush that carried its item, so an HTTP request answers
 * only once its event is acknowledged.
 */
export interface BatcherOptions<T> {
  /** Flush as soon as this many items wait. */
  maxBatch: number;
  /** Flush at most this long after the first waiting item arrived, even with flushes in flight. */
  lingerMs: number;
  /** Flushes out at once before items wait for one to land (default 1). */
  maxInFlight?: number;
  /** Bound on waiting + in-flight items; past it `add` rejects at once (backpressure). */
  maxPending: number;
  /**
   * Sends the items as one; a rejection rejects every item of the batch. So anything that can
   * fail for one item alone (Avro encoding) belongs before `add`, not in here.
   */
  flush(items: T[]): Promise<void>;
}

interface Waiting<T> {
  item: T;
  resolve(): void;
  reject(error: unknown): void;
}

export class BatcherFullError extends Error {
  constructor(readonly maxPending: number) {
    super(`more than ${maxPending} items are waiting to be sent`);
    this.name = 'BatcherFullError';
  }
}

export class Batcher<T> {
  private waiting: Waiting<T>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private pending = 0;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: BatcherOptions<T>) {}

  add(item: T): Promise<void> {
    if (this.pending >= this.options.maxPending) return Promise.reject(new BatcherFullError(this.options.maxPending));
    this.pending++;
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.waiting.length >= this.options.maxBatch) this.flushNow();
      else if (this.roomInFlight()) {
        // After this turn: the items of requests that arrived together go together.
        this.immediate ??= setImmediate(() => this.flushNow());
      } else this.timer ??= setTimeout(() => this.flushNow(), this.options.lingerMs);
    });
  }

  /** Items waiting or being sent. */
  get size(): number {
    return this.pending;
  }

  /** Sends what waits and resolves once every flush in flight has settled. */
  async drain(): Promise<void> {
    this.flushNow();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Fewer than `maxInFlight` flushes out: what waits may go now. */
  private roomInFlight(): boolean {
    return this.inFlight.size < (this.options.maxInFlight ?? 1);
  }

  private flushNow(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    clearImmediate(this.immediate);
    this.immediate = undefined;
    if (this.waiting.length === 0) return;
    const batch = this.waiting;
    this.waiting = [];
    const flight = this.options
      .flush(batch.map((w) => w.item))
      .then(
        () => {
          for (const w of batch) w.resolve();
        },
        (error: unknown) => {
          for (const w of batch) w.reject(error);
        },
      )
      .finally(() => {
        this.pending -= batch.length;
        this.inFlight.delete(flight);
        // What waited for this flight goes now.
        if (this.waiting.length > 0 && this.roomInFlight()) this.flushNow();
      });
    this.inFlight.add(flight);
  }
}
