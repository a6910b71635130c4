import { describe, expect, it } from 'vitest';
import { type DemoStatus, initialStatus, minutes, renderStatus, statusChanges } from './status-view.ts';

const START = Date.UTC(2026, 0, 5, 10, 0, 0);

function midRun(): DemoStatus {
  return {
    ...initialStatus('california-housing', START, 180_000),
    phase: '6/7 replay: 7200 more drifted rows, now answered by the deployed version',
    events: { sent: 16_800, total: 21_600, perSecond: 1_984.4, stored: 16_500, groundTruth: 16_400 },
    versions: [
      {
        version: 1,
        state: 'drift',
        driftedFeatures: ['MedInc', 'AveRooms'],
        windows: 9,
        retrainRecommended: true,
        rmse: 0.9123,
        performance: 'degraded',
      },
      {
        version: 2,
        state: 'ok',
        driftedFeatures: [],
        windows: 1,
        retrainRecommended: false,
        rmse: null,
        performance: 'insufficient_labels',
      },
    ],
    serving: 2,
    deployed: { version: 2, atMs: START + 31_000 },
    alerts: { opened: 1, updated: 2, resolved: 1, failed: 0, channels: ['terminal'] },
    retrain: { kind: 'done', state: 'promoted', challenger: 2, challengerRmse: 0.5123, championRmse: 0.9011 },
    dashboardUrl: 'http://127.0.0.1:8080/',
  };
}

describe('renderStatus', () => {
  it('shows events/s, each version with its state and drifted features, alerts, the retraining and the deployment', () => {
    expect(renderStatus(midRun(), START + 42_000)).toEqual([
      '── driftline demo · california-housing · 0:42 of 3:00 ──',
      'phase     6/7 replay: 7200 more drifted rows, now answered by the deployed version',
      'events    16,800/21,600 sent · 1,984/s · 16,500 stored · 16,400 ground truth',
      'serving   v2 (deployed at 0:31)',
      'v1        drift · MedInc, AveRooms · 9 windows · RMSE 0.912 (degraded) · retrain recommended',
      'v2        ok · 1 window',
      'alerts    1 opened · 2 updates · 1 resolved → terminal',
      'retrain   v2 promoted: RMSE 0.512 vs champion 0.901',
      'dashboard http://127.0.0.1:8080/',
    ]);
  });

  it('starts with nothing evaluated and a retraining waiting', () => {
    const lines = renderStatus(initialStatus('california-housing', START, 90_000), START);
    expect(lines).toContain('serving   starting');
    expect(lines).toContain('drift     no window evaluated yet');
    expect(lines).toContain('retrain   waiting for a drift event that recommends it');
    expect(lines.some((line) => line.startsWith('dashboard'))).toBe(false);
  });

  it('draws the retraining as a progress bar with its epoch and loss', () => {
    const status: DemoStatus = {
      ...midRun(),
      retrain: { kind: 'training', epoch: 6, epochs: 15, loss: 0.31234, rows: 6_000 },
    };
    expect(renderStatus(status, START)).toContain(
      'retrain   [########............] epoch 6/15 on 6,000 rows · loss 0.3123',
    );
  });

  it('names failed deliveries and cuts lines to the width, so a wrapped line never breaks the redraw', () => {
    const status: DemoStatus = { ...midRun(), alerts: { ...midRun().alerts, failed: 3 } };
    expect(renderStatus(status, START)).toContain('alerts    1 opened · 2 updates · 1 resolved · 3 failed → terminal');
    const narrow = renderStatus(status, START, 30);
    for (const line of narrow) expect(line.length).toBeLessThanOrEqual(30);
    expect(narrow[1]).toBe('phase     6/7 replay: 7200 mo…');
  });
});

describe('statusChanges', () => {
  it('gives one plain line per version whose state or drifted features changed, none for counters', () => {
    const before = midRun();
    const v1 = before.versions[0] as DemoStatus['versions'][number];
    const after: DemoStatus = {
      ...before,
      events: { ...before.events, sent: 21_600 },
      versions: [
        { ...v1, windows: 10 },
        { ...(before.versions[1] as typeof v1), state: 'warning' },
      ],
    };
    expect(statusChanges(before, after)).toEqual(['    status: california-housing v2 ok → warning']);
    expect(statusChanges(before, { ...before, events: { ...before.events, sent: 0 } })).toEqual([]);
  });

  it('announces a version seen for the first time with its drifted features', () => {
    const before = { ...midRun(), versions: [] };
    expect(statusChanges(before, midRun())).toEqual([
      '    status: california-housing v1 drift (MedInc, AveRooms)',
      '    status: california-housing v2 ok',
    ]);
  });
});

describe('minutes', () => {
  it('formats m:ss and never goes below zero', () => {
    expect(minutes(0)).toBe('0:00');
    expect(minutes(61_999)).toBe('1:01');
    expect(minutes(-5)).toBe('0:00');
  });
});
