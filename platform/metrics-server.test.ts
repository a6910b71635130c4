import { afterEach, describe, expect, it } from 'vitest';
import type { LifecycleTelemetry, PartitionLag } from '../core/kafka/consumer-lifecycle.ts';
import { createLogger } from '../core/logger.ts';
import { type MetricsServer, type MonitoredConsumer, startMetricsServer } from './metrics-server.ts';

const logger = createLogger('silent');
let server: MetricsServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Stats as plain objects the test changes between requests. */
function consumers() {
  const store = {
    bufferedRows: 12,
    predictionsStored: 600,
    groundTruthStored: 40,
    deadLettered: 1,
    lateEvents: 0,
    snapshotsEmitted: 8,
    commits: 5,
    failedFlushes: 0,
    paused: false,
  };
  const retrain = {
    eventsRead: 3,
    triggers: 1,
    skippedOld: 0,
    undecodable: 0,
    cycles: { promoted: 1, rejected: 0, refused: 2, dag_triggered: 0, failed: 0 },
    running: 1,
    commits: 2,
    paused: false,
  };
  const alert = {
    delivered: 5,
    failed: 1,
    deliveredByChannel: { slack: 3, webhook: 2 },
    failedByChannel: { slack: 0, webhook: 1 },
    waitingByChannel: { slack: 0, webhook: 7 },
    paused: false,
  };
  const list: MonitoredConsumer[] = [
    { name: 'store', stats: () => ({ ...store }) },
    { name: 'retrain', stats: () => ({ ...retrain, cycles: { ...retrain.cycles } }) },
    {
      name: 'alert',
      stats: () => ({
        ...alert,
        deliveredByChannel: { ...alert.deliveredByChannel },
        failedByChannel: { ...alert.failedByChannel },
        waitingByChannel: { ...alert.waitingByChannel },
      }),
    },
  ];
  return { store, retrain, alert, list };
}

async function start(list: readonly MonitoredConsumer[]): Promise<string> {
  server = await startMetricsServer({ consumers: list, host: '127.0.0.1', port: 0, logger });
  return server.url;
}

function metricValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics server', () => {
  it("serves every consumer's stats as counters and gauges, current at each scrape", async () => {
    const { store, retrain, alert, list } = consumers();
    const url = await start(list);

    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toContain('# TYPE driftline_store_predictions_stored_total counter');
    expect(text).toContain('# TYPE driftline_store_buffered_rows gauge');
    expect(text).toContain('# TYPE driftline_store_paused gauge');
    expect(text).toContain('# TYPE driftline_retrain_running gauge');
    expect(text).toContain('# TYPE driftline_consumer_paused gauge');
    expect(metricValue(text, 'driftline_store_predictions_stored_total')).toBe(600);
    expect(metricValue(text, 'driftline_store_failed_flushes_total')).toBe(0);
    expect(metricValue(text, 'driftline_store_buffered_rows')).toBe(12);
    expect(metricValue(text, 'driftline_store_paused')).toBe(0);
    expect(metricValue(text, 'driftline_retrain_commits_total')).toBe(2);
    expect(metricValue(text, 'driftline_retrain_running')).toBe(1);
    expect(metricValue(text, 'driftline_retrain_cycles_total{state="refused"}')).toBe(2);
    expect(metricValue(text, 'driftline_consumer_paused{consumer="store"}')).toBe(0);
    expect(metricValue(text, 'driftline_consumer_paused{consumer="retrain"}')).toBe(0);
    expect(metricValue(text, 'driftline_alert_delivered_by_channel_total{channel="slack"}')).toBe(3);
    expect(metricValue(text, 'driftline_alert_failed_by_channel_total{channel="webhook"}')).toBe(1);
    expect(metricValue(text, 'driftline_alert_failed_by_channel_total{channel="slack"}')).toBe(0);
    // A record of levels is a gauge per label: no _total.
    expect(text).toContain('# TYPE driftline_alert_waiting_by_channel gauge');
    expect(metricValue(text, 'driftline_alert_waiting_by_channel{channel="webhook"}')).toBe(7);

    store.predictionsStored = 1_200;
    store.bufferedRows = 0;
    store.paused = true;
    retrain.cycles.promoted = 2;
    alert.failedByChannel.slack = 4;
    alert.waitingByChannel.webhook = 0;
    const later = await (await fetch(`${url}/metrics`)).text();
    expect(metricValue(later, 'driftline_store_predictions_stored_total')).toBe(1_200);
    expect(metricValue(later, 'driftline_store_buffered_rows')).toBe(0);
    expect(metricValue(later, 'driftline_store_paused')).toBe(1);
    expect(metricValue(later, 'driftline_consumer_paused{consumer="store"}')).toBe(1);
    expect(metricValue(later, 'driftline_retrain_cycles_total{state="promoted"}')).toBe(2);
    expect(metricValue(later, 'driftline_alert_failed_by_channel_total{channel="slack"}')).toBe(4);
    expect(metricValue(later, 'driftline_alert_waiting_by_channel{channel="webhook"}')).toBe(0);
  });

  it("serves each lifecycle's lag per owned partition, messages per topic and flush durations", async () => {
    const flushListeners: ((seconds: number) => void)[] = [];
    let lags: PartitionLag[] = [
      { topic: 'predictions.a', partition: 0, lag: 120 },
      { topic: 'predictions.a', partition: 2, lag: 0 },
    ];
    const messages = new Map([
      ['predictions.a', 900],
      ['ground-truth', 40],
    ]);
    const telemetry: LifecycleTelemetry = {
      messagesByTopic: () => messages,
      lag: async () => lags,
      onFlush(listener) {
        flushListeners.push(listener);
        return () => flushListeners.splice(flushListeners.indexOf(listener), 1);
      },
    };
    const drift = { lastEvaluationTimestampSeconds: 1_764_331_200.5, evaluations: 7, openPanes: 3, paused: false };
    const url = await start([{ name: 'drift', stats: () => ({ ...drift }), telemetry }]);
    for (const seconds of [0.004, 0.03, 0.03, 2]) for (const listener of flushListeners) listener(seconds);

    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toContain('# TYPE driftline_consumer_lag gauge');
    expect(metricValue(text, 'driftline_consumer_lag{consumer="drift",topic="predictions.a",partition="0"}')).toBe(120);
    expect(metricValue(text, 'driftline_consumer_lag{consumer="drift",topic="predictions.a",partition="2"}')).toBe(0);
    expect(text).toContain('# TYPE driftline_consumer_messages_total counter');
    expect(metricValue(text, 'driftline_consumer_messages_total{consumer="drift",topic="predictions.a"}')).toBe(900);
    expect(metricValue(text, 'driftline_consumer_messages_total{consumer="drift",topic="ground-truth"}')).toBe(40);
    expect(text).toContain('# TYPE driftline_consumer_flush_duration_seconds histogram');
    expect(metricValue(text, 'driftline_consumer_flush_duration_seconds_count{consumer="drift"}')).toBe(4);
    expect(metricValue(text, 'driftline_consumer_flush_duration_seconds_bucket{le="0.005",consumer="drift"}')).toBe(1);
    expect(metricValue(text, 'driftline_consumer_flush_duration_seconds_bucket{le="0.05",consumer="drift"}')).toBe(3);
    expect(metricValue(text, 'driftline_consumer_flush_duration_seconds_bucket{le="+Inf",consumer="drift"}')).toBe(4);
    expect(text).toContain('# TYPE driftline_drift_last_evaluation_timestamp_seconds gauge');
    expect(metricValue(text, 'driftline_drift_last_evaluation_timestamp_seconds')).toBe(1_764_331_200.5);
    expect(text).toContain('# TYPE driftline_drift_open_panes gauge');

    // A rebalance took partition 0 away and gave partition 1: its series goes, the new one comes.
    lags = [{ topic: 'predictions.a', partition: 1, lag: 5 }];
    messages.set('predictions.a', 1_000);
    const later = await (await fetch(`${url}/metrics`)).text();
    expect(later).not.toContain('partition="0"');
    expect(metricValue(later, 'driftline_consumer_lag{consumer="drift",topic="predictions.a",partition="1"}')).toBe(5);
    expect(metricValue(later, 'driftline_consumer_messages_total{consumer="drift",topic="predictions.a"}')).toBe(1_000);

    // Kafka not answering: the lag is left out, the rest is served.
    telemetry.lag = () => Promise.reject(new Error('broker down'));
    const down = await fetch(`${url}/metrics`);
    expect(down.status).toBe(200);
    const downText = await down.text();
    expect(downText).not.toContain('driftline_consumer_lag{');
    expect(metricValue(downText, 'driftline_drift_evaluations_total')).toBe(7);

    await server?.close();
    server = undefined;
    expect(flushListeners).toHaveLength(0); // closing the server stops listening
  });

  it('answers /healthz 200 while every consumer runs, 503 naming the paused one', async () => {
    const { store, list } = consumers();
    const url = await start(list);

    const ok = await fetch(`${url}/healthz`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: 'ok' });

    store.paused = true;
    const paused = await fetch(`${url}/healthz`);
    expect(paused.status).toBe(503);
    expect(await paused.json()).toEqual({ status: 'paused', paused: ['store'] });

    store.paused = false;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });
});
