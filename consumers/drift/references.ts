/**
 * Reference profiles from the model registry, read once per (model, version) and kept: versions
 * are immutable, so a cached profile never goes stale. A version the registry cannot give (not
 * found, an invalid name, an unreadable profile: any non-retriable error) is remembered as
 * missing, and looked up again after `missingTtlMs` (it may be registered later); retriable
 * errors (the registry lock is busy) are thrown for the caller's retry.
 */
import { DriftlineError } from '../../core/errors.ts';
import type { VersionArtifacts } from '../../model/registry.ts';
import { type Reference, referenceOf } from './evaluation.ts';

/** What the cache needs from the model registry (`ModelRegistry` has it). */
export interface ReferenceSource {
  readVersion(model: string, version: number): Promise<Pick<VersionArtifacts, 'profile' | 'metrics'>>;
}

export class ReferenceCache {
  private readonly found = new Map<string, Promise<Reference>>();
  private readonly missing = new Map<string, number>();

  constructor(
    private readonly source: ReferenceSource,
    private readonly options: {
      missingTtlMs?: number;
      now?: () => number;
      /** Called when a version turns out to be missing (once per lookup). */
      onMissing?: (model: string, version: number, error: DriftlineError) => void;
    } = {},
  ) {}

  /** The version's reference, or undefined when the registry has no such model version. */
  async get(model: string, version: number): Promise<Reference | undefined> {
    const key = `${model}\u0000${version}`;
    const missingSince = this.missing.get(key);
    const now = this.options.now ?? Date.now;
    if (missingSince !== undefined && now() - missingSince < (this.options.missingTtlMs ?? 60_000)) return undefined;
    let reference = this.found.get(key);
    if (!reference) {
      reference = this.source
        .readVersion(model, version)
        .then(({ profile, metrics }) => referenceOf(model, version, profile, metrics));
      this.found.set(key, reference);
    }
    try {
      const value = await reference;
      this.missing.delete(key);
      return value;
    } catch (error) {
      this.found.delete(key);
      if (error instanceof DriftlineError && !error.retriable) {
        this.missing.set(key, now());
        this.options.onMissing?.(model, version, error);
        return undefined;
      }
      throw error;
    }
  }

  /** Lets go of a version's profile (the version left memory; `get` reads it again if needed). */
  forget(model: string, version: number): void {
    const key = `${model}\u0000${version}`;
    this.found.delete(key);
    this.missing.delete(key);
  }
}
