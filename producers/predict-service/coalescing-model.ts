/**
 * One model call for the requests that arrive in the same turn of the event loop. A TF.js call
 * costs far more in fixed overhead (tensors, scopes, kernel dispatch) than per row, so 50
 * concurrent single-record requests scored in one call cost little more than one of them.
 * Rows are scored exactly as alone: a dense model's rows do not affect each other.
 */
import type { ServingModel } from '../../model/scoring.ts';

type Rows = readonly (readonly number[])[];

interface Waiting {
  rows: Rows;
  resolve(predictions: ArrayLike<number>): void;
  reject(error: unknown): void;
}

/** A view of `model` whose `predict` calls made in one turn share one call of `model.predict`. */
export function coalescing(model: ServingModel): ServingModel {
  let waiting: Waiting[] = [];

  async function run(batch: Waiting[]): Promise<void> {
    try {
      const all = batch.length === 1 ? (batch[0] as Waiting).rows : batch.flatMap((w) => w.rows);
      const predictions = await model.predict(all);
      let at = 0;
      for (const w of batch) {
        w.resolve(Array.prototype.slice.call(predictions, at, at + w.rows.length) as number[]);
        at += w.rows.length;
      }
    } catch (error) {
      for (const w of batch) w.reject(error);
    }
  }

  return {
    name: model.name,
    version: model.version,
    spec: model.spec,
    ...(model.preprocessing ? { preprocessing: model.preprocessing } : {}),
    predict(rows) {
      return new Promise((resolve, reject) => {
        if (waiting.length === 0) {
          setImmediate(() => {
            const batch = waiting;
            waiting = [];
            void run(batch);
          });
        }
        waiting.push({ rows, resolve, reject });
      });
    },
    dispose: () => model.dispose(),
  };
}
