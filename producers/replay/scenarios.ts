/**
 * Drift scenarios for the replay, as pure functions of (row, position in the replay). Each one
 * changes rows only from `start` (a fraction of the replay) on, so a run has a clean reference
 * stretch followed by the drift, deterministically.
 */
import { DriftlineError, ErrorCode } from '../../core/errors.ts';

export const SCENARIO_KINDS = ['none', 'shift', 'gradual', 'scale', 'subpopulation', 'concept'] as const;
export type ScenarioKind = (typeof SCENARIO_KINDS)[number];

export interface ColumnStats {
  mean: number;
  std: number;
}

export interface ScenarioOptions {
  kind: ScenarioKind;
  /** Features to change (shift, gradual, scale). */
  features: readonly string[];
  /** Shift size in standard deviations (shift, gradual). */
  k: number;
  /** Multiplier of the spread around the mean (scale) or of the target (concept). */
  factor: number;
  /** Fraction of the replay after which drift starts, 0–1. */
  start: number;
  /** For gradual: fraction of the replay over which the shift ramps from 0 to k σ. */
  ramp: number;
  /**
   * For subpopulation: only rows passing this filter are sent once drift starts. For concept: only
   * the targets of rows passing it change (none: every row's).
   */
  filter?: RowFilter | undefined;
}

export interface RowFilter {
  feature: string;
  op: '<' | '<=' | '>' | '>=';
  value: number;
}

export interface Row {
  features: number[];
  target: number;
}

export interface Scenario {
  /** The row as sent at `position` ∈ [0, 1), or undefined when the scenario drops it. */
  apply(row: Row, position: number): Row | undefined;
  describe(): string;
}

const FILTER_PATTERN = /^([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|<|>)\s*(-?\d+(?:\.\d+)?)$/;

/** "Latitude>=37.5" → { feature: 'Latitude', op: '>=', value: 37.5 } */
export function parseFilter(text: string): RowFilter {
  const match = FILTER_PATTERN.exec(text.trim());
  if (!match) {
    throw new DriftlineError(
      ErrorCode.USAGE,
      `filter must look like Feature>=number (or <, <=, >); got ${JSON.stringify(text)}`,
    );
  }
  return { feature: match[1] as string, op: match[2] as RowFilter['op'], value: Number(match[3]) };
}

export function createScenario(
  options: ScenarioOptions,
  featureNames: readonly string[],
  stats: readonly ColumnStats[],
): Scenario {
  const indexOf = (name: string): number => {
    const index = featureNames.indexOf(name);
    if (index < 0) {
      throw new DriftlineError(
        ErrorCode.USAGE,
        `unknown feature ${JSON.stringify(name)}; features are ${featureNames.join(', ')}`,
      );
    }
    return index;
  };
  const columns = options.features.map(indexOf);
  const drifting = (position: number) => position >= options.start;
  const needsFeatures = options.kind === 'shift' || options.kind === 'gradual' || options.kind === 'scale';
  if (needsFeatures && columns.length === 0) {
    throw new DriftlineError(ErrorCode.USAGE, `scenario ${options.kind} needs at least one feature (--features)`);
  }
  const std = (c: number) => stats[c]?.std ?? 0;
  const mean = (c: number) => stats[c]?.mean ?? 0;
  const withFeatures = (row: Row, change: (value: number, column: number) => number): Row => {
    const features = row.features.slice();
    for (const c of columns) features[c] = change(features[c] ?? 0, c);
    return { features, target: row.target };
  };
  const names = options.features.join(', ');

  switch (options.kind) {
    case 'none':
      return { apply: (row) => row, describe: () => 'no drift' };
    case 'shift':
      return {
        apply: (row, p) => (drifting(p) ? withFeatures(row, (v, c) => v + options.k * std(c)) : row),
        describe: () => `sudden shift of ${names} by ${options.k} σ from ${pct(options.start)}`,
      };
    case 'gradual':
      return {
        apply: (row, p) => {
          if (!drifting(p)) return row;
          const progress = options.ramp > 0 ? Math.min(1, (p - options.start) / options.ramp) : 1;
          return withFeatures(row, (v, c) => v + progress * options.k * std(c));
        },
        describe: () =>
          `gradual shift of ${names} to ${options.k} σ over ${pct(options.ramp)} from ${pct(options.start)}`,
      };
    case 'scale':
      return {
        apply: (row, p) => (drifting(p) ? withFeatures(row, (v, c) => mean(c) + options.factor * (v - mean(c))) : row),
        describe: () => `spread of ${names} scaled by ${options.factor} from ${pct(options.start)}`,
      };
    case 'subpopulation': {
      const filter = options.filter;
      if (!filter)
        throw new DriftlineError(ErrorCode.USAGE, 'scenario subpopulation needs --filter, e.g. Latitude>=37.5');
      const column = indexOf(filter.feature);
      const keep = (row: Row) => compare(row.features[column] ?? Number.NaN, filter.op, filter.value);
      return {
        apply: (row, p) => (!drifting(p) || keep(row) ? row : undefined),
        describe: () => `only rows with ${filter.feature}${filter.op}${filter.value} from ${pct(options.start)}`,
      };
    }
    case 'concept': {
      // With a filter, only the rows it selects (one region, say) change their target.
      const filter = options.filter;
      const column = filter ? indexOf(filter.feature) : -1;
      const affected = (row: Row) => !filter || compare(row.features[column] ?? Number.NaN, filter.op, filter.value);
      const where = filter ? ` where ${filter.feature}${filter.op}${filter.value}` : '';
      return {
        apply: (row, p) =>
          drifting(p) && affected(row) ? { features: row.features, target: row.target * options.factor } : row,
        describe: () => `target × ${options.factor}${where} (features unchanged) from ${pct(options.start)}`,
      };
    }
  }
}

/**
 * Scenarios applied one after the other (`shift+concept`: covariate shift and a concept change at
 * once); a row dropped by one is dropped. Filters see the row as the scenarios before changed it.
 */
export function composeScenarios(scenarios: readonly Scenario[]): Scenario {
  if (scenarios.length === 1) return scenarios[0] as Scenario;
  return {
    apply(row, position) {
      let current: Row | undefined = row;
      for (const scenario of scenarios) {
        if (current === undefined) return undefined;
        current = scenario.apply(current, position);
      }
      return current;
    },
    describe: () => scenarios.map((s) => s.describe()).join('; '),
  };
}

/** Mean and (population) standard deviation of each column. */
export function columnStats(rows: readonly (readonly number[])[], width: number): ColumnStats[] {
  const stats: ColumnStats[] = [];
  for (let c = 0; c < width; c++) {
    let n = 0;
    let mean = 0;
    let m2 = 0;
    for (const row of rows) {
      const v = row[c] ?? 0;
      n++;
      const delta = v - mean;
      mean += delta / n;
      m2 += delta * (v - mean);
    }
    stats.push({ mean, std: n > 0 ? Math.sqrt(m2 / n) : 0 });
  }
  return stats;
}

function compare(value: number, op: RowFilter['op'], bound: number): boolean {
  switch (op) {
    case '<':
      return value < bound;
    case '<=':
      return value <= bound;
    case '>':
      return value > bound;
    case '>=':
      return value >= bound;
  }
}

function pct(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}
