import { parseArgs } from 'node:util';
import { publishDeployment } from '../core/deployments.ts';
import { ModelRegistry, type VersionSummary } from '../model/registry.ts';
import { startRuntime } from '../platform/runtime.ts';
import { type Command, type CommandContext, usageError } from './command.ts';
import { formatTable } from './table.ts';

export function formatVersions(model: string, versions: readonly VersionSummary[]): string[][] {
  return versions.map(({ version, champion, metrics }) => [
    model,
    String(version),
    champion ? '*' : '',
    metrics.rmse.toFixed(4),
    metrics.mae.toFixed(4),
    metrics.r2.toFixed(4),
    String(metrics.epochs),
    String(metrics.seed),
    metrics.trainedAt,
  ]);
}

const VERSION_HEADER = ['MODEL', 'VERSION', 'CHAMPION', 'RMSE', 'MAE', 'R2', 'EPOCHS', 'SEED', 'TRAINED_AT'];

/** One object per version for `models list --json`. */
export function versionObjects(model: string, versions: readonly VersionSummary[]): Record<string, unknown>[] {
  return versions.map(({ version, champion, metrics, origin, status }) => ({
    model,
    version,
    champion,
    rmse: metrics.rmse,
    mae: metrics.mae,
    r2: metrics.r2,
    created_at: metrics.trainedAt,
    trigger: origin?.trigger ?? 'train',
    drift_event_id: origin?.drift_event_id ?? null,
    status,
    reason: origin?.reason ?? null,
  }));
}

function parseModelsArgs(args: readonly string[]): { positionals: string[]; local: boolean; json: boolean } {
  try {
    const { positionals, values } = parseArgs({
      args: [...args],
      options: { local: { type: 'boolean' }, json: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
    return { positionals, local: values.local === true, json: values.json === true };
  } catch (error) {
    throw usageError((error as Error).message);
  }
}

/** Tells running predict services (through model-deployments) to serve the new champion. */
async function announce(
  context: CommandContext,
  registry: ModelRegistry,
  model: string,
  version: number,
  action: 'promote' | 'rollback',
): Promise<void> {
  const { metrics } = await registry.readVersion(model, version);
  const runtime = await startRuntime(context.config, context.logger);
  await publishDeployment(
    runtime.kafka,
    runtime.codec,
    {
      model_name: model,
      model_version: version,
      action,
      metrics: { rmse: metrics.rmse, mae: metrics.mae, r2: metrics.r2 },
      location: registry.location(model, version),
      deployed_at: new Date(),
    },
    runtime.connect,
  );
  context.out.write(`${model}: deployment of version ${version} announced on model-deployments\n`);
}

function parseVersion(raw: string | undefined): number {
  if (raw === undefined || !/^[1-9]\d{0,8}$/.test(raw)) {
    throw usageError(`version must be a positive integer; got ${JSON.stringify(raw ?? '')}`);
  }
  return Number(raw);
}

export const modelsCommand: Command = {
  name: 'models',
  usage: 'models list [model] [--json] | promote <model> <version> | rollback <model> [--local]',
  summary: 'list model versions; promote a version or roll back (announced on model-deployments unless --local)',
  async run(args, context) {
    const { config, out } = context;
    const { positionals, local, json } = parseModelsArgs(args);
    const [action, ...rest] = positionals;
    const registry = ModelRegistry.fromConfig(config);
    switch (action) {
      case 'list': {
        if (rest.length > 1) throw usageError('models list takes at most one model name');
        const models = rest.length === 1 ? [rest[0] as string] : (await registry.listModels()).map((m) => m.model);
        if (json) {
          const objects: Record<string, unknown>[] = [];
          for (const model of models) objects.push(...versionObjects(model, await registry.listVersions(model)));
          out.write(`${JSON.stringify(objects)}\n`);
          return 0;
        }
        const rows: string[][] = [];
        for (const model of models) rows.push(...formatVersions(model, await registry.listVersions(model)));
        out.write(rows.length === 0 ? `no models in ${registry.root}\n` : `${formatTable(VERSION_HEADER, rows)}\n`);
        return 0;
      }
      case 'promote': {
        const [model, version, ...extra] = rest;
        if (model === undefined || extra.length > 0) throw usageError('usage: models promote <model> <version>');
        const pointer = await registry.promote(model, parseVersion(version));
        out.write(`${model}: champion is now version ${pointer.champion}\n`);
        if (!local && pointer.champion !== null) await announce(context, registry, model, pointer.champion, 'promote');
        return 0;
      }
      case 'rollback': {
        const [model, ...extra] = rest;
        if (model === undefined || extra.length > 0) throw usageError('usage: models rollback <model>');
        const pointer = await registry.rollback(model);
        out.write(`${model}: rolled back; champion is now version ${pointer.champion}\n`);
        if (!local && pointer.champion !== null) await announce(context, registry, model, pointer.champion, 'rollback');
        return 0;
      }
      default:
        throw usageError(`models needs list, promote or rollback; got ${JSON.stringify(action ?? '')}`);
    }
  },
};
