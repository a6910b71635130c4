import { runAlert } from '../consumers/alert/main.ts';
import { runDrift } from '../consumers/drift/main.ts';
import { runRetrain } from '../consumers/retrain/main.ts';
import { runStore } from '../consumers/store/main.ts';
import type { LifecycleTelemetry } from '../core/kafka/consumer-lifecycle.ts';
import { type MetricsServer, startMetricsServer } from '../platform/metrics-server.ts';
import { startRuntime, untilSignal } from '../platform/runtime.ts';
import { type Command, usageError } from './command.ts';

/** The consumers `driftline consume` runs (docker-compose.yml's services are checked against it). */
export const CONSUMERS = ['store', 'drift', 'alert', 'retrain'] as const;
type ConsumerName = (typeof CONSUMERS)[number];

export const consumeCommand: Command = {
  name: 'consume',
  usage: 'consume store|drift|alert|retrain [store|drift|alert|retrain…]',
  summary:
    'run consumers until Ctrl-C: store (predictions and ground truth into ClickHouse, sketches), drift (windows vs reference profiles, drift events, reports), alert (drift events to Slack, email, webhook and the terminal), retrain (drift events to retraining, champion/challenger, deployment); several share one process (needed with embedded chDB)',
  async run(args, { config, logger, out }) {
    const names = [...new Set(args)];
    if (
      names.length === 0 ||
      names.length !== args.length ||
      names.some((n) => !CONSUMERS.includes(n as ConsumerName))
    ) {
      throw usageError(`consume needs one or more of ${CONSUMERS.join(', ')}; got ${JSON.stringify(args.join(' '))}`);
    }
    const runtime = await startRuntime(config, logger);
    const running: { name: ConsumerName; stop(): Promise<void>; stats(): object; telemetry: LifecycleTelemetry }[] = [];
    let metrics: MetricsServer | undefined;
    try {
      for (const name of names as ConsumerName[]) {
        if (name === 'store') {
          const store = await runStore(config, logger, runtime);
          running.push({
            name,
            stop: store.stop,
            stats: () => store.consumer.stats(),
            telemetry: store.consumer.telemetry,
          });
          out.write(
            `store consumer running (group ${store.consumer.groupId}, ClickHouse ${store.storage.kind}); Ctrl-C stops it\n`,
          );
        } else if (name === 'alert') {
          const alert = await runAlert(config, logger, runtime, { out });
          running.push({ name, stop: alert.stop, stats: alert.stats, telemetry: alert.consumer.telemetry });
          out.write(
            `alert consumer running (group ${alert.consumer.groupId}, ClickHouse ${alert.storage.kind}, channels ${alert.channels.join(', ')}); Ctrl-C stops it\n`,
          );
        } else if (name === 'retrain') {
          const retrain = await runRetrain(config, logger, runtime);
          running.push({ name, stop: retrain.stop, stats: retrain.stats, telemetry: retrain.consumer.telemetry });
          out.write(
            `retrain consumer running (group ${retrain.consumer.groupId}, mode ${config.retrain.mode}, ClickHouse ${retrain.storage.kind}); Ctrl-C stops it\n`,
          );
        } else {
          const drift = await runDrift(config, logger, runtime);
          running.push({ name, stop: drift.stop, stats: drift.stats, telemetry: drift.consumer.telemetry });
          out.write(
            `drift consumer running (group ${drift.consumer.groupId}, ClickHouse ${drift.storage.kind}, reports in ${config.reportsDir}); Ctrl-C stops it\n`,
          );
        }
      }
      if (config.metricsPort !== undefined) {
        // Started once every consumer runs, so each one's stats are there to build its metrics from.
        metrics = await startMetricsServer({
          consumers: running,
          host: config.metricsHost,
          port: config.metricsPort,
          logger,
        });
        out.write(`metrics and health on ${metrics.url}/metrics and ${metrics.url}/healthz\n`);
      }
      await untilSignal();
    } finally {
      // Closed first: while the consumers stop, /healthz no longer says they run.
      await metrics
        ?.close()
        .catch((error: unknown) => logger.warn({ err: error }, 'closing the metrics server failed'));
      for (const consumer of running.reverse()) {
        await consumer.stop();
        const prefix = names.length > 1 ? `${consumer.name}: ` : '';
        out.write(`${prefix}${JSON.stringify(consumer.stats())}\n`);
      }
    }
    return 0;
  },
};
