import { runStore } from '../consumers/store/main.ts';
import { startRuntime, untilSignal } from '../core/runtime.ts';
import { type Command, usageError } from './command.ts';

const CONSUMERS = ['store'] as const;

export const consumeCommand: Command = {
  name: 'consume',
  usage: 'consume store',
  summary: 'run a consumer until Ctrl-C: store (predictions and ground truth into ClickHouse, sketches)',
  async run(args, { config, logger, out }) {
    const [which, ...rest] = args;
    if (!CONSUMERS.includes(which as (typeof CONSUMERS)[number]) || rest.length > 0) {
      throw usageError(`consume needs one of ${CONSUMERS.join(', ')}; got ${JSON.stringify(args.join(' '))}`);
    }
    const runtime = await startRuntime(config, logger);
    const store = await runStore(config, logger, runtime);
    out.write(
      `store consumer running (group ${store.consumer.groupId}, ClickHouse ${store.storage.kind}); Ctrl-C stops it\n`,
    );
    await untilSignal();
    await store.stop();
    out.write(`${JSON.stringify(store.consumer.stats())}\n`);
    return 0;
  },
};
