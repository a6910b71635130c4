/** The log (pino) and the terminal: always on, so alerts are seen with nothing configured. */
import type { Logger } from '../../../core/logger.ts';
import { type AlertMessage, terminalLine } from '../message.ts';
import type { AlertChannel, Delivered } from './channel.ts';

export class ConsoleChannel implements AlertChannel {
  readonly name = 'log' as const;

  constructor(
    private readonly logger: Logger,
    private readonly out: NodeJS.WritableStream | null,
  ) {}

  async send(message: AlertMessage): Promise<Delivered> {
    const line = terminalLine(message);
    this.logger.warn(
      {
        alert: {
          id: message.alertId,
          kind: message.kind,
          severity: message.severity,
          model: message.model,
          version: message.version,
          state: message.state,
          features: message.features.map((f) => f.column),
          eventId: message.eventId,
        },
      },
      line,
    );
    this.out?.write(`${line}\n`);
    return { messageId: '' };
  }
}
