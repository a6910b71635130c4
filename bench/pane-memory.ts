/**
 * Memory of open panes: what a store consumer holds between pane closes.
 *
 *   npx tsx bench/pane-memory.ts [--events-per-pane 2000] [--quick] [--json]
 *
 * Uses the store's pane state (consumers/store/panes.ts) as the store consumer holds it: one
 * PartitionPanes per source partition, numeric sketches on a sketch thread (core/sketch/
 * sketch-thread.ts). Builds 100 models × 3 partitions, each partition with one open pane of 20
 * numeric features + the prediction column, filled with `events-per-pane` events of distinct
 * values (the sketches at their largest). Reports
 *   - pane_bytes_per_column: bytes per monitored column per open pane: the JS heap and
 *     typed-array buffers of this thread (after a full GC) plus the sketch thread's, which it
 *     reports the same way;
 *   - store_open_panes_rss_mb: the process's RSS holding all of them (target < 500 MB), which
 *     includes the runtime itself (reported too, measured before the panes were built).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PartitionPanes, type SketchInput } from '../consumers/store/panes.ts';
import { mulberry32 } from '../core/random.ts';
import { type RemoteNumericSketch, SketchThread } from '../core/sketch/sketch-thread.ts';
import { type BenchResult, below, benchFlags, emit, numberArgument, runBench } from './protocol.ts';

const MODELS = 100;
const FEATURES = 20;
const PARTITIONS = 3;
const PANE_MS = 60_000;
const MB = 1024 * 1024;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function settledHeap(): number {
  for (let i = 0; i < 3; i++) gc();
  // Typed arrays keep their values outside the JS heap.
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

async function main() {
  const flags = benchFlags();
  const eventsPerPane = numberArgument('events-per-pane', flags.quick ? 500 : 2_000);
  const random = mulberry32(7);
  const names = Array.from({ length: FEATURES }, (_, i) => `feature_${i}`);
  const rssBefore = process.memoryUsage().rss;
  const heapBefore = settledHeap();

  const thread = await SketchThread.start();
  const threadHeapBefore = await thread.settledHeap();
  const held: PartitionPanes<RemoteNumericSketch>[] = [];
  for (let m = 0; m < MODELS; m++) {
    for (let p = 0; p < PARTITIONS; p++) {
      const panes = new PartitionPanes({
        paneMs: PANE_MS,
        allowedLatenessMs: 10_000,
        numericSketch: () => thread.numeric(),
      });
      for (let i = 0; i < eventsPerPane; i++) {
        const columns: Record<string, number> = {};
        for (const name of names) columns[name] = random() * 1_000;
        const input: SketchInput = {
          modelName: `model-${m}`,
          modelVersion: 1,
          // Every event inside the first pane: it stays open.
          eventTime: Math.floor((i / eventsPerPane) * (PANE_MS - 1)),
          columns,
          prediction: random(),
        };
        panes.add(input, BigInt(i));
      }
      held.push(panes);
    }
  }
  const openPanes = held.reduce((n, p) => n + p.openPanes, 0);
  // Answered once the thread has taken in every value handed to it before.
  const threadHeapAfter = await thread.settledHeap();
  const heapAfter = settledHeap();
  const rssAfter = process.memoryUsage().rss;
  const columns = openPanes * (FEATURES + 1);
  const bytes = heapAfter - heapBefore + (threadHeapAfter - threadHeapBefore);

  const results: BenchResult[] = [
    { key: 'pane_bytes_per_column', value: bytes / columns, unit: 'bytes' },
    below('store_open_panes_rss_mb', rssAfter / MB, 'MB', 500),
    { key: 'store_open_panes_runtime_rss_mb', value: rssBefore / MB, unit: 'MB' },
    { key: 'store_open_panes_columns', value: columns, unit: 'column panes' },
    { key: 'store_open_panes_events_per_pane', value: eventsPerPane, unit: 'events' },
  ];
  emit({ suite: 'pane-memory', results }, flags);
  if (held.length === 0) throw new Error('nothing held');
  await thread.close();
}

runBench(main);
