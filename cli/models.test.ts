import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../core/config.ts';
import type { DriftlineError } from '../core/errors.ts';
import { createLogger } from '../core/logger.ts';
import { ModelLoader } from '../model/model-loader.ts';
import { ModelRegistry } from '../model/registry.ts';
import { modelsCommand } from './models.ts';

let home: string;
let csv: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'dl-models-'));
  csv = join(home, 'validation.csv');
  const lines = ['income,region,age,price,predicted_price'];
  for (let i = 0; i < 300; i++) {
    const income = (i % 50) / 5;
    const price = 1 + income * 0.5;
    // "?" once among the ages: text in a numeric column, read as missing and reported.
    lines.push(
      `${income},${i % 3 === 0 ? 'north' : 'south'},${i === 5 ? '?' : 20 + (i % 40)},${price},${price + 0.25}`,
    );
  }
  await writeFile(csv, `${lines.join('\n')}\n`);
});

afterAll(async () => {
  if (home) await rm(home, { recursive: true, force: true });
});

async function models(...args: string[]): Promise<{ code: number; text: string }> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const config = parseConfig({ DRIFTLINE_HOME: home });
  const code = await modelsCommand.run(args, { config, logger: createLogger('silent'), out });
  return { code, text };
}

describe('driftline models register', () => {
  it('registers a model served elsewhere from its validation file: champion, monitored only, with its schema to produce', async () => {
    const registered = await models(
      'register',
      'pricing',
      '--reference',
      csv,
      '--prediction',
      'predicted_price',
      '--target',
      'price',
      '--local',
    );
    expect(registered.code).toBe(0);
    expect(registered.text).toContain('pricing: registered version 1 (champion), monitored only (served elsewhere)');
    expect(registered.text).toContain('RMSE 0.2500, MAE 0.2500');
    expect(registered.text).toContain('features: income (numeric), region (categorical), age (numeric, optional)');
    expect(registered.text).toContain('note: 1 values of age were not finite numbers and count as missing');
    expect(registered.text).toContain('predictions.pricing');

    const registry = new ModelRegistry(join(home, 'models'));
    const version = await registry.readVersion('pricing', 'champion');
    expect(version).toMatchObject({ version: 1, served: 'external', preprocessing: undefined });
    expect(version.metrics).toMatchObject({ evaluatedOn: 'reference', rows: { train: 0, holdout: 300 } });
    expect(Object.keys(version.profile.features)).toEqual(['income', 'age']);

    // The Avro schema its producers use: the features as typed fields.
    const schema = await models('schema', 'pricing');
    const fields = JSON.parse(schema.text).fields.find((f: { name: string }) => f.name === 'features').type.fields;
    expect(fields).toEqual([
      { name: 'income', type: 'double' },
      { name: 'region', type: 'string' },
      { name: 'age', type: ['null', 'double'], default: null },
    ]);

    // Listed like any version; a registered one has no epochs or seed.
    const list = await models('list', 'pricing', '--json');
    expect(JSON.parse(list.text)).toEqual([
      expect.objectContaining({ model: 'pricing', version: 1, champion: true, rmse: 0.25, trigger: 'register' }),
    ]);
    expect((await models('list', 'pricing')).text).toMatch(/pricing\s+1\s+\*\s+0\.2500\s+0\.2500\s+\S+\s+-\s+-/);

    // Driftline cannot serve it: a clear error, before any TF.js is loaded.
    const loading = await new ModelLoader(join(home, 'models')).loadVersion('pricing', 1).catch((e: unknown) => e);
    expect((loading as DriftlineError).code).toBe('DL_USAGE');
    expect((loading as Error).message).toContain('registered for monitoring only');
  });

  it('refuses a reference file that is empty or has a row longer than its header, naming it', async () => {
    const empty = join(home, 'empty.csv');
    await writeFile(empty, '');
    const ragged = join(home, 'ragged.csv');
    await writeFile(ragged, 'x,y,p\n1,2,3\n4,5,6,7\n');
    const register = (file: string) =>
      models('register', 'bad', '--reference', file, '--prediction', 'p', '--target', 'y');
    await expect(register(empty)).rejects.toMatchObject({ code: 'DL_USAGE' });
    await expect(register(ragged)).rejects.toThrow(`${ragged} line 3: 4 fields, but the header has 3`);
    await expect(register(join(home, 'missing.csv'))).rejects.toThrow(/missing\.csv/);
  });

  it('takes --features and --categorical, and refuses options of register on other actions', async () => {
    const registered = await models(
      'register',
      'pricing-codes',
      '--reference',
      csv,
      '--prediction',
      'predicted_price',
      '--target',
      'price',
      '--features',
      'income,age',
      '--categorical',
      'age',
    );
    // As categories, "?" is a value like any other: nothing is missing.
    expect(registered.text).toContain('features: income (numeric), age (categorical)\n');
    await expect(models('list', '--reference', csv)).rejects.toThrow('--reference belongs to models register');
    await expect(models('register', 'x', '--reference', csv)).rejects.toThrow('usage: models register');
    await expect(
      models('register', 'x', '--reference', csv, '--prediction', 'p', '--target', 'price', '--categorical', 'zip'),
    ).rejects.toThrow('--categorical "zip" is not a column');
  });
});
