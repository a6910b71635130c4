/**
 * Detection delay: panes from the start of a drift to the drift event that reports it.
 *
 *   npx tsx bench/detection-delay.ts [--events-per-pane 1000] [--quick] [--json]
 *
 * Replays a drifting stream through the same pure code the pipeline runs, without Kafka or
 * ClickHouse: each of 3 source partitions sketches its events into one-minute panes (the store's
 * PartitionPanes), closed panes go into the drift consumer's sliding windows (DriftWindows, the
 * default 5 panes, grace 2 panes), each window is evaluated against a reference profile
 * (evaluateWindow, the default methods and thresholds) and steps the monitoring state; a drift
 * event is a step into `drift`. The stream is stationary (California-housing-shaped, the
 * reference's distribution) for 10 panes, then 5 of the 8 features shift by about half a
 * standard deviation for good. Delay = index of the pane whose window raised the drift event −
 * index of the first drifted pane (0: the window ending at the first drifted pane raised it).
 */
import { evaluateWindow, referenceOf } from '../consumers/drift/evaluation.ts';
import { INITIAL_STATE, type MonitorState, step } from '../consumers/drift/state.ts';
import { DriftWindows, sourceName } from '../consumers/drift/windows.ts';
import { PartitionPanes } from '../consumers/store/panes.ts';
import { mulberry32, type Random } from '../core/random.ts';
import { NumericSketch } from '../core/sketch/index.ts';
import { atMost, type BenchResult, benchFlags, emit, numberArgument, runBench } from './protocol.ts';

const PANE_MS = 60_000;
const PARTITIONS = 3;
const WINDOW_PANES = 5;
const GRACE_PANES = 2;
const STEADY_PANES = 10;
const DRIFTED_PANES = 8;
const REFERENCE_ROWS = 20_000;
const MODEL = 'bench-housing';

type Row = Record<string, number>;

/** One California-housing-shaped row; `drifted` shifts 5 of the 8 features by ≈ 0.5 σ. */
function housingRow(random: Random, drifted: boolean): { features: Row; prediction: number } {
  const shift = drifted ? 1 : 0;
  const medInc = 0.5 + -Math.log(1 - random()) * 3 + shift * 1.5;
  const rooms = 3 + random() * 5 + shift * 0.7;
  const features: Row = {
    MedInc: medInc,
    HouseAge: 1 + random() * 51 + shift * 7,
    AveRooms: rooms,
    AveBedrms: rooms * (0.18 + random() * 0.06),
    Population: -Math.log(1 - random()) * 1400,
    AveOccup: 2 + random() * 2 + shift * 0.3,
    Latitude: 32.5 + random() * 9.5 + shift * 1.4,
    Longitude: -124.3 + random() * 10,
  };
  return { features, prediction: 0.4 * medInc + 0.3 };
}

async function main() {
  const flags = benchFlags();
  const eventsPerPane = numberArgument('events-per-pane', flags.quick ? 300 : 1_000);
  const random = mulberry32(11);

  const referenceRows = Array.from({ length: REFERENCE_ROWS }, () => housingRow(random, false));
  const featureNames = Object.keys(referenceRows[0]?.features ?? {});
  const reference = referenceOf(
    MODEL,
    1,
    {
      features: Object.fromEntries(
        featureNames.map((name) => [name, NumericSketch.of(referenceRows.map((r) => r.features[name])).toJSON()]),
      ),
      prediction: NumericSketch.of(referenceRows.map((r) => r.prediction)).toJSON(),
    },
    { rmse: 1, mae: 1 },
  );

  const topic = `predictions.${MODEL}`;
  const sources = Array.from(
    { length: PARTITIONS },
    () => new PartitionPanes({ paneMs: PANE_MS, allowedLatenessMs: 0 }),
  );
  const windows = new DriftWindows({ windowPanes: WINDOW_PANES, gracePanes: GRACE_PANES, graceMs: 0 });
  windows.setSourcePartitions(MODEL, topic, PARTITIONS);
  let state: MonitorState = INITIAL_STATE;
  const alarms: number[] = [];
  let offset = 0n;

  const evaluateDue = () => {
    for (let window = windows.next(0); window; window = windows.next(0)) {
      const { result } = evaluateWindow(reference, window);
      const next = step(state, result.state, 3);
      if (next.transition && next.state === 'drift') alarms.push(window.end / PANE_MS - 1);
      state = { state: next.state, consecutiveDrift: next.consecutiveDrift };
      windows.markEvaluated(window, state);
    }
  };

  const totalPanes = STEADY_PANES + DRIFTED_PANES;
  // One pane past the last, so the watermark closes it.
  for (let pane = 0; pane <= totalPanes; pane++) {
    const drifted = pane >= STEADY_PANES;
    for (let s = 0; s < PARTITIONS; s++) {
      const panes = sources[s] as PartitionPanes;
      const count = pane === totalPanes ? 1 : eventsPerPane;
      for (let i = 0; i < count; i++) {
        const row = housingRow(random, drifted);
        panes.add(
          {
            modelName: MODEL,
            modelVersion: 1,
            eventTime: pane * PANE_MS + Math.floor((i / count) * PANE_MS),
            columns: row.features,
            prediction: row.prediction,
          },
          offset++,
        );
      }
      for (const closed of panes.closeReady()) {
        windows.add(
          {
            model: MODEL,
            version: 1,
            column: closed.column,
            paneStart: closed.paneStart,
            paneEnd: closed.paneEnd,
            source: sourceName(topic, s),
            kind: 'numeric',
            sketch: (closed.sketch as NumericSketch).toJSON(),
          },
          0,
        );
      }
    }
    evaluateDue();
  }

  const falseAlarms = alarms.filter((p) => p < STEADY_PANES).length;
  const detected = alarms.find((p) => p >= STEADY_PANES);
  const results: BenchResult[] = [
    atMost(
      'detection_delay_panes',
      detected === undefined ? Number.POSITIVE_INFINITY : detected - STEADY_PANES,
      'panes',
      2,
    ),
    atMost('detection_false_alarms', falseAlarms, 'events', 0),
    { key: 'detection_events_per_pane', value: eventsPerPane * PARTITIONS, unit: 'events' },
  ];
  emit({ suite: 'detection-delay', results }, flags);
}

runBench(main);
