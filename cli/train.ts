import { parseArgs } from 'node:util';
import { CALIFORNIA_HOUSING_MODEL } from '../model/california-housing.ts';
import { ModelRegistry } from '../model/registry.ts';
import { DEFAULT_EPOCHS, DEFAULT_SEED, type EpochProgress, type TrainingMetrics, trainModel } from '../model/train.ts';
import { type Command, usageError } from './command.ts';
import { formatTable } from './table.ts';

export interface TrainArgs {
  epochs: number;
  seed: number;
  promote: boolean;
  /** Train only when the model has no version yet (a container stack's first start). */
  ifMissing: boolean;
}

export function parseTrainArgs(args: readonly string[]): TrainArgs {
  let values: { epochs?: string; seed?: string; promote?: boolean; 'if-missing'?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        epochs: { type: 'string' },
        seed: { type: 'string' },
        promote: { type: 'boolean' },
        'if-missing': { type: 'boolean' },
      },
      allowPositionals: false,
      strict: true,
    }));
  } catch (error) {
    throw usageError((error as Error).message);
  }
  return {
    epochs: integerFlag('--epochs', values.epochs, DEFAULT_EPOCHS, 1, 10_000),
    seed: integerFlag('--seed', values.seed, DEFAULT_SEED, 0, 2 ** 32 - 1),
    promote: values.promote ?? false,
    ifMissing: values['if-missing'] ?? false,
  };
}

function integerFlag(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) {
    throw usageError(`${name} must be an integer from ${min} to ${max}; got ${JSON.stringify(raw)}`);
  }
  return n;
}

export function formatTrainingReport(
  model: string,
  version: number,
  champion: number | null,
  metrics: TrainingMetrics,
  directory: string,
): string {
  const rows = [
    ['model', model],
    ['version', `${version}${champion === version ? ' (champion)' : ` (champion is ${champion ?? 'none'})`}`],
    ['rows', `${metrics.rows.train} train, ${metrics.rows.holdout} holdout`],
    ['seed', String(metrics.seed)],
    ['epochs', String(metrics.epochs)],
    ['RMSE', `${metrics.rmse.toFixed(4)}  (holdout, $100k)`],
    ['MAE', `${metrics.mae.toFixed(4)}  (holdout, $100k)`],
    ['R2', `${metrics.r2.toFixed(4)}  (holdout)`],
    ['time', `${(metrics.durationMs / 1000).toFixed(1)} s on the ${metrics.backend} backend`],
    ['stored', directory],
  ];
  return formatTable(['METRIC', 'VALUE'], rows);
}

/** One line per epoch; on a terminal the line is rewritten in place. */
export function progressWriter(stream: NodeJS.WritableStream & { isTTY?: boolean }): (p: EpochProgress) => void {
  return (p) => {
    const line = `epoch ${String(p.epoch).padStart(String(p.epochs).length)}/${p.epochs}  loss ${p.loss.toFixed(4)}  ${(p.elapsedMs / 1000).toFixed(1)} s`;
    if (stream.isTTY) stream.write(`\r${line}${p.epoch === p.epochs ? '\n' : ''}`);
    else stream.write(`${line}\n`);
  };
}

/** `train`, with epoch progress written to `progress` (stderr by default). */
export function createTrainCommand(progress: NodeJS.WritableStream = process.stderr): Command {
  return {
    name: 'train',
    usage: 'train [--epochs N] [--seed S] [--promote] [--if-missing]',
    summary: 'train the california-housing model and store it as a new registry version (first one is champion)',
    async run(args, { config, logger, out }) {
      const { epochs, seed, promote, ifMissing } = parseTrainArgs(args);
      const registry = ModelRegistry.fromConfig(config);
      if (ifMissing) {
        const existing = (await registry.listVersions(CALIFORNIA_HOUSING_MODEL)).at(-1);
        if (existing) {
          out.write(`${CALIFORNIA_HOUSING_MODEL} has versions already (newest v${existing.version}): not training\n`);
          return 0;
        }
      }
      const trained = await trainModel({ epochs, seed, logger, onEpoch: progressWriter(progress) });
      try {
        const version = await registry.saveVersion(trained, { promote });
        const champion = await registry.champion(trained.spec.model);
        const directory = registry.location(trained.spec.model, version);
        out.write(`${formatTrainingReport(trained.spec.model, version, champion, trained.metrics, directory)}\n`);
        return 0;
      } finally {
        trained.predictor.dispose();
      }
    },
  };
}

export const trainCommand: Command = createTrainCommand();
