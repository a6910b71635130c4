import type { Config } from '../core/config.ts';
import { DriftlineError, ErrorCode } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';

export interface CommandContext {
  config: Readonly<Config>;
  logger: Logger;
  out: NodeJS.WritableStream;
}

export interface Command {
  name: string;
  /** e.g. "stack up|down|status [service…]" */
  usage: string;
  summary: string;
  /** Returns the process exit code. */
  run(args: readonly string[], context: CommandContext): Promise<number>;
}

export function usageError(message: string): DriftlineError {
  return new DriftlineError(ErrorCode.USAGE, message);
}
