/**
 * `driftline demo`'s options, checked before anything starts, and how a stopped run exits. Kept
 * apart from the demo's wiring so that parsing them loads no Kafka, ClickHouse or TF.js.
 */
import { parseArgs } from 'node:util';
import type { Config } from '../core/config.ts';
import { CALIFORNIA_FEATURES } from '../model/dataset.ts';
import { createScenario, parseFilter } from '../producers/replay/scenarios.ts';
import { usageError } from './command.ts';
import { parseReplayArgs } from './replay.ts';

export interface DemoOptions {
  /** Rows the first replay sends (drift from the middle on). */
  rows: number;
  /** Rows of drifted traffic after the new version is deployed. */
  afterRows: number;
  rate: number;
  driftShare: number;
  /** Epochs of the retraining. */
  epochs: number;
  /** Wall-clock budget of the whole run; when it runs out the demo stops where it is and summarizes. */
  durationMs: number;
  /** The replay's drift (`driftline replay --scenario`), applied to `features`. */
  scenario: string;
  features: string;
  /** Rows the `subpopulation` scenario keeps, or whose target `concept` changes (`Latitude>=37.5`). */
  filter: string | undefined;
  /** After the summary, keep every component running until Ctrl-C. */
  keepRunning: boolean;
}

/** The demo's drift unless `--scenario` says otherwise: covariate shift and a concept change at once. */
export const DEFAULT_SCENARIO = 'shift+concept';
export const DEFAULT_FEATURES = 'MedInc,AveRooms';

/** `--duration`: seconds, or a number with `s` or `m` (`90`, `90s`, `2.5m`). */
function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(s|m)?$/.exec(text.trim());
  const ms = match ? Number(match[1]) * (match[2] === 'm' ? 60_000 : 1_000) : Number.NaN;
  if (!(ms >= 10_000)) throw usageError(`--duration must be at least 10 s, e.g. 90, 90s or 3m; got ${text}`);
  return ms;
}

export function parseDemoArgs(args: readonly string[], config: Readonly<Config>): DemoOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        rows: { type: 'string' },
        'after-rows': { type: 'string' },
        rate: { type: 'string' },
        'drift-share': { type: 'string' },
        epochs: { type: 'string' },
        duration: { type: 'string' },
        scenario: { type: 'string' },
        features: { type: 'string' },
        filter: { type: 'string' },
        'keep-running': { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (error) {
    throw usageError((error as Error).message);
  }
  const str = (key: string) => values[key] as string | undefined;
  const options: DemoOptions = {
    rows: Number(str('rows') ?? 12_000),
    afterRows: Number(str('after-rows') ?? 7_200),
    rate: Number(str('rate') ?? 2_000),
    driftShare: Number(str('drift-share') ?? 0.25),
    epochs: Number(str('epochs') ?? 15),
    durationMs: parseDuration(str('duration') ?? '180'),
    scenario: str('scenario') ?? DEFAULT_SCENARIO,
    features: str('features') ?? DEFAULT_FEATURES,
    filter: str('filter'),
    keepRunning: values['keep-running'] === true,
  };
  if (!(options.driftShare > 0 && options.driftShare <= 1)) throw usageError('--drift-share must be in (0, 1]');
  if (!Number.isInteger(options.rows) || options.rows < 2_400) throw usageError('--rows must be an integer ≥ 2400');
  if (!Number.isInteger(options.afterRows) || options.afterRows < 1_200)
    throw usageError('--after-rows must be an integer ≥ 1200');
  if (!Number.isFinite(options.rate) || options.rate <= 0) throw usageError('--rate must be a positive number');
  if (!Number.isInteger(options.epochs) || options.epochs < 1) throw usageError('--epochs must be a positive integer');
  // The replay's own parser and scenarios name a wrong scenario, feature or filter the way
  // `driftline replay` does, before anything starts.
  const { scenario } = parseReplayArgs(scenarioArgs(options), config);
  const filter = scenario.filter === undefined ? undefined : parseFilter(scenario.filter);
  for (const kind of [scenario.kind, ...(scenario.also ?? [])])
    createScenario({ ...scenario, kind, filter }, CALIFORNIA_FEATURES, []);
  return options;
}

/** The replay arguments that choose the drift. */
export function scenarioArgs(options: DemoOptions): string[] {
  return [
    '--scenario',
    options.scenario,
    '--features',
    options.features,
    ...(options.filter === undefined ? [] : ['--filter', options.filter]),
  ];
}

/** Why the run stopped early: Ctrl-C (SIGINT), SIGTERM, or the end of `--duration`. */
export type StopReason = NodeJS.Signals | 'duration';

/** Exit code of a run stopped by `reason` before its summary (128 + signal number, as shells report it). */
export function exitCodeOf(reason: StopReason | undefined): number {
  if (reason === 'SIGINT') return 130;
  if (reason === 'SIGTERM') return 143;
  return 0;
}
