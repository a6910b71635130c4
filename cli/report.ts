import { parseArgs } from 'node:util';
import { writeModelReport } from '../consumers/drift/report.ts';
import { type Command, usageError } from './command.ts';

const USAGE = 'report --model M [--version V] [--out file.html]';

export const reportCommand: Command = {
  name: 'report',
  usage: USAGE,
  summary:
    "write the HTML drift report of a model's newest window (the last DRIFT_WINDOW_PANES panes the store sketched) to reports/ or --out",
  async run(args, { config, logger, out }) {
    let values: { model?: string; version?: string; out?: string };
    try {
      ({ values } = parseArgs({
        args: [...args],
        strict: true,
        options: { model: { type: 'string' }, version: { type: 'string' }, out: { type: 'string' } },
      }));
    } catch (error) {
      throw usageError(`${(error as Error).message}\nusage: driftline ${USAGE}`);
    }
    if (!values.model) throw usageError(`--model is required\nusage: driftline ${USAGE}`);
    const version = values.version === undefined ? undefined : Number(values.version);
    if (version !== undefined && !(Number.isSafeInteger(version) && version >= 1)) {
      throw usageError(`--version must be a positive integer; got ${JSON.stringify(values.version)}`);
    }
    // Only ClickHouse is needed: the configured one (CLICKHOUSE_URL, else embedded chDB).
    const report = await writeModelReport(config, logger, {
      model: values.model,
      ...(version === undefined ? {} : { version }),
      ...(values.out === undefined ? {} : { out: values.out }),
    });
    out.write(
      `${report.path}\n${report.model} v${report.version} ${report.windowStart.toISOString()} – ${report.windowEnd.toISOString()}: ${report.state}${report.driftedColumns.length > 0 ? ` (drifted: ${report.driftedColumns.join(', ')})` : ''}\n`,
    );
    return 0;
  },
};
