/**
 * The dashboard's own Prometheus metrics: requests by route and status with their durations,
 * the live streams open and the change polls behind them. Served on `GET /metrics` of the
 * dashboard itself (guarded by DASHBOARD_TOKEN like every other route).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Request durations, s: an asset in a millisecond, a model page's queries in tens to hundreds. */
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface DashboardMetrics {
  registry: Registry;
  /** One answered request: `route` is the route's pattern (`/api/models/:model`), never the raw URL. */
  request(route: string, method: string, status: number, seconds: number): void;
  liveClients: Gauge;
  polls: Counter;
  pollFailures: Counter;
}

export function dashboardMetrics(): DashboardMetrics {
  const registry = new Registry();
  const requests = new Counter({
    name: 'driftline_dashboard_requests_total',
    help: 'Requests answered, by route pattern, method and status code',
    labelNames: ['route', 'method', 'status'],
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'driftline_dashboard_request_duration_seconds',
    help: 'Time to answer a request, by route pattern (the live stream is not counted: it stays open)',
    labelNames: ['route'],
    buckets: REQUEST_BUCKETS,
    registers: [registry],
  });
  return {
    registry,
    request(route, method, status, seconds) {
      requests.inc({ route, method, status: String(status) });
      durations.observe({ route }, seconds);
    },
    liveClients: new Gauge({
      name: 'driftline_dashboard_live_clients',
      help: 'Live streams (GET /api/events) open on this process',
      registers: [registry],
    }),
    polls: new Counter({
      name: 'driftline_dashboard_live_polls_total',
      help: 'Change polls of ClickHouse and the registry made for the live streams',
      registers: [registry],
    }),
    pollFailures: new Counter({
      name: 'driftline_dashboard_live_poll_failures_total',
      help: 'Change polls that failed (ClickHouse or the registry did not answer); the next one retries',
      registers: [registry],
    }),
  };
}
