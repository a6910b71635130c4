/**
 * Numeric sketches built on a worker thread: the main thread only buffers values (into typed
 * arrays it hands over without copying), the worker sorts and merges them into its t-digests
 * (sketch-thread-worker.ts). On a store reading 100k events/s that sorting and merging was about
 * an eighth of the main thread, which is the one that also reads Kafka; the machine's other core
 * had room for it.
 *
 * Exactness: a sketch finished here equals, to the bit, a `NumericSketch` pushed the same values
 * in the same order (the worker pushes them one by one, in order; nulls are counted here, and a
 * null changes nothing but the null count).
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { buildSync } from 'esbuild';
import type { NumericSketchJSON } from './numeric-sketch.ts';

export type SketchThreadRequest =
  | { op: 'push'; id: number; values: Float64Array }
  | { op: 'finish'; id: number; values: Float64Array }
  | { op: 'drop'; ids: number[] }
  | { op: 'count'; id: number }
  | { op: 'heap'; id: number };

export type SketchThreadReply =
  | { id: number; json: NumericSketchJSON }
  | { id: number; live: number }
  | { id: number; heap: number };

/** Values a sketch buffers before it hands them over; a sketch starts small and doubles to this. */
const MAX_CHUNK = 1_024;
const FIRST_CHUNK = 16;

const WORKER_SOURCE = fileURLToPath(new URL('./sketch-thread-worker.ts', import.meta.url));
let workerCode: string | undefined;

/**
 * The worker, bundled once per process into one script (esbuild, ~20 ms): a worker thread cannot
 * load TypeScript — neither vitest's nor tsx's loader reaches it — and this way it starts in
 * milliseconds, from sources, a test and the launcher's bundle alike.
 */
function workerScript(): string {
  workerCode ??= (
    buildSync({
      entryPoints: [WORKER_SOURCE],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      write: false,
      logLevel: 'silent',
    }).outputFiles[0] as { text: string }
  ).text;
  return workerCode;
}

export class SketchThread {
  private nextId = 1;
  private readonly waiting = new Map<
    number,
    { resolve: (reply: SketchThreadReply) => void; reject: (error: Error) => void }
  >();
  private failure: Error | undefined;
  private closing = false;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (replies: SketchThreadReply[]) => {
      for (const reply of replies) {
        const waiter = this.waiting.get(reply.id);
        this.waiting.delete(reply.id);
        waiter?.resolve(reply);
      }
    });
    worker.on('error', (error) => this.fail(new Error(`The sketch thread failed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => {
      if (!this.closing) this.fail(new Error(`The sketch thread exited (code ${code})`));
    });
  }

  /** Starts the worker; resolves once it runs. */
  static async start(): Promise<SketchThread> {
    const worker = new Worker(workerScript(), { eval: true });
    await new Promise<void>((resolve, reject) => {
      worker.once('online', resolve);
      worker.once('error', reject);
    });
    // Never what keeps a process alive: a store that stops without closing it still exits.
    worker.unref();
    return new SketchThread(worker);
  }

  /** A new, empty numeric sketch on the worker. */
  numeric(): RemoteNumericSketch {
    return new RemoteNumericSketch(this, this.nextId++);
  }

  /** Sketches the worker holds (ones neither finished nor dropped): for tests and leak checks. */
  async liveSketches(): Promise<number> {
    const reply = await this.request({ op: 'count', id: this.nextId++ });
    return 'live' in reply ? reply.live : Number.NaN;
  }

  /**
   * The worker's JS heap and typed-array bytes after full collections (benches measure pane
   * memory with it). Answered after every value handed over before it was taken in.
   */
  async settledHeap(): Promise<number> {
    const reply = await this.request({ op: 'heap', id: this.nextId++ });
    return 'heap' in reply ? reply.heap : Number.NaN;
  }

  /** Stops the worker; sketches not finished are lost, and their `finish` rejects. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.worker.terminate();
    this.fail(new Error('The sketch thread was closed'));
  }

  /** @internal Hands values over (the array is transferred: the caller must not use it again). */
  post(request: SketchThreadRequest): void {
    if (this.failure) return; // `finish` reports it
    const transfer = 'values' in request ? [request.values.buffer as ArrayBuffer] : [];
    this.worker.postMessage([request], transfer);
  }

  /** @internal */
  request(request: SketchThreadRequest & { id: number }): Promise<SketchThreadReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.set(request.id, { resolve, reject });
      this.post(request);
    });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.values()) waiter.reject(this.failure);
    this.waiting.clear();
  }
}

/**
 * A numeric sketch whose values go to the sketch thread: `push` as on `NumericSketch`, then
 * `finish` once for its JSON — or `discard` when it will never be read.
 */
export class RemoteNumericSketch {
  private chunk = new Float64Array(FIRST_CHUNK);
  private size = 0;
  private nulls = 0;
  private done = false;

  constructor(
    private readonly thread: SketchThread,
    private readonly id: number,
  ) {}

  /** Adds one value; null/undefined are only counted (as `NumericSketch.push` does). */
  push(value: number | null | undefined): void {
    if (value === null || value === undefined) {
      this.nulls++;
      return;
    }
    if (this.size === this.chunk.length) {
      if (this.size < MAX_CHUNK) {
        const larger = new Float64Array(2 * this.size);
        larger.set(this.chunk);
        this.chunk = larger;
      } else {
        this.thread.post({ op: 'push', id: this.id, values: this.chunk });
        this.chunk = new Float64Array(MAX_CHUNK);
        this.size = 0;
      }
    }
    this.chunk[this.size++] = value;
  }

  /** The sketch of every value pushed (the worker forgets it). Call once. */
  async finish(): Promise<NumericSketchJSON> {
    if (this.done) throw new Error('RemoteNumericSketch.finish called twice');
    this.done = true;
    const values = this.chunk.slice(0, this.size);
    this.chunk = new Float64Array(0);
    const reply = await this.thread.request({ op: 'finish', id: this.id, values });
    if (!('json' in reply)) throw new Error(`The sketch thread answered sketch ${this.id} without it`);
    return { ...reply.json, nullCount: reply.json.nullCount + this.nulls };
  }

  /** Frees the worker's copy; the sketch is never read. */
  discard(): void {
    if (this.done) return;
    this.done = true;
    this.chunk = new Float64Array(0);
    this.thread.post({ op: 'drop', ids: [this.id] });
  }
}
