/**
 * The TF.js side of the model registry: loads a version's network (model.json, weights.bin)
 * into a model ready to serve. Only processes that predict (the predict service, the replay's
 * direct mode) import this; what a version holds besides its network is JSON, read through
 * registry.ts without loading TF.js.
 */
import type { Config } from '../core/config.ts';
import { DriftlineError, ErrorCode } from '../core/errors.ts';
import { Predictor } from './network.ts';
import { defaultRegistryRoot, ModelRegistry, type VersionArtifacts, type VersionRef } from './registry.ts';
import { initTf, tf } from './tf.ts';
import { fileLoadHandler } from './tf-file-io.ts';

/** A version ready to predict; fits `ServingModel` (scoring.ts). */
export interface LoadedModel extends VersionArtifacts {
  /** Same as `model`. */
  name: string;
  /** Predictions for rows of raw features in spec order (synchronous, one tensor per call). */
  predict(batch: readonly (readonly number[])[]): Float32Array;
  /** Frees the network's tensors. */
  dispose(): void;
}

/** The model registry plus loading a version's network. */
export class ModelLoader extends ModelRegistry {
  static override fromConfig(config: Pick<Config, 'home'>): ModelLoader {
    return new ModelLoader(defaultRegistryRoot(config));
  }

  /** Loads a version (or the champion) ready to predict, in this or any other process. */
  async loadVersion(model: string, ref: VersionRef): Promise<LoadedModel> {
    const artifacts = await this.readVersion(model, ref);
    if (artifacts.served === 'external' || artifacts.preprocessing === undefined) {
      throw new DriftlineError(
        ErrorCode.USAGE,
        `${model} version ${artifacts.version} is registered for monitoring only (driftline models register): it is served elsewhere, Driftline has no network of it to serve`,
        { details: { model, version: artifacts.version } },
      );
    }
    const { preprocessing } = artifacts;
    await initTf();
    const dir = this.location(model, artifacts.version);
    let network: tf.LayersModel;
    try {
      network = await tf.loadLayersModel(fileLoadHandler(dir));
    } catch (error) {
      // As the registry reports a file it cannot read (DECODE_FAILED, with the path).
      throw new DriftlineError(
        ErrorCode.DECODE_FAILED,
        `cannot load the network of ${model} version ${artifacts.version}`,
        { details: { path: dir }, cause: error },
      );
    }
    const predictor = new Predictor(network, preprocessing);
    return {
      ...artifacts,
      name: model,
      predict: (batch) => predictor.predict(batch),
      dispose: () => predictor.dispose(),
    };
  }
}
