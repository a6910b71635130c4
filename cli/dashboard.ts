import { parseArgs } from 'node:util';
import { migrate } from '../core/migrations.ts';
import { openStorage } from '../core/storage/index.ts';
import { startDashboard } from '../dashboard/main.ts';
import { untilSignal } from '../platform/runtime.ts';
import { type Command, usageError } from './command.ts';

export const dashboardCommand: Command = {
  name: 'dashboard',
  usage: 'dashboard [--port N] [--host H]',
  summary:
    'the live monitoring page and its JSON API (default 127.0.0.1:8080, DASHBOARD_PORT); DASHBOARD_TOKEN guards it',
  async run(args, { config, logger, out }) {
    let values: { port?: string; host?: string };
    try {
      ({ values } = parseArgs({
        args: [...args],
        options: { port: { type: 'string' }, host: { type: 'string' } },
        strict: true,
      }));
    } catch (error) {
      throw usageError((error as Error).message);
    }
    const port = values.port === undefined ? config.dashboardPort : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw usageError(`--port must be 0–65535; got ${values.port}`);
    }
    // Reads only need ClickHouse (CLICKHOUSE_URL, else embedded chDB); Kafka is reached when an action needs it.
    const storage = await openStorage(config, logger);
    try {
      await migrate(storage);
      const dashboard = await startDashboard({
        config,
        logger,
        storage,
        port,
        ...(values.host === undefined ? {} : { host: values.host, hostExplicit: true }),
      });
      out.write(
        `dashboard at ${dashboard.url}${config.dashboardToken ? ' (DASHBOARD_TOKEN required)' : ''}; Ctrl-C stops it\n`,
      );
      await untilSignal();
      await dashboard.close();
      return 0;
    } finally {
      await storage.close();
    }
  },
};
