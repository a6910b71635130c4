/**
 * Replays a data set as prediction traffic at a chosen rate, through a sender (the predict
 * service over HTTP, or straight to Kafka), applying a drift scenario and sending the ground
 * truth after a delay. Deterministic for a given seed: row order, scenario and event times.
 */
import { mulberry32, permutation } from '../../core/random.ts';
import type { Row, Scenario } from './scenarios.ts';

export interface ReplayRecord {
  features: Record<string, number>;
  event_time: string;
}

export interface ReplaySender {
  /** Sends records for prediction; answers their event ids, in order. */
  predict(records: readonly ReplayRecord[]): Promise<string[]>;
  feedback(items: readonly { event_id: string; actual: number; event_time: string }[]): Promise<void>;
}

export interface ReplayProgress {
  sent: number;
  dropped: number;
  feedback: number;
  total: number;
  elapsedMs: number;
}

export interface ReplayOptions {
  featureNames: readonly string[];
  rows: readonly Row[];
  scenario: Scenario;
  sender: ReplaySender;
  seed: number;
  /** Rows to replay (default: all); rows repeat in a new order when it exceeds the data set. */
  limit?: number;
  /** Events per second; 0 sends as fast as the sender accepts. */
  rate: number;
  batchSize: number;
  /** Ground truth is sent this long (wall clock) after its prediction; negative: never. */
  feedbackDelayMs: number;
  /** First event time (ms since epoch); default: now. */
  eventTimeStart?: number;
  /**
   * Event-time step between consecutive rows; default 1000 / rate (real time). A fixed step
   * lets a fast replay cover hours of event time, deterministically.
   */
  eventTimeStepMs?: number;
  onProgress?(progress: ReplayProgress): void;
  /** Stops the replay early (Ctrl-C). */
  signal?: AbortSignal;
  now?(): number;
  sleep?(ms: number): Promise<void>;
}

interface PendingFeedback {
  due: number;
  event_id: string;
  actual: number;
  event_time: string;
}

export async function replay(options: ReplayOptions): Promise<ReplayProgress> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const total = options.limit ?? options.rows.length;
  const random = mulberry32(options.seed);
  const startedAt = now();
  const eventTimeStart = options.eventTimeStart ?? startedAt;
  const step = options.eventTimeStepMs ?? (options.rate > 0 ? 1000 / options.rate : 1);
  const progress: ReplayProgress = { sent: 0, dropped: 0, feedback: 0, total, elapsedMs: 0 };
  const pending: PendingFeedback[] = [];
  let order = permutation(options.rows.length, random);
  let lastReport = startedAt;

  const flushFeedback = async (all: boolean) => {
    const cutoff = now();
    let n = 0;
    while (n < pending.length && (all || (pending[n] as PendingFeedback).due <= cutoff)) n++;
    for (let i = 0; i < n; i += options.batchSize) {
      const items = pending.slice(i, Math.min(n, i + options.batchSize));
      await options.sender.feedback(
        items.map(({ event_id, actual, event_time }) => ({ event_id, actual, event_time })),
      );
      progress.feedback += items.length;
    }
    pending.splice(0, n);
  };

  for (let i = 0; i < total && !options.signal?.aborted; ) {
    const batch: ReplayRecord[] = [];
    const targets: number[] = [];
    for (; batch.length < options.batchSize && i < total; i++) {
      const pass = Math.floor(i / options.rows.length);
      if (i % options.rows.length === 0 && pass > 0) order = permutation(options.rows.length, random);
      const row = options.rows[order[i % options.rows.length] as number] as Row;
      const drifted = options.scenario.apply(row, i / total);
      if (!drifted) {
        progress.dropped++;
        continue;
      }
      batch.push({
        features: Object.fromEntries(options.featureNames.map((name, c) => [name, drifted.features[c] ?? 0])),
        event_time: new Date(Math.round(eventTimeStart + i * step)).toISOString(),
      });
      targets.push(drifted.target);
    }
    if (batch.length > 0) {
      const ids = await options.sender.predict(batch);
      progress.sent += ids.length;
      if (options.feedbackDelayMs >= 0) {
        const due = now() + options.feedbackDelayMs;
        ids.forEach((event_id, k) => {
          pending.push({ due, event_id, actual: targets[k] ?? Number.NaN, event_time: batch[k]?.event_time ?? '' });
        });
      }
    }
    await flushFeedback(false);
    if (options.rate > 0) {
      const aheadMs = startedAt + ((progress.sent + progress.dropped) / options.rate) * 1000 - now();
      if (aheadMs > 0) await sleep(aheadMs);
    }
    if (now() - lastReport >= 1000) {
      lastReport = now();
      options.onProgress?.({ ...progress, elapsedMs: lastReport - startedAt });
    }
  }

  if (pending.length > 0 && !options.signal?.aborted) {
    const last = pending[pending.length - 1] as PendingFeedback;
    const wait = last.due - now();
    if (wait > 0) await sleep(wait);
  }
  await flushFeedback(true);
  progress.elapsedMs = now() - startedAt;
  options.onProgress?.({ ...progress });
  return progress;
}
