/**
 * Consumer settings the pipeline tests share: what they evaluate must not depend on how long a
 * loaded machine takes between steps, so panes close on event time only and windows complete
 * only when every partition has passed them.
 */
import type { DriftSettings } from '../consumers/drift/consumer.ts';
import type { StoreConsumerOptions } from '../consumers/store/consumer.ts';

/** Store panes of `paneMs`, closed by event time only (never after a partition idles), flushed every 100 ms. */
export function eventTimePanes(paneMs: number): Pick<StoreConsumerOptions, 'batchMs' | 'panes' | 'idleCloseMs'> {
  return { batchMs: 100, panes: { paneMs, allowedLatenessMs: 0 }, idleCloseMs: 600_000 };
}

/** Windows of `windowPanes` with no grace by panes or wall clock; no reports unless asked. */
export function completeWindows(windowPanes: number, overrides: Partial<DriftSettings> = {}): DriftSettings {
  return {
    windowPanes,
    gracePanes: 0,
    graceMs: 0,
    retrainAfter: 3,
    evaluation: {},
    performance: { tolerance: 1.2, minLabels: 100 },
    reportsDir: null,
    ...overrides,
  };
}

/** Quick retries and ticks, so a test's waits stay short. */
export const QUICK_RETRIES = { retry: { initialMs: 100, maxMs: 1_000 }, tickMs: 50 } as const;
