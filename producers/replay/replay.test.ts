import { describe, expect, it } from 'vitest';
import { type ReplayRecord, type ReplaySender, replay } from './replay.ts';
import { columnStats, createScenario, parseFilter, type Row } from './scenarios.ts';

const featureNames = ['x', 'y'];
const rows: Row[] = Array.from({ length: 10 }, (_, i) => ({ features: [i, 100 + i], target: i / 10 }));
const stats = columnStats(
  rows.map((r) => r.features),
  2,
);
const none = createScenario({ kind: 'none', features: [], k: 0, factor: 1, start: 0, ramp: 0 }, featureNames, stats);

class RecordingSender implements ReplaySender {
  records: ReplayRecord[] = [];
  feedbacks: { event_id: string; actual: number; at: number }[] = [];
  constructor(private readonly clock: { t: number }) {}
  async predict(records: readonly ReplayRecord[]) {
    const start = this.records.length;
    this.records.push(...records);
    return records.map((_, i) => `e${start + i}`);
  }
  async feedback(items: readonly { event_id: string; actual: number }[]) {
    for (const item of items) this.feedbacks.push({ ...item, at: this.clock.t });
  }
}

function fakeClock() {
  const clock = { t: 1_000_000 };
  return {
    clock,
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.t += ms;
    },
  };
}

describe('replay', () => {
  it('is deterministic for a seed and covers every row once per pass', async () => {
    const runs = [];
    for (let r = 0; r < 2; r++) {
      const { clock, now, sleep } = fakeClock();
      const sender = new RecordingSender(clock);
      await replay({
        featureNames,
        rows,
        scenario: none,
        sender,
        seed: 7,
        rate: 0,
        batchSize: 3,
        feedbackDelayMs: -1,
        now,
        sleep,
        eventTimeStart: 0,
        eventTimeStepMs: 1000,
      });
      runs.push(sender.records);
    }
    expect(runs[0]).toEqual(runs[1]);
    expect(new Set(runs[0]?.map((r) => r.features.x))).toEqual(new Set(rows.map((r) => r.features[0])));
    expect(runs[0]?.map((r) => r.event_time)).toEqual(
      Array.from({ length: 10 }, (_, i) => new Date(i * 1000).toISOString()),
    );
  });

  it('paces sending at the chosen rate', async () => {
    const { clock, now, sleep } = fakeClock();
    const sender = new RecordingSender(clock);
    const result = await replay({
      featureNames,
      rows,
      scenario: none,
      sender,
      seed: 1,
      rate: 5,
      batchSize: 1,
      feedbackDelayMs: -1,
      now,
      sleep,
      limit: 10,
    });
    expect(result.sent).toBe(10);
    expect(result.elapsedMs).toBe(2_000);
  });

  it('sends ground truth for each prediction after the delay, with the scenario target', async () => {
    const { clock, now, sleep } = fakeClock();
    const sender = new RecordingSender(clock);
    const concept = createScenario(
      { kind: 'concept', features: [], k: 0, factor: 2, start: 0, ramp: 0 },
      featureNames,
      stats,
    );
    await replay({
      featureNames,
      rows,
      scenario: concept,
      sender,
      seed: 3,
      rate: 10,
      batchSize: 2,
      feedbackDelayMs: 500,
      now,
      sleep,
    });
    expect(sender.feedbacks).toHaveLength(10);
    sender.feedbacks.forEach((f, i) => {
      const x = sender.records[i]?.features.x ?? -1;
      expect(f.event_id).toBe(`e${i}`);
      expect(f.actual).toBeCloseTo((x / 10) * 2, 12);
    });
    // The first feedback waits at least the delay after the first prediction (sent at t0).
    expect((sender.feedbacks[0]?.at ?? 0) - 1_000_000).toBeGreaterThanOrEqual(500);
  });

  it('counts rows a subpopulation scenario drops', async () => {
    const { clock, now, sleep } = fakeClock();
    const sender = new RecordingSender(clock);
    const sub = createScenario(
      { kind: 'subpopulation', features: [], k: 0, factor: 1, start: 0, ramp: 0, filter: parseFilter('x>=5') },
      featureNames,
      stats,
    );
    const result = await replay({
      featureNames,
      rows,
      scenario: sub,
      sender,
      seed: 3,
      rate: 0,
      batchSize: 4,
      feedbackDelayMs: -1,
      now,
      sleep,
    });
    expect(result).toMatchObject({ sent: 5, dropped: 5 });
    expect(sender.records.every((r) => (r.features.x ?? 0) >= 5)).toBe(true);
  });
});
