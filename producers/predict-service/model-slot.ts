/**
 * Holds the model being served and swaps it atomically. A request acquires the current model
 * once and uses it to the end, so no request mixes versions; the old model is disposed only
 * after the last request holding it has released it.
 */
import type { ServingModel } from '../../model/scoring.ts';

interface Entry {
  model: ServingModel;
  users: number;
  retired: boolean;
}

export interface Lease {
  readonly model: ServingModel;
  release(): void;
}

export class ModelSlot {
  private entry: Entry | undefined;

  get current(): ServingModel | undefined {
    return this.entry?.model;
  }

  acquire(): Lease | undefined {
    const entry = this.entry;
    if (!entry) return undefined;
    entry.users++;
    let released = false;
    return {
      model: entry.model,
      release: () => {
        if (released) return;
        released = true;
        entry.users--;
        if (entry.retired && entry.users === 0) entry.model.dispose();
      },
    };
  }

  /** Puts `model` in place; the previous one is disposed once no request holds it. */
  swap(model: ServingModel): ServingModel | undefined {
    const previous = this.entry;
    this.entry = { model, users: 0, retired: false };
    if (previous) retire(previous);
    return previous?.model;
  }

  close(): void {
    if (this.entry) retire(this.entry);
    this.entry = undefined;
  }
}

function retire(entry: Entry): void {
  entry.retired = true;
  if (entry.users === 0) entry.model.dispose();
}
