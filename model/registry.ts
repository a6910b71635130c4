/**
 * The model registry: versions of each model on disk, and which one is the champion.
 *
 *   <root>/<model>/registry.json     champion, previous champions (for rollback), history
 *   <root>/<model>/<version>/        model.json, weights.bin, spec.json, metrics.json, profile.json,
 *                                    origin.json (what made it: a retraining's trigger and decision)
 *
 * Versions are integers 1, 2, 3… A version is written completely into a temporary directory
 * and then renamed to its number; rename fails if the number is taken, so two trainers never
 * get the same version and a reader never sees a half-written one. Versions are immutable.
 * registry.json is replaced by rename too, under a lock file so that concurrent promotions in
 * different processes do not lose each other's updates. Everything a reader needs is in these
 * files, so any process (the predict service) can load what another (train) wrote.
 *
 * A version registered with `driftline models register` is *monitored only*: a model served
 * elsewhere, with no network here (spec.json says `served: "external"`), its profile and metrics
 * taken from a reference file. The drift, alert and dashboard sides treat it like any other.
 *
 * This module is the JSON side of the registry and never loads TF.js (registry.test.ts checks):
 * the drift consumer reads reference profiles through it. The network files are written by the
 * trained model itself (`predictor.save`) and loaded by model-loader.ts.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../core/config.ts';
import { DriftlineError, ErrorCode } from '../core/errors.ts';
import { MODEL_NAME_PATTERN, type ModelSpec } from '../core/feature-spec.ts';
import { withFileLock } from '../core/file-lock.ts';
import type { Preprocessing } from './preprocess.ts';
import { parseReferenceProfile, type ReferenceProfile } from './profile.ts';
import type { VersionMetrics } from './train.ts';

export const SPEC_FILE = 'spec.json';
export const METRICS_FILE = 'metrics.json';
export const PROFILE_FILE = 'profile.json';
export const POINTER_FILE = 'registry.json';
export const ORIGIN_FILE = 'origin.json';
const LOCK_FILE = '.registry.lock';
/** Held while a version of the model is being trained by a retraining cycle (one at a time). */
const TRAINING_LOCK_FILE = '.training.lock';
const TEMP_PREFIX = '.tmp-';
const LOCK_WAIT_MS = 10_000;
/** A lock older than this was left by a crashed process and is broken. */
const LOCK_STALE_MS = 60_000;
const REGISTRY_LOCK = {
  waitMs: LOCK_WAIT_MS,
  staleMs: LOCK_STALE_MS,
  busy: (path: string) => busy(`the model registry is locked by another process (${path})`, path),
};

/** `<config.home>/models`: where the registry lives unless a root is given. */
export function defaultRegistryRoot(config: Pick<Config, 'home'>): string {
  return join(config.home, 'models');
}

/**
 * Who serves a version: `driftline` (trained here: its network and preprocessing are in the
 * registry) or `external` (registered from a reference file; served by its owner).
 */
export type Served = 'driftline' | 'external';

/** What spec.json holds: the model's input contract plus the preprocessing fitted in training. */
export interface StoredSpec extends ModelSpec {
  format: 1;
  /** Absent on a version registered for monitoring only. */
  preprocessing?: Preprocessing;
  /** Absent: `driftline`. */
  served?: Served;
}

export interface RegistryPointer {
  format: 1;
  model: string;
  champion: number | null;
  /** Former champions, most recent last; `rollback` pops from here. */
  previous: number[];
  history: { at: string; action: 'promote' | 'rollback'; version: number; from: number | null }[];
}

export interface ModelSummary {
  model: string;
  versions: number[];
  champion: number | null;
}

/** What made a version; `driftline train` writes none (read as trigger `train`). */
export interface VersionOrigin {
  format: 1;
  /**
   * `train` (driftline train), `manual` (driftline retrain), `drift` / `performance` (a drift
   * event), `airflow` (a DAG run), `register` (driftline models register: monitored only).
   */
  trigger: 'train' | 'manual' | 'drift' | 'performance' | 'airflow' | 'register';
  /** The drift event that triggered the retraining, if one did. */
  drift_event_id: string | null;
  /** The retraining cycle (`retrain_runs.run_id`) that made the version. */
  run_id: string | null;
  /** The retraining's decision, taken before the version was written (versions are immutable). */
  decision: 'promoted' | 'rejected' | null;
  reason: string | null;
  /** The champion it was compared with, and both RMSEs on the same recent holdout. */
  champion_version: number | null;
  champion_rmse: number | null;
  challenger_rmse: number | null;
}

/** `promoted`: champion now or before; `rejected`: a retraining kept the champion; `candidate`: neither. */
export type VersionStatus = 'promoted' | 'rejected' | 'candidate';

export interface VersionSummary {
  version: number;
  champion: boolean;
  metrics: VersionMetrics;
  origin: VersionOrigin | null;
  status: VersionStatus;
}

/** A version's files, without the network (no TF.js needed). */
export interface VersionArtifacts {
  model: string;
  version: number;
  spec: ModelSpec;
  served: Served;
  /** Undefined for a version served elsewhere. */
  preprocessing: Preprocessing | undefined;
  metrics: VersionMetrics;
  profile: ReferenceProfile;
}

/**
 * What `saveVersion` writes; a `TrainedModel` (train.ts) is one. Without `predictor` (and
 * `preprocessing`) the version is monitored only: served elsewhere.
 */
export interface VersionToSave {
  spec: ModelSpec;
  preprocessing?: Preprocessing;
  metrics: VersionMetrics;
  profile: ReferenceProfile;
  /** What made the version (retraining cycles, a registration); none for `driftline train`. */
  origin?: VersionOrigin;
  /** Writes the network's files (model.json, weights.bin) into an existing directory. */
  predictor?: { save(dir: string): Promise<void> };
}

export type VersionRef = number | 'champion';

export class ModelRegistry {
  constructor(readonly root: string) {}

  static fromConfig(config: Pick<Config, 'home'>): ModelRegistry {
    return new ModelRegistry(defaultRegistryRoot(config));
  }

  async listModels(): Promise<ModelSummary[]> {
    const names = (await readDirNames(this.root)).filter((name) => MODEL_NAME_PATTERN.test(name)).sort();
    const models: ModelSummary[] = [];
    for (const model of names) {
      const versions = await this.versionNumbers(model);
      const pointer = await this.readPointer(model);
      if (versions.length > 0 || pointer.champion !== null)
        models.push({ model, versions, champion: pointer.champion });
    }
    return models;
  }

  async listVersions(model: string): Promise<VersionSummary[]> {
    checkModelName(model);
    const { champion, history } = await this.readPointer(model);
    const promoted = new Set(history.filter((h) => h.action === 'promote').map((h) => h.version));
    const versions: VersionSummary[] = [];
    for (const version of await this.versionNumbers(model)) {
      const dir = this.versionDir(model, version);
      const metrics = await readJSON<VersionMetrics>(join(dir, METRICS_FILE));
      const origin = (await exists(join(dir, ORIGIN_FILE)))
        ? await readJSON<VersionOrigin>(join(dir, ORIGIN_FILE))
        : null;
      const status: VersionStatus =
        version === champion || promoted.has(version)
          ? 'promoted'
          : origin?.decision === 'rejected'
            ? 'rejected'
            : 'candidate';
      versions.push({ version, champion: version === champion, metrics, origin, status });
    }
    return versions;
  }

  /** The champion's version number, or null if no version was ever promoted. */
  async champion(model: string): Promise<number | null> {
    checkModelName(model);
    return (await this.readPointer(model)).champion;
  }

  /**
   * Writes a trained model as the next version and returns its number. The model's first
   * version, or any version with `promote: true`, becomes the champion.
   */
  async saveVersion(trained: VersionToSave, options: { promote?: boolean } = {}): Promise<number> {
    const model = trained.spec.model;
    checkModelName(model);
    const modelDir = join(this.root, model);
    await mkdir(modelDir, { recursive: true });
    const temp = await mkdtemp(join(modelDir, TEMP_PREFIX));
    let version: number;
    try {
      if ((trained.predictor === undefined) !== (trained.preprocessing === undefined)) {
        throw new TypeError('a version has both a network and its preprocessing, or neither (served elsewhere)');
      }
      const stored: StoredSpec = trained.predictor
        ? { format: 1, ...trained.spec, preprocessing: trained.preprocessing as Preprocessing }
        : { format: 1, ...trained.spec, served: 'external' };
      await trained.predictor?.save(temp);
      await writeFile(join(temp, SPEC_FILE), `${JSON.stringify(stored, null, 2)}\n`);
      await writeFile(join(temp, METRICS_FILE), `${JSON.stringify(trained.metrics, null, 2)}\n`);
      await writeFile(join(temp, PROFILE_FILE), `${JSON.stringify(trained.profile)}\n`);
      if (trained.origin) await writeFile(join(temp, ORIGIN_FILE), `${JSON.stringify(trained.origin, null, 2)}\n`);
      // mkdtemp makes the directory private (0700); the predict service may run as another user.
      await chmod(temp, 0o755);
      version = await this.claimVersion(model, temp);
    } catch (error) {
      await rm(temp, { recursive: true, force: true });
      throw error;
    }
    if (options.promote || (await this.readPointer(model)).champion === null) {
      await this.updatePointer(model, (pointer) => {
        // Re-checked under the lock: another process may have promoted meanwhile.
        if (options.promote || pointer.champion === null) promoteIn(pointer, version);
      });
    }
    return version;
  }

  /** Reads a version's JSON files (spec, metrics, profile), without loading the network. */
  async readVersion(model: string, ref: VersionRef): Promise<VersionArtifacts> {
    checkModelName(model);
    const version = await this.resolve(model, ref);
    const dir = this.versionDir(model, version);
    const stored = await readJSON<StoredSpec>(join(dir, SPEC_FILE));
    const served: Served = stored.served ?? 'driftline';
    if (
      stored.model !== model ||
      !Array.isArray(stored.features) ||
      (served === 'driftline' && !Array.isArray(stored.preprocessing?.features)) ||
      (served !== 'driftline' && served !== 'external')
    ) {
      throw invalidArtifact(`${join(dir, SPEC_FILE)} is not a spec of model ${model}`, join(dir, SPEC_FILE));
    }
    const { format: _format, preprocessing, served: _served, ...spec } = stored;
    const metrics = await readJSON<VersionMetrics>(join(dir, METRICS_FILE));
    const profile = parseReferenceProfile(await readJSON<unknown>(join(dir, PROFILE_FILE)));
    return { model, version, spec, served, preprocessing, metrics, profile };
  }

  /** Makes `version` the champion; the current champion becomes the one `rollback` returns to. */
  async promote(model: string, version: number): Promise<RegistryPointer> {
    checkModelName(model);
    if (!(await this.versionNumbers(model)).includes(version)) {
      throw notFound(`model ${model} has no version ${version}`, { model, version });
    }
    return this.updatePointer(model, (pointer) => promoteIn(pointer, version));
  }

  /** Makes the previous champion the champion again. */
  async rollback(model: string): Promise<RegistryPointer> {
    checkModelName(model);
    return this.updatePointer(model, (pointer) => {
      const back = pointer.previous.pop();
      if (back === undefined) {
        throw notFound(`model ${model} has no previous champion to roll back to`, {
          model,
          champion: pointer.champion,
        });
      }
      pointer.history.push({ at: new Date().toISOString(), action: 'rollback', version: back, from: pointer.champion });
      pointer.champion = back;
    });
  }

  /**
   * Runs `fn` while holding the model's training lock, so one retraining of a model runs at a time
   * across processes; `{ acquired: false }` at once when another holder (a live process) has it.
   * A lock left by a dead process is taken over; no age limit, since a training may take long.
   */
  async withTrainingLock<T>(
    model: string,
    fn: () => Promise<T>,
  ): Promise<{ acquired: true; value: T } | { acquired: false }> {
    checkModelName(model);
    const held = new Error('training lock held');
    try {
      const value = await withFileLock(join(this.root, model, TRAINING_LOCK_FILE), fn, {
        waitMs: 0,
        busy: () => held,
      });
      return { acquired: true, value };
    } catch (error) {
      if (error === held) return { acquired: false };
      throw error;
    }
  }

  /** The directory of a version (the `location` of a model-deployment event). */
  location(model: string, version: number): string {
    checkModelName(model);
    return this.versionDir(model, version);
  }

  private versionDir(model: string, version: number): string {
    return join(this.root, model, String(version));
  }

  private async versionNumbers(model: string): Promise<number[]> {
    return (await readDirNames(join(this.root, model)))
      .filter((name) => /^[1-9]\d*$/.test(name))
      .map(Number)
      .sort((a, b) => a - b);
  }

  private async resolve(model: string, ref: VersionRef): Promise<number> {
    if (ref === 'champion') {
      const { champion } = await this.readPointer(model);
      if (champion === null) throw notFound(`model ${model} has no champion (train it first)`, { model });
      return champion;
    }
    if (!Number.isSafeInteger(ref) || ref < 1)
      throw notFound(`${ref} is not a version number`, { model, version: ref });
    if (!(await exists(this.versionDir(model, ref)))) {
      throw notFound(`model ${model} has no version ${ref}`, { model, version: ref });
    }
    return ref;
  }

  /** Renames the finished temp dir to the next free version number. */
  private async claimVersion(model: string, temp: string): Promise<number> {
    for (;;) {
      const version = ((await this.versionNumbers(model)).at(-1) ?? 0) + 1;
      try {
        // rename(2) onto an existing non-empty directory fails (ENOTEMPTY/EEXIST): the number
        // was taken by a concurrent writer since we listed; list again and retry.
        await rename(temp, this.versionDir(model, version));
        return version;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      }
    }
  }

  /** The model's champion pointer: champion, former champions and every promotion and rollback with its time. */
  async pointer(model: string): Promise<RegistryPointer> {
    checkModelName(model);
    return this.readPointer(model);
  }

  private async readPointer(model: string): Promise<RegistryPointer> {
    const path = join(this.root, model, POINTER_FILE);
    if (!(await exists(path))) return { format: 1, model, champion: null, previous: [], history: [] };
    const pointer = await readJSON<RegistryPointer>(path);
    if (pointer.model !== model || !Array.isArray(pointer.previous) || !Array.isArray(pointer.history)) {
      throw invalidArtifact(`${path} is not a registry pointer of model ${model}`, path);
    }
    return pointer;
  }

  private async updatePointer(model: string, change: (pointer: RegistryPointer) => void): Promise<RegistryPointer> {
    const dir = join(this.root, model);
    await mkdir(dir, { recursive: true });
    return withFileLock(
      join(dir, LOCK_FILE),
      async () => {
        const pointer = await this.readPointer(model);
        change(pointer);
        const path = join(dir, POINTER_FILE);
        const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
        await writeFile(temp, `${JSON.stringify(pointer, null, 2)}\n`);
        await rename(temp, path);
        return pointer;
      },
      REGISTRY_LOCK,
    );
  }
}

function promoteIn(pointer: RegistryPointer, version: number): void {
  if (pointer.champion === version) return;
  if (pointer.champion !== null) pointer.previous.push(pointer.champion);
  pointer.history.push({ at: new Date().toISOString(), action: 'promote', version, from: pointer.champion });
  pointer.champion = version;
}

function checkModelName(model: string): void {
  // Model names become directory names: the pattern also rules out '..' and '/'.
  if (!MODEL_NAME_PATTERN.test(model)) {
    throw new DriftlineError(ErrorCode.USAGE, `${JSON.stringify(model)} is not a model name (${MODEL_NAME_PATTERN})`);
  }
}

/** A model, version or champion that does not exist. */
function notFound(message: string, details: Record<string, unknown>): DriftlineError {
  return new DriftlineError(ErrorCode.MODEL_NOT_FOUND, message, { details });
}

/** The registry lock is held by another process; retriable. */
function busy(message: string, path: string): DriftlineError {
  return new DriftlineError(ErrorCode.MODEL_REGISTRY_BUSY, message, { details: { path }, retriable: true });
}

/** A registry file that exists but cannot be read as what it should be. */
function invalidArtifact(message: string, path: string, cause?: unknown): DriftlineError {
  return new DriftlineError(ErrorCode.DECODE_FAILED, message, { details: { path }, cause });
}

async function readJSON<T>(path: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw invalidArtifact(`cannot read ${path}`, path, error);
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw invalidArtifact(`${path} is not valid JSON`, path, error);
  }
}

async function readDirNames(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
