import { stackDown, stackStatus, stackUp } from '../stack/index.ts';
import { type ServiceStatus, STACK_SERVICES, type StackServiceName } from '../stack/types.ts';
import { type Command, usageError } from './command.ts';
import { formatTable } from './table.ts';

function parseServices(args: readonly string[]): StackServiceName[] | undefined {
  if (args.length === 0) return undefined;
  for (const arg of args) {
    if (!(STACK_SERVICES as readonly string[]).includes(arg)) {
      throw usageError(`unknown service ${JSON.stringify(arg)}; expected one of ${STACK_SERVICES.join(', ')}`);
    }
  }
  return args as StackServiceName[];
}

export function formatStatus(statuses: readonly ServiceStatus[]): string {
  const rows = statuses.map((s) => [s.name, s.state, s.endpoint, s.pid === undefined ? '-' : String(s.pid), s.logFile]);
  return formatTable(['SERVICE', 'STATE', 'ENDPOINT', 'PID', 'LOG'], rows);
}

export const stackCommand: Command = {
  name: 'stack',
  usage: 'stack up|down|status [kafka|registry|clickhouse…]',
  summary: 'provision, start, stop or show the local Kafka, schema registry and ClickHouse',
  async run(args, { config, logger, out }) {
    const [action, ...rest] = args;
    const services = parseServices(rest);
    const options = services ? { services } : {};
    switch (action) {
      case 'up': {
        const result = await stackUp(config, logger, options);
        out.write(`${formatStatus(result.statuses)}\n`);
        out.write(result.started.length > 0 ? `started: ${result.started.join(', ')}\n` : 'already running\n');
        return 0;
      }
      case 'down': {
        const stopped = await stackDown(config, logger, options);
        out.write(stopped.length > 0 ? `stopped: ${stopped.join(', ')}\n` : 'nothing to stop\n');
        return 0;
      }
      case 'status': {
        out.write(`${formatStatus(await stackStatus(config))}\n`);
        return 0;
      }
      default:
        throw usageError(`stack needs up, down or status; got ${JSON.stringify(action ?? '')}`);
    }
  },
};
