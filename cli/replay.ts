import { parseArgs } from 'node:util';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import { CALIFORNIA_HOUSING_MODEL } from '../model/california-housing.ts';
import { loadCaliforniaHousing } from '../model/dataset.ts';
import { ModelLoader } from '../model/model-loader.ts';
import { startRuntime } from '../platform/runtime.ts';
import { createKafkaSink } from '../producers/predict-service/kafka-sink.ts';
import { httpSender } from '../producers/replay/http-sender.ts';
import { kafkaSender } from '../producers/replay/kafka-sender.ts';
import { type ReplayProgress, type ReplaySender, replay } from '../producers/replay/replay.ts';
import {
  columnStats,
  composeScenarios,
  createScenario,
  parseFilter,
  SCENARIO_KINDS,
  type ScenarioKind,
  type ScenarioOptions,
} from '../producers/replay/scenarios.ts';
import { type Command, usageError } from './command.ts';

const OPTIONS = {
  model: { type: 'string' },
  url: { type: 'string' },
  direct: { type: 'boolean' },
  rate: { type: 'string' },
  limit: { type: 'string' },
  batch: { type: 'string' },
  seed: { type: 'string' },
  scenario: { type: 'string' },
  features: { type: 'string' },
  k: { type: 'string' },
  factor: { type: 'string' },
  start: { type: 'string' },
  ramp: { type: 'string' },
  filter: { type: 'string' },
  'feedback-delay-ms': { type: 'string' },
  'no-feedback': { type: 'boolean' },
  'event-time-step-ms': { type: 'string' },
  'event-time-start': { type: 'string' },
} as const;

export interface ReplaySettings {
  model: string;
  url: string | undefined;
  direct: boolean;
  rate: number;
  limit: number | undefined;
  batch: number;
  seed: number;
  /** `kind` first, then each of `also` on its result (`--scenario shift+concept`), all with the same options. */
  scenario: Omit<ScenarioOptions, 'filter'> & { filter?: string; also?: ScenarioKind[] };
  feedbackDelayMs: number;
  eventTimeStepMs: number | undefined;
  eventTimeStart: number | undefined;
}

function number(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max)
    throw usageError(`--${name} must be a number from ${min} to ${max}; got ${raw}`);
  return n;
}

export function parseReplayArgs(args: readonly string[], config: Readonly<Config>): ReplaySettings {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...args], options: OPTIONS, strict: true }));
  } catch (error) {
    throw usageError((error as Error).message);
  }
  const str = (key: string) => values[key] as string | undefined;
  const [kind, ...also] = (str('scenario') ?? 'none').split('+') as [ScenarioKind, ...ScenarioKind[]];
  for (const k of [kind, ...also]) {
    if (!SCENARIO_KINDS.includes(k))
      throw usageError(`--scenario must be one of ${SCENARIO_KINDS.join(', ')} (or several joined by +); got ${k}`);
  }
  const start = str('event-time-start');
  const startMs = start === undefined ? undefined : Date.parse(start);
  if (startMs !== undefined && Number.isNaN(startMs))
    throw usageError(`--event-time-start must be an ISO date; got ${start}`);
  return {
    model: str('model') ?? CALIFORNIA_HOUSING_MODEL,
    url: str('url') ?? (values.direct ? undefined : config.predictUrl),
    direct: values.direct === true,
    rate: number('rate', str('rate'), 200, 0, 1_000_000),
    limit: str('limit') === undefined ? undefined : number('limit', str('limit'), 0, 1, 1e9),
    batch: number('batch', str('batch'), 100, 1, 1_000),
    seed: number('seed', str('seed'), 7, 0, 2 ** 32 - 1),
    scenario: {
      kind,
      features: (str('features') ?? '').split(',').filter((f) => f !== ''),
      k: number('k', str('k'), 1, -100, 100),
      factor: number('factor', str('factor'), 1.5, 0, 1_000),
      start: number('start', str('start'), 0.5, 0, 1),
      ramp: number('ramp', str('ramp'), 0.25, 0, 1),
      ...(str('filter') === undefined ? {} : { filter: str('filter') }),
      ...(also.length > 0 ? { also } : {}),
    },
    feedbackDelayMs: values['no-feedback']
      ? -1
      : number('feedback-delay-ms', str('feedback-delay-ms'), 5_000, 0, 86_400_000),
    eventTimeStepMs:
      str('event-time-step-ms') === undefined
        ? undefined
        : number('event-time-step-ms', str('event-time-step-ms'), 0, 0, 86_400_000),
    eventTimeStart: startMs,
  };
}

export async function runReplay(
  settings: ReplaySettings,
  config: Readonly<Config>,
  logger: Logger,
  onProgress: (p: ReplayProgress) => void,
  /** Ends the replay early (Ctrl-C); the answer counts what was sent. */
  signal?: AbortSignal,
): Promise<ReplayProgress> {
  const data = await loadCaliforniaHousing();
  const rows = data.x.map((features, i) => ({ features: [...features], target: data.y[i] ?? Number.NaN }));
  const { also = [], ...options } = settings.scenario;
  const filter = options.filter ? parseFilter(options.filter) : undefined;
  const stats = columnStats(data.x, data.featureNames.length);
  const scenario = composeScenarios(
    [options.kind, ...also].map((kind) => createScenario({ ...options, kind, filter }, data.featureNames, stats)),
  );
  let sender: ReplaySender;
  let close = async () => {};
  if (settings.direct) {
    const runtime = await startRuntime(config, logger);
    const model = await ModelLoader.fromConfig(config).loadVersion(settings.model, 'champion');
    const sink = await createKafkaSink({
      kafka: runtime.kafka,
      codec: runtime.codec,
      spec: model.spec,
      logger,
      ...runtime.connect,
    });
    sender = kafkaSender(model, sink);
    close = async () => {
      await sink.close();
      model.dispose();
    };
  } else {
    sender = httpSender(settings.url ?? config.predictUrl);
  }
  logger.info({ scenario: scenario.describe(), seed: settings.seed }, 'replay starting');
  try {
    return await replay({
      featureNames: data.featureNames,
      rows,
      scenario,
      sender,
      seed: settings.seed,
      rate: settings.rate,
      batchSize: settings.batch,
      feedbackDelayMs: settings.feedbackDelayMs,
      ...(settings.limit === undefined ? {} : { limit: settings.limit }),
      ...(settings.eventTimeStepMs === undefined ? {} : { eventTimeStepMs: settings.eventTimeStepMs }),
      ...(settings.eventTimeStart === undefined ? {} : { eventTimeStart: settings.eventTimeStart }),
      onProgress,
      ...(signal ? { signal } : {}),
    });
  } finally {
    await close();
  }
}

export function formatProgress(p: ReplayProgress): string {
  const rate = p.elapsedMs > 0 ? Math.round((p.sent / p.elapsedMs) * 1000) : 0;
  return `replay: ${p.sent}/${p.total} sent (${rate}/s), ${p.dropped} dropped, ${p.feedback} ground truth, ${(p.elapsedMs / 1000).toFixed(1)} s`;
}

export const replayCommand: Command = {
  name: 'replay',
  usage: 'replay [--scenario none|shift|gradual|scale|subpopulation|concept[+…]] [--features a,b] [--k σ] [--rate N] …',
  summary: 'replay the California housing data as traffic with a drift scenario (see README)',
  async run(args, { config, logger, out }) {
    const settings = parseReplayArgs(args, config);
    const result = await runReplay(settings, config, logger, (p) => process.stderr.write(`${formatProgress(p)}\n`));
    out.write(`${formatProgress(result)}\n`);
    return 0;
  },
};
