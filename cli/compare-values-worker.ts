/**
 * Worker-thread entry of `readCsvValuesInWorker`: reads one CSV file whole and posts the values
 * back, the number arrays transferred (not copied); a failure is posted as its code and message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DriftlineError } from '../core/errors.ts';
import { readCsvValues, type WorkerRequest } from './compare-values.ts';

const request = workerData as WorkerRequest;
try {
  const values = await readCsvValues(
    request.path,
    request.wanted && new Set(request.wanted),
    request.encoding,
    new Set(request.allTexts),
  );
  parentPort?.postMessage(
    { values },
    [...values.columns.values()].map((c) => c.finite.buffer as ArrayBuffer),
  );
} catch (error) {
  const failure =
    error instanceof DriftlineError
      ? { code: error.code, message: error.message, details: error.details }
      : { message: error instanceof Error ? error.message : String(error) };
  parentPort?.postMessage({ error: failure });
}
