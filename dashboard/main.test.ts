import { describe, expect, it } from 'vitest';
import { parseConfig } from '../core/config.ts';
import { DriftlineError } from '../core/errors.ts';
import { createLogger } from '../core/logger.ts';
import type { Storage } from '../core/storage/index.ts';
import type { DashboardActions } from './actions.ts';
import { startDashboard } from './main.ts';

const logger = createLogger('silent');
// Nothing is read before a request comes: start-up needs no ClickHouse.
const storage = {} as Storage;
const actions = { close: async () => {} } as DashboardActions;

describe('startDashboard', () => {
  it('refuses to listen beyond loopback without DASHBOARD_TOKEN unless the host was given explicitly', async () => {
    const config = parseConfig({ DRIFTLINE_HOME: '/nonexistent' });
    const refused = await startDashboard({ config, logger, storage, actions, host: '0.0.0.0', port: 0 }).catch(
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(DriftlineError);
    expect((refused as DriftlineError).code).toBe('DL_USAGE');
    expect((refused as Error).message).toMatch(/DASHBOARD_TOKEN/);

    for (const options of [
      { config, host: '127.0.0.1' },
      { config, host: '0.0.0.0', hostExplicit: true },
      { config: parseConfig({ DRIFTLINE_HOME: '/nonexistent', DASHBOARD_TOKEN: 'secret' }), host: '0.0.0.0' },
    ]) {
      const dashboard = await startDashboard({ logger, storage, actions, port: 0, ...options });
      try {
        const port = new URL(dashboard.url).port;
        const page = await fetch(`http://127.0.0.1:${port}/`, { redirect: 'manual' });
        // With the token the page sends strangers to the login form.
        expect(page.status).toBe(options.config.dashboardToken ? 303 : 200);
      } finally {
        await dashboard.close();
      }
    }
  });
});

describe('GET /healthz', () => {
  const config = parseConfig({ DRIFTLINE_HOME: '/nonexistent' });

  it('answers 503 naming ClickHouse when its ping fails, and 200 once it answers', async () => {
    let down = true;
    const flaky = {
      async ping() {
        if (down) throw new Error('ClickHouse is unavailable at http://127.0.0.1:8123');
      },
    } as Storage;
    const dashboard = await startDashboard({ config, logger, storage: flaky, actions, port: 0 });
    try {
      const refused = await fetch(`${dashboard.url}/healthz`);
      expect(refused.status).toBe(503);
      expect(await refused.json()).toEqual({
        status: 'unavailable',
        storage: 'ClickHouse is unavailable at http://127.0.0.1:8123',
      });
      down = false;
      const healthy = await fetch(`${dashboard.url}/healthz`);
      expect(healthy.status).toBe(200);
      expect(await healthy.json()).toEqual({ status: 'ok' });
    } finally {
      await dashboard.close();
    }
  });

  it('answers 503 when ClickHouse does not answer within 2 s, instead of hanging the probe', async () => {
    const silent = { ping: () => new Promise<void>(() => {}) } as unknown as Storage;
    const dashboard = await startDashboard({ config, logger, storage: silent, actions, port: 0 });
    try {
      const response = await fetch(`${dashboard.url}/healthz`);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ storage: 'ClickHouse did not answer in time' });
    } finally {
      await dashboard.close();
    }
  });
});
