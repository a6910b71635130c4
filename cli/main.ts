/**
 * `driftline <command>`: the one entry point. Each command is a small module; this file only
 * parses the command name, builds config and logger once, and maps errors to exit codes.
 */
import { parseConfig } from '../core/config.ts';
import { DriftlineError, describeError, ErrorCode } from '../core/errors.ts';
import { createLogger } from '../core/logger.ts';
import { alertCommand, alertsCommand } from './alert.ts';
import type { Command, CommandContext } from './command.ts';
import { compareCommand } from './compare.ts';
import { consumeCommand } from './consume.ts';
import { demoCommand } from './demo.ts';
import { modelsCommand } from './models.ts';
import { replayCommand } from './replay.ts';
import { reportCommand } from './report.ts';
import { retrainCommand } from './retrain.ts';
import { serveCommand } from './serve.ts';
import { migrateCommand, sqlCommand } from './sql.ts';
import { stackCommand } from './stack.ts';
import { trainCommand } from './train.ts';

const COMMANDS: readonly Command[] = [
  stackCommand,
  demoCommand,
  trainCommand,
  retrainCommand,
  modelsCommand,
  serveCommand,
  replayCommand,
  consumeCommand,
  migrateCommand,
  sqlCommand,
  compareCommand,
  reportCommand,
  alertCommand,
  alertsCommand,
];

export function usage(): string {
  return [
    'Usage: driftline <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.flatMap((c) => [`  ${c.usage}`, `      ${c.summary}`]),
    '',
    'Configuration comes from environment variables; see README.md.',
  ].join('\n');
}

export async function main(argv: readonly string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    out.write(`${usage()}\n`);
    return name === undefined ? 1 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`driftline: unknown command ${JSON.stringify(name)}\n\n${usage()}\n`);
    return 2;
  }
  try {
    const config = parseConfig();
    const logger = createLogger(config.logLevel);
    const context: CommandContext = { config, logger, out };
    return await command.run(rest, context);
  } catch (error) {
    process.stderr.write(`driftline ${name}: ${describeError(error)}\n`);
    if (error instanceof DriftlineError && error.code === ErrorCode.USAGE) return 2;
    return 1;
  }
}
