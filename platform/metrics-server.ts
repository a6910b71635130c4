/**
 * The consumers' /healthz and /metrics server: one per `driftline consume` process, serving every
 * consumer it runs. Each consumer's `stats()` becomes Prometheus metrics named
 * `driftline_<consumer>_<stat>` (snake_case): counters (`…_total`) for the counts that only grow,
 * gauges for the rest (paused, panes, versions, buffered rows, running cycles, timestamps), plus
 * `driftline_consumer_paused{consumer}`. The metrics are made once, from the stats' shape at
 * start; a scrape copies the current stats into them. Every consumer runs on the shared lifecycle
 * (core/kafka/consumer-lifecycle.ts), whose telemetry gives the metrics common to all of them:
 * lag per partition, messages taken in per topic, and flush durations.
 */
import Fastify, { type FastifyBaseLogger, LogController } from 'fastify';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LifecycleTelemetry, PartitionLag } from '../core/kafka/consumer-lifecycle.ts';
import type { Logger } from '../core/logger.ts';

/** A running consumer as the server sees it: a name and its stats (numbers, flags, counts by kind). */
export interface MonitoredConsumer {
  /** store, drift, alert, retrain: the `<consumer>` of the metric names. */
  name: string;
  stats(): object;
  /** Its lifecycle's lag, messages and flush durations; without it, only the stats are served. */
  telemetry?: LifecycleTelemetry;
}

export interface MetricsServerOptions {
  consumers: readonly MonitoredConsumer[];
  host: string;
  /** 0: any free port (tests). */
  port: number;
  logger: Logger;
}

export interface MetricsServer {
  /** Where it listens, e.g. http://127.0.0.1:9464. */
  readonly url: string;
  close(): Promise<void>;
}

/** Stats that go up and down; every other number is a count that only grows. */
const GAUGE_STATS: ReadonlySet<string> = new Set([
  'paused',
  'bufferedRows',
  'openPanes',
  'panes',
  'versions',
  'unmonitoredVersions',
  'running',
  'lastEvaluationTimestampSeconds',
  'waitingByChannel',
]);

/** Flush-and-commit durations, s: a flush is a ClickHouse insert and a produce, from ms to an outage's retries. */
const FLUSH_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** A scrape does not wait longer than this for the lag (Kafka may be down: the rest is still served). */
const LAG_TIMEOUT_MS = 2_000;

/** The label of a stat that is a record (retrain's `cycles` by run state, alert deliveries by channel). */
const RECORD_LABELS: Readonly<Record<string, string>> = {
  cycles: 'state',
  deliveredByChannel: 'channel',
  failedByChannel: 'channel',
  retriesByChannel: 'channel',
  waitingByChannel: 'channel',
};

/** The consumers' stats as Prometheus metrics, and `refresh()` to copy the current stats in. */
export interface ConsumerMetrics {
  registry: Registry;
  refresh(): Promise<void>;
  /** Stops listening to the lifecycles' flushes. */
  close(): void;
}

/** Builds every metric once, from the shape `stats()` has now. */
export function consumerMetrics(consumers: readonly MonitoredConsumer[]): ConsumerMetrics {
  const registry = new Registry();
  const paused = new Gauge({
    name: 'driftline_consumer_paused',
    help: 'Whether the consumer has paused consumption (1) after a failed flush, or consumes (0)',
    labelNames: ['consumer'],
    registers: [registry],
  });
  const updates: (() => void)[] = [];
  const lifecycle = lifecycleMetrics(registry, consumers);
  for (const consumer of consumers) {
    const prefix = `driftline_${snake(consumer.name)}`;
    // Each scrape reads stats() once per consumer; the setters below read this snapshot.
    let current: Record<string, unknown> = {};
    updates.push(() => {
      current = { ...consumer.stats() };
      paused.set({ consumer: consumer.name }, current.paused === true ? 1 : 0);
    });
    for (const [stat, value] of Object.entries(consumer.stats())) {
      const name = `${prefix}_${snake(stat)}`;
      const help = `${consumer.name} consumer: ${stat}`;
      if (typeof value === 'boolean' || (typeof value === 'number' && GAUGE_STATS.has(stat))) {
        const gauge = new Gauge({ name, help, registers: [registry] });
        updates.push(() => {
          const now = numeric(current[stat]);
          if (now !== undefined) gauge.set(now);
        });
      } else if (typeof value === 'number') {
        const counter = new Counter({ name: `${name}_total`, help, registers: [registry] });
        updates.push(() => setCounter(counter, numeric(current[stat])));
      } else if (value !== null && typeof value === 'object') {
        const label = RECORD_LABELS[stat] ?? 'kind';
        const keys = Object.keys(value);
        const each = (set: (key: string, now: number) => void) => () => {
          const record = current[stat];
          if (record === null || typeof record !== 'object') return;
          for (const key of keys) {
            const now = numeric((record as Record<string, unknown>)[key]);
            if (now !== undefined && now >= 0) set(key, now);
          }
        };
        if (GAUGE_STATS.has(stat)) {
          const gauge = new Gauge({ name, help, labelNames: [label], registers: [registry] });
          updates.push(each((key, now) => gauge.set({ [label]: key }, now)));
        } else {
          const counter = new Counter({ name: `${name}_total`, help, labelNames: [label], registers: [registry] });
          const fill = each((key, now) => counter.inc({ [label]: key }, now));
          updates.push(() => {
            counter.reset();
            fill();
          });
        }
      }
    }
  }
  return {
    registry,
    async refresh() {
      for (const update of updates) update();
      await lifecycle.refresh();
    },
    close: lifecycle.close,
  };
}

/** The metrics every consumer's lifecycle gives: lag, messages taken in, flush durations. */
function lifecycleMetrics(
  registry: Registry,
  consumers: readonly MonitoredConsumer[],
): { refresh(): Promise<void>; close(): void } {
  const lag = new Gauge({
    name: 'driftline_consumer_lag',
    help: "Messages in the partition after the group's committed offset (high watermark − committed), for the partitions this member owns",
    labelNames: ['consumer', 'topic', 'partition'],
    registers: [registry],
  });
  const messages = new Counter({
    name: 'driftline_consumer_messages_total',
    help: 'Messages taken in (stored, evaluated or dead-lettered), by topic; rate() gives events/s',
    labelNames: ['consumer', 'topic'],
    registers: [registry],
  });
  const flushes = new Histogram({
    name: 'driftline_consumer_flush_duration_seconds',
    help: 'Duration of each successful flush and commit (writes, produces, offset commit)',
    labelNames: ['consumer'],
    buckets: FLUSH_BUCKETS,
    registers: [registry],
  });
  const monitored = consumers.filter(
    (c): c is MonitoredConsumer & { telemetry: LifecycleTelemetry } => c.telemetry !== undefined,
  );
  const unsubscribe = monitored.map((c) =>
    c.telemetry.onFlush((seconds) => flushes.observe({ consumer: c.name }, seconds)),
  );
  return {
    async refresh() {
      messages.reset();
      for (const c of monitored) {
        for (const [topic, count] of c.telemetry.messagesByTopic()) messages.inc({ consumer: c.name, topic }, count);
      }
      // Partitions move between members: only what each owns now, none of what a rebalance took.
      const lags = await Promise.all(monitored.map((c) => withTimeout(c.telemetry.lag(), LAG_TIMEOUT_MS)));
      lag.reset();
      monitored.forEach((c, i) => {
        for (const entry of lags[i] ?? []) {
          lag.set({ consumer: c.name, topic: entry.topic, partition: String(entry.partition) }, entry.lag);
        }
      });
    },
    close() {
      for (const off of unsubscribe) off();
    },
  };
}

/** The lag, or none when Kafka does not answer in time (its series are then left out). */
async function withTimeout(lags: Promise<PartitionLag[]>, ms: number): Promise<PartitionLag[] | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([lags.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Starts the server; resolves once it listens. */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const metrics = consumerMetrics(options.consumers);
  const app = Fastify({
    loggerInstance: options.logger.child({ component: 'metrics-server' }) as FastifyBaseLogger,
    // A scrape every few seconds would drown the consumers' own log lines.
    logController: new LogController({ disableRequestLogging: true }),
  });

  app.get('/healthz', async (_request, reply) => {
    const paused = options.consumers.filter((c) => (c.stats() as { paused?: unknown }).paused === true);
    if (paused.length === 0) return { status: 'ok' };
    return reply.status(503).send({ status: 'paused', paused: paused.map((c) => c.name) });
  });

  app.get('/metrics', async (_request, reply) => {
    await metrics.refresh();
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  const address = await app.listen({ host: options.host, port: options.port });
  return {
    url: address,
    close: async () => {
      metrics.close();
      await app.close();
    },
  };
}

function numeric(value: unknown): number | undefined {
  if (typeof value === 'boolean') return value ? 1 : 0;
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** A counter's value is the stat itself: reset, then add it (prom-client counters have no set). */
function setCounter(counter: Counter, value: number | undefined): void {
  if (value === undefined || value < 0) return;
  counter.reset();
  counter.inc(value);
}

/** failedFlushes → failed_flushes */
function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`).replace(/[^a-z0-9_]/g, '_');
}
