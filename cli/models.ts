import { parseArgs } from 'node:util';
import { publishDeployment } from '../core/deployments.ts';
import { ErrorCode, isDriftlineError } from '../core/errors.ts';
import { predictionEventSchema } from '../core/schemas.ts';
import { predictionsTopic, TOPICS, valueSubject } from '../core/topics.ts';
import { monitoredVersion } from '../model/reference-version.ts';
import { ModelRegistry, type VersionSummary } from '../model/registry.ts';
import { startRuntime } from '../platform/runtime.ts';
import { type Command, type CommandContext, usageError } from './command.ts';
import { ENCODINGS, type Encoding } from './compare-csv.ts';
import { readReferenceCsv } from './reference-csv.ts';
import { formatTable } from './table.ts';

export function formatVersions(model: string, versions: readonly VersionSummary[]): string[][] {
  return versions.map(({ version, champion, metrics }) => [
    model,
    String(version),
    champion ? '*' : '',
    metrics.rmse.toFixed(4),
    metrics.mae.toFixed(4),
    metrics.r2.toFixed(4),
    metrics.evaluatedOn === 'holdout' ? String(metrics.epochs) : '-',
    metrics.evaluatedOn === 'holdout' ? String(metrics.seed) : '-',
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

const REGISTER_OPTIONS = {
  reference: { type: 'string' },
  prediction: { type: 'string' },
  target: { type: 'string' },
  features: { type: 'string' },
  categorical: { type: 'string' },
  encoding: { type: 'string' },
  promote: { type: 'boolean' },
} as const;

function parseModelsArgs(args: readonly string[]) {
  try {
    const { positionals, values } = parseArgs({
      args: [...args],
      options: { local: { type: 'boolean' }, json: { type: 'boolean' }, ...REGISTER_OPTIONS },
      allowPositionals: true,
      strict: true,
    });
    if (positionals[0] !== 'register') {
      const misplaced = Object.keys(REGISTER_OPTIONS).find((name) => name in values);
      if (misplaced) throw usageError(`--${misplaced} belongs to models register`);
    }
    return { positionals, values, local: values.local === true, json: values.json === true };
  } catch (error) {
    throw isDriftlineError(error, ErrorCode.USAGE) ? error : usageError((error as Error).message);
  }
}

/** A comma-separated list of names, or undefined when the option was not given. */
function names(raw: string | undefined): string[] | undefined {
  return raw === undefined
    ? undefined
    : raw
        .split(',')
        .map((n) => n.trim())
        .filter((n) => n !== '');
}

/**
 * `models register`: a version of a model served elsewhere, from a reference file (rows it scored,
 * with their targets). The first version becomes champion; a later one with --promote.
 */
async function register(
  context: CommandContext,
  registry: ModelRegistry,
  model: string,
  values: ReturnType<typeof parseModelsArgs>['values'],
  local: boolean,
): Promise<number> {
  const { out } = context;
  const reference = values.reference;
  if (reference === undefined || values.prediction === undefined || values.target === undefined) {
    throw usageError('usage: models register <model> --reference FILE.csv --prediction COLUMN --target COLUMN');
  }
  const encoding = (values.encoding ?? 'utf8') as Encoding;
  if (!ENCODINGS.includes(encoding)) throw usageError(`--encoding must be one of ${ENCODINGS.join(', ')}`);
  const file = await readReferenceCsv(reference, { categorical: new Set(names(values.categorical)), encoding });
  const features = names(values.features);
  const version = monitoredVersion({
    model,
    columns: file.columns,
    prediction: values.prediction,
    target: values.target,
    ...(features ? { features } : {}),
    reference,
    registeredAt: new Date(),
  });
  const number = await registry.saveVersion(version, { promote: values.promote === true });
  const champion = await registry.champion(model);
  const { metrics } = version;
  out.write(
    `${model}: registered version ${number}${champion === number ? ' (champion)' : ''}, monitored only (served elsewhere)
` +
      `  reference ${reference}: ${file.rows} rows; prediction vs target on ${metrics.rows.holdout} of them: ` +
      `RMSE ${metrics.rmse.toFixed(4)}, MAE ${metrics.mae.toFixed(4)}, R² ${metrics.r2.toFixed(4)}
` +
      `  features: ${version.spec.features.map((f) => `${f.name} (${f.type === 'double' ? 'numeric' : 'categorical'}${f.optional ? ', optional' : ''})`).join(', ')}
`,
  );
  for (const [column, count] of file.unreadable) {
    out.write(`  note: ${count} values of ${column} were not finite numbers and count as missing
`);
  }
  out.write(
    `  produce its predictions to ${predictionsTopic(model)} as Avro (schema: driftline models schema ${model}, subject ${valueSubject(predictionsTopic(model))}),
` +
      `  with model_version ${number}; labels to ${TOPICS.groundTruth}
`,
  );
  if (values.promote === true && !local && champion === number)
    await announce(context, registry, model, number, 'promote');
  return 0;
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
  usage:
    'models list [model] [--json] | promote <model> <version> | rollback <model> [--local] | register <model> --reference FILE.csv --prediction COLUMN --target COLUMN [--features a,b] [--categorical a,b] [--promote] [--local] | schema <model> [version]',
  summary:
    'list model versions; promote a version or roll back (announced on model-deployments unless --local); register a model served elsewhere for monitoring; print the Avro schema its predictions take',
  async run(args, context) {
    const { config, out } = context;
    const { positionals, values, local, json } = parseModelsArgs(args);
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
      case 'register': {
        const [model, ...extra] = rest;
        if (model === undefined || extra.length > 0) {
          throw usageError('usage: models register <model> --reference FILE.csv --prediction COLUMN --target COLUMN');
        }
        return register(context, registry, model, values, local);
      }
      case 'schema': {
        const [model, version, ...extra] = rest;
        if (model === undefined || extra.length > 0) throw usageError('usage: models schema <model> [version]');
        const { spec } = await registry.readVersion(model, version === undefined ? 'champion' : parseVersion(version));
        out.write(`${JSON.stringify(predictionEventSchema(spec), null, 2)}\n`);
        return 0;
      }
      default:
        throw usageError(
          `models needs list, promote, rollback, register or schema; got ${JSON.stringify(action ?? '')}`,
        );
    }
  },
};
