import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DriftlineError, ErrorCode } from '../core/errors.ts';
import { modulesLoadedBy, packagesIn } from '../test-support/loaded-modules.ts';
import { type Dataset, loadCaliforniaHousing } from './dataset.ts';
import { ModelLoader } from './model-loader.ts';
import { defaultRegistryRoot, ModelRegistry } from './registry.ts';
import { type TrainedModel, type TrainingMetrics, trainModel } from './train.ts';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

let data: Dataset;
let root: string;
const trained: TrainedModel[] = [];

/** A small model: a few hundred rows, one or two epochs. */
async function tiny(seed: number): Promise<TrainedModel> {
  const model = await trainModel({ data, maxRows: 600, epochs: 2, seed });
  trained.push(model);
  return model;
}

async function caught(promise: Promise<unknown>): Promise<DriftlineError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DriftlineError);
  return error as DriftlineError;
}

beforeAll(async () => {
  data = await loadCaliforniaHousing();
  root = await mkdtemp(join(tmpdir(), 'dl-registry-'));
});

afterAll(async () => {
  for (const model of trained) model.predictor.dispose();
  await rm(root, { recursive: true, force: true });
});

describe('ModelRegistry', () => {
  it('defaults to <home>/models', () => {
    expect(defaultRegistryRoot({ home: '/x/.driftline' })).toBe('/x/.driftline/models');
  });

  it('is empty before anything is saved', async () => {
    const registry = new ModelLoader(join(root, 'nothing-here'));
    expect(await registry.listModels()).toEqual([]);
    expect(await registry.champion('california-housing')).toBeNull();
    const error = await caught(registry.loadVersion('california-housing', 'champion'));
    expect(error.code).toBe(ErrorCode.MODEL_NOT_FOUND);
    expect(error.message).toContain('no champion');
  });

  it('numbers versions 1, 2, 3, promotes the first, and promotes/rolls back through the champion history', async () => {
    const registry = new ModelRegistry(join(root, 'history'));
    const model = 'california-housing';
    expect(await registry.saveVersion(await tiny(1))).toBe(1);
    expect(await registry.champion(model)).toBe(1);
    expect(await registry.saveVersion(await tiny(2))).toBe(2);
    expect(await registry.champion(model)).toBe(1); // later versions wait for promotion
    expect(await registry.saveVersion(await tiny(3), { promote: true })).toBe(3);
    expect(await registry.champion(model)).toBe(3);

    expect((await registry.rollback(model)).champion).toBe(1);
    expect((await caught(registry.rollback(model))).message).toContain('no previous champion');
    await registry.promote(model, 2);
    await registry.promote(model, 3);
    await registry.promote(model, 3); // promoting the champion again changes nothing
    expect((await registry.rollback(model)).champion).toBe(2);
    const pointer = await registry.rollback(model);
    expect(pointer).toMatchObject({ champion: 1, previous: [] });
    expect(pointer.history.map((h) => `${h.action} ${h.version}`)).toEqual([
      'promote 1',
      'promote 3',
      'rollback 1',
      'promote 2',
      'promote 3',
      'rollback 2',
      'rollback 1',
    ]);

    expect((await caught(registry.promote(model, 9))).code).toBe(ErrorCode.MODEL_NOT_FOUND);
    expect(await registry.listModels()).toEqual([{ model, versions: [1, 2, 3], champion: 1 }]);
    const versions = await registry.listVersions(model);
    expect(versions.map((v) => [v.version, v.champion, (v.metrics as TrainingMetrics).seed])).toEqual([
      [1, true, 1],
      [2, false, 2],
      [3, false, 3],
    ]);
    const files = await readdir(join(registry.root, model, '2'));
    expect(files.sort()).toEqual(['metrics.json', 'model.json', 'profile.json', 'spec.json', 'weights.bin']);
  });

  it('gives concurrent writers distinct versions and leaves no temp directories', async () => {
    const registry = new ModelRegistry(join(root, 'concurrent'));
    const models = await Promise.all([tiny(4), tiny(5), tiny(6)]);
    const versions = await Promise.all(models.map((m) => registry.saveVersion(m)));
    expect([...versions].sort()).toEqual([1, 2, 3]);
    expect((await readdir(join(registry.root, 'california-housing'))).sort()).toEqual(['1', '2', '3', 'registry.json']);
    // Each writer saw no champion; under the lock only the first to get there promoted.
    const [pointer] = await Promise.all([registry.rollback('california-housing').catch((e: unknown) => e)]);
    expect((pointer as DriftlineError).message).toContain('no previous champion');
    expect(versions).toContain(await registry.champion('california-housing'));
  });

  it('loads a version that predicts exactly what the in-memory model predicted', async () => {
    const registry = new ModelLoader(join(root, 'load'));
    const model = await tiny(7);
    await registry.saveVersion(model);
    const rows = data.x.slice(1_000, 1_050);
    const loaded = await registry.loadVersion('california-housing', 'champion');
    try {
      expect(loaded.version).toBe(1);
      expect(loaded.spec).toEqual(model.spec);
      expect(loaded.preprocessing).toEqual(model.preprocessing);
      expect(loaded.metrics).toEqual(model.metrics);
      expect(loaded.profile).toEqual(model.profile);
      expect(loaded.predict(rows)).toEqual(model.predictor.predict(rows));
    } finally {
      loaded.dispose();
    }
  });

  it('is loadable by another process (the predict service)', async () => {
    const registry = new ModelLoader(join(root, 'other-process'));
    const model = await tiny(8);
    await registry.saveVersion(model);
    const rows = data.x.slice(0, 5);
    const script = `
      const { ModelLoader } = await import(${JSON.stringify(join(repoRoot, 'model/model-loader.ts'))});
      const loaded = await new ModelLoader(${JSON.stringify(registry.root)}).loadVersion('california-housing', 'champion');
      process.stdout.write(JSON.stringify(Array.from(loaded.predict(${JSON.stringify(rows)}))));`;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: repoRoot,
      timeout: 30_000,
    });
    expect(JSON.parse(stdout)).toEqual(Array.from(model.predictor.predict(rows)));
  });

  it('reports unknown models and versions as MODEL_NOT_FOUND, bad names as usage errors, and corrupt files as DECODE_FAILED', async () => {
    const registry = new ModelLoader(join(root, 'errors'));
    await registry.saveVersion(await tiny(9));
    expect((await caught(registry.loadVersion('california-housing', 2))).code).toBe(ErrorCode.MODEL_NOT_FOUND);
    expect((await caught(registry.loadVersion('no-such-model', 1))).code).toBe(ErrorCode.MODEL_NOT_FOUND);
    expect((await caught(registry.listVersions('../etc'))).code).toBe(ErrorCode.USAGE);
    await writeFile(join(registry.root, 'california-housing', '1', 'metrics.json'), '{ not json');
    const error = await caught(registry.readVersion('california-housing', 1));
    expect(error.code).toBe(ErrorCode.DECODE_FAILED);
    expect(error.details.path).toContain('metrics.json');
    const spec = JSON.parse(await readFile(join(registry.root, 'california-housing', '1', 'spec.json'), 'utf8'));
    expect(spec).toMatchObject({ format: 1, model: 'california-housing', target: 'MedHouseVal' });
    expect(spec.preprocessing.features).toHaveLength(8);
  });
});

describe('the registry without TF.js', () => {
  const tensorflow = (packages: string[]) => packages.filter((name) => name.startsWith('@tensorflow/'));

  it('reads versions without loading TF.js: importing registry.ts loads no @tensorflow package', async () => {
    const loaded = await modulesLoadedBy('model/registry.ts');
    expect(loaded.some((url) => url.endsWith('/model/registry.ts'))).toBe(true);
    expect(tensorflow(packagesIn(loaded))).toEqual([]);
    expect(loaded.filter((url) => url.includes('@tensorflow'))).toEqual([]);
  });

  it('sees TF.js where it is loaded: importing model-loader.ts loads @tensorflow/tfjs (the check works)', async () => {
    expect(tensorflow(packagesIn(await modulesLoadedBy('model/model-loader.ts')))).toContain('@tensorflow/tfjs');
  });
});

describe('ModelRegistry: retraining records', () => {
  it('keeps what made each version and lists its status: promoted, rejected or candidate', async () => {
    const registry = new ModelRegistry(join(root, 'origins'));
    const model = 'california-housing';
    const origin = {
      format: 1 as const,
      trigger: 'drift' as const,
      drift_event_id: '0f8f4e0a-4b8e-4c1e-9a53-7d2b0c1e2f3a',
      run_id: 'run-1',
      decision: 'rejected' as const,
      reason: 'challenger RMSE 0.61 is not 2 % below the champion 0.60',
      champion_version: 1,
      champion_rmse: 0.6,
      challenger_rmse: 0.61,
    };
    await registry.saveVersion(await tiny(11));
    await registry.saveVersion({ ...(await tiny(12)), origin });
    await registry.saveVersion(await tiny(13));
    await registry.saveVersion({ ...(await tiny(14)), origin: { ...origin, decision: 'promoted', reason: null } });
    await registry.promote(model, 4);
    const versions = await registry.listVersions(model);
    expect(versions.map((v) => [v.version, v.champion, v.status, v.origin?.trigger ?? null])).toEqual([
      [1, false, 'promoted', null],
      [2, false, 'rejected', 'drift'],
      [3, false, 'candidate', null],
      [4, true, 'promoted', 'drift'],
    ]);
    expect(versions[1]?.origin).toEqual(origin);
  });

  it('lets one training of a model run at a time: a second caller is told at once, not kept waiting', async () => {
    const registry = new ModelRegistry(join(root, 'training-lock'));
    let release!: () => void;
    const first = registry.withTrainingLock('m', () => new Promise<string>((r) => (release = () => r('done'))));
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    expect(await registry.withTrainingLock('m', async () => 'second')).toEqual({ acquired: false });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await registry.withTrainingLock('other', async () => 'other model')).toEqual({
      acquired: true,
      value: 'other model',
    });
    release();
    expect(await first).toEqual({ acquired: true, value: 'done' });
    expect(await registry.withTrainingLock('m', async () => 'after')).toEqual({ acquired: true, value: 'after' });
  });
});
