/**
 * `startDashboard`: the dashboard listening, for `driftline dashboard` and for the demo (which
 * passes its own chDB storage and runtime, so the page reads what its consumers write in-process).
 */
import type { AddressInfo } from 'node:net';
import type { Config } from '../core/config.ts';
import { DriftlineError, ErrorCode } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Storage } from '../core/storage/index.ts';
import { ModelRegistry } from '../model/registry.ts';
import { type Runtime, startRuntime } from '../platform/runtime.ts';
import { createActions, type DashboardActions } from './actions.ts';
import { checkListenHost, isLoopback } from './auth.ts';
import { buildDashboard } from './server.ts';

export interface StartDashboardOptions {
  config: Readonly<Config>;
  logger: Logger;
  /** Opened and migrated by the caller, and closed by it (the dashboard only reads and records through it). */
  storage: Storage;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default DASHBOARD_PORT (8080); 0 picks a free port. */
  port?: number;
  /** The host was chosen by the user (`--host`): then it may be non-loopback without a token. */
  hostExplicit?: boolean;
  /** Kafka client and codec for the actions' announcements; started on first need when absent. */
  runtime?: Runtime;
  /** Replaces the default actions (tests). */
  actions?: DashboardActions;
  /** Live-stream poll interval (default 2000 ms). */
  pollMs?: number;
}

export interface RunningDashboard {
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  close(): Promise<void>;
}

export async function startDashboard(options: StartDashboardOptions): Promise<RunningDashboard> {
  const { config, logger, storage } = options;
  const host = options.host ?? '127.0.0.1';
  const refusal = checkListenHost(host, { token: config.dashboardToken, explicit: options.hostExplicit === true });
  if (refusal) throw new DriftlineError(ErrorCode.USAGE, refusal);
  const registry = ModelRegistry.fromConfig(config);
  let runtime: Promise<Runtime> | undefined = options.runtime ? Promise.resolve(options.runtime) : undefined;
  const actions =
    options.actions ??
    createActions({
      config,
      logger,
      storage,
      registry,
      runtime: () => {
        runtime ??= startRuntime(config, logger);
        return runtime;
      },
    });
  const app = await buildDashboard({
    storage,
    registry,
    actions,
    token: config.dashboardToken,
    windowPanes: config.driftWindowPanes,
    reportsDir: config.reportsDir,
    logger,
    ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
  });
  await app.listen({ host, port: options.port ?? config.dashboardPort });
  if (!isLoopback(host) && config.dashboardToken === undefined) {
    logger.warn(
      { host },
      'the dashboard listens beyond loopback without DASHBOARD_TOKEN: anyone who reaches it can act',
    );
  }
  const address = app.server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${urlHost}:${address.port}`,
    async close() {
      await app.close();
      await actions.close();
    },
  };
}
