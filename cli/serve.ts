import { parseArgs } from 'node:util';
import { CALIFORNIA_HOUSING_MODEL } from '../model/california-housing.ts';
import { startRuntime, untilSignal } from '../platform/runtime.ts';
import { startPredictService } from '../producers/predict-service/main.ts';
import { type Command, usageError } from './command.ts';

export const serveCommand: Command = {
  name: 'serve',
  usage: 'serve [--model NAME] [--port N] [--host H]',
  summary: "serve the model's champion over HTTP (POST /predict, /feedback), producing events to Kafka",
  async run(args, { config, logger, out }) {
    let values: { model?: string; port?: string; host?: string };
    try {
      ({ values } = parseArgs({
        args: [...args],
        options: { model: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' } },
        strict: true,
      }));
    } catch (error) {
      throw usageError((error as Error).message);
    }
    const port = values.port === undefined ? config.predictPort : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw usageError(`--port must be 0–65535; got ${values.port}`);
    const runtime = await startRuntime(config, logger);
    const service = await startPredictService(config, logger, runtime, values.model ?? CALIFORNIA_HOUSING_MODEL, {
      host: values.host ?? config.predictHost,
      port,
    });
    out.write(
      `predict service at ${service.url} (model ${service.slot.current?.name} v${service.slot.current?.version}); Ctrl-C stops it\n`,
    );
    await untilSignal();
    await service.stop();
    return 0;
  },
};
