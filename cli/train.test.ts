import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../core/config.ts';
import { DriftlineError, ErrorCode } from '../core/errors.ts';
import { createLogger } from '../core/logger.ts';
import { ModelRegistry } from '../model/registry.ts';
import { trainModel } from '../model/train.ts';
import type { CommandContext } from './command.ts';
import { modelsCommand } from './models.ts';
import { createTrainCommand, parseTrainArgs } from './train.ts';

let home: string;

function context(): CommandContext & { output: () => string } {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  return {
    config: parseConfig({ DRIFTLINE_HOME: home }, home),
    logger: createLogger('silent'),
    out,
    output: () => Buffer.concat(chunks).toString('utf8'),
  };
}

function usageErrorOf(fn: () => unknown): DriftlineError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DriftlineError);
    expect((error as DriftlineError).code).toBe(ErrorCode.USAGE);
    return error as DriftlineError;
  }
  throw new Error('expected a usage error');
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'dl-train-cli-'));
});

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('driftline train arguments', () => {
  it('defaults to 40 epochs, seed 42, no forced promotion', () => {
    expect(parseTrainArgs([])).toEqual({ epochs: 40, seed: 42, promote: false, ifMissing: false });
    expect(parseTrainArgs(['--epochs', '5', '--seed=7', '--promote'])).toEqual({
      epochs: 5,
      seed: 7,
      promote: true,
      ifMissing: false,
    });
    expect(parseTrainArgs(['--if-missing']).ifMissing).toBe(true);
  });

  it('rejects unknown flags, positionals and malformed numbers as usage errors', () => {
    expect(usageErrorOf(() => parseTrainArgs(['--bogus'])).message).toContain('--bogus');
    usageErrorOf(() => parseTrainArgs(['now']));
    expect(usageErrorOf(() => parseTrainArgs(['--epochs', 'ten'])).message).toContain('--epochs must be an integer');
    usageErrorOf(() => parseTrainArgs(['--epochs', '0']));
    usageErrorOf(() => parseTrainArgs(['--seed', '-1']));
    usageErrorOf(() => parseTrainArgs(['--epochs']));
  });
});

describe('driftline train with the default settings', () => {
  it('reaches holdout RMSE ≤ 0.60 on the real data and stores version 1 as champion', async () => {
    const progress = new PassThrough();
    const lines: string[] = [];
    progress.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
    const ctx = context();
    const code = await createTrainCommand(progress).run([], ctx);
    expect(code).toBe(0);
    const output = ctx.output();
    const rmse = Number(/RMSE\s+([\d.]+)/.exec(output)?.[1]);
    expect(rmse).toBeLessThanOrEqual(0.6);
    expect(output).toContain('1 (champion)');
    expect(lines.join('')).toContain('epoch 40/40');

    const registry = ModelRegistry.fromConfig(ctx.config);
    const [version] = await registry.listVersions('california-housing');
    expect(version?.metrics.rmse).toBeCloseTo(rmse, 4);
    expect(version?.metrics).toMatchObject({ epochs: 40, seed: 42, rows: { train: 16_512, holdout: 4_128 } });
    expect(version?.metrics.r2).toBeGreaterThan(0.7);

    const list = context();
    expect(await modelsCommand.run(['list'], list)).toBe(0);
    expect(list.output()).toMatch(/^MODEL\s+VERSION\s+CHAMPION\s+RMSE/);
    expect(list.output()).toMatch(/california-housing\s+1\s+\*\s+0\.[0-5]\d{3}/);
  }, 120_000);
});

describe('driftline models', () => {
  it('promotes and rolls back, and refuses bad arguments with usage errors', async () => {
    const registry = ModelRegistry.fromConfig(context().config);
    for (const seed of [1, 2]) {
      const model = await trainModel({ maxRows: 400, epochs: 1, seed });
      await registry.saveVersion(model);
      model.predictor.dispose();
    }
    const versions = (await registry.listVersions('california-housing')).map((v) => v.version);
    const newest = versions.at(-1) as number;

    // A container stack's first start trains; every later start finds the versions and leaves them.
    const again = context();
    expect(await createTrainCommand(new PassThrough()).run(['--if-missing'], again)).toBe(0);
    expect(again.output()).toContain(`california-housing has versions already (newest v${newest}): not training`);
    expect((await registry.listVersions('california-housing')).map((v) => v.version)).toEqual(versions);
    const champion = await registry.champion('california-housing');

    const promote = context();
    expect(await modelsCommand.run(['promote', 'california-housing', String(newest), '--local'], promote)).toBe(0);
    expect(promote.output()).toContain(`champion is now version ${newest}`);
    const rollback = context();
    expect(await modelsCommand.run(['rollback', 'california-housing', '--local'], rollback)).toBe(0);
    expect(rollback.output()).toContain(`champion is now version ${champion}`);

    for (const args of [
      [],
      ['frobnicate'],
      ['promote', 'california-housing'],
      ['promote', 'california-housing', 'x'],
      ['rollback'],
      ['list', '--verbose'],
    ]) {
      const error = await modelsCommand.run(args, context()).catch((e: unknown) => e);
      expect(error, args.join(' ')).toBeInstanceOf(DriftlineError);
      expect((error as DriftlineError).code).toBe(ErrorCode.USAGE);
    }
    const missing = await modelsCommand
      .run(['promote', 'california-housing', '99'], context())
      .catch((e: unknown) => e);
    expect((missing as DriftlineError).code).toBe(ErrorCode.MODEL_NOT_FOUND);
  });
});
