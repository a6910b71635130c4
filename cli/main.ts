/**
 * `driftline <command>`: the one entry point. Each command is a small module; this file only
 * parses the command name, builds config and logger once, and maps errors to exit codes.
 */
import { parseConfig } from '../core/config.ts';
import { DriftlineError, describeError, ErrorCode } from '../core/errors.ts';
import { createLogger, type Logger } from '../core/logger.ts';
import type { Command, CommandContext } from './command.ts';

// Commands load on demand: a small `compare` must not pay for TF.js, Kafka and ClickHouse clients.
export const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  stack: async () => (await import('./stack.ts')).stackCommand,
  demo: async () => (await import('./demo.ts')).demoCommand,
  train: async () => (await import('./train.ts')).trainCommand,
  retrain: async () => (await import('./retrain.ts')).retrainCommand,
  models: async () => (await import('./models.ts')).modelsCommand,
  serve: async () => (await import('./serve.ts')).serveCommand,
  replay: async () => (await import('./replay.ts')).replayCommand,
  consume: async () => (await import('./consume.ts')).consumeCommand,
  migrate: async () => (await import('./sql.ts')).migrateCommand,
  sql: async () => (await import('./sql.ts')).sqlCommand,
  compare: async () => (await import('./compare.ts')).compareCommand,
  report: async () => (await import('./report.ts')).reportCommand,
  alert: async () => (await import('./alert.ts')).alertCommand,
  alerts: async () => (await import('./alert.ts')).alertsCommand,
  dashboard: async () => (await import('./dashboard.ts')).dashboardCommand,
};

export async function usage(): Promise<string> {
  const commands = await Promise.all(Object.values(COMMANDS).map((load) => load()));
  return [
    'Usage: driftline <command> [options]',
    '',
    'Commands:',
    ...commands.flatMap((c) => [`  ${c.usage}`, `      ${c.summary}`]),
    '',
    'Configuration comes from environment variables; see README.md.',
  ].join('\n');
}

export async function main(argv: readonly string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    out.write(`${await usage()}\n`);
    return name === undefined ? 1 : 0;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    process.stderr.write(`driftline: unknown command ${JSON.stringify(name)}\n\n${await usage()}\n`);
    return 2;
  }
  try {
    const config = parseConfig();
    let logger: Logger | undefined;
    const context: CommandContext = {
      config,
      out,
      // Made on first use: commands that never log do not load pino.
      get logger() {
        logger ??= createLogger(config.logLevel);
        return logger;
      },
    };
    const command = await load();
    return await command.run(rest, context);
  } catch (error) {
    process.stderr.write(`driftline ${name}: ${describeError(error)}\n`);
    if (error instanceof DriftlineError && error.code === ErrorCode.USAGE) return 2;
    return 1;
  }
}
