/**
 * The consumers' /healthz and /metrics server: one per `driftline consume` process, serving every
 * consumer it runs. Each consumer's `stats()` becomes Prometheus metrics named
 * `driftline_<consumer>_<stat>` (snake_case): counters (`…_total`) for the counts that only grow,
 * gauges for the rest (paused, panes, versions, buffered rows, running cycles), plus
 * `driftline_consumer_paused{consumer}`. The metrics are made once, from the stats' shape at
 * start; a scrape copies the current stats into them.
 */
import Fastify, { type FastifyBaseLogger, LogController } from 'fastify';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Logger } from '../core/logger.ts';

/** A running consumer as the server sees it: a name and its stats (numbers, flags, counts by kind). */
export interface MonitoredConsumer {
  /** store, drift, alert, retrain: the `<consumer>` of the metric names. */
  name: string;
  stats(): object;
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
  'panes',
  'versions',
  'unmonitoredVersions',
  'running',
]);

/** The label of a stat that is a record of counts (retrain's `cycles` by run state). */
const RECORD_LABELS: Readonly<Record<string, string>> = { cycles: 'state' };

/** The consumers' stats as Prometheus metrics, and `refresh()` to copy the current stats in. */
export interface ConsumerMetrics {
  registry: Registry;
  refresh(): void;
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
        const counter = new Counter({ name: `${name}_total`, help, labelNames: [label], registers: [registry] });
        const keys = Object.keys(value);
        updates.push(() => {
          const record = current[stat];
          if (record === null || typeof record !== 'object') return;
          counter.reset();
          for (const key of keys) {
            const now = numeric((record as Record<string, unknown>)[key]);
            if (now !== undefined && now >= 0) counter.inc({ [label]: key }, now);
          }
        });
      }
    }
  }
  return {
    registry,
    refresh() {
      for (const update of updates) update();
    },
  };
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
    metrics.refresh();
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  const address = await app.listen({ host: options.host, port: options.port });
  return {
    url: address,
    close: () => app.close(),
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
