/**
 * One TF.js instance with the fastest backend that works here: the native `tensorflow` backend
 * when the optional `@tensorflow/tfjs-node` is installed, else WebAssembly, else plain JS.
 */
import * as tf from '@tensorflow/tfjs';

export { tf };

export type TfBackend = 'tensorflow' | 'wasm' | 'cpu';

let ready: Promise<TfBackend> | undefined;

/**
 * Picks and initializes the backend once per process (later calls return the same choice and
 * make it the active one again). `preferred` forces one (tests compare 'cpu' with 'wasm'); it
 * fails if that backend is unavailable.
 */
export async function initTf(preferred?: TfBackend): Promise<TfBackend> {
  let backend = preferred;
  if (backend === undefined) {
    ready ??= chooseBackend();
    backend = await ready;
  }
  // The active backend is global to the TF.js engine: switch back if someone else changed it.
  if (tf.getBackend() !== backend) await useBackend(backend);
  return backend;
}

async function chooseBackend(): Promise<TfBackend> {
  for (const backend of ['tensorflow', 'wasm', 'cpu'] as const) {
    try {
      return await useBackend(backend);
    } catch {
      // Not installed or failed to initialize: try the next one.
    }
  }
  throw new Error('no TF.js backend could be initialized');
}

async function useBackend(backend: TfBackend): Promise<TfBackend> {
  if (backend === 'tensorflow') {
    // Optional dependency (its install downloads libtensorflow, which fails offline). The
    // specifier is a variable so TypeScript does not require the package's types.
    const specifier = '@tensorflow/tfjs-node';
    await import(specifier);
  } else if (backend === 'wasm') {
    // In Node the Emscripten loader finds tfjs-backend-wasm*.wasm next to its own file
    // (__dirname), so `setWasmPaths` is only needed for bundled builds. SIMD is used when
    // available; threads are not (no cross-origin isolation in Node), so results do not
    // depend on a thread count.
    await import('@tensorflow/tfjs-backend-wasm');
  }
  if (!(await tf.setBackend(backend))) throw new Error(`TF.js backend ${backend} failed to initialize`);
  await tf.ready();
  return backend;
}
