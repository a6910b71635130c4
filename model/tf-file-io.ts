/**
 * Saving and loading TF.js models as files. `@tensorflow/tfjs` (without tfjs-node) has no
 * `file://` handler, so this writes the standard layout itself: `model.json` (topology plus
 * weights manifest) and one `weights.bin`, readable by `tf.loadLayersModel` of any TF.js flavour.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { tf } from './tf.ts';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

/** A handler for `model.save(...)` that writes into the existing directory `dir`. */
export function fileSaveHandler(dir: string): tf.io.IOHandler {
  return tf.io.withSaveHandler(async (artifacts) => {
    if (artifacts.modelTopology instanceof ArrayBuffer) {
      throw new Error('binary model topologies are not supported by the file handler');
    }
    const weights =
      artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
    const modelJSON: tf.io.ModelJSON = {
      modelTopology: artifacts.modelTopology as object,
      format: artifacts.format,
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy,
      weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
      ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
      ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
    };
    await writeFile(join(dir, WEIGHTS_BIN), new Uint8Array(weights));
    await writeFile(join(dir, MODEL_JSON), JSON.stringify(modelJSON));
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
  });
}

/** A handler for `tf.loadLayersModel(...)` reading `model.json` and its weight files from `dir`. */
export function fileLoadHandler(dir: string): tf.io.IOHandler {
  return {
    async load() {
      const modelJSON = JSON.parse(await readFile(join(dir, MODEL_JSON), 'utf8')) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(modelJSON, async (manifest) => {
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          for (const path of group.paths) {
            // Weight files sit next to model.json; never follow a path out of the directory.
            const bytes = await readFile(join(dir, basename(path)));
            buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
          }
        }
        return [tf.io.getWeightSpecs(manifest), tf.io.CompositeArrayBuffer.join(buffers)];
      });
    },
  };
}
